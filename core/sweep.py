"""The SLA sweep: one indexed, set-based query per tenant batch finds tickets near breach or breached.

Levels (per ticket and clock, never written twice):
  1 near breach  → the responsible person
  2 breached     → the responsible person and the CS supervisor
  3 breached by `escalate_pm_hours` (24 h)  → the project manager
  4 breached by `escalate_cs_hours` (72 h)  → the company CS department
Its cost grows with the number of due tickets: the query reads the (tenant_id, next_due_at) index.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from core import notify
from core.db import transaction
from core.tables import Tenant, Ticket, TicketEvent

log = logging.getLogger("guanjia.sweep")

LEVELS = {1: "near_breach", 2: "breached", 3: "escalated_project_manager", 4: "escalated_company_cs"}
LEVEL_ROLES: dict[int, tuple[str, ...]] = {1: (), 2: ("supervisor",), 3: ("project_manager",), 4: ("company_cs",)}
DEFAULTS = {"near_breach_minutes": 60, "escalate_pm_hours": 24, "escalate_cs_hours": 72}
TENANT_BATCH = 200


def due_query_sql(n_tenants: int) -> str:
    """The sweep's query for a batch of tenants (placeholders: tenants…, near, now, pm, cs)."""
    marks = ", ".join("{}" for _ in range(n_tenants))
    return (
        "SELECT id, tenant_id, project_id, title, kind, responsible_id, next_due_at, escalation_level, "
        "CASE WHEN next_due_at <= {} THEN 4 WHEN next_due_at <= {} THEN 3 WHEN next_due_at <= {} THEN 2 ELSE 1 END "
        "AS target FROM core_ticket "
        f"WHERE tenant_id IN ({marks}) AND next_due_at <= {{}} AND escalation_level < "
        "CASE WHEN next_due_at <= {} THEN 4 WHEN next_due_at <= {} THEN 3 WHEN next_due_at <= {} THEN 2 ELSE 1 END "
        "ORDER BY tenant_id, next_due_at"
    )


async def due_tickets(tenant_ids: list[int], now: datetime, settings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    s = {**DEFAULTS, **(settings or {})}
    near = now + timedelta(minutes=s["near_breach_minutes"])
    cs = now - timedelta(hours=s["escalate_cs_hours"])
    pm = now - timedelta(hours=s["escalate_pm_hours"])
    args = [cs, pm, now, *tenant_ids, near, cs, pm, now]
    return await Ticket.raw(due_query_sql(len(tenant_ids)), *args)


async def sweep(as_of: datetime, *, tenant_ids: list[int] | None = None) -> dict[str, int]:
    """Escalate what is due as of `as_of`. Running it twice for the same moment writes nothing new."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    as_of = as_of.astimezone(timezone.utc)
    if tenant_ids is None:
        tenant_ids = [r["id"] for r in await Tenant.select(Tenant.id).where(Tenant.is_active == True)]  # noqa: E712
    counts = {"tickets": 0, "events": 0}
    for i in range(0, len(tenant_ids), TENANT_BATCH):
        batch = tenant_ids[i:i + TENANT_BATCH]
        rows = await due_tickets(batch, as_of)
        if rows:
            n = await _escalate(rows, as_of)
            counts["tickets"] += len(rows)
            counts["events"] += n
    return counts


async def _escalate(rows: list[dict[str, Any]], as_of: datetime) -> int:
    by_target: dict[int, list[int]] = {}
    events = []
    for r in rows:
        by_target.setdefault(r["target"], []).append(r["id"])
        for level in range(r["escalation_level"] + 1, r["target"] + 1):
            events.append(TicketEvent(tenant_id=r["tenant_id"], ticket_id=r["id"], at=as_of, kind="escalation",
                                      reason=LEVELS[level], data={"level": level, "due_at": str(r["next_due_at"])}))
    async with transaction():
        for target, ids in by_target.items():
            # the guard on escalation_level keeps a concurrent sweep from writing a level twice
            updated = await Ticket.update({Ticket.escalation_level: target}).where(
                Ticket.id.is_in(ids) & (Ticket.escalation_level < target)).returning(Ticket.id)
            if len(updated) != len(ids):
                done = set(ids) - {u["id"] for u in updated}
                events = [e for e in events if e.ticket_id not in done]
                rows = [r for r in rows if r["id"] not in done]
        if events:
            await TicketEvent.insert(*events)
    for r in rows:
        for level in range(r["escalation_level"] + 1, r["target"] + 1):
            users = [r["responsible_id"]] if r["responsible_id"] else []
            if LEVEL_ROLES[level]:
                users += await notify.staff_with_role(r["tenant_id"], LEVEL_ROLES[level], r["project_id"])
            label = {1: "即将超时", 2: "已超时", 3: "超时升级至管理处经理", 4: "超时升级至公司客服部"}[level]
            await notify.send(r["tenant_id"], template=f"sla.{LEVELS[level]}",
                              subject=f"{label} #{r['id']}: {r['title']}", key=f"ticket:{r['id']}:sla:{r['next_due_at']}:{level}",
                              user_ids=users, ticket_id=r["id"])
    return len(events)
