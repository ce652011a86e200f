"""Periodic job of move-in and decoration. It takes `as_of` (ISO), runs for every company with the plugin
on, and is idempotent: a second run for the same `as_of` writes nothing. (Deadlines themselves are
escalated by the kernel's SLA sweep, not here.)"""
from __future__ import annotations

from datetime import datetime

from core import actor


@actor("move_in_decoration", "settle_notices", queue="periodic")
async def settle_notices(as_of: str) -> dict:
    """Problem notices whose notification was delivered since count as told at its delivery."""
    from plugins.move_in_decoration import services

    moment = datetime.fromisoformat(as_of)
    if moment.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    total = {"settled": 0}
    for tenant_id in await services.tenants_with_plugin():
        total["settled"] += (await services.settle_notices(tenant_id, moment))["settled"]
    return total
