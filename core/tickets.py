"""Ticket services: create, change status, update, list and read the timeline.

Every status change goes through `core.workflow`; due times through `core.sla`; the responsible
person and the SLA policy through the `resolve_*` hooks. Each change writes one `TicketEvent`.
"""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any

from core import workflow
from core.contracts import SlaPolicy, TicketKind
from core.db import json_value, query, transaction
from core.errors import Problem, invalid
from core.plugins import get_registry
from core.sla import add_deadline, calendar_for, next_due, resolution_due, with_overrides
from core.tables import Building, Customer, Membership, Project, Ticket, TicketEvent
from core.roles import Role
from core.tenancy import Principal, TenantScope

CHANNELS: dict[str, tuple[str, str]] = {
    "walk_in": ("来访", "Walk-in"),
    "hotline": ("热线", "Hotline"),
    "suggestion_box": ("意见箱", "Suggestion box"),
    "online": ("线上/App", "Online / app"),
    "wechat": ("微信", "WeChat"),
    "patrol": ("巡查", "Patrol"),
}
PRIORITIES = ("emergency", "normal")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def ticket_kinds() -> dict[str, tuple[str, TicketKind]]:
    """All registered kinds: name -> (plugin, kind)."""
    return {k.name: (plugin, k) for plugin, k in get_registry().collect("register_ticket_kinds")}


async def kinds_for(tenant_id: int, project_id: int | None) -> dict[str, TicketKind]:
    enabled = await get_registry().enabled(tenant_id, project_id)
    return {name: k for name, (plugin, k) in ticket_kinds().items() if plugin in enabled}


_PROJECT_AND_UNIT = (
    "SELECT " + ", ".join(f'p."{c._meta.db_column_name}" AS "{c._meta.name}"' for c in Project._meta.columns)
    + ', u."id" AS "unit__id", u."project_id" AS "unit__project_id", u."building_id" AS "unit__building_id", '
    'u."grid_id" AS "unit__grid_id", g."responsible_id" AS "unit__grid_responsible_id" '
    'FROM "core_project" p LEFT JOIN "core_unit" u ON u."tenant_id" = p."tenant_id" AND u."id" = {} '
    'LEFT JOIN "core_grid" g ON g."tenant_id" = u."tenant_id" AND g."id" = u."grid_id" '
    'WHERE p."tenant_id" = {} AND p."id" = {}')
_UNIT_KEYS = ("unit__id", "unit__project_id", "unit__building_id", "unit__grid_id", "unit__grid_responsible_id")


