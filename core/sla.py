"""SLA policies and due times.

The kernel's default policies carry every number of the seeds (DOMAIN.md). A tenant may override
any of them in its settings (``{"sla": {"complaint.general": {"resolution": "2 working_days"}}}``),
and a project may override its tenant. Wall-clock rules ("within 10 minutes", "within 24 hours")
use minutes/hours/days; "N working days" rules use the tenant's working-day calendar.
"""
from __future__ import annotations

import time as _time
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from core.calendar import CalendarOverride, ServiceHours, WorkCalendar
from core.contracts import Deadline, SlaPolicy
from core.db import json_value

# name -> policy; the seed each number comes from is named.
DEFAULT_POLICIES: dict[str, SlaPolicy] = {
    "repair.emergency": SlaPolicy(
        "repair.emergency", response=Deadline(10, "minutes"), resolution=Deadline(24, "hours"),
        return_visit=Deadline(24, "hours"), seed="004",
        note="Emergency repair (water leak, power cut, elevator entrapment): technician on site within 10 minutes."),
    "repair.park": SlaPolicy(
        "repair.park", response=Deadline(30, "minutes"), resolution=Deadline(24, "hours"),
        return_visit=Deadline(24, "hours"), seed="002", note="Park repair request: respond within 30 minutes."),
    "repair.general": SlaPolicy(
        "repair.general", resolution=Deadline(24, "hours"), return_visit=Deadline(24, "hours"), seed="004",
        note="General repair completed within 24 hours; return visit within 24 hours after completion."),
    "complaint.general": SlaPolicy(
        "complaint.general", resolution=Deadline(2, "working_days"), return_visit=Deadline(3, "working_days"),
        seed="004/000", note="General complaint answered within 2 working days; return visit within 3 working days."),
    "complaint.complex": SlaPolicy(
        "complaint.complex", resolution=Deadline(7, "working_days"), return_visit=Deadline(3, "working_days"),
        seed="004/000", note="Complex complaint: at most 7 working days, progress told to the customer."),
    "inquiry": SlaPolicy(
        "inquiry", seed="000/001", note="Answered at once, or by the reply time agreed with the customer."),
    "suggestion": SlaPolicy("suggestion", resolution=Deadline(3, "days"), seed="001",
                            note="Suggestion answered within 3 days."),
}


def parse_deadline(value: Any) -> Deadline | None:
    """``"2 working_days"``, ``"30 minutes"``, ``{"amount": 2, "clock": "working_days"}`` or None."""
    if value is None or value == "":
        return None
    if isinstance(value, Deadline):
        return value
    if isinstance(value, dict):
        amount, clock = value.get("amount"), value.get("clock")
    else:
        parts = str(value).replace("working days", "working_days").split()
        if len(parts) != 2:
            raise ValueError(f"not a deadline: {value!r}")
        amount, clock = parts
    clock = {"minute": "minutes", "hour": "hours", "day": "days", "working_day": "working_days"}.get(clock, clock)
    if clock not in ("minutes", "hours", "days", "working_days"):
        raise ValueError(f"unknown clock {clock!r} in {value!r}")
    amount = int(amount)
    if amount < 0:
        raise ValueError("a deadline cannot be negative")
    return Deadline(amount, clock)  # type: ignore[arg-type]


def apply_overrides(policy: SlaPolicy, *override_maps: dict[str, Any]) -> SlaPolicy:
    for overrides in override_maps:
        o = (overrides or {}).get(policy.name)
        if not o:
            continue
        changes = {k: parse_deadline(o[k]) for k in ("response", "resolution", "return_visit") if k in o}
        policy = replace(policy, **changes)
    return policy


def policy_name_for(project: dict[str, Any], ticket: dict[str, Any]) -> str | None:
    kind = ticket.get("kind")
    if kind == "repair":
        if ticket.get("priority") == "emergency":
            return "repair.emergency"
        return "repair.park" if project.get("kind") == "industrial" else "repair.general"
    if kind == "complaint":
        return "complaint.complex" if ticket.get("complexity") == "complex" else "complaint.general"
    if kind in ("inquiry", "suggestion"):
        return kind
    return None


async def default_policy(*, tenant_id: int, project: dict[str, Any], ticket: dict[str, Any]) -> SlaPolicy | None:
    name = policy_name_for(project, ticket)
    if name is None:
        return None
    tenant_settings = await tenant_settings_of(tenant_id)
    return apply_overrides(DEFAULT_POLICIES[name], tenant_settings.get("sla", {}),
                           (json_value(project.get("settings")) or {}).get("sla", {}))


# ---------------------------------------------------------------- calendars

_settings_cache: dict[int, tuple[float, dict[str, Any]]] = {}


async def tenant_settings_of(tenant_id: int) -> dict[str, Any]:
    from core.tables import Tenant

    now = _time.monotonic()
    hit = _settings_cache.get(tenant_id)
    if hit and hit[0] > now:
        return hit[1]
    row = await Tenant.select(Tenant.settings).where(Tenant.id == tenant_id).first()
    settings = (json_value(row["settings"]) if row else None) or {}
    _settings_cache[tenant_id] = (now + 5.0, settings)
    return settings


def forget_tenant_settings(tenant_id: int | None = None) -> None:
    if tenant_id is None:
        _settings_cache.clear()
    else:
        _settings_cache.pop(tenant_id, None)


def calendar_from_settings(settings: dict[str, Any]) -> WorkCalendar:
    cal = settings.get("calendar") or {}
    overrides = [CalendarOverride(day=date.fromisoformat(o["day"]), working=bool(o["working"]), note=o.get("note", ""))
                 for o in cal.get("overrides", [])]
    hours = settings.get("service_hours") or {}
    service_hours = None
    if hours:
        from datetime import time as t

        service_hours = ServiceHours(opens=t.fromisoformat(hours.get("opens", "08:00")),
                                     closes=t.fromisoformat(hours.get("closes", "20:00")),
                                     days=tuple(hours.get("days", (0, 1, 2, 3, 4, 5, 6))))
    return WorkCalendar(overrides, tz=cal.get("tz", "Asia/Shanghai"), service_hours=service_hours)


async def calendar_for(tenant_id: int) -> WorkCalendar:
    return calendar_from_settings(await tenant_settings_of(tenant_id))


def add_deadline(cal: WorkCalendar, start: datetime, deadline: Deadline | None) -> datetime | None:
    if deadline is None:
        return None
    if deadline.clock == "working_days":
        return cal.add_working_days(start, deadline.amount)
    unit = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}[deadline.clock]
    return cal.add_wall_clock(start, unit * deadline.amount)


def next_due(ticket: dict[str, Any]) -> datetime | None:
    """The earliest clock still running on a ticket; the sweep's index is on this column."""
    status = ticket.get("status")
    if status in ("closed", "cancelled"):
        return None
    candidates = []
    if ticket.get("responded_at") is None and ticket.get("response_due_at") and status != "on_hold":
        candidates.append(ticket["response_due_at"])
    if status in ("received", "dispatched", "in_progress", "reopened"):
        due = ticket.get("promised_at") or ticket.get("resolution_due_at")
        if due:
            candidates.append(due)
    if status == "resolved" and ticket.get("return_visit_due_at"):
        candidates.append(ticket["return_visit_due_at"])
    return min(candidates) if candidates else None
