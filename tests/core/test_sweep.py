"""The SLA sweep with explicit `as_of`: near breach → breached → project manager → company CS department,
one escalation event per ticket per level, idempotent, and its due query on the (tenant_id, next_due_at) index."""
from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

from core import tickets
from core.db import is_postgres, json_value, transaction
from core.sweep import due_query_args, due_query_sql, sweep
from core.tables import Notification, Ticket, TicketEvent
from tests.conftest import at, make_world


async def new_repair(world, now, title="厨房漏水", **extra) -> dict:
    p = await world.principal("front_desk")
    return await tickets.create_ticket(p, {"project_id": world.project["id"], "kind": "repair", "channel": "hotline",
                                           "title": title, "unit_id": world.units[0]["id"], **extra}, now=now)


async def escalations(world, ticket_id) -> list[tuple[int, str, list[int]]]:
    rows = await TicketEvent.select(TicketEvent.reason, TicketEvent.data).where(
        (TicketEvent.tenant_id == world.tenant_id) & (TicketEvent.ticket_id == ticket_id)
        & (TicketEvent.kind == "escalation")).order_by(TicketEvent.id)
    return [(json_value(r["data"])["level"], r["reason"], json_value(r["data"])["notified"]) for r in rows]


async def notices(world, ticket_id) -> list[tuple[str, int]]:
    rows = await Notification.select(Notification.template, Notification.recipient_user_id).where(
        (Notification.tenant_id == world.tenant_id) & (Notification.ticket_id == ticket_id)
        & Notification.template.like("sla.%")).order_by(Notification.id)
    return [(r["template"], r["recipient_user_id"]) for r in rows]


async def level_of(ticket_id) -> int:
    return (await Ticket.select(Ticket.escalation_level).where(Ticket.id == ticket_id).first())["escalation_level"]


async def test_general_repair_24h_escalates_up_the_chain_one_level_at_a_time_seed_004(world):
    t = await new_repair(world, at("2026-09-30 17:00"))
    assert t["next_due_at"].astimezone(timezone.utc) == at("2026-10-01 17:00").astimezone(timezone.utc)  # 24 hours
    s = world.staff
    only = [world.tenant_id]
    assert (await sweep(at("2026-10-01 15:59"), tenant_ids=only))["events"] == 0  # 61 minutes left
    assert await escalations(world, t["id"]) == []
    r = await sweep(at("2026-10-01 16:00"), tenant_ids=only)  # 60 minutes left: near breach
    assert (r["due"], r["events"], r["notifications"]) == (1, 1, 1)
    assert await escalations(world, t["id"]) == [(1, "near_breach", [s["butler"]])]
    await sweep(at("2026-10-01 17:00"), tenant_ids=only)  # due: breached
    await sweep(at("2026-10-02 16:59"), tenant_ids=only)  # breached 23 h 59 min: still level 2
    assert await level_of(t["id"]) == 2
    await sweep(at("2026-10-02 17:00"), tenant_ids=only)  # breached 24 h: the project manager
    await sweep(at("2026-10-04 16:59"), tenant_ids=only)
    assert await level_of(t["id"]) == 3
    await sweep(at("2026-10-04 17:00"), tenant_ids=only)  # breached 72 h: the company CS department
    assert await escalations(world, t["id"]) == [
        (1, "near_breach", [s["butler"]]),
        (2, "breached", [s["butler"], s["supervisor"]]),
        (3, "escalated_project_manager", [s["project_manager"]]),
        (4, "escalated_company_cs", [s["company_cs"]]),
    ]
    assert await notices(world, t["id"]) == [
        ("sla.near_breach", s["butler"]), ("sla.breached", s["butler"]), ("sla.breached", s["supervisor"]),
        ("sla.escalated_project_manager", s["project_manager"]), ("sla.escalated_company_cs", s["company_cs"])]
    assert (await sweep(at("2026-10-09 09:00"), tenant_ids=only))["events"] == 0  # nothing above level 4


async def test_sweep_twice_for_the_same_as_of_writes_one_escalation_seed_004(world):
    t = await new_repair(world, at("2026-09-30 17:00"))
    first = await sweep(at("2026-10-01 18:00"), tenant_ids=[world.tenant_id])
    second = await sweep(at("2026-10-01 18:00"), tenant_ids=[world.tenant_id])
    assert (first["escalated"], first["events"], first["notifications"]) == (1, 1, 2)
    assert (second["due"], second["escalated"], second["events"], second["notifications"]) == (0, 0, 0, 0)
    assert [lvl for lvl, _, _ in await escalations(world, t["id"])] == [2]  # found breached: no near-breach level
    assert len(await notices(world, t["id"])) == 2