async def _project_and_unit(principal: Principal, project_id: int, unit_id: int | None
                            ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The new ticket's project (visible to `principal`, else 422) and its unit if given, with the responsible
    staff member of the unit's grid (`grid_responsible_id`): one statement."""
    rows = await query(_PROJECT_AND_UNIT, unit_id, principal.tenant_id, project_id)
    if not rows or not principal.sees_project(project_id):
        raise invalid("project_id", "no such project")
    project = rows[0]
    unit = {k[6:]: project.pop(k) for k in _UNIT_KEYS}
    return project, unit if unit["id"] is not None else None


async def _sla_policy(tenant_id: int, project: dict[str, Any], ticket: dict[str, Any]) -> SlaPolicy | None:
    """The ticket's policy (from the hooks) with the tenant's and the project's overrides applied."""
    policy = await get_registry().first("resolve_sla_policy", tenant_id=tenant_id, project_id=project["id"],
                                        project=project, ticket=ticket)
    return await with_overrides(tenant_id, project, policy)


def _check_promised(promised_at: datetime | None) -> None:
    if promised_at is not None and (promised_at.tzinfo is None or promised_at.utcoffset() is None):
        raise invalid("promised_at", "give the time with its time zone, e.g. 2026-10-08T12:00:00+08:00")


async def create_ticket(principal: Principal, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Create a ticket received by `principal`. `data` holds the validated fields of `TicketCreate`."""
    principal.require("ticket.create")
    scope = principal.scope
    now = now or data.pop("received_at", None) or utcnow()
    data.pop("received_at", None)
    project, unit = await _project_and_unit(principal, data["project_id"], data.get("unit_id"))
    kinds = await kinds_for(principal.tenant_id, project["id"])
    if data["kind"] not in kinds:
        raise invalid("kind", f"unknown ticket kind {data['kind']!r}; known: {', '.join(sorted(kinds))}")
    kind = kinds[data["kind"]]
    if data.get("channel") not in CHANNELS:
        raise invalid("channel", f"one of {', '.join(CHANNELS)}")
    row: dict[str, Any] = {k: v for k, v in data.items() if v is not None}
    row.setdefault("priority", "normal")
    if row["priority"] not in PRIORITIES:
        raise invalid("priority", "emergency or normal")
    if row.get("unit_id") is not None:
        if unit is None or unit["project_id"] != project["id"]:
            raise invalid("unit_id", "no such unit in this project")
        row["building_id"] = unit["building_id"]
        row["grid_id"] = unit["grid_id"]
        row.setdefault("repair_area", "private" if data["kind"] == "repair" else None)
    elif row.get("building_id") is not None:
        building = await scope.get_or_none(Building, row["building_id"])
        if building is None or building["project_id"] != project["id"]:
            raise invalid("building_id", "no such building in this project")
        if data["kind"] == "repair":
            row.setdefault("repair_area", "public")
    if row.get("customer_id") is not None:
        if await scope.get_or_none(Customer, row["customer_id"], Customer.id) is None:
            raise invalid("customer_id", "no such customer")
    if row.get("repair_area") not in (None, "public", "private"):
        raise invalid("repair_area", "public or private")
    if row.get("warranty") not in (None, "in", "out"):
        raise invalid("warranty", "in or out")
    if row.get("complexity", "general") not in ("general", "complex"):
        raise invalid("complexity", "general or complex")
    for field in kind.form_fields:
        if field.required and not (row.get("data") or {}).get(field.name):
            raise invalid(f"data.{field.name}", "is required for this kind of ticket")
    row.update(tenant_id=principal.tenant_id, status="received", first_receiver_id=principal.user_id,
               created_at=now, updated_at=now)
    grid = ({"id": unit["grid_id"], "responsible_id": unit["grid_responsible_id"]}
            if unit is not None and unit["grid_id"] is not None and row.get("grid_id") == unit["grid_id"] else None)
    row["responsible_id"] = await get_registry().first(
        "resolve_responsible", tenant_id=principal.tenant_id, project_id=project["id"], project=project, ticket=row,
        grid=grid)
    if row.get("executor_id") is not None:
        await _check_staff(principal.tenant_id, row["executor_id"], "executor_id")
    _check_promised(row.get("promised_at"))
    policy = await _sla_policy(principal.tenant_id, project, row)
    cal = await calendar_for(principal.tenant_id)
    if policy is not None:
        row["sla_policy"] = policy.name
        row["response_due_at"] = add_deadline(cal, now, policy.response)
    # a completion or reply time promised to the customer replaces the policy's resolution clock
    row["resolution_due_at"] = resolution_due(cal, now, policy, promised_at=row.get("promised_at"))
    row["next_due_at"] = next_due(row)
    created = {"at": now, "actor_id": principal.user_id, "kind": "created", "to_status": "received",
               "data": {"channel": row["channel"], "sla_policy": row.get("sla_policy", ""),
                        "responsible_id": row["responsible_id"]}}
    values = {k: v for k, v in row.items() if k != "tenant_id"}
    if not row.get("is_major"):  # one statement, no transaction around it
        ticket, _ = await scope.insert_linked(Ticket, values, TicketEvent, created, link="ticket_id")
    else:
        async with transaction():
            ticket, _ = await scope.insert_linked(Ticket, values, TicketEvent, created, link="ticket_id")
            await scope.insert(TicketEvent, ticket_id=ticket["id"], at=now, actor_id=principal.user_id,
                               kind="major_reported", reason="重大投诉/群诉: reported at once to the project manager and the company CS department",
                               data={})
    await get_registry().call("on_ticket_created", tenant_id=principal.tenant_id, project_id=project["id"], ticket=ticket)
    from core import signals

    await signals.ticket_created(principal.tenant_id, ticket, project)
    return ticket


async def _check_staff(tenant_id: int, user_id: int, field: str) -> None:
    found = await Membership.exists().where((Membership.tenant_id == tenant_id) & (Membership.user_id == user_id)
                                             & (Membership.is_active == True))  # noqa: E712
    if not found:
        raise invalid(field, "no such staff member in this company")


async def get_ticket(principal: Principal, ticket_id: int) -> dict[str, Any]:
    """A ticket this principal may see, or 404."""
    ticket = await principal.scope.get(Ticket, ticket_id, what="ticket")
    if not principal.sees_ticket(ticket):
        raise Problem(404, "Not found", "No such ticket.")
    return ticket


async def transition(principal: Principal, ticket_id: int, to: str, *, reason: str = "",
                     executor_id: int | None = None, satisfaction: int | None = None,
                     promised_at: datetime | None = None, own_fault: bool | None = None,
                     now: datetime | None = None) -> dict[str, Any]:
    """Move a ticket through the state machine; writes one event; 409 names the allowed moves."""
    now = now or utcnow()
    ticket = await get_ticket(principal, ticket_id)  # a ticket out of sight is a 404 before any 403
    principal.require("ticket.transition")
    kinds = ticket_kinds()
    kind = kinds.get(ticket["kind"], ("core", TicketKind(ticket["kind"], "", "")))[1]
    frm = ticket["status"]
    workflow.check_transition(frm, to, reason=reason, hold_from=ticket["hold_from"],
                              requires_return_visit=kind.requires_return_visit,
                              return_visited=ticket["return_visited_at"] is not None)
    changes: dict[str, Any] = {"status": to, "updated_at": now}
    if to == "dispatched":
        if executor_id is None and ticket["executor_id"] is None:
            raise invalid("executor_id", "dispatching needs the technician who will do the work")
    if executor_id is not None:
        await _check_staff(principal.tenant_id, executor_id, "executor_id")
        changes["executor_id"] = executor_id
    responds = ("in_progress", "resolved") if ticket["priority"] == "emergency" else ("dispatched", "in_progress", "resolved")
    if ticket["responded_at"] is None and to in responds:
        changes["responded_at"] = now
    _check_promised(promised_at)
    if frm == "on_hold":
        held = now - ticket["held_at"] if ticket["held_at"] else timedelta(0)
        changes.update(held_at=None, hold_from=None, held_seconds=ticket["held_seconds"] + int(held.total_seconds()))
        if ticket["resolution_due_at"] is not None:
            changes["resolution_due_at"] = ticket["resolution_due_at"] + held
    if to == "on_hold":
        changes.update(held_at=now, hold_from=frm)
    if to == "resolved":
        changes["resolved_at"] = now
        if own_fault is not None:
            changes["own_fault"] = own_fault
        if kind.requires_return_visit:
            project = await principal.scope.get(Project, ticket["project_id"])
            policy = await _sla_policy(principal.tenant_id, project, ticket)
            cal = await calendar_for(principal.tenant_id)
            changes["return_visit_due_at"] = add_deadline(cal, now, policy.return_visit) if policy else None
    if to == "visited":
        if satisfaction is not None and not 1 <= satisfaction <= 5:
            raise invalid("satisfaction", "a score from 1 to 5")
        changes.update(return_visited_at=now, satisfaction=satisfaction)
    if to == "closed":
        changes["closed_at"] = now
    if to == "reopened":
        changes.update(resolved_at=None, return_visited_at=None, return_visit_due_at=None, closed_at=None, satisfaction=None,
                       promised_at=None)
        project = await principal.scope.get(Project, ticket["project_id"])
        policy = await _sla_policy(principal.tenant_id, project, ticket)
        if policy is not None:
            cal = await calendar_for(principal.tenant_id)
            changes["resolution_due_at"] = add_deadline(cal, now, policy.resolution)
    if promised_at is not None:
        # the time promised to the customer (parts or outside help needed) replaces the resolution due
        changes["promised_at"] = changes["resolution_due_at"] = promised_at
    merged = {**ticket, **changes}
    changes["next_due_at"] = next_due(merged)
    if changes["next_due_at"] != ticket["next_due_at"]:
        changes["escalation_level"] = 0  # a new clock starts its escalation from the beginning
    merged.update(changes)
    event_data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in
                  {"executor_id": executor_id, "satisfaction": satisfaction, "promised_at": promised_at,
                   "own_fault": own_fault}.items() if v is not None}
    async with transaction():
        updated = await principal.scope.update(Ticket, {getattr(Ticket, k): v for k, v in changes.items()}).where(
            (Ticket.id == ticket_id) & (Ticket.status == frm)).returning(Ticket.id)
        if not updated:
            raise Problem(409, "Conflict", "The ticket changed meanwhile; reload it and try again.")
        event = await principal.scope.insert(TicketEvent, ticket_id=ticket_id, at=now, actor_id=principal.user_id,
                                             kind="status", from_status=frm, to_status=to, reason=reason, data=event_data)
    await get_registry().call("on_ticket_status_changed", tenant_id=principal.tenant_id, project_id=ticket["project_id"],
                              ticket=merged, from_status=frm, to_status=to, reason=reason, actor_id=principal.user_id)
    from core import signals

    await signals.ticket_status_changed(principal.tenant_id, merged, frm, to, event)
    return merged


UPDATABLE = ("title", "description", "executor_id", "repair_area", "warranty", "complexity", "is_major", "promised_at",
             "own_fault", "customer_id", "contact_phone", "place_note", "priority", "data")


async def update_ticket(principal: Principal, ticket_id: int, changes: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Edit fields of an open ticket; each edit is on the timeline."""
    now = now or utcnow()
    ticket = await get_ticket(principal, ticket_id)
    principal.require("ticket.update")
    changes = {k: v for k, v in changes.items() if k in UPDATABLE}
    if not changes:
        return ticket
    if "executor_id" in changes and changes["executor_id"] is not None:
        await _check_staff(principal.tenant_id, changes["executor_id"], "executor_id")
    if "customer_id" in changes and changes["customer_id"] is not None:
        if await principal.scope.get_or_none(Customer, changes["customer_id"], Customer.id) is None:
            raise invalid("customer_id", "no such customer")
    if changes.get("repair_area") not in (None, "public", "private"):
        raise invalid("repair_area", "public or private")
    if changes.get("warranty") not in (None, "in", "out"):
        raise invalid("warranty", "in or out")
    if changes.get("priority") not in (None, *PRIORITIES):
        raise invalid("priority", "emergency or normal")
    if changes.get("complexity") not in (None, "general", "complex"):
        raise invalid("complexity", "general or complex")
    _check_promised(changes.get("promised_at"))
    recompute = any(k in changes for k in ("priority", "complexity", "promised_at"))
    merged = {**ticket, **changes}
    if recompute and ticket["status"] not in workflow.DONE_STATUSES:
        project = await principal.scope.get(Project, ticket["project_id"])
        policy = await _sla_policy(principal.tenant_id, project, merged)
        cal = await calendar_for(principal.tenant_id)
        if policy is not None:
            changes["sla_policy"] = policy.name
            changes["response_due_at"] = add_deadline(cal, ticket["created_at"], policy.response)
        changes["resolution_due_at"] = resolution_due(cal, ticket["created_at"], policy, promised_at=merged["promised_at"],
                                                      held_seconds=ticket["held_seconds"])
        merged.update(changes)
    changes["next_due_at"] = merged["next_due_at"] = next_due(merged)
    if changes["next_due_at"] != ticket["next_due_at"]:
        changes["escalation_level"] = 0
    changes["updated_at"] = now
    became_major = changes.get("is_major") and not ticket["is_major"]
    async with transaction():
        await principal.scope.update(Ticket, {getattr(Ticket, k): v for k, v in changes.items()}).where(Ticket.id == ticket_id)
        shown = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in changes.items()
                 if k not in ("updated_at", "next_due_at", "response_due_at", "resolution_due_at")}
        await principal.scope.insert(TicketEvent, ticket_id=ticket_id, at=now, actor_id=principal.user_id, kind="updated",
                                     data=shown)
        if became_major:
            await principal.scope.insert(TicketEvent, ticket_id=ticket_id, at=now, actor_id=principal.user_id,
                                         kind="major_reported",
                                         reason="重大投诉/群诉: reported at once to the project manager and the company CS department")
    if became_major:
        from core import signals

        project = await principal.scope.get(Project, ticket["project_id"])
        await signals.major_complaint(principal.tenant_id, merged, project)
    return {**ticket, **changes}


async def add_comment(principal: Principal, ticket_id: int, text: str, *, now: datetime | None = None) -> dict[str, Any]:
    await get_ticket(principal, ticket_id)
    return await principal.scope.insert(TicketEvent, ticket_id=ticket_id, at=now or utcnow(), actor_id=principal.user_id,
                                        kind="comment", reason=text)


async def events(principal: Principal, ticket_id: int) -> list[dict[str, Any]]:
    await get_ticket(principal, ticket_id)
    rows = await (principal.scope.select(TicketEvent, TicketEvent.all_columns(),
                                         TicketEvent.actor_id.name.as_alias("actor_name"))
                  .where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))
    for r in rows:
        r["data"] = json_value(r["data"]) or {}
    return rows


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except Exception as exc:  # noqa: BLE001
        raise invalid("cursor", "not a cursor this API gave out") from exc


