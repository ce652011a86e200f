"""API for the staff's in-app messages and for jobs."""
from __future__ import annotations

OPS_CONTROLLERS: list = []
