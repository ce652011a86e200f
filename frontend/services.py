"""What the portal pages read: customer search, the responsible preview, the menu, dashboard figures.

Everything goes through the principal's `TenantScope` and its project/ticket filters; counts are
`GROUP BY` queries, never loops over tickets.
"""
from __future__ import annotations

import inspect
import logging
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from core.calendar import WorkCalendar
from core.plugins import get_registry
from core.roles import Role
from core.tables import Building, Grid, Membership, Occupancy, Project, Ticket, Unit
from core.tenancy import Principal
from core.workflow import OPEN_STATUSES, STATUSES

log = logging.getLogger("guanjia.portal")
BEIJING = ZoneInfo("Asia/Shanghai")
NEAR_DUE = timedelta(hours=2)
BANNER_ROLES = (Role.COMPANY_CS, Role.SUPERVISOR, Role.PROJECT_MANAGER)


def today_in_china(now: datetime | None = None) -> date:
    from core.tickets import utcnow

    return (now or utcnow()).astimezone(BEIJING).date()


def role_home(principal: Principal) -> str:
    """Where a staff member lands: the desk, its grids' tickets, its project, or every project."""
    role = principal.role
    if role == Role.FRONT_DESK:
        return "/portal/desk"
    if role == Role.BUTLER:
        return "/portal/tickets?scope=grid"
    if role in (Role.TECHNICIAN, Role.FINANCE):
        return "/portal/tickets?scope=mine"
    if role == Role.COMPANY_CS:
        return "/portal/dashboard"
    if principal.project_ids:
        return f"/portal/dashboard?project_id={principal.project_ids[0]}"
    return "/portal/tickets?scope=project"


def default_scope(principal: Principal) -> str:
    return {"butler": "grid", "front_desk": "mine", "technician": "mine", "finance": "mine"}.get(principal.role, "project")


def calendar_banner(principal: Principal, today: date) -> str | None:
    """The statutory-calendar coverage warning, for the company CS department and project managers."""
    if principal.role not in BANNER_ROLES:
        return None
    return WorkCalendar().coverage_warning(today)


def due_class(ticket: dict[str, Any], now: datetime) -> str:
    """Colour of a ticket's due time: breached (escalated twice or overdue), near (escalated once or due soon), ok."""
    due = ticket.get("next_due_at")
    level = ticket.get("escalation_level") or 0
    if ticket.get("status") not in OPEN_STATUSES and ticket.get("status") != "resolved":
        return "done"
    if level >= 2 or (due is not None and due <= now):
        return "breached"
    if level == 1 or (due is not None and due - now <= NEAR_DUE):
        return "near"
    return "ok"


async def visible_projects(principal: Principal) -> list[dict[str, Any]]:
    query = principal.scope.select(Project, Project.id, Project.name, Project.code, Project.kind)
    clause = principal.project_filter(Project.id)
    if clause is not None:
        query = query.where(clause)
    return await query.order_by(Project.id)


async def my_grids(principal: Principal) -> list[dict[str, Any]]:
    if not principal.grid_ids:
        return []
    return await principal.scope.select(Grid, Grid.id, Grid.name, Grid.project_id).where(
        Grid.id.is_in(list(principal.grid_ids))).order_by(Grid.id)


async def staff_names(principal: Principal, user_ids: list[int | None]) -> dict[int, str]:
    ids = sorted({i for i in user_ids if i})
    if not ids:
        return {}
    rows = await principal.scope.select(Membership, Membership.user_id, Membership.user_id.name.as_alias("name")).where(
        Membership.user_id.is_in(ids))
    return {r["user_id"]: r["name"] for r in rows}


async def technicians(principal: Principal, project_id: int) -> list[dict[str, Any]]:
    """Active technicians whose membership covers the project (the executors a ticket may be dispatched to)."""
    rows = await principal.scope.select(
        Membership, Membership.user_id, Membership.user_id.name.as_alias("name"), Membership.project_ids).where(
        (Membership.role == Role.TECHNICIAN) & (Membership.is_active == True))  # noqa: E712
    from core.db import json_value

    return [{"id": r["user_id"], "name": r["name"]} for r in rows
            if project_id in [int(x) for x in (json_value(r["project_ids"]) or [])]]


_SPLIT = re.compile(r"\s*(?:-|/|\s|栋|幢|号楼)\s*")


