"""Services of the commercial buildings plugin (seed 001): zones and their teams, the lobby visitor
register, pass-outs, item storage, the garage VIP list, move-in/move-out checklists, after-hours AC.

Every function takes the acting `Principal` (or a tenant id for jobs and public links) and an explicit
`now`/`as_of`; rows of another tenant, or of a project the principal does not see, are 404.

Release gate (放行) — the public API other plugins reuse
-------------------------------------------------------
Large items leave a unit only after the unit's owner or renter (an active occupancy with role
``owner``, ``renter`` or ``company``), or a contact one of them authorised, confirms; every release is
recorded (a `Release` row and a ``pass_out.released`` audit entry). Another plugin gets these functions
with ``gate = await core.get_registry().first("resolve_release_gate", tenant_id=tenant_id)`` and calls:

``await gate.request(principal, unit_id=, items=[{"description", "quantity", "photo_url"}], carrier_name=,
carrier_phone=, window_start=, window_end=, purpose="moving_out", source="<plugin>", now=)``
    → the pass-out dict (status ``requested``, with its slip ``code`` and ``items``).
``await gate.who_may_confirm(tenant_id, unit_id, now=)`` → customer ids that may confirm.
``await gate.send_link(principal, pass_out_id, customer_id, now=)``
    → ``{"link_id", "expires_at", "token", "url"}``; a one-time link (random token, only its hash kept,
    single use, expires after the ``pass_out_link_hours`` setting) is sent to the customer.
``await gate.confirm_in_person(principal, pass_out_id, customer_id, now=)`` → staff record a confirmation
    given in person (identity checked at the desk).
``await gate.confirm_by_token(tenant_id, token, decision="confirm"|"reject", now=)`` → used by the link.
``await gate.reject(principal, pass_out_id, reason, now=)``.
``await gate.release(principal, pass_out_id, note=, items=None, now=)`` → 409 unless confirmed and
    inside the time window; records who, when and what left.
``await gate.get(principal, pass_out_id)`` → the pass-out with items, links and release.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from core import (Principal, Problem, TenantScope, conflict, get_registry, invalid, json_value, not_found, notify,
                  places, present_customer, tables, tickets, transaction, utcnow)

from plugins.commercial_buildings.tables import (AuthorisedContact, Checklist, PassOut, PassOutItem, PassOutLink,
                                                 Release, StoredItem, VehicleArrival, VipVehicle, Visitor, Zone,
                                                 ZoneMember)

PLUGIN = "commercial_buildings"
TZ = ZoneInfo("Asia/Shanghai")
AC_KIND = "commercial_buildings.after_hours_ac"
HOLDER_ROLES = ("owner", "renter", "company")
WAIT_TARGET = timedelta(minutes=15)  # seed 001: move-in waiting time at most 15 minutes
PROCESS_TARGET = timedelta(minutes=30)  # seed 001: move-in processing time at most 30 minutes
DEFAULT_CHECKLISTS = {
    "move_in": ("入驻通知书及入驻指南 move-in notice and guide", "装修须知 decoration rules",
                "缴费通知单 payment notice", "钥匙及门禁卡交接 keys and access cards",
                "水电表读数 meter readings", "紧急联系人登记 emergency contacts"),
    "move_out": ("费用结清 fees settled", "钥匙及门禁卡收回 keys and access cards returned",
                 "单元验收 unit inspection", "水电表读数 meter readings", "放行条办理 pass-out for large items"),
}


# ---------------------------------------------------------------- zone kinds

BUILT_IN_ZONE_KINDS: tuple[dict[str, Any], ...] = (
    {"name": "office", "label_zh": "写字楼", "label_en": "Office floors",
     "services": ("便捷的商务服务 business services", "夜间、节假日后勤服务 after-hours and holiday support",
                  "出入人员严格控制及正确引导 strict entry control and guidance")},
    {"name": "hotel", "label_zh": "酒店", "label_en": "Hotel floors",
     "services": ("出入人员引导服务 guidance", "24小时安全保障服务 24-hour security")},
    {"name": "retail", "label_zh": "裙房商业", "label_en": "Retail podium",
     "services": ("标识、温馨提示、服务人员引导 signage, tips and staff guidance",
                  "接受各类人员问询 inquiries")},
    {"name": "lobby", "label_zh": "一楼大堂", "label_en": "Lobby",
     "services": ("问询及指引 inquiries and guidance", "来访登记 visitor registration",
                  "大型物品放行条放行 pass-outs for large items", "租赁办理 leasing", "物件存放 item storage")},
    {"name": "garage", "label_zh": "地下停车库", "label_en": "Parking garage",
     "services": ("贵宾车辆引导 VIP vehicle guidance",)},
)
UNIT_USE_ZONE = {"office": "office", "hotel": "hotel", "retail": "retail", "parking": "garage"}


def zone_kinds() -> dict[str, dict[str, Any]]:
    """Built-in zone kinds plus those other plugins add with `register_zone_kinds`."""
    kinds = {k["name"]: {**k, "services": list(k["services"]), "plugin": PLUGIN} for k in BUILT_IN_ZONE_KINDS}
    for plugin, item in get_registry().collect("register_zone_kinds"):
        d = item if isinstance(item, dict) else {a: getattr(item, a, "") for a in ("name", "label_zh", "label_en", "services")}
        if d.get("name") and d["name"] not in kinds:
            kinds[d["name"]] = {"name": d["name"], "label_zh": d.get("label_zh", ""), "label_en": d.get("label_en", ""),
                                "services": list(d.get("services") or ()), "plugin": plugin}
    return kinds


# ---------------------------------------------------------------- helpers

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _local_day(moment: datetime) -> date:
    return moment.astimezone(TZ).date()


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), TZ)
    return start.astimezone(timezone.utc), (start + timedelta(days=1)).astimezone(timezone.utc)


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise invalid(field, "needs a time zone (e.g. 2026-09-30T09:00:00+08:00)")
    return value.astimezone(timezone.utc)


async def settings_of(tenant_id: int, project_id: int | None = None) -> dict[str, Any]:
    return await get_registry().settings(tenant_id, PLUGIN, project_id)


async def _commercial_project(principal: Principal, project_id: int, field: str = "project_id") -> dict[str, Any]:
    project = await places.project_for_body(principal, project_id, field)
    if project["kind"] != "commercial":
        raise invalid(field, "is not a commercial project")
    return project


async def _visible(principal: Principal, table: Any, row_id: int, what: str) -> dict[str, Any]:
    row = await principal.scope.get(table, row_id, what=what)
    if not principal.sees_project(row["project_id"]):
        raise not_found(what)
    return row


async def _staff_ids(scope: TenantScope, user_ids: Iterable[int], field: str) -> list[int]:
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return []
    found = await scope.select(tables.Membership, tables.Membership.user_id).where(
        tables.Membership.user_id.is_in(ids) & (tables.Membership.is_active == True))  # noqa: E712
    missing = sorted(set(ids) - {r["user_id"] for r in found})
    if missing:
        raise invalid(field, f"no such staff member in this company: {missing}")
    return ids


async def _unit_in_body(principal: Principal, unit_id: int, field: str = "unit_id") -> dict[str, Any]:
    unit = await principal.scope.get_or_none(tables.Unit, unit_id)
    if unit is None or not principal.sees_unit(unit):
        raise invalid(field, "no such unit")
    return unit


async def _lobby_in_body(principal: Principal, lobby_id: int | None, project_id: int) -> None:
    if lobby_id is None:
        return
    zone = await principal.scope.get_or_none(Zone, lobby_id)
    if zone is None or zone["project_id"] != project_id or zone["kind"] != "lobby":
        raise invalid("lobby_id", "no such lobby in this project")


async def _audit(scope: TenantScope, user_id: int | None, action: str, object_type: str, object_id: int,
                 at: datetime, data: dict[str, Any]) -> None:
    await scope.insert(tables.AuditLog, user_id=user_id, action=action, object_type=object_type, object_id=object_id,
                       at=at, data=data)


# ---------------------------------------------------------------- zones

async def _zone_out(scope: TenantScope, zone: dict[str, Any]) -> dict[str, Any]:
    members = await scope.select(ZoneMember, ZoneMember.user_id).where(ZoneMember.zone_id == zone["id"]).order_by(
        ZoneMember.id)
    kind = zone_kinds().get(zone["kind"], {})
    return {**zone, "member_ids": [m["user_id"] for m in members], "label_zh": kind.get("label_zh", ""),
            "label_en": kind.get("label_en", ""), "services": kind.get("services", [])}


async def _check_zone(principal: Principal, data: dict[str, Any]) -> None:
    if data["kind"] not in zone_kinds():
        raise invalid("kind", f"one of {', '.join(zone_kinds())}")
    if data["floor_from"] > data["floor_to"]:
        raise invalid("floor_to", "is below floor_from")
    if data.get("building_id") is not None:
        building = await principal.scope.get_or_none(tables.Building, data["building_id"])
        if building is None or building["project_id"] != data["project_id"]:
            raise invalid("building_id", "no such building in this project")


async def create_zone(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """Map floors of a commercial project to a zone, with its team (the lead is part of the team)."""
    principal.require("commercial_buildings.manage_zones")
    await _commercial_project(principal, data["project_id"])
    await _check_zone(principal, data)
    member_ids = await _staff_ids(principal.scope, data.pop("member_ids", []), "member_ids")
    if data.get("lead_id") is not None:
        await _staff_ids(principal.scope, [data["lead_id"]], "lead_id")
        member_ids = list(dict.fromkeys([data["lead_id"], *member_ids]))
    async with transaction():
        zone = await principal.scope.insert(Zone, **data)
        await principal.scope.insert_many(ZoneMember, [{"zone_id": zone["id"], "user_id": u} for u in member_ids])
    return await _zone_out(principal.scope, zone)


async def get_zone(principal: Principal, zone_id: int) -> dict[str, Any]:
    return await _zone_out(principal.scope, await _visible(principal, Zone, zone_id, "zone"))


async def list_zones(principal: Principal, project_id: int | None = None) -> list[dict[str, Any]]:
    query = principal.scope.select(Zone)
    clause = principal.project_filter(Zone.project_id)
    if clause is not None:
        query = query.where(clause)
    if project_id is not None:
        query = query.where(Zone.project_id == project_id)
    zones = await query.order_by(Zone.project_id).order_by(Zone.floor_from).limit(500)
    members = await principal.scope.select(ZoneMember, ZoneMember.zone_id, ZoneMember.user_id).where(
        ZoneMember.zone_id.is_in([z["id"] for z in zones] or [-1])).order_by(ZoneMember.id)
    kinds = zone_kinds()
    out = []
    for z in zones:
        kind = kinds.get(z["kind"], {})
        out.append({**z, "member_ids": [m["user_id"] for m in members if m["zone_id"] == z["id"]],
                    "label_zh": kind.get("label_zh", ""), "label_en": kind.get("label_en", ""),
                    "services": kind.get("services", [])})
    return out


async def update_zone(principal: Principal, zone_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    zone = await _visible(principal, Zone, zone_id, "zone")
    principal.require("commercial_buildings.manage_zones")
    merged = {**zone, **changes}
    await _check_zone(principal, merged)
    member_ids = changes.pop("member_ids", None)
    if changes.get("lead_id") is not None:
        await _staff_ids(principal.scope, [changes["lead_id"]], "lead_id")
    if member_ids is not None:
        member_ids = await _staff_ids(principal.scope, member_ids, "member_ids")
    async with transaction():
        if changes:
            await principal.scope.update(Zone, {getattr(Zone, k): v for k, v in changes.items()}).where(Zone.id == zone_id)
        lead = merged.get("lead_id")
        if member_ids is not None:
            await principal.scope.delete(ZoneMember).where(ZoneMember.zone_id == zone_id)
            member_ids = list(dict.fromkeys(([lead] if lead else []) + member_ids))
            await principal.scope.insert_many(ZoneMember, [{"zone_id": zone_id, "user_id": u} for u in member_ids])
        elif lead and not await principal.scope.exists(ZoneMember).where(
                (ZoneMember.zone_id == zone_id) & (ZoneMember.user_id == lead)):
            await principal.scope.insert(ZoneMember, zone_id=zone_id, user_id=lead)
    return await get_zone(principal, zone_id)


async def delete_zone(principal: Principal, zone_id: int) -> None:
    await _visible(principal, Zone, zone_id, "zone")
    principal.require("commercial_buildings.manage_zones")
    for table in (Visitor, StoredItem):
        if await principal.scope.exists(table).where(table.lobby_id == zone_id):
            raise conflict("The lobby has visitors or stored items on record; it cannot be deleted.")
    async with transaction():
        await principal.scope.delete(ZoneMember).where(ZoneMember.zone_id == zone_id)
        await principal.scope.delete(Zone).where(Zone.id == zone_id)


async def zone_of_unit(scope: TenantScope, unit: dict[str, Any]) -> dict[str, Any] | None:
    """The zone a unit's floor belongs to: a zone of the unit's use first, then the narrowest run of floors."""
    rows = await scope.select(Zone).where(
        (Zone.project_id == unit["project_id"]) & (Zone.floor_from <= unit["floor"]) & (Zone.floor_to >= unit["floor"])
        & (Zone.building_id.is_null() | (Zone.building_id == unit["building_id"])))
    if not rows:
        return None
    wanted = UNIT_USE_ZONE.get(unit.get("use") or "")
    rows.sort(key=lambda z: (z["kind"] != wanted, z["building_id"] is None, z["floor_to"] - z["floor_from"], z["id"]))
    return rows[0]


async def responsible_for(tenant_id: int, project: dict[str, Any], ticket: dict[str, Any]) -> int | None:
    """The zone team's lead for a ticket in a unit of a commercial project (None: let the kernel decide)."""
    if project.get("kind") != "commercial" or not ticket.get("unit_id"):
        return None
    scope = TenantScope(tenant_id)
    unit = await scope.get_or_none(tables.Unit, ticket["unit_id"])
    if unit is None:
        return None
    zone = await zone_of_unit(scope, unit)
    return zone["lead_id"] if zone else None