async def test_two_sweeps_at_once_write_each_level_once_seed_004(world):
    t = await new_repair(world, at("2026-09-30 17:00"))
    await asyncio.gather(sweep(at("2026-10-05 09:00"), tenant_ids=[world.tenant_id]),
                         sweep(at("2026-10-05 09:00"), tenant_ids=[world.tenant_id]))
    assert [lvl for lvl, _, _ in await escalations(world, t["id"])] == [2, 3, 4]
    assert await level_of(t["id"]) == 4


async def test_ticket_found_72h_late_gets_levels_2_3_4_and_closed_ticket_none_seed_004(world):
    late = await new_repair(world, at("2026-09-30 17:00"), "外墙渗水")
    done = await new_repair(world, at("2026-09-30 17:00"), "灯不亮", kind="inquiry")
    p = await world.principal("front_desk")
    await tickets.transition(p, done["id"], "resolved", now=at("2026-09-30 17:05"))
    await tickets.transition(p, done["id"], "closed", now=at("2026-09-30 17:06"))
    r = await sweep(at("2026-10-04 17:00"), tenant_ids=[world.tenant_id])
    assert (r["due"], r["events"]) == (1, 3)
    assert [lvl for lvl, _, _ in await escalations(world, late["id"])] == [2, 3, 4]
    assert await escalations(world, done["id"]) == []


async def test_new_clock_starts_escalation_again_return_visit_24h_seed_004(world):
    t = await new_repair(world, at("2026-09-30 17:00"))
    only = [world.tenant_id]
    await sweep(at("2026-10-01 18:00"), tenant_ids=only)  # resolution breached
    p = await world.principal("supervisor")
    await tickets.transition(p, t["id"], "dispatched", executor_id=world.staff["technician"], now=at("2026-10-01 18:10"))
    await tickets.transition(p, t["id"], "resolved", now=at("2026-10-01 19:00"))
    assert await level_of(t["id"]) == 0  # the return-visit clock runs now: due 2026-10-02 19:00
    await sweep(at("2026-10-02 19:00"), tenant_ids=only)
    assert [(lvl, reason) for lvl, reason, _ in await escalations(world, t["id"])] == [(2, "breached"), (2, "breached")]
    assert len([n for n in await notices(world, t["id"]) if n[0] == "sla.breached"]) == 4  # two clocks × two people


async def test_tenant_sets_its_own_escalation_thresholds():
    world = await make_world(settings={"escalation": {"near_breach_minutes": 180, "escalate_pm_hours": 4}})
    t = await new_repair(world, at("2026-09-30 17:00"))
    await sweep(at("2026-10-01 14:00"), tenant_ids=[world.tenant_id])  # 3 hours before the 24-hour deadline
    assert [lvl for lvl, _, _ in await escalations(world, t["id"])] == [1]
    await sweep(at("2026-10-01 21:00"), tenant_ids=[world.tenant_id])  # breached by 4 hours
    assert [lvl for lvl, _, _ in await escalations(world, t["id"])] == [1, 2, 3]


async def test_sweep_reads_one_tenant_batch_only_and_never_another_tenants_tickets(world, other_world):
    mine = await new_repair(world, at("2026-09-30 17:00"))
    theirs = await new_repair(other_world, at("2026-09-30 17:00"))
    await sweep(at("2026-10-05 09:00"), tenant_ids=[world.tenant_id])
    assert len(await escalations(world, mine["id"])) == 3
    assert await escalations(other_world, theirs["id"]) == []
    assert await level_of(theirs["id"]) == 0


async def test_due_query_reads_the_tenant_leading_due_index():
    args = due_query_args([1, 2], at("2026-10-01 09:00").astimezone(timezone.utc))
    sql = due_query_sql(2)
    if is_postgres():
        async with transaction():
            await Ticket.raw("SET LOCAL enable_seqscan = off")  # the test table is tiny; show the index serves
            plan = "\n".join(r["QUERY PLAN"] for r in await Ticket.raw("EXPLAIN " + sql, *args))
    else:
        plan = "\n".join(str(r["detail"]) for r in await Ticket.raw("EXPLAIN QUERY PLAN " + sql, *args))
    assert "core_ticket_due" in plan, plan