LIST_COLUMNS = (
    Ticket.id, Ticket.project_id, Ticket.kind, Ticket.channel, Ticket.priority, Ticket.status, Ticket.title,
    Ticket.unit_id, Ticket.building_id, Ticket.grid_id, Ticket.customer_id, Ticket.first_receiver_id,
    Ticket.responsible_id, Ticket.executor_id, Ticket.is_major, Ticket.response_due_at, Ticket.resolution_due_at,
    Ticket.return_visit_due_at, Ticket.promised_at, Ticket.next_due_at, Ticket.escalation_level, Ticket.created_at,
    Ticket.updated_at,
)


_LIST_SELECT = ("SELECT " + ", ".join(f'"{c._meta.db_column_name}"' for c in LIST_COLUMNS)
                + ' FROM "core_ticket" WHERE "tenant_id" = {}')


def _placeholders(values: list[Any]) -> str:
    return ", ".join("{}" for _ in values)


async def list_tickets(principal: Principal, *, project_id: int | None = None, grid_id: int | None = None,
                       status: str | None = None, kind: str | None = None, responsible_id: int | None = None,
                       executor_id: int | None = None, customer_id: int | None = None, unit_id: int | None = None,
                       due_before: datetime | None = None, mine: bool = False, cursor: str | None = None,
                       limit: int = 25) -> dict[str, Any]:
    """The inbox: newest first, keyset-paged by id. One indexed statement; its text depends only on which
    filters are given (so PostgreSQL prepares each shape once per connection), never on their values."""
    sql, args = [_LIST_SELECT], [principal.tenant_id]

    def where(clause: str, *values: Any) -> None:
        sql.append(f" AND {clause}")
        args.extend(values)

    if principal.project_ids is not None:
        visible = list(principal.project_ids) or [-1]
        where(f'"project_id" IN ({_placeholders(visible)})', *visible)
    if principal.role == Role.BUTLER:
        if principal.grid_ids:
            grids = list(principal.grid_ids)
            where(f'("responsible_id" = {{}} OR "first_receiver_id" = {{}} OR "grid_id" IN ({_placeholders(grids)}))',
                  principal.user_id, principal.user_id, *grids)
        else:
            where('("responsible_id" = {} OR "first_receiver_id" = {})', principal.user_id, principal.user_id)
    elif principal.role == Role.TECHNICIAN:
        where('("executor_id" = {} OR "first_receiver_id" = {})', principal.user_id, principal.user_id)
    for column, value in (("project_id", project_id), ("grid_id", grid_id), ("kind", kind or None),
                          ("responsible_id", responsible_id), ("executor_id", executor_id),
                          ("customer_id", customer_id), ("unit_id", unit_id)):
        if value is not None:
            where(f'"{column}" = {{}}', value)
    if status:
        wanted = list(workflow.OPEN_STATUSES if status == "open" else status.split(","))
        unknown = [s for s in wanted if s not in workflow.STATUSES]
        if unknown:
            raise invalid("status", f"unknown status {unknown[0]!r}; use open or one of {', '.join(workflow.STATUSES)}")
        where(f'"status" IN ({_placeholders(wanted)})', *wanted)
    if due_before is not None:
        where('"next_due_at" <= {}', due_before)
    if mine:
        where('("responsible_id" = {} OR "executor_id" = {} OR "first_receiver_id" = {})',
              principal.user_id, principal.user_id, principal.user_id)
    after = decode_cursor(cursor)
    if after is not None:
        where('"id" < {}', after)
    limit = max(1, min(limit, 100))
    sql.append(' ORDER BY "id" DESC LIMIT {}')
    args.append(limit + 1)
    rows = await query("".join(sql), *args)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode_cursor(rows[-1]["id"]) if more and rows else None}
