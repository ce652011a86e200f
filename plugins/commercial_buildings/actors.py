"""Periodic jobs of the commercial buildings plugin; each takes an ISO `as_of` and is idempotent."""
from __future__ import annotations

from datetime import datetime

from core import actor


@actor("commercial_buildings", "purge_visitor_ids", queue="periodic")
async def purge_visitor_ids(as_of: str) -> dict:
    """Erase expired visitor ID numbers; returns how many were erased."""
    from plugins.commercial_buildings.services import purge_visitor_ids as purge

    return await purge(datetime.fromisoformat(as_of))


@actor("commercial_buildings", "flag_still_inside", queue="periodic")
async def flag_still_inside(as_of: str) -> dict:
    from plugins.commercial_buildings.services import flag_still_inside as flag

    return await flag(datetime.fromisoformat(as_of))


@actor("commercial_buildings", "expire_pass_outs", queue="periodic")
async def expire_pass_outs(as_of: str) -> dict:
    from plugins.commercial_buildings.services import expire_pass_outs as expire

    return await expire(datetime.fromisoformat(as_of))