# ---------------------------------------------------------------- after-hours air conditioning

def _hhmm(value: Any, field: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise invalid(field, "a time like 19:30") from None


async def ac_terms(tenant_id: int, project_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Hours and fee (fen) of an after-hours AC request; the fee only when the tenant sets an hourly price."""
    day = date.fromisoformat(str(data["date"]))
    start, end = _hhmm(data["start"], "data.start"), _hhmm(data["end"], "data.end")
    if end <= start:
        raise invalid("data.end", "must be after the start")
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    hours = math.ceil(minutes / 60)  # billed per started hour
    settings = await settings_of(tenant_id, project_id)
    price = int(settings.get("after_hours_ac_fee_fen_per_hour") or 0)
    return {"date": day.isoformat(), "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"), "hours": hours,
            "fee_fen": price * hours if price > 0 else None, "fee_fen_per_hour": price if price > 0 else None}


async def request_after_hours_ac(principal: Principal, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """An office tenant asks for air conditioning outside office hours or on a holiday: a ticket of the office zone."""
    from core import calendar_for

    now = now or utcnow()
    unit = await _unit_in_body(principal, data["unit_id"])
    project = await _commercial_project(principal, unit["project_id"], "unit_id")
    zone = await zone_of_unit(principal.scope, unit)
    if (zone is None or zone["kind"] != "office") and unit.get("use") != "office":
        raise invalid("unit_id", "is not in an office zone")
    terms = await ac_terms(principal.tenant_id, project["id"], {"date": data["date"], "start": data["start"],
                                                                 "end": data["end"]})
    settings = await settings_of(principal.tenant_id, project["id"])
    hours = settings.get("office_hours") or {}
    opens, closes = _hhmm(hours.get("opens", "08:30"), "office_hours"), _hhmm(hours.get("closes", "18:00"), "office_hours")
    cal = await calendar_for(principal.tenant_id)
    day = date.fromisoformat(terms["date"])
    working = cal.is_working_day(day)
    if working and _hhmm(terms["start"], "start") < closes and _hhmm(terms["end"], "end") > opens:
        raise invalid("start", f"overlaps office hours {opens:%H:%M}-{closes:%H:%M} on a working day")
    terms["holiday"] = not working
    title = f"加班空调 After-hours AC {terms['date']} {terms['start']}-{terms['end']}"
    return await tickets.create_ticket(principal, {
        "project_id": project["id"], "kind": AC_KIND, "channel": data.get("channel") or "walk_in", "title": title,
        "description": data.get("description", ""), "unit_id": unit["id"], "customer_id": data.get("customer_id"),
        "contact_phone": data.get("contact_phone", ""), "data": {**terms, "area": data.get("area", "")}}, now=now)


async def fill_ac_fee(tenant_id: int, ticket: dict[str, Any]) -> None:
    """A ticket of this kind made through the generic ticket API gets its hours and fee too."""
    data = json_value(ticket.get("data")) or {}
    if ticket.get("kind") != AC_KIND or "hours" in data:
        return
    try:
        terms = await ac_terms(tenant_id, ticket["project_id"], data)
    except (Problem, ValueError, KeyError):
        return
    data.update(terms)
    await TenantScope(tenant_id).update(tables.Ticket, {tables.Ticket.data: data}).where(tables.Ticket.id == ticket["id"])
    ticket["data"] = data


# ---------------------------------------------------------------- visitor register

def present_visitor(principal: Principal, row: dict[str, Any], close_at: datetime | None = None,
                    now: datetime | None = None) -> dict[str, Any]:
    """A visitor as this staff member may see it: the ID number masked unless the role needs it."""
    out = dict(row)
    out["id_number"] = present_customer(principal, {"id_number": row.get("id_number") or "", "phone": ""})["id_number"]
    if close_at is not None and now is not None:
        out["still_inside_at_close"] = (row["status"] == "inside" and row["time_in"] is not None
                                        and row["time_in"] < close_at <= now)
    else:
        out["still_inside_at_close"] = row.get("flagged_at") is not None and row["status"] == "inside"
    return out


async def _host_of_project(principal: Principal, customer_id: int, project_id: int, on: date) -> None:
    held = await principal.scope.select(tables.Occupancy, tables.Occupancy.id).where(
        (tables.Occupancy.customer_id == customer_id) & (tables.Occupancy.unit_id.project_id == project_id)
        & (tables.Occupancy.start_date <= on)
        & (tables.Occupancy.end_date.is_null() | (tables.Occupancy.end_date >= on))).first()
    if held is None:
        raise invalid("host_customer_id", "is not a customer of this project")


async def register_visitor(principal: Principal, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Register a visitor at the lobby: inside from `time_in` (default now)."""
    principal.require("commercial_buildings.lobby")
    now = now or utcnow()
    project = await _commercial_project(principal, data["project_id"])
    await _lobby_in_body(principal, data.get("lobby_id"), project["id"])
    time_in = _aware(data.pop("time_in", None) or now, "time_in")
    await _host_of_project(principal, data["host_customer_id"], project["id"], _local_day(time_in))
    row = await principal.scope.insert(Visitor, **data, status="inside", time_in=time_in,
                                       registered_by_id=principal.user_id)
    return present_visitor(principal, row)


async def pre_register_visitor(principal: Principal, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """The host company announces a visitor: expected at the lobby until arrival."""
    principal.require("commercial_buildings.lobby")
    now = now or utcnow()
    project = await _commercial_project(principal, data["project_id"])
    await _lobby_in_body(principal, data.get("lobby_id"), project["id"])
    expected_at = _aware(data["expected_at"], "expected_at")
    await _host_of_project(principal, data["host_customer_id"], project["id"], _local_day(expected_at))
    data["expected_at"] = expected_at
    row = await principal.scope.insert(Visitor, **data, status="expected", pre_registered=True,
                                       registered_by_id=principal.user_id)
    return present_visitor(principal, row)


async def get_visitor(principal: Principal, visitor_id: int) -> dict[str, Any]:
    return present_visitor(principal, await _visible(principal, Visitor, visitor_id, "visitor"))


async def visitor_arrives(principal: Principal, visitor_id: int, data: dict[str, Any], *,
                          now: datetime | None = None) -> dict[str, Any]:
    """An expected visitor arrives; the ID is checked and recorded now."""
    visitor = await _visible(principal, Visitor, visitor_id, "visitor")
    principal.require("commercial_buildings.lobby")
    if visitor["status"] != "expected":
        raise conflict(f"The visitor is {visitor['status']}, not expected.")
    changes = {k: v for k, v in data.items() if v is not None and k in ("id_type", "id_number")}
    changes.update(status="inside", time_in=_aware(data.get("at") or now or utcnow(), "at"))
    updated = await principal.scope.update(Visitor, {getattr(Visitor, k): v for k, v in changes.items()}).where(
        (Visitor.id == visitor_id) & (Visitor.status == "expected")).returning(Visitor.id)
    if not updated:
        raise conflict("The visitor changed meanwhile; reload and try again.")
    return present_visitor(principal, {**visitor, **changes})


async def visitor_leaves(principal: Principal, visitor_id: int, *, at: datetime | None = None,
                         now: datetime | None = None) -> dict[str, Any]:
    visitor = await _visible(principal, Visitor, visitor_id, "visitor")
    principal.require("commercial_buildings.lobby")
    if visitor["status"] != "inside":
        raise conflict(f"The visitor is {visitor['status']}, not inside.")
    time_out = _aware(at or now or utcnow(), "at")
    if time_out < visitor["time_in"]:
        raise invalid("at", "is before the time in")
    await principal.scope.update(Visitor, {Visitor.status: "left", Visitor.time_out: time_out}).where(
        (Visitor.id == visitor_id) & (Visitor.status == "inside"))
    return present_visitor(principal, {**visitor, "status": "left", "time_out": time_out})


def close_moment(day: date, settings: dict[str, Any]) -> datetime:
    """When the lobby closes on a day (the `lobby_closes` setting, Beijing time), in UTC."""
    closes = _hhmm(settings.get("lobby_closes") or "22:00", "lobby_closes")
    return datetime.combine(day, closes, TZ).astimezone(timezone.utc)


async def visitors_of_day(principal: Principal, project_id: int, day: date, *, lobby_id: int | None = None,
                          now: datetime | None = None) -> dict[str, Any]:
    """A lobby's list of a day: who came, who is expected, who is still inside at close of day."""
    now = now or utcnow()
    await places.visible_project(principal, project_id)
    start, end = _day_bounds(day)
    query = principal.scope.select(Visitor, Visitor.all_columns(),
                                   Visitor.host_customer_id.name.as_alias("host_name")).where(
        (Visitor.project_id == project_id)
        & (((Visitor.time_in >= start) & (Visitor.time_in < end))
           | ((Visitor.status == "expected") & (Visitor.expected_at >= start) & (Visitor.expected_at < end))))
    if lobby_id is not None:
        query = query.where(Visitor.lobby_id == lobby_id)
    rows = await query.order_by(Visitor.id).limit(2000)
    close_at = close_moment(day, await settings_of(principal.tenant_id, project_id))
    items = [present_visitor(principal, r, close_at, now) for r in rows]
    return {"day": day.isoformat(), "closes_at": close_at.isoformat(), "items": items,
            "inside": sum(1 for v in items if v["status"] == "inside"),
            "expected": sum(1 for v in items if v["status"] == "expected"),
            "still_inside_at_close": [v["id"] for v in items if v["still_inside_at_close"]]}


async def _enabled_tenants() -> list[int]:
    """Tenants that enabled the plugin (tenant-wide or for a project)."""
    state = tables.PluginState
    rows = await state.select(state.tenant_id).where((state.plugin == PLUGIN) & (state.enabled == True)).distinct()  # noqa: E712
    return sorted({r["tenant_id"] for r in rows})


async def flag_still_inside(as_of: datetime) -> dict[str, int]:
    """Flag visitors still inside after the lobby closed (idempotent: a flagged visit is not flagged again)."""
    flagged: dict[str, int] = {}
    for tenant_id in await _enabled_tenants():
        scope = TenantScope(tenant_id)
        settings = await settings_of(tenant_id)
        today = _local_day(as_of)
        close_at = close_moment(today, settings)
        if close_at > as_of:
            close_at = close_moment(today - timedelta(days=1), settings)
        rows = await scope.update(Visitor, {Visitor.flagged_at: as_of}).where(
            (Visitor.status == "inside") & Visitor.flagged_at.is_null() & (Visitor.time_in < close_at)
        ).returning(Visitor.id)
        if rows:
            flagged[str(tenant_id)] = len(rows)
    return flagged


async def purge_visitor_ids(as_of: datetime) -> dict[str, Any]:
    """Erase ID numbers of visits older than each tenant's retention (`visitor_retention_days`, default 90).

    Idempotent: erased rows keep `id_erased_at` and are not counted again. Returns how many it erased.
    """
    erased, per_tenant = 0, {}
    for tenant_id in await _enabled_tenants():
        days = int((await settings_of(tenant_id)).get("visitor_retention_days") or 90)
        cutoff = as_of - timedelta(days=max(days, 1))
        rows = await TenantScope(tenant_id).update(Visitor, {Visitor.id_number: "", Visitor.id_erased_at: as_of}).where(
            Visitor.id_erased_at.is_null()
            & ((Visitor.time_out.is_not_null() & (Visitor.time_out < cutoff))
               | (Visitor.time_out.is_null() & Visitor.time_in.is_not_null() & (Visitor.time_in < cutoff))
               | (Visitor.time_in.is_null() & (Visitor.expected_at < cutoff)))
        ).returning(Visitor.id)
        if rows:
            per_tenant[str(tenant_id)] = len(rows)
            erased += len(rows)
    return {"as_of": as_of.isoformat(), "erased": erased, "tenants": per_tenant}


# ---------------------------------------------------------------- authorised contacts

async def add_contact(principal: Principal, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """An owner or renter authorises a contact to confirm pass-outs of their unit."""
    principal.require("commercial_buildings.lobby")
    now = now or utcnow()
    unit = await _unit_in_body(principal, data["unit_id"])
    holders = await _holders(principal.scope, unit["id"], _local_day(now))
    if data["authorised_by_id"] not in holders:
        raise invalid("authorised_by_id", "is not an owner or renter of this unit")
    if await principal.scope.get_or_none(tables.Customer, data["contact_id"], tables.Customer.id) is None:
        raise invalid("contact_id", "no such customer")
    if data.get("valid_until") is not None:
        data["valid_until"] = _aware(data["valid_until"], "valid_until")
    return await principal.scope.insert(AuthorisedContact, **data, created_by_id=principal.user_id)


async def list_contacts(principal: Principal, unit_id: int) -> list[dict[str, Any]]:
    unit = await places.get_unit(principal, unit_id)
    return await principal.scope.select(AuthorisedContact, AuthorisedContact.all_columns(),
                                        AuthorisedContact.contact_id.name.as_alias("contact_name")).where(
        AuthorisedContact.unit_id == unit["id"]).order_by(AuthorisedContact.id)


async def revoke_contact(principal: Principal, contact_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    row = await principal.scope.get(AuthorisedContact, contact_id, what="authorised contact")
    unit = await principal.scope.get(tables.Unit, row["unit_id"])
    if not principal.sees_unit(unit):
        raise not_found("authorised contact")
    principal.require("commercial_buildings.lobby")
    at = now or utcnow()
    await principal.scope.update(AuthorisedContact, {AuthorisedContact.revoked_at: at}).where(
        (AuthorisedContact.id == contact_id) & AuthorisedContact.revoked_at.is_null())
    return {**row, "revoked_at": row["revoked_at"] or at}


# ---------------------------------------------------------------- pass-outs (the release gate)

async def _holders(scope: TenantScope, unit_id: int, on: date) -> list[int]:
    rows = await scope.select(tables.Occupancy, tables.Occupancy.customer_id).where(
        (tables.Occupancy.unit_id == unit_id) & tables.Occupancy.role.is_in(list(HOLDER_ROLES))
        & (tables.Occupancy.start_date <= on)
        & (tables.Occupancy.end_date.is_null() | (tables.Occupancy.end_date >= on)))
    return list(dict.fromkeys(r["customer_id"] for r in rows))


async def who_may_confirm(tenant_id: int, unit_id: int, *, now: datetime | None = None) -> list[int]:
    """Customers who may confirm a pass-out of a unit: its current owners and renters, and contacts they authorised."""
    now = now or utcnow()
    scope = TenantScope(tenant_id)
    holders = await _holders(scope, unit_id, _local_day(now))
    if not holders:
        return []
    contacts = await scope.select(AuthorisedContact, AuthorisedContact.contact_id).where(
        (AuthorisedContact.unit_id == unit_id) & AuthorisedContact.authorised_by_id.is_in(holders)
        & AuthorisedContact.revoked_at.is_null()
        & (AuthorisedContact.valid_until.is_null() | (AuthorisedContact.valid_until > now)))
    return list(dict.fromkeys([*holders, *(c["contact_id"] for c in contacts)]))


async def request_pass_out(principal: Principal, *, unit_id: int, items: list[dict[str, Any]], carrier_name: str,
                           window_start: datetime, window_end: datetime, carrier_phone: str = "",
                           purpose: str = "large_items", source: str = PLUGIN,
                           now: datetime | None = None) -> dict[str, Any]:
    """Request a pass-out for large items of a unit; it waits for the unit's confirmation."""
    principal.require("commercial_buildings.lobby")
    unit = await _unit_in_body(principal, unit_id)
    window_start, window_end = _aware(window_start, "window_start"), _aware(window_end, "window_end")
    if window_end <= window_start:
        raise invalid("window_end", "must be after window_start")
    if not items:
        raise invalid("items", "name at least one item")
    async with transaction():
        row = await principal.scope.insert(
            PassOut, project_id=unit["project_id"], unit_id=unit["id"], code=secrets.token_hex(4).upper(),
            purpose=purpose, source=source, carrier_name=carrier_name, carrier_phone=carrier_phone,
            window_start=window_start, window_end=window_end, requested_by_id=principal.user_id)
        await principal.scope.insert_many(PassOutItem, [
            {"pass_out_id": row["id"], "description": i["description"], "quantity": int(i.get("quantity") or 1),
             "photo_url": i.get("photo_url") or ""} for i in items])
    return await get_pass_out(principal, row["id"])


async def get_pass_out(principal: Principal, pass_out_id: int) -> dict[str, Any]:
    """A pass-out with its items, the links sent (never their tokens) and its release record."""
    row = await _visible(principal, PassOut, pass_out_id, "pass out")
    return await _pass_out_out(principal.scope, row)


async def _pass_out_out(scope: TenantScope, row: dict[str, Any]) -> dict[str, Any]:
    items = await scope.select(PassOutItem, PassOutItem.id, PassOutItem.description, PassOutItem.quantity,
                               PassOutItem.photo_url).where(PassOutItem.pass_out_id == row["id"]).order_by(PassOutItem.id)
    links = await scope.select(PassOutLink, PassOutLink.id, PassOutLink.customer_id, PassOutLink.expires_at,
                               PassOutLink.used_at, PassOutLink.created_at).where(
        PassOutLink.pass_out_id == row["id"]).order_by(PassOutLink.id)
    release = await scope.select(Release, Release.all_columns(), Release.released_by_id.name.as_alias("released_by_name")
                                 ).where(Release.pass_out_id == row["id"]).first()
    if release:
        release["items"] = json_value(release["items"]) or []
    unit = await scope.select(tables.Unit, tables.Unit.room, tables.Unit.floor,
                              tables.Unit.building_id.code.as_alias("building")).where(
        tables.Unit.id == row["unit_id"]).first()
    return {**row, "unit": unit, "items": items, "links": links, "release": release}


async def list_pass_outs(principal: Principal, *, project_id: int | None = None, status: str | None = None,
                         limit: int = 100) -> list[dict[str, Any]]:
    query = principal.scope.select(PassOut, PassOut.all_columns(), PassOut.unit_id.room.as_alias("room"))
    clause = principal.project_filter(PassOut.project_id)
    if clause is not None:
        query = query.where(clause)
    if project_id is not None:
        query = query.where(PassOut.project_id == project_id)
    if status:
        query = query.where(PassOut.status == status)
    return await query.order_by(PassOut.id, ascending=False).limit(limit)


async def pass_out_by_code(principal: Principal, code: str) -> dict[str, Any]:
    """The guard scans the slip's code or types it."""
    row = await principal.scope.select(PassOut).where(PassOut.code == code.strip().upper()).first()
    if row is None or not principal.sees_project(row["project_id"]):
        raise not_found("pass out")
    return await _pass_out_out(principal.scope, row)


def _not_requested(row: dict[str, Any]) -> Problem:
    return conflict(f"The pass-out is {row['status']}; only a requested pass-out can be confirmed or rejected.",
                    status=row["status"])


async def send_link(principal: Principal, pass_out_id: int, customer_id: int, *,
                    now: datetime | None = None) -> dict[str, Any]:
    """Send a one-time confirmation link to a customer who may confirm; returns the token to the caller only."""
    now = now or utcnow()
    row = await _visible(principal, PassOut, pass_out_id, "pass out")
    principal.require("commercial_buildings.lobby")
    if row["status"] != "requested":
        raise _not_requested(row)
    if customer_id not in await who_may_confirm(principal.tenant_id, row["unit_id"], now=now):
        raise invalid("customer_id", "is not an owner, renter or authorised contact of this unit")
    settings = await settings_of(principal.tenant_id, row["project_id"])
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=int(settings.get("pass_out_link_hours") or 24))
    link = await principal.scope.insert(PassOutLink, pass_out_id=pass_out_id, customer_id=customer_id,
                                        token_hash=_hash(token), expires_at=expires_at, created_by_id=principal.user_id)
    tenant = await tables.Tenant.select(tables.Tenant.slug).where(tables.Tenant.id == principal.tenant_id).first()
    url = f"{settings.get('public_base_url') or ''}/public/{tenant['slug']}/commercial-buildings/pass-outs/confirm/{token}"
    await notify.send(principal.tenant_id, template="commercial_buildings.pass_out_confirm",
                      subject=f"放行确认 Pass-out {row['code']}: {row['carrier_name']}",
                      body=f"请确认放行 Please confirm the items leaving your unit: {url} (expires {expires_at:%Y-%m-%d %H:%M} UTC)",
                      key=f"cb:pass_out_link:{link['id']}", customer_id=customer_id,
                      channel=settings.get("pass_out_link_channel") or "sms")
    return {"link_id": link["id"], "customer_id": customer_id, "expires_at": expires_at, "token": token, "url": url}


async def _confirm(scope: TenantScope, row: dict[str, Any], customer_id: int, via: str, user_id: int | None,
                   now: datetime) -> dict[str, Any]:
    changes = {PassOut.status: "confirmed", PassOut.confirmed_by_customer_id: customer_id, PassOut.confirmed_via: via,
               PassOut.confirmation_recorded_by_id: user_id, PassOut.confirmed_at: now}
    done = await scope.update(PassOut, changes).where((PassOut.id == row["id"]) & (PassOut.status == "requested")
                                                      ).returning(PassOut.id)
    if not done:
        raise conflict("The pass-out changed meanwhile; reload it.")
    await _audit(scope, user_id, "pass_out.confirmed", "commercial_buildings_pass_out", row["id"], now,
                 {"customer_id": customer_id, "via": via})
    return {**row, "status": "confirmed", "confirmed_by_customer_id": customer_id, "confirmed_via": via,
            "confirmation_recorded_by_id": user_id, "confirmed_at": now}


async def confirm_in_person(principal: Principal, pass_out_id: int, customer_id: int, *,
                            now: datetime | None = None) -> dict[str, Any]:
    """Record a confirmation the owner, renter or authorised contact gave at the desk."""
    now = now or utcnow()
    row = await _visible(principal, PassOut, pass_out_id, "pass out")
    principal.require("commercial_buildings.lobby")
    if row["status"] != "requested":
        raise _not_requested(row)
    if customer_id not in await who_may_confirm(principal.tenant_id, row["unit_id"], now=now):
        raise invalid("customer_id", "is not an owner, renter or authorised contact of this unit")
    async with transaction():
        return await _confirm(principal.scope, row, customer_id, "in_person", principal.user_id, now)


async def link_target(tenant_id: int, token: str, *, now: datetime | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The link and its pass-out for a token, or a problem: 404 unknown, 409 used, 410 expired."""
    now = now or utcnow()
    scope = TenantScope(tenant_id)
    link = await scope.select(PassOutLink).where(PassOutLink.token_hash == _hash(token)).first()
    if link is None:
        raise not_found("confirmation link")
    if link["used_at"] is not None:
        raise conflict("This confirmation link has already been used.")
    if link["expires_at"] <= now:
        raise Problem(410, "Link expired", "This confirmation link has expired; ask the lobby for a new one.")
    row = await scope.get(PassOut, link["pass_out_id"], what="pass out")
    return link, await _pass_out_out(scope, row)


async def confirm_by_token(tenant_id: int, token: str, *, decision: str = "confirm",
                           now: datetime | None = None) -> dict[str, Any]:
    """The customer answers through the one-time link: the link is spent whatever the answer."""
    now = now or utcnow()
    if decision not in ("confirm", "reject"):
        raise invalid("decision", "confirm or reject")
    scope = TenantScope(tenant_id)
    link, row = await link_target(tenant_id, token, now=now)
    if row["status"] != "requested":
        raise _not_requested(row)
    if link["customer_id"] not in await who_may_confirm(tenant_id, row["unit_id"], now=now):
        raise conflict("You no longer hold this unit, so you cannot confirm for it.")
    async with transaction():
        spent = await scope.update(PassOutLink, {PassOutLink.used_at: now}).where(
            (PassOutLink.id == link["id"]) & PassOutLink.used_at.is_null()).returning(PassOutLink.id)
        if not spent:
            raise conflict("This confirmation link has already been used.")
        if decision == "confirm":
            return await _confirm(scope, row, link["customer_id"], "link", None, now)
        return await _reject(scope, row, "客户通过链接拒绝 Rejected by the customer through the link", None, now,
                             link["customer_id"])


async def _reject(scope: TenantScope, row: dict[str, Any], reason: str, user_id: int | None, now: datetime,
                  customer_id: int | None = None) -> dict[str, Any]:
    done = await scope.update(PassOut, {PassOut.status: "rejected", PassOut.rejected_at: now,
                                        PassOut.reject_reason: reason}).where(
        (PassOut.id == row["id"]) & (PassOut.status == "requested")).returning(PassOut.id)
    if not done:
        raise conflict("The pass-out changed meanwhile; reload it.")
    await _audit(scope, user_id, "pass_out.rejected", "commercial_buildings_pass_out", row["id"], now,
                 {"reason": reason, "customer_id": customer_id})
    return {**row, "status": "rejected", "rejected_at": now, "reject_reason": reason}


async def reject_pass_out(principal: Principal, pass_out_id: int, reason: str, *,
                          now: datetime | None = None) -> dict[str, Any]:
    row = await _visible(principal, PassOut, pass_out_id, "pass out")
    principal.require("commercial_buildings.lobby")
    if row["status"] != "requested":
        raise _not_requested(row)
    async with transaction():
        return await _reject(principal.scope, row, reason, principal.user_id, now or utcnow())


async def release_pass_out(principal: Principal, pass_out_id: int, *, note: str = "",
                           items: list[dict[str, Any]] | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The lobby guard lets the items out: only a confirmed pass-out, inside its window; recorded once."""
    now = now or utcnow()
    row = await _visible(principal, PassOut, pass_out_id, "pass out")
    principal.require("commercial_buildings.release")
    reasons = {"requested": "it has not been confirmed by the unit's owner, renter or an authorised contact",
               "released": "it has already been released", "rejected": "it was rejected", "expired": "it has expired"}
    if row["status"] != "confirmed":
        raise conflict(f"Release refused: {reasons.get(row['status'], row['status'])}.", status=row["status"])
    if now < row["window_start"]:
        raise conflict(f"Release refused: the time window opens at {row['window_start'].isoformat()}.", status=row["status"])
    if now > row["window_end"]:
        raise conflict(f"Release refused: the time window closed at {row['window_end'].isoformat()}.", status=row["status"])
    listed = await principal.scope.select(PassOutItem, PassOutItem.description, PassOutItem.quantity).where(
        PassOutItem.pass_out_id == pass_out_id).order_by(PassOutItem.id)
    left = listed if items is None else items
    for i, item in enumerate(left):
        match = next((x for x in listed if x["description"] == item["description"]), None)
        if match is None or int(item.get("quantity") or 1) > match["quantity"]:
            raise invalid(f"items.{i}", "was not on the pass-out (or more than its quantity)")
    left = [{"description": x["description"], "quantity": int(x.get("quantity") or 1)} for x in left]
    async with transaction():
        done = await principal.scope.update(PassOut, {PassOut.status: "released", PassOut.released_at: now}).where(
            (PassOut.id == pass_out_id) & (PassOut.status == "confirmed")).returning(PassOut.id)
        if not done:
            raise conflict("Release refused: the pass-out changed meanwhile.")
        await principal.scope.insert(Release, pass_out_id=pass_out_id, released_by_id=principal.user_id,
                                     released_at=now, items=left, note=note)
        await _audit(principal.scope, principal.user_id, "pass_out.released", "commercial_buildings_pass_out",
                     pass_out_id, now, {"items": left, "note": note})
    return await get_pass_out(principal, pass_out_id)


async def expire_pass_outs(as_of: datetime) -> dict[str, int]:
    """Requested or confirmed pass-outs whose window has closed become expired (idempotent)."""
    out: dict[str, int] = {}
    for tenant_id in await _enabled_tenants():
        rows = await TenantScope(tenant_id).update(PassOut, {PassOut.status: "expired", PassOut.expired_at: as_of}).where(
            PassOut.status.is_in(["requested", "confirmed"]) & (PassOut.window_end < as_of)).returning(PassOut.id)
        if rows:
            out[str(tenant_id)] = len(rows)
    return out


async def _gate_request(principal: Principal, **kwargs: Any) -> dict[str, Any]:
    return await request_pass_out(principal, **kwargs)


GATE = SimpleNamespace(request=_gate_request, who_may_confirm=who_may_confirm, send_link=send_link,
                       confirm_in_person=confirm_in_person, confirm_by_token=confirm_by_token, reject=reject_pass_out,
                       release=release_pass_out, get=get_pass_out)


# ---------------------------------------------------------------- item storage

async def deposit_item(principal: Principal, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Take an item in at the lobby; the pickup code is returned once and only its hash is kept."""
    principal.require("commercial_buildings.lobby")
    now = now or utcnow()
    project = await _commercial_project(principal, data["project_id"])
    await _lobby_in_body(principal, data.get("lobby_id"), project["id"])
    if data.get("customer_id") is not None and \
            await principal.scope.get_or_none(tables.Customer, data["customer_id"], tables.Customer.id) is None:
        raise invalid("customer_id", "no such customer")
    code = f"{secrets.randbelow(10**6):06d}"
    row = await principal.scope.insert(StoredItem, **data, code_hash=_hash(f"{principal.tenant_id}:{code}"),
                                       deposited_at=now, deposited_by_id=principal.user_id)
    row.pop("code_hash")
    return {**row, "pickup_code": code}


def _stored_out(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out.pop("code_hash", None)
    out["status"] = "picked_up" if row.get("picked_up_at") else "waiting"
    return out


async def get_stored_item(principal: Principal, stored_item_id: int) -> dict[str, Any]:
    return _stored_out(await _visible(principal, StoredItem, stored_item_id, "stored item"))


async def list_stored_items(principal: Principal, project_id: int, *, waiting_only: bool = False) -> list[dict[str, Any]]:
    await places.visible_project(principal, project_id)
    query = principal.scope.select(StoredItem).where(StoredItem.project_id == project_id)
    if waiting_only:
        query = query.where(StoredItem.picked_up_at.is_null())
    return [_stored_out(r) for r in await query.order_by(StoredItem.id, ascending=False).limit(500)]


async def pick_up_item(principal: Principal, stored_item_id: int, code: str, picked_up_by_name: str, *,
                       now: datetime | None = None) -> dict[str, Any]:
    """Hand an item over against its code; an item is never handed over twice (409)."""
    now = now or utcnow()
    row = await _visible(principal, StoredItem, stored_item_id, "stored item")
    principal.require("commercial_buildings.lobby")
    if row["picked_up_at"] is not None:
        raise conflict(f"Already handed over at {row['picked_up_at'].isoformat()} to {row['picked_up_by_name']}.")
    if not hmac.compare_digest(row["code_hash"], _hash(f"{principal.tenant_id}:{code.strip()}")):
        raise invalid("code", "does not match this item's pickup code")
    done = await principal.scope.update(StoredItem, {StoredItem.picked_up_at: now,
                                                     StoredItem.picked_up_by_name: picked_up_by_name,
                                                     StoredItem.handed_over_by_id: principal.user_id}).where(
        (StoredItem.id == stored_item_id) & StoredItem.picked_up_at.is_null()).returning(StoredItem.id)
    if not done:
        raise conflict("Already handed over.")
    return _stored_out({**row, "picked_up_at": now, "picked_up_by_name": picked_up_by_name,
                        "handed_over_by_id": principal.user_id})


# ---------------------------------------------------------------- garage VIP vehicles

def normalise_plate(plate: str) -> str:
    return "".join(plate.split()).upper()


async def add_vip_vehicle(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    principal.require("commercial_buildings.lobby")
    await _commercial_project(principal, data["project_id"])
    data["plate"] = normalise_plate(data["plate"])
    if not data["plate"]:
        raise invalid("plate", "is empty")
    if data.get("customer_id") is not None and \
            await principal.scope.get_or_none(tables.Customer, data["customer_id"], tables.Customer.id) is None:
        raise invalid("customer_id", "no such customer")
    existing = await principal.scope.select(VipVehicle).where(
        (VipVehicle.project_id == data["project_id"]) & (VipVehicle.plate == data["plate"])).first()
    if existing and existing["is_active"]:
        raise conflict(f"{data['plate']} is already on the VIP list.")
    if existing:
        await principal.scope.update(VipVehicle, {**{getattr(VipVehicle, k): v for k, v in data.items()},
                                                  VipVehicle.is_active: True}).where(VipVehicle.id == existing["id"])
        return {**existing, **data, "is_active": True}
    return await principal.scope.insert(VipVehicle, **data)


async def list_vip_vehicles(principal: Principal, project_id: int) -> list[dict[str, Any]]:
    await places.visible_project(principal, project_id)
    return await principal.scope.select(VipVehicle).where(
        (VipVehicle.project_id == project_id) & (VipVehicle.is_active == True)).order_by(VipVehicle.plate)  # noqa: E712


async def remove_vip_vehicle(principal: Principal, vip_vehicle_id: int) -> None:
    await _visible(principal, VipVehicle, vip_vehicle_id, "VIP vehicle")
    principal.require("commercial_buildings.lobby")
    await principal.scope.update(VipVehicle, {VipVehicle.is_active: False}).where(VipVehicle.id == vip_vehicle_id)


async def garage_team(scope: TenantScope, project_id: int) -> list[int]:
    """Staff of the project's garage zones; the team leads and supervisors when no garage team is set."""
    zones = await scope.select(Zone, Zone.id, Zone.lead_id).where((Zone.project_id == project_id) & (Zone.kind == "garage"))
    members = await scope.select(ZoneMember, ZoneMember.user_id).where(
        ZoneMember.zone_id.is_in([z["id"] for z in zones] or [-1]))
    ids = [z["lead_id"] for z in zones if z["lead_id"]] + [m["user_id"] for m in members]
    if ids:
        return list(dict.fromkeys(ids))
    return await notify.staff_with_role(scope.tenant_id, ("team_lead", "supervisor"), project_id)


async def vehicle_arrives(principal: Principal, project_id: int, plate: str, *, at: datetime | None = None,
                          now: datetime | None = None) -> dict[str, Any]:
    """A VIP vehicle enters the garage: record it and tell the garage staff to guide it."""
    principal.require("commercial_buildings.lobby")
    at = _aware(at or now or utcnow(), "at")
    await _commercial_project(principal, project_id)
    vip = await principal.scope.select(VipVehicle).where(
        (VipVehicle.project_id == project_id) & (VipVehicle.plate == normalise_plate(plate))
        & (VipVehicle.is_active == True)).first()  # noqa: E712
    if vip is None:
        raise invalid("plate", "is not on this project's VIP list")
    arrival = await principal.scope.insert(VehicleArrival, project_id=project_id, vip_vehicle_id=vip["id"],
                                           arrived_at=at, recorded_by_id=principal.user_id)
    users = await garage_team(principal.scope, project_id)
    sent = await notify.send(principal.tenant_id, template="commercial_buildings.vip_arrival",
                             subject=f"贵宾车辆到达 VIP vehicle {vip['plate']} arrived",
                             body=f"{vip['owner_name']} {vip['note']} — {at.astimezone(TZ):%H:%M}",
                             key=f"cb:vip_arrival:{arrival['id']}", user_ids=users)
    await principal.scope.update(VehicleArrival, {VehicleArrival.notified: len(sent)}).where(
        VehicleArrival.id == arrival["id"])
    return {**arrival, "notified": len(sent), "plate": vip["plate"], "notified_user_ids": users}


async def list_arrivals(principal: Principal, project_id: int, limit: int = 100) -> list[dict[str, Any]]:
    await places.visible_project(principal, project_id)
    return await principal.scope.select(VehicleArrival, VehicleArrival.all_columns(),
                                        VehicleArrival.vip_vehicle_id.plate.as_alias("plate"),
                                        VehicleArrival.vip_vehicle_id.owner_name.as_alias("owner_name")).where(
        VehicleArrival.project_id == project_id).order_by(VehicleArrival.id, ascending=False).limit(limit)


# ---------------------------------------------------------------- move-in / move-out checklists

def _checklist_out(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["items"] = json_value(row["items"]) or []
    wait = (row["started_at"] - row["arrived_at"]) if row.get("started_at") else None
    proc = (row["finished_at"] - row["started_at"]) if row.get("finished_at") and row.get("started_at") else None
    out["waiting_minutes"] = round(wait.total_seconds() / 60, 1) if wait is not None else None
    out["processing_minutes"] = round(proc.total_seconds() / 60, 1) if proc is not None else None
    out["waiting_within_target"] = None if wait is None else wait <= WAIT_TARGET
    out["processing_within_target"] = None if proc is None else proc <= PROCESS_TARGET
    out["status"] = "done" if row.get("finished_at") else ("in_progress" if row.get("started_at") else "waiting")
    return out


async def create_checklist(principal: Principal, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """A commercial tenant arrives at the desk to move in or out; the waiting clock starts at `arrived_at`."""
    principal.require("commercial_buildings.lobby")
    unit = await _unit_in_body(principal, data["unit_id"])
    await _commercial_project(principal, unit["project_id"], "unit_id")
    if await principal.scope.get_or_none(tables.Customer, data["customer_id"], tables.Customer.id) is None:
        raise invalid("customer_id", "no such customer")
    arrived = _aware(data.get("arrived_at") or now or utcnow(), "arrived_at")
    if data["kind"] == "move_out" and data["customer_id"] not in await _holders(principal.scope, unit["id"], _local_day(arrived)):
        raise invalid("customer_id", "does not hold this unit, so cannot move out of it")
    names = data.get("items") or list(DEFAULT_CHECKLISTS[data["kind"]])
    row = await principal.scope.insert(Checklist, project_id=unit["project_id"], unit_id=unit["id"],
                                       customer_id=data["customer_id"], kind=data["kind"], arrived_at=arrived,
                                       items=[{"name": n, "done": False} for n in names])
    return _checklist_out(row)


async def get_checklist(principal: Principal, checklist_id: int) -> dict[str, Any]:
    return _checklist_out(await _visible(principal, Checklist, checklist_id, "checklist"))


async def start_checklist(principal: Principal, checklist_id: int, *, at: datetime | None = None,
                          now: datetime | None = None) -> dict[str, Any]:
    row = await _visible(principal, Checklist, checklist_id, "checklist")
    principal.require("commercial_buildings.lobby")
    if row["started_at"] is not None:
        raise conflict("Processing has already started.")
    at = _aware(at or now or utcnow(), "at")
    if at < row["arrived_at"]:
        raise invalid("at", "is before the customer arrived")
    await principal.scope.update(Checklist, {Checklist.started_at: at, Checklist.handled_by_id: principal.user_id}).where(
        (Checklist.id == checklist_id) & Checklist.started_at.is_null())
    return _checklist_out({**row, "started_at": at, "handled_by_id": principal.user_id})


async def tick_items(principal: Principal, checklist_id: int, done: dict[str, bool]) -> dict[str, Any]:
    row = await _visible(principal, Checklist, checklist_id, "checklist")
    principal.require("commercial_buildings.lobby")
    if row["finished_at"] is not None:
        raise conflict("The checklist is finished.")
    items = json_value(row["items"]) or []
    names = {i["name"] for i in items}
    unknown = [n for n in done if n not in names]
    if unknown:
        raise invalid("done", f"no such item: {unknown[0]}")
    items = [{**i, "done": bool(done.get(i["name"], i["done"]))} for i in items]
    await principal.scope.update(Checklist, {Checklist.items: items}).where(Checklist.id == checklist_id)
    return _checklist_out({**row, "items": items})


async def finish_checklist(principal: Principal, checklist_id: int, *, at: datetime | None = None,
                           now: datetime | None = None) -> dict[str, Any]:
    row = await _visible(principal, Checklist, checklist_id, "checklist")
    principal.require("commercial_buildings.lobby")
    if row["started_at"] is None:
        raise conflict("Processing has not started.")
    if row["finished_at"] is not None:
        raise conflict("The checklist is already finished.")
    undone = [i["name"] for i in json_value(row["items"]) or [] if not i["done"]]
    if undone:
        raise conflict(f"Items not done yet: {', '.join(undone)}", undone=undone)
    at = _aware(at or now or utcnow(), "at")
    if at < row["started_at"]:
        raise invalid("at", "is before processing started")
    await principal.scope.update(Checklist, {Checklist.finished_at: at}).where(
        (Checklist.id == checklist_id) & Checklist.finished_at.is_null())
    return _checklist_out({**row, "finished_at": at})


async def list_checklists(principal: Principal, project_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    await places.visible_project(principal, project_id)
    rows = await principal.scope.select(Checklist, Checklist.all_columns(), Checklist.unit_id.room.as_alias("room"),
                                        Checklist.customer_id.name.as_alias("customer_name")).where(
        (Checklist.project_id == project_id) & (Checklist.arrived_at >= start) & (Checklist.arrived_at < end)
    ).order_by(Checklist.arrived_at).limit(5000)
    return [_checklist_out(r) for r in rows]


async def checklist_report(principal: Principal, project_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """Waiting (≤ 15 minutes) and processing (≤ 30 minutes) of move-ins and move-outs in a period, seed 001."""
    start, end = _aware(start, "from"), _aware(end, "to")
    if end <= start:
        raise invalid("to", "must be after from")
    rows = await list_checklists(principal, project_id, start, end)
    waited = [r for r in rows if r["waiting_minutes"] is not None]
    processed = [r for r in rows if r["processing_minutes"] is not None]

    def avg(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 1) if values else None

    return {
        "project_id": project_id, "from": start.isoformat(), "to": end.isoformat(), "seed": "001",
        "targets": {"waiting_minutes": WAIT_TARGET.total_seconds() / 60,
                    "processing_minutes": PROCESS_TARGET.total_seconds() / 60},
        "arrived": len(rows), "started": len(waited), "finished": len(processed),
        "waiting_within_target": sum(1 for r in waited if r["waiting_within_target"]),
        "processing_within_target": sum(1 for r in processed if r["processing_within_target"]),
        "average_waiting_minutes": avg([r["waiting_minutes"] for r in waited]),
        "average_processing_minutes": avg([r["processing_minutes"] for r in processed]),
        "breaches": [{"id": r["id"], "kind": r["kind"], "room": r["room"], "waiting_minutes": r["waiting_minutes"],
                      "processing_minutes": r["processing_minutes"]} for r in rows
                     if r["waiting_within_target"] is False or r["processing_within_target"] is False],
    }
