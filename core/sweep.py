"""The SLA sweep: one indexed, set-based query per batch of tenants finds tickets near breach or breached.

Levels (per ticket and running clock, each written once, as a `TicketEvent` of kind ``escalation``),
notified up the chain:
  1 near breach (due within `near_breach_minutes`, 60)         → the responsible person
  2 breached                                                    → the responsible person and the CS supervisor
  3 breached for `escalate_pm_hours` (24 h)                     → the project manager
  4 breached for `escalate_cs_hours` (72 h)                     → the company CS department
A ticket found already breached skips level 1. A tenant may change the three numbers in its settings
(``{"escalation": {"near_breach_minutes": 30, ...}}``).

Its cost grows with the number of due tickets, not with the number of tickets: the query reads the
tenant-leading ``core_ticket_due (tenant_id, next_due_at)`` index for ``next_due_at <= as_of + near``;
recipients are read once per batch, and events and notices are written with one set-based insert each.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from core import notify
from core.db import is_postgres, json_value, transaction
from core.tables import Membership, Tenant, Ticket

log = logging.getLogger("guanjia.sweep")

LEVELS = {1: "near_breach", 2: "breached", 3: "escalated_project_manager", 4: "escalated_company_cs"}
LABELS = {1: "即将超时", 2: "已超时", 3: "超时升级至管理处经理", 4: "超时升级至公司客服部"}
LEVEL_ROLES: dict[int, tuple[str, ...]] = {1: (), 2: ("supervisor",), 3: ("project_manager",), 4: ("company_cs",)}
NOTIFY_RESPONSIBLE = {1, 2}
DEFAULTS = {"near_breach_minutes": 60, "escalate_pm_hours": 24, "escalate_cs_hours": 72}
TENANT_BATCH = 200
EVENT_COLUMNS = {"tenant_id": "integer", "ticket_id": "integer", "at": "timestamptz", "actor_id": "integer",
                 "kind": "varchar", "from_status": "varchar", "to_status": "varchar", "reason": "text", "data": "json"}


def due_query_sql(n_tenants: int, *, lock: bool = False) -> str:
    """The sweep's query for a batch of tenants, with Piccolo `{}` placeholders in this order:
    cs, pm, now (the level), tenant ids…, near, cs, pm, now (the filter)."""
    level = ("CASE WHEN next_due_at <= {} THEN 4 WHEN next_due_at <= {} THEN 3 "
             "WHEN next_due_at <= {} THEN 2 ELSE 1 END")
    marks = ", ".join("{}" for _ in range(n_tenants))
    return (f"SELECT id, tenant_id, project_id, title, responsible_id, next_due_at, escalation_level, {level} AS target "
            f"FROM core_ticket WHERE tenant_id IN ({marks}) AND next_due_at <= {{}} AND escalation_level < {level} "
            "ORDER BY tenant_id, next_due_at" + (" FOR UPDATE" if lock else ""))


def thresholds(settings: dict[str, Any] | None) -> tuple[int, int, int]:
    s = {**DEFAULTS, **((settings or {}).get("escalation") or {})}
    return int(s["near_breach_minutes"]), int(s["escalate_pm_hours"]), int(s["escalate_cs_hours"])


def due_query_args(tenant_ids: list[int], now: datetime, limits: tuple[int, int, int] | None = None) -> list[Any]:
    near_minutes, pm_hours, cs_hours = limits or thresholds(None)
    near = now + timedelta(minutes=near_minutes)
    pm, cs = now - timedelta(hours=pm_hours), now - timedelta(hours=cs_hours)
    return [cs, pm, now, *tenant_ids, near, cs, pm, now]


async def due_tickets(tenant_ids: list[int], now: datetime, limits: tuple[int, int, int] | None = None, *,
                      lock: bool = False) -> list[dict[str, Any]]:
    """Tickets of these tenants that have reached a level they have not been escalated to yet."""
    return await Ticket.raw(due_query_sql(len(tenant_ids), lock=lock), *due_query_args(tenant_ids, now, limits))


async def sweep(as_of: datetime, *, tenant_ids: list[int] | None = None) -> dict[str, int]:
    """Escalate what is due as of `as_of`. Running it twice for the same moment writes nothing new."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    as_of = as_of.astimezone(timezone.utc)
    query = Tenant.select(Tenant.id, Tenant.settings).where(Tenant.is_active == True)  # noqa: E712
    if tenant_ids is not None:
        query = query.where(Tenant.id.is_in(list(tenant_ids) or [-1]))
    groups: dict[tuple[int, int, int], list[int]] = {}
    for t in await query.order_by(Tenant.id):
        groups.setdefault(thresholds(json_value(t["settings"])), []).append(t["id"])
    counts = {"tenants": 0, "due": 0, "escalated": 0, "events": 0, "notifications": 0}
    for limits, ids in groups.items():
        counts["tenants"] += len(ids)
        for i in range(0, len(ids), TENANT_BATCH):
            batch = await _sweep_batch(ids[i:i + TENANT_BATCH], as_of, limits)
            for k, v in batch.items():
                counts[k] += v
    return counts


