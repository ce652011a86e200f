"""Periodic jobs of the residential grids plugin. Each takes an explicit `as_of` and is idempotent."""
from __future__ import annotations

from datetime import datetime, timedelta

from core import actor, get_registry
from plugins.residential_grids import services as svc
from plugins.residential_grids.tables import Assignment, Parcel, RegisterEntry


def _as_of(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("as_of needs a time zone offset")
    return moment


@actor("residential_grids", "parcel_reminders", queue="periodic")
async def parcel_reminders(as_of: str) -> dict:
    """Remind households of waiting parcels once a day; flag those unclaimed after N days."""
    moment = _as_of(as_of)
    tenants = await Parcel.select(Parcel.tenant_id).where(Parcel.status == "waiting").distinct()
    totals = {"reminded": 0, "flagged": 0}
    for t in tenants:
        result = await svc.parcel_reminders(t["tenant_id"], moment)
        for k in totals:
            totals[k] += result[k]
    return totals


@actor("residential_grids", "register_overdue", queue="periodic")
async def register_overdue(as_of: str) -> dict:
    """Flag unanswered questions past their promised reply time."""
    moment = _as_of(as_of)
    R = RegisterEntry
    tenants = await R.select(R.tenant_id).where(
        R.answered_at.is_null() & R.overdue_at.is_null() & (R.promised_reply_at < moment)).distinct()
    return {"flagged": sum([await svc.flag_overdue_replies(t["tenant_id"], moment) for t in tenants])}


@actor("residential_grids", "monthly_evaluations", queue="periodic")
async def monthly_evaluations(as_of: str) -> dict:
    """Compute last month's evaluations for every residential project with grid holders."""
    moment = _as_of(as_of)
    local = moment.astimezone(svc.BEIJING)
    last = (local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    start, end = svc.month_bounds(last)
    A = Assignment
    pairs = await A.select(A.tenant_id, A.project_id).where(
        (A.started_at < end) & (A.ended_at.is_null() | (A.ended_at > start))).distinct()
    computed = 0
    for p in pairs:
        if svc.PLUGIN in await get_registry().enabled(p["tenant_id"], p["project_id"]):
            computed += len(await svc.compute_month(p["tenant_id"], p["project_id"], last, moment))
    return {"month": last, "evaluations": computed}
