"""SLA policies, due times and the tenant's SLA, calendar and service-hour settings.

The kernel's default policies carry every number of the seeds (DOMAIN.md). A tenant may override
any of them in its settings (``{"sla": {"complaint.general": {"resolution": "2 working_days"}}}``),
and a project may override its tenant (``project.settings["sla"]``, same shape). Wall-clock rules
("within 10 minutes", "within 24 hours", "within 3 days") use minutes/hours/days; "N working days"
rules use the tenant's working-day calendar (statutory holidays, make-up working days and the
tenant's own calendar overrides, stored in ``settings["calendar"]["overrides"]``).
"""
from __future__ import annotations

import time as _time
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from core.calendar import CalendarOverride, ServiceHours, WorkCalendar
from core.contracts import Deadline, SlaPolicy
from core.db import is_postgres, json_value, transaction
from core.errors import Problem, invalid, not_found

BEIJING = ZoneInfo("Asia/Shanghai")
CLOCK_FIELDS: tuple[str, ...] = ("response", "resolution", "return_visit")
# The largest amount a tenant may set per clock (one year), so a typo cannot make a deadline absurd.
MAX_AMOUNT: dict[str, int] = {"minutes": 525_600, "hours": 8_760, "days": 366, "working_days": 366}

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
        note="General repair completed within 24 hours (or by the completion time promised when parts or outside "
             "help are needed); return visit within 24 hours after completion."),
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


# ---------------------------------------------------------------- deadlines and overrides

def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_deadline(value: Any) -> Deadline | None:
    """``"2 working_days"``, ``"30 minutes"``, ``{"amount": 2, "clock": "working_days"}`` or None.

    Raises ValueError for anything else, a negative amount or an amount beyond one year.
    """
    if value is None or value == "":
        return None
    if isinstance(value, Deadline):
        return value
    if isinstance(value, dict):
        amount, clock = value.get("amount"), value.get("clock")
    elif isinstance(value, str):
        parts = value.replace("working days", "working_days").split()
        if len(parts) != 2:
            raise ValueError(f"not a deadline: {_shown(value)} (write e.g. \"2 working_days\" or \"30 minutes\")")
        amount, clock = parts
    else:
        raise ValueError(f"not a deadline: {_shown(value)}")
    if isinstance(clock, str):
        clock = {"minute": "minutes", "hour": "hours", "day": "days", "working_day": "working_days"}.get(clock, clock)
    if not isinstance(clock, str) or clock not in MAX_AMOUNT:
        raise ValueError(f"unknown clock {_shown(clock)}; use minutes, hours, days or working_days")
    if isinstance(amount, bool) or (isinstance(amount, float) and not amount.is_integer()):
        raise ValueError(f"the amount must be a whole number, not {_shown(amount)}")
    try:
        amount = int(amount)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"the amount must be a whole number, not {_shown(amount)}") from None
    if amount < 0:
        raise ValueError("a deadline cannot be negative")
    if amount > MAX_AMOUNT[clock]:
        raise ValueError(f"at most {MAX_AMOUNT[clock]} {clock.replace('_', ' ')}")
    return Deadline(amount, clock)  # type: ignore[arg-type]


def deadline_text(deadline: Deadline | None) -> str | None:
    """The stored form of a deadline: ``"2 working_days"`` (None = no such clock)."""
    return None if deadline is None else f"{deadline.amount} {deadline.clock}"


def apply_overrides(policy: SlaPolicy, *override_maps: dict[str, Any]) -> SlaPolicy:
    """The policy with each map's entry for its name applied in turn (later maps win)."""
    for overrides in override_maps:
        o = (overrides or {}).get(policy.name)
        if not o:
            continue
        changes = {k: parse_deadline(o[k]) for k in CLOCK_FIELDS if k in o}
        policy = replace(policy, **changes)
    return policy


def known_policies() -> dict[str, SlaPolicy]:
    """Every policy a tenant may override: the kernel's and those plugins register."""
    from core.plugins import get_registry

    found = dict(DEFAULT_POLICIES)
    for _, policy in get_registry().collect("register_sla_policies"):
        found.setdefault(policy.name, policy)
    return found


