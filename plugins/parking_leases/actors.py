"""Periodic jobs of parking leases. Each takes `as_of` (ISO), runs for every company with the plugin on,
and is idempotent: a second run for the same `as_of` writes nothing."""
from __future__ import annotations

from datetime import datetime

from core import actor


@actor("parking_leases", "offer_waiting", queue="periodic")
async def offer_waiting(as_of: str) -> dict:
    """Expire offers past their deadline and offer free spaces to the next applicants in line."""
    from plugins.parking_leases import services

    return await services.run_for_tenants(services.offer_waiting, datetime.fromisoformat(as_of))


@actor("parking_leases", "lease_sweep", queue="periodic")
async def lease_sweep(as_of: str) -> dict:
    """Expire ended leases (freeing their spaces) and send renewal reminders 30 and 7 days before the end."""
    from plugins.parking_leases import services

    return await services.run_for_tenants(services.lease_sweep, datetime.fromisoformat(as_of))
