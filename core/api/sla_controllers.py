"""API for SLA policies, the working-day calendar, service hours and KPIs."""
from __future__ import annotations

SLA_CONTROLLERS: list = []