async def find_customers(principal: Principal, q: str, *, limit: int = 8) -> list[dict[str, Any]]:
    """Current holders of units matching `q`: name or phone prefix, room, or building + room ("B1-101", "1栋101")."""
    from core.places import present_customer

    q = re.sub(r"[%_\\]", "", q or "").strip()[:50]
    if not q:
        return []
    o = Occupancy
    query = principal.scope.select(
        o, o.id.as_alias("occupancy_id"), o.role.as_alias("unit_role"), o.customer_id.as_alias("customer_id"),
        o.customer_id.name.as_alias("name"), o.customer_id.phone.as_alias("phone"), o.unit_id.as_alias("unit_id"),
        o.unit_id.room.as_alias("room"), o.unit_id.entrance.as_alias("entrance"),
        o.unit_id.building_id.as_alias("building_id"), o.unit_id.building_id.code.as_alias("building"),
        o.unit_id.building_id.name.as_alias("building_name"), o.unit_id.project_id.as_alias("project_id"),
        o.unit_id.project_id.name.as_alias("project_name"), o.unit_id.grid_id.as_alias("grid_id"),
    ).where(o.end_date.is_null())
    clause = principal.project_filter(o.unit_id.project_id)
    if clause is not None:
        query = query.where(clause)
    if principal.role == Role.BUTLER:
        query = query.where(o.unit_id.grid_id.is_in(list(principal.grid_ids) or [-1]))
    if principal.role == Role.TECHNICIAN:
        return []
    match = (o.customer_id.name.like(f"{q}%") | o.customer_id.phone.like(f"{q}%") | o.unit_id.room.like(f"{q}%"))
    parts = [p for p in _SPLIT.split(q, maxsplit=1) if p]
    if len(parts) == 2:
        building, room = parts
        match = match | (((o.unit_id.building_id.code == building) | o.unit_id.building_id.name.like(f"{building}%"))
                         & o.unit_id.room.like(f"{room}%"))
    rows = await query.where(match).order_by(o.unit_id.building_id.code).order_by(o.unit_id.room).limit(limit)
    return [present_customer(principal, r) for r in rows]


async def buildings(principal: Principal, project_id: int | None) -> list[dict[str, Any]]:
    query = principal.scope.select(Building, Building.id, Building.code, Building.name, Building.project_id)
    clause = principal.project_filter(Building.project_id)
    if clause is not None:
        query = query.where(clause)
    if project_id:
        query = query.where(Building.project_id == project_id)
    return await query.order_by(Building.code).limit(200)


async def responsible_preview(principal: Principal, *, project_id: int | None, kind: str, unit_id: int | None,
                              building_id: int | None, channel: str = "", priority: str = "normal") -> dict[str, Any]:
    """Who would answer for a ticket with these fields (the `resolve_responsible` hook), before it is saved."""
    if not project_id or not principal.sees_project(project_id):
        return {"user_id": None, "name": "", "grid": ""}
    project = await principal.scope.get_or_none(Project, project_id)
    if project is None:
        return {"user_id": None, "name": "", "grid": ""}
    row: dict[str, Any] = {"project_id": project_id, "kind": kind, "channel": channel, "priority": priority,
                           "unit_id": None, "building_id": building_id, "grid_id": None,
                           "first_receiver_id": principal.user_id, "status": "received"}
    if unit_id:
        unit = await principal.scope.get_or_none(Unit, unit_id)
        if unit is not None and unit["project_id"] == project_id:
            row.update(unit_id=unit_id, building_id=unit["building_id"], grid_id=unit["grid_id"])
    user_id = await get_registry().first("resolve_responsible", tenant_id=principal.tenant_id, project_id=project_id,
                                         project=project, ticket=row, grid=None)
    grid = ""
    if row["grid_id"]:
        g = await principal.scope.get_or_none(Grid, row["grid_id"])
        grid = g["name"] if g else ""
    names = await staff_names(principal, [user_id])
    return {"user_id": user_id, "name": names.get(user_id, ""), "grid": grid}


# ---------------------------------------------------------------- menu and dashboard

def kernel_menu(principal: Principal) -> list[dict[str, Any]]:
    items = []
    if principal.can("ticket.create"):
        items.append({"key": "desk", "label_zh": "前台受理", "label_en": "Desk", "href": "/portal/desk", "order": 10})
    items.append({"key": "tickets", "label_zh": "工单", "label_en": "Tickets", "href": "/portal/tickets", "order": 20})
    items.append({"key": "dashboard", "label_zh": "仪表盘", "label_en": "Dashboard", "href": "/portal/dashboard", "order": 30})
    if principal.can("kpi.read"):
        items.append({"key": "reports", "label_zh": "月度报表", "label_en": "Monthly reports", "href": "/portal/reports",
                      "order": 35})
    if principal.can("customer.personal_data"):
        items.append({"key": "personal_data", "label_zh": "个人信息保护", "label_en": "Personal data",
                      "href": "/portal/personal-data", "order": 90})
    return items


async def menu(principal: Principal) -> list[dict[str, Any]]:
    """The kernel's entries and those of the plugins enabled for the tenant that the role may use."""
    enabled = await get_registry().enabled(principal.tenant_id)
    items = kernel_menu(principal)
    for plugin, item in get_registry().collect("register_menu_items"):
        if plugin not in enabled or (item.roles and principal.role not in item.roles):
            continue
        items.append({"key": item.key, "label_zh": item.label_zh, "label_en": item.label_en, "href": item.href,
                      "order": item.order, "plugin": plugin})
    return sorted(items, key=lambda i: (i["order"], i["key"]))


def _scoped_tickets(principal: Principal, *columns: Any, project_id: int | None = None):
    query = principal.scope.select(Ticket, *columns)
    for clause in (principal.project_filter(Ticket.project_id), principal.ticket_filter(Ticket)):
        if clause is not None:
            query = query.where(clause)
    if project_id is not None:
        query = query.where(Ticket.project_id == project_id)
    return query