async def _sweep_batch(tenant_ids: list[int], as_of: datetime, limits: tuple[int, int, int]) -> dict[str, int]:
    async with transaction():
        # locked on PostgreSQL so a concurrent sweep waits and then sees the new levels
        rows = await due_tickets(tenant_ids, as_of, limits, lock=is_postgres())
        if not rows:
            return {}
        due = len(rows)
        escalated = await _raise_levels(rows)
        rows = [r for r in rows if r["id"] in escalated]
        staff = await _staff(sorted({r["tenant_id"] for r in rows}))
        events, messages = [], []
        for r in rows:
            first = r["escalation_level"] + 1 if r["target"] == 1 else max(r["escalation_level"] + 1, 2)
            due_at = r["next_due_at"]
            due_at = due_at.astimezone(timezone.utc) if isinstance(due_at, datetime) else due_at
            for level in range(first, r["target"] + 1):
                users = [r["responsible_id"]] if level in NOTIFY_RESPONSIBLE and r["responsible_id"] else []
                users += [uid for uid, role, projects in staff.get(r["tenant_id"], ())
                          if role in LEVEL_ROLES[level] and (role == "company_cs" or r["project_id"] in projects)]
                users = list(dict.fromkeys(users))
                events.append({"tenant_id": r["tenant_id"], "ticket_id": r["id"], "at": as_of, "actor_id": None,
                               "kind": "escalation", "from_status": None, "to_status": None, "reason": LEVELS[level],
                               "data": {"level": level, "due_at": str(due_at), "notified": users}})
                messages += [{"tenant_id": r["tenant_id"], "user_id": u, "template": f"sla.{LEVELS[level]}",
                              "subject": f"{LABELS[level]} #{r['id']}: {r['title']}", "ticket_id": r["id"],
                              "key": f"ticket:{r['id']}:sla:{due_at}:{level}"} for u in users]
        await notify.bulk_insert("core_ticket_event", EVENT_COLUMNS, events)
        sent = await notify.send_in_app_many(messages)
    return {"due": due, "escalated": len(escalated), "events": len(events), "notifications": sent}


async def _raise_levels(rows: list[dict[str, Any]]) -> set[int]:
    """Set each ticket's level to its target, only if it still has the level read (compare and set),
    so that no level is ever escalated twice; returns the ids changed."""
    by_step: dict[tuple[int, int], list[int]] = {}
    for r in rows:
        by_step.setdefault((r["escalation_level"], r["target"]), []).append(r["id"])
    changed: set[int] = set()
    for (old, target), ids in by_step.items():
        for i in range(0, len(ids), 500):
            updated = await Ticket.update({Ticket.escalation_level: target}).where(
                Ticket.id.is_in(ids[i:i + 500]) & (Ticket.escalation_level == old)).returning(Ticket.id)
            changed.update(u["id"] for u in updated)
    return changed


async def _staff(tenant_ids: list[int]) -> dict[int, list[tuple[int, str, list[int]]]]:
    """Active supervisors, project managers and company CS staff of these tenants, in one query."""
    if not tenant_ids:
        return {}
    roles = sorted({role for rs in LEVEL_ROLES.values() for role in rs})
    rows = await Membership.select(Membership.tenant_id, Membership.user_id, Membership.role, Membership.project_ids).where(
        Membership.tenant_id.is_in(tenant_ids) & Membership.role.is_in(roles) & (Membership.is_active == True))  # noqa: E712
    out: dict[int, list[tuple[int, str, list[int]]]] = {}
    for m in rows:
        out.setdefault(m["tenant_id"], []).append((m["user_id"], m["role"], json_value(m["project_ids"]) or []))
    return out