def validate_overrides(value: Any) -> dict[str, dict[str, str | None]]:
    """Check a map ``{policy name: {response|resolution|return_visit: deadline or null}}``.

    Returns it normalised (``"N clock"`` strings); raises a 422 problem naming every wrong field.
    """
    if not isinstance(value, dict):
        raise invalid("sla", "an object of policy name → {response, resolution, return_visit}")
    known = known_policies()
    errors: list[dict[str, str]] = []
    out: dict[str, dict[str, str | None]] = {}
    for name, clocks in value.items():
        if name not in known:
            errors.append({"field": name, "message": f"unknown SLA policy; known: {', '.join(sorted(known))}"})
            continue
        if not isinstance(clocks, dict):
            errors.append({"field": name, "message": "an object with response, resolution and/or return_visit"})
            continue
        normal: dict[str, str | None] = {}
        for key, raw in clocks.items():
            field = f"{name}.{key}"
            if key not in CLOCK_FIELDS:
                errors.append({"field": field, "message": f"unknown clock field; use {', '.join(CLOCK_FIELDS)}"})
                continue
            try:
                normal[key] = deadline_text(parse_deadline(raw))
            except ValueError as exc:
                errors.append({"field": field, "message": str(exc)})
        if normal:
            out[name] = normal
    if errors:
        raise Problem(422, "Invalid input", "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    return out


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


async def with_overrides(tenant_id: int, project: dict[str, Any], policy: SlaPolicy | None) -> SlaPolicy | None:
    """A policy with the tenant's and then the project's overrides applied (any policy, plugins' too)."""
    if policy is None:
        return None
    tenant_settings = await tenant_settings_of(tenant_id)
    return apply_overrides(policy, tenant_settings.get("sla") or {},
                           (json_value(project.get("settings")) or {}).get("sla") or {})


async def default_policy(*, tenant_id: int, project: dict[str, Any], ticket: dict[str, Any]) -> SlaPolicy | None:
    name = policy_name_for(project, ticket)
    if name is None:
        return None
    return await with_overrides(tenant_id, project, DEFAULT_POLICIES[name])


def resolution_due(cal: WorkCalendar, start: datetime, policy: SlaPolicy | None, *,
                   promised_at: datetime | None = None, held_seconds: int = 0) -> datetime | None:
    """When the work must be done: the time promised to the customer when there is one (parts or outside
    help needed, an agreed reply time), else the policy's resolution clock from `start`, moved later by
    the time the ticket spent on hold."""
    if promised_at is not None:
        return promised_at
    due = add_deadline(cal, start, policy.resolution if policy else None)
    if due is not None and held_seconds:
        due = due + timedelta(seconds=held_seconds)
    return due


# ---------------------------------------------------------------- tenant settings

_settings_cache: dict[int, tuple[float, dict[str, Any]]] = {}


async def tenant_settings_of(tenant_id: int) -> dict[str, Any]:
    from core.tables import Tenant

    now = _time.monotonic()
    hit = _settings_cache.get(tenant_id)
    if hit and hit[0] > now:
        return hit[1]
    if hit:  # expired: the others keep the old value while this request reads the new one (no stampede)
        _settings_cache[tenant_id] = (now + 5.0, hit[1])
    row = await Tenant.select(Tenant.settings).where(Tenant.id == tenant_id).first()
    settings = (json_value(row["settings"]) if row else None) or {}
    _settings_cache[tenant_id] = (now + 5.0, settings)
    return settings


def forget_tenant_settings(tenant_id: int | None = None) -> None:
    if tenant_id is None:
        _settings_cache.clear()
    else:
        _settings_cache.pop(tenant_id, None)


async def update_tenant_settings(tenant_id: int, change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """Read the tenant's settings, let `change` edit them in place, store them; one transaction."""
    from core.tables import Tenant

    async with transaction():
        query = Tenant.select(Tenant.settings).where(Tenant.id == tenant_id)
        if is_postgres():
            query = query.lock_rows()
        row = await query.first()
        if row is None:
            raise not_found("company")
        settings = json_value(row["settings"]) or {}
        change(settings)
        await Tenant.update({Tenant.settings: settings}).where(Tenant.id == tenant_id)
    forget_tenant_settings(tenant_id)
    return settings


def _require_company_scope(principal: Any) -> None:
    """Company-wide settings are changed by staff of the whole company (a project manager changes its project)."""
    principal.require("sla.manage")
    if not principal.sees_all_projects():
        raise Problem(403, "Forbidden", "Company-wide SLA and calendar settings are changed by the company CS department; "
                                        "a project manager may override the SLA of its own projects.")


async def _visible_project(principal: Any, project_id: int) -> dict[str, Any]:
    from core.tables import Project

    project = await principal.scope.get_or_none(Project, project_id)
    if project is None or not principal.sees_project(project_id):
        raise not_found("project")
    return project


def _policy_view(policy: SlaPolicy, sources: dict[str, str]) -> dict[str, Any]:
    def clock(d: Deadline | None) -> dict[str, Any] | None:
        return None if d is None else {"amount": d.amount, "clock": d.clock, "text": str(d)}

    return {"name": policy.name, "seed": policy.seed, "note": policy.note,
            **{k: clock(getattr(policy, k)) for k in CLOCK_FIELDS},
            "source": sources}


def effective_policies(tenant_sla: dict[str, Any], project_sla: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every known policy as it applies, with where each clock's number comes from (default/tenant/project)."""
    out = []
    for name, base in sorted(known_policies().items()):
        sources = {}
        for key in CLOCK_FIELDS:
            sources[key] = ("project" if key in (project_sla or {}).get(name, {})
                            else "tenant" if key in tenant_sla.get(name, {}) else "default")
        out.append(_policy_view(apply_overrides(base, tenant_sla, project_sla or {}), sources))
    return out


async def sla_settings(principal: Any, project_id: int | None = None) -> dict[str, Any]:
    """The tenant's (or one project's) overrides and the effective policies."""
    tenant_sla = (await tenant_settings_of(principal.tenant_id)).get("sla") or {}
    if project_id is None:
        return {"overrides": tenant_sla, "policies": effective_policies(tenant_sla)}
    project = await _visible_project(principal, project_id)
    project_sla = (json_value(project["settings"]) or {}).get("sla") or {}
    return {"project_id": project_id, "overrides": project_sla, "tenant_overrides": tenant_sla,
            "policies": effective_policies(tenant_sla, project_sla)}


async def set_tenant_sla(principal: Any, overrides: Any) -> dict[str, Any]:
    """Replace the tenant's SLA overrides (validated; an empty map returns to the seeds' numbers)."""
    _require_company_scope(principal)
    clean = validate_overrides(overrides)

    def change(settings: dict[str, Any]) -> None:
        settings["sla"] = clean

    await update_tenant_settings(principal.tenant_id, change)
    return await sla_settings(principal)


async def set_project_sla(principal: Any, project_id: int, overrides: Any) -> dict[str, Any]:
    """Replace one project's SLA overrides (they win over the tenant's)."""
    from core.tables import Project

    project = await _visible_project(principal, project_id)
    principal.require("sla.manage")
    clean = validate_overrides(overrides)
    async with transaction():
        query = principal.scope.select(Project, Project.settings).where(Project.id == project["id"])
        if is_postgres():
            query = query.lock_rows()
        row = await query.first()
        settings = json_value(row["settings"]) or {}
        settings["sla"] = clean
        await principal.scope.update(Project, {Project.settings: settings}).where(Project.id == project["id"])
    forget_tenant_settings(principal.tenant_id)
    return await sla_settings(principal, project_id)


# ---------------------------------------------------------------- calendars

def calendar_from_settings(settings: dict[str, Any]) -> WorkCalendar:
    cal = settings.get("calendar") or {}
    overrides = [CalendarOverride(day=date.fromisoformat(o["day"]), working=bool(o["working"]), note=o.get("note", ""))
                 for o in cal.get("overrides", [])]
    return WorkCalendar(overrides, tz=cal.get("tz", "Asia/Shanghai"), service_hours=service_hours_from_settings(settings))


def service_hours_from_settings(settings: dict[str, Any]) -> ServiceHours:
    hours = settings.get("service_hours") or {}
    if not hours:
        return ServiceHours()
    return ServiceHours(opens=time.fromisoformat(hours.get("opens", "08:00")),
                        closes=time.fromisoformat(hours.get("closes", "20:00")),
                        days=tuple(hours.get("days", (0, 1, 2, 3, 4, 5, 6))))


async def calendar_for(tenant_id: int) -> WorkCalendar:
    return calendar_from_settings(await tenant_settings_of(tenant_id))


def calendar_warning(as_of: date | datetime) -> str | None:
    """The warning to show (portal banner, CLI) when the statutory calendar has no official data for the
    year of `as_of` or the coming one (the State Council publishes each year's schedule in Nov/Dec)."""
    if isinstance(as_of, datetime):
        as_of = as_of.astimezone(BEIJING).date() if as_of.tzinfo else as_of.date()
    return WorkCalendar().coverage_warning(as_of)


def _override_list(settings: dict[str, Any]) -> list[dict[str, Any]]:
    return list((settings.get("calendar") or {}).get("overrides") or [])


async def calendar_overrides(principal: Any) -> list[dict[str, Any]]:
    return sorted(_override_list(await tenant_settings_of(principal.tenant_id)), key=lambda o: o["day"])


async def set_calendar_override(principal: Any, day: date, working: bool, note: str = "") -> list[dict[str, Any]]:
    """Add (or replace) the tenant's entry for one day: an extra working day or a day off."""
    _require_company_scope(principal)

    def change(settings: dict[str, Any]) -> None:
        kept = [o for o in _override_list(settings) if o["day"] != day.isoformat()]
        kept.append({"day": day.isoformat(), "working": bool(working), "note": note})
        settings.setdefault("calendar", {})["overrides"] = sorted(kept, key=lambda o: o["day"])

    settings = await update_tenant_settings(principal.tenant_id, change)
    return _override_list(settings)


async def delete_calendar_override(principal: Any, day: date) -> None:
    _require_company_scope(principal)
    current = _override_list(await tenant_settings_of(principal.tenant_id))
    if not any(o["day"] == day.isoformat() for o in current):
        raise not_found("calendar override")

    def change(settings: dict[str, Any]) -> None:
        settings.setdefault("calendar", {})["overrides"] = [
            o for o in _override_list(settings) if o["day"] != day.isoformat()]

    await update_tenant_settings(principal.tenant_id, change)


MAX_CALENDAR_DAYS = 400


async def calendar_days(tenant_id: int, first: date, end: date) -> list[dict[str, Any]]:
    """Days in [first, end) with their kind (workday, weekend, holiday, makeup_workday, override_*)."""
    if end <= first:
        raise invalid("to", "must be after from")
    if (end - first).days > MAX_CALENDAR_DAYS:
        raise invalid("to", f"at most {MAX_CALENDAR_DAYS} days at a time")
    cal = await calendar_for(tenant_id)
    out = []
    day = first
    while day < end:
        out.append({"date": day.isoformat(), "weekday": day.weekday(), "kind": cal.day_kind(day),
                    "working": cal.is_working_day(day), "name": cal.holiday_name(day)})
        day += timedelta(days=1)
    return out


def service_hours_view(hours: ServiceHours) -> dict[str, Any]:
    return {"opens": hours.opens.strftime("%H:%M"), "closes": hours.closes.strftime("%H:%M"),
            "days": list(hours.days), "hours_per_day": hours.hours_per_day(), "problems": hours.problems()}


async def service_hours(tenant_id: int) -> dict[str, Any]:
    return service_hours_view(service_hours_from_settings(await tenant_settings_of(tenant_id)))


async def set_service_hours(principal: Any, opens: time, closes: time, days: list[int]) -> dict[str, Any]:
    """Store the service centre's hours; the answer lists how they fall short of the seed (7 days, ≥ 10 h)."""
    _require_company_scope(principal)
    if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise invalid("days", "weekday numbers 0 (Monday) … 6 (Sunday)")
    days = sorted(set(days))
    stored = {"opens": opens.strftime("%H:%M"), "closes": closes.strftime("%H:%M"), "days": days}

    def change(settings: dict[str, Any]) -> None:
        settings["service_hours"] = stored

    await update_tenant_settings(principal.tenant_id, change)
    return await service_hours(principal.tenant_id)


# ---------------------------------------------------------------- due times on tickets

def add_deadline(cal: WorkCalendar, start: datetime, deadline: Deadline | None) -> datetime | None:
    if deadline is None:
        return None
    if deadline.clock == "working_days":
        return cal.add_working_days(start, deadline.amount)
    unit = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}[deadline.clock]
    return cal.add_wall_clock(start, unit * deadline.amount)


def next_due(ticket: dict[str, Any]) -> datetime | None:
    """The earliest clock still running on a ticket; the sweep's index is on this column.

    On hold stops every clock. The resolution due already holds a promised time (it replaces the
    policy's clock) and is moved later by the time spent on hold.
    """
    status = ticket.get("status")
    if status in ("closed", "cancelled"):
        return None
    candidates = []
    if ticket.get("responded_at") is None and ticket.get("response_due_at") and status != "on_hold":
        candidates.append(ticket["response_due_at"])
    if status in ("received", "dispatched", "in_progress", "reopened"):
        due = ticket.get("resolution_due_at") or ticket.get("promised_at")
        if due:
            candidates.append(due)
    if status == "resolved" and ticket.get("return_visit_due_at"):
        candidates.append(ticket["return_visit_due_at"])
    return min(candidates) if candidates else None