async def dashboard_figures(principal: Principal, project_id: int | None) -> dict[str, Any]:
    """Tickets by kind and status, and open tickets near breach / breached per project (GROUP BY)."""
    by_kind_status = await _scoped_tickets(principal, Ticket.kind, Ticket.status, Count(alias="n"),
                                           project_id=project_id).group_by(Ticket.kind, Ticket.status)
    escalation = await (_scoped_tickets(principal, Ticket.project_id, Ticket.escalation_level, Count(alias="n"),
                                        project_id=project_id)
                        .where(Ticket.status.is_in(list(OPEN_STATUSES)))
                        .group_by(Ticket.project_id, Ticket.escalation_level))
    kinds = sorted({r["kind"] for r in by_kind_status})
    statuses = [s for s in STATUSES if any(r["status"] == s for r in by_kind_status)]
    table = {k: {s: 0 for s in statuses} for k in kinds}
    for r in by_kind_status:
        table[r["kind"]][r["status"]] = r["n"]
    open_by_kind = {k: sum(n for s, n in table[k].items() if s in OPEN_STATUSES) for k in kinds}
    projects = {p["id"]: p["name"] for p in await visible_projects(principal)}
    per_project: dict[int, dict[str, Any]] = {}
    for r in escalation:
        row = per_project.setdefault(r["project_id"], {"project_id": r["project_id"],
                                                       "name": projects.get(r["project_id"], str(r["project_id"])),
                                                       "open": 0, "near": 0, "breached": 0})
        row["open"] += r["n"]
        if r["escalation_level"] >= 2:
            row["breached"] += r["n"]
        elif r["escalation_level"] == 1:
            row["near"] += r["n"]
    return {"kinds": kinds, "statuses": statuses, "table": table, "open_by_kind": open_by_kind,
            "total_open": sum(open_by_kind.values()),
            "total_closed": sum(table[k].get("closed", 0) for k in kinds),
            "per_project": sorted(per_project.values(), key=lambda r: r["project_id"])}


KPI_LABELS = {"immediate_closure": ("即时结案率", "Immediate closure"), "return_visit": ("回访率", "Return-visit rate"),
              "complaint_tracking": ("投诉跟踪率", "Complaint tracking"), "on_time": ("及时处理率", "On-time handling"),
              "own_fault_complaints": ("有效投诉", "Own-fault complaints")}


def month_of(now: datetime) -> tuple[datetime, datetime]:
    """The Beijing calendar month holding `now`, as aware datetimes [start, end)."""
    local = now.astimezone(BEIJING)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _percent(rate: dict[str, Any]) -> str:
    return "—" if rate.get("percent") is None else f"{rate['percent']:g}%"


async def kpi_figures(principal: Principal, project_id: int | None, now: datetime) -> list[dict[str, Any]]:
    """This month's KPIs from `core.kpi` (seeds 000/001/004) for the roles that may read them."""
    try:
        from core import kpi
    except ImportError:
        return []
    if not principal.can("kpi.read"):
        return []
    start, end = month_of(now)
    total = (await kpi.kpis(principal, start, end, project_id=project_id))["total"]
    figures = []
    for name in ("immediate_closure", "return_visit", "complaint_tracking"):
        rate = total[name]
        figures.append({"name": name, "value": _percent(rate), "met": rate.get("met"), "detail": f"{rate['count']}/{rate['of']}"})
    on_time = [r["resolution"] for r in total["on_time"].values()]
    count, of = sum(r["count"] for r in on_time), sum(r["of"] for r in on_time)
    figures.append({"name": "on_time", "value": "—" if not of else f"{round(count * 100 / of, 2):g}%",
                    "met": None if not of else count == of, "detail": f"{count}/{of}"})
    own = total["own_fault_complaints"]
    figures.append({"name": "own_fault_complaints", "value": str(own["count"]), "met": own["met"], "detail": ""})
    for f in figures:
        f["label_zh"], f["label_en"] = KPI_LABELS[f["name"]]
    return figures


async def dashboard_widgets(principal: Principal, project_id: int | None) -> list[dict[str, Any]]:
    """The plugins' cards for this tenant and role, each loaded with its own data."""
    enabled = await get_registry().enabled(principal.tenant_id, project_id)
    cards = []
    for plugin, widget in sorted(get_registry().collect("register_dashboard_widgets"), key=lambda pw: pw[1].order):
        if plugin not in enabled or (widget.roles and principal.role not in widget.roles):
            continue
        try:
            data = widget.load(tenant_id=principal.tenant_id, project_id=project_id)
            if inspect.isawaitable(data):
                data = await data
            cards.append({"key": widget.key, "title_zh": widget.title_zh, "title_en": widget.title_en,
                          "template": widget.template, "data": data or {}, "error": False})
        except Exception:  # noqa: BLE001 - one plugin's card failing shows as such, the rest still render
            log.exception("dashboard widget %s failed", widget.key)
            cards.append({"key": widget.key, "title_zh": widget.title_zh, "title_en": widget.title_en,
                          "template": "", "data": {}, "error": True})
    return cards
