"""Periodic job of community events: takes `as_of` (ISO), runs for every company with the plugin on, and
is idempotent: a second run for the same `as_of` writes nothing."""
from __future__ import annotations

from datetime import datetime

from core import actor


@actor("community_events", "daily", queue="periodic")
async def daily(as_of: str) -> dict:
    """Festival decoration tasks of this year and the next, and the day's birthday and festival greetings."""
    from plugins.community_events import services

    return await services.run_for_tenants(services.daily, datetime.fromisoformat(as_of))
