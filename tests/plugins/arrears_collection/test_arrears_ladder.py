"""The collection ladder of seed 001 (欠费催缴), boundary by boundary, with explicit as_of dates."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from core import TenantScope, tables
from plugins.arrears_collection import services as svc
from tests.plugins.arrears_collection.helpers import (
    NOW, bill_months, cases, fee_item, ladder, month_start, steps, watches,
)

FIRST = "2025-01"  # the first unpaid month; bills fall due on the month's last day


async def test_ordinary_customer_reminder_and_notice_every_month_below_6_months_seed_001(world):
    await fee_item(world)
    await bill_months(world, FIRST, 6)
    customer = world.customers[0]["id"]
    for m in range(1, 6):
        await ladder(world, month_start(FIRST, m))
        assert len(await steps(world, customer, "reminder")) == m
        assert len(await steps(world, customer, "notice")) == m
    notice = (await steps(world, customer, "notice"))[-1]
    assert notice["months_overdue"] == 5 and notice["owed_fen"] == 5 * 23618
    assert notice["late_fee_fen"] > 0 and notice["assignee_id"] == world.staff["butler"]  # the grid's butler
    assert await steps(world, customer, "lawyer_letter") == []


async def test_6_months_overdue_notifies_legal_adviser_and_sends_first_lawyer_letter_seed_001(world):
    await fee_item(world)
    await bill_months(world, FIRST, 7)
    customer = world.customers[0]["id"]
    await ladder(world, month_start(FIRST, 5))
    assert await steps(world, customer, "lawyer_letter") == []
    await ladder(world, month_start(FIRST, 6))  # 6 months overdue
    letters = await steps(world, customer, "lawyer_letter")
    assert [(l["dedup_key"], l["delivery"], l["assignee_id"]) for l in letters] == [("1", "express", world.staff["finance"])]
    assert len(await steps(world, customer, "legal_notice")) == 1
    assert len(await steps(world, customer, "reminder")) == 1  # no monthly reminder at 6 months (only the one at 5)


async def test_two_lawyer_letters_6_months_apart_then_none_seed_001(world):
    await fee_item(world)
    await bill_months(world, FIRST, 18)
    customer = world.customers[0]["id"]
    for m in range(6, 12):
        await ladder(world, month_start(FIRST, m))
    assert [l["dedup_key"] for l in await steps(world, customer, "lawyer_letter")] == ["1"]
    await ladder(world, month_start(FIRST, 12))  # 6 months after the first letter
    letters = await steps(world, customer, "lawyer_letter")
    assert [l["dedup_key"] for l in letters] == ["1", "2"]
    assert letters[1]["period_no"] - letters[0]["period_no"] == 6
    for m in range(13, 18):
        await ladder(world, month_start(FIRST, m))
    assert len(await steps(world, customer, "lawyer_letter")) == 2  # two in total
    assert await steps(world, customer, "sue") == []


async def test_18_months_overdue_instructs_legal_adviser_to_sue_seed_001(world):
    await fee_item(world)
    await bill_months(world, FIRST, 19)
    customer = world.customers[0]["id"]
    await ladder(world, month_start(FIRST, 17))
    assert await steps(world, customer, "sue") == []
    await ladder(world, month_start(FIRST, 18))
    sue = await steps(world, customer, "sue")
    assert len(sue) == 1 and sue[0]["rung"] == "ordinary_18" and sue[0]["months_overdue"] == 18
    await ladder(world, month_start(FIRST, 19))
    assert len(await steps(world, customer, "sue")) == 1


async def test_rerun_for_the_same_month_creates_nothing_seed_001(world):
    await fee_item(world)
    assert await bill_months(world, FIRST, 8) == 16
    assert await bill_months(world, FIRST, 8) == 0  # bills: unique per unit, fee item and month
    first = await ladder(world, date(2025, 9, 1))
    assert first["tasks"] > 0 and first["cases_opened"] == 2 and first["watches"] == 2
    again = await ladder(world, date(2025, 9, 1))
    later = await ladder(world, date(2025, 9, 20))  # the same month
    assert again == later == {"cases_opened": 0, "cases_closed": 0, "tasks": 0, "watches": 0}


async def _make_large(world, area: str) -> int:
    """Customer 0 also holds unit 2 (total area over or at 1.5 ‰ of the project's 100,000 m²)."""
    scope = TenantScope(world.tenant_id)
    await scope.update(tables.Unit, {tables.Unit.area: Decimal(area) - Decimal("100.50")}).where(
        tables.Unit.id == world.units[2]["id"])
    await scope.insert(tables.Occupancy, customer_id=world.customers[0]["id"], unit_id=world.units[2]["id"],
                       role="owner", start_date=date(2020, 1, 1))
    return world.customers[0]["id"]


async def test_large_customer_over_1_5_permille_gets_lawyer_letter_after_3_months_seed_001(world):
    customer = await _make_large(world, "150.01")  # 150.01 m² > 1.5 ‰ of 100,000 m²
    await fee_item(world)
    await bill_months(world, FIRST, 7)
    await ladder(world, month_start(FIRST, 3))  # 3 months: not yet
    assert await steps(world, customer, "lawyer_letter") == []
    assert [s["rung"] for s in await steps(world, customer, "reminder")] == ["large_1_3"]
    await ladder(world, month_start(FIRST, 4))  # over 3 months
    letters = await steps(world, customer, "lawyer_letter")
    assert [(l["rung"], l["months_overdue"]) for l in letters] == [("large_3_6", 4)]
    assert len(await steps(world, customer, "reminder")) == 1  # no more monthly reminders
    # the ordinary customer of the same project is only at the reminder rung
    assert await steps(world, world.customers[1]["id"], "lawyer_letter") == []


async def test_large_customer_sued_at_6_months_seed_001(world):
    customer = await _make_large(world, "201.00")
    await fee_item(world)
    await bill_months(world, FIRST, 7)
    await ladder(world, month_start(FIRST, 5))
    assert await steps(world, customer, "sue") == []
    await ladder(world, month_start(FIRST, 6))
    sue = await steps(world, customer, "sue")
    assert [(s["rung"], s["months_overdue"]) for s in sue] == [("large_6", 6)]
    assert len(await steps(world, customer, "lawyer_letter")) == 1  # the letter of month 5 only


async def test_exactly_1_5_permille_is_an_ordinary_customer_seed_001(world):
    customer = await _make_large(world, "150.00")  # exactly 1.5 ‰: not over it
    await fee_item(world)
    await bill_months(world, FIRST, 5)
    await ladder(world, month_start(FIRST, 4))
    assert await steps(world, customer, "lawyer_letter") == []
    assert [s["rung"] for s in await steps(world, customer, "reminder")] == ["ordinary_1_6"]


async def test_unit_watched_beyond_3_months_and_transfer_alerts_finance_seed_001(world, client):
    await fee_item(world)
    await bill_months(world, FIRST, 5)
    customer = world.customers[0]["id"]
    await ladder(world, month_start(FIRST, 3))  # 3 months: not watched yet
    assert await watches(world, customer) == []
    await ladder(world, month_start(FIRST, 4))
    watched = await watches(world, customer)
    assert [w["unit_id"] for w in watched] == [world.units[0]["id"]]
    # the unit is sold: the new owner moves in through the kernel API
    buyer = (await client.post("/api/v1/customers", json={"name": "买受人", "phone": "13900000000"},
                               headers=world.headers("front_desk"))).json()
    r = await client.post(f"/api/v1/customers/{buyer['id']}/units", headers=world.headers("front_desk"),
                          json={"unit_id": world.units[0]["id"], "role": "owner", "start_date": "2025-05-20"})
    assert r.status_code in (200, 201), r.text
    alerts = await steps(world, customer, "transfer_alert")
    assert len(alerts) == 1 and alerts[0]["assignee_id"] == world.staff["finance"]
    assert alerts[0]["owed_fen"] == 5 * 23618
    scope = TenantScope(world.tenant_id)
    inbox = await scope.select(tables.Notification).where(
        (tables.Notification.template == "arrears_collection.transfer_alert")
        & (tables.Notification.recipient_user_id == world.staff["finance"]))
    assert len(inbox) == 1
    assert (await watches(world, customer))[0]["alerted_at"] is not None


async def test_transfer_of_a_unit_3_months_overdue_raises_no_alert_seed_001(world):
    await fee_item(world)
    await bill_months(world, FIRST, 3)
    customer = world.customers[0]["id"]
    await ladder(world, month_start(FIRST, 3))
    assert await svc.ownership_changed(world.tenant_id, world.units[0]["id"], [customer], world.customers[1]["id"],
                                       date(2025, 4, 10)) == 0


async def test_payment_that_clears_the_arrears_stops_the_ladder_seed_001(world):
    await fee_item(world)
    await bill_months(world, FIRST, 6)
    customer = world.customers[0]["id"]
    await ladder(world, month_start(FIRST, 5))
    assert len(await steps(world, customer, status="open")) == 2 and len(await watches(world, customer)) == 1
    finance = await world.principal("finance")
    partial = await svc.record_payment(finance, {"project_id": world.project["id"], "customer_id": customer,
                                                 "amount_fen": 4 * 23618, "method": "cash", "paid_on": date(2025, 6, 3)}, NOW)
    assert partial["cleared"] is False and len(await steps(world, customer, status="open")) == 2
    paid = await svc.record_payment(finance, {"project_id": world.project["id"], "customer_id": customer,
                                              "amount_fen": 23618, "method": "cash", "paid_on": date(2025, 6, 4)}, NOW)
    assert paid["cleared"] is True and paid["ladder_stopped"] == 1
    assert await steps(world, customer, status="open") == []
    assert {(s["status"], s["outcome"]) for s in await steps(world, customer)} == {("cancelled", "paid")}
    assert [c["status"] for c in await cases(world, customer)] == ["closed"]
    assert (await watches(world, customer))[0]["ended_on"] == date(2025, 6, 4)
    again = await ladder(world, date(2025, 6, 15))  # the June bill is not yet due: nothing new
    assert again["tasks"] == 0 and again["cases_opened"] == 0


async def test_sue_won_opens_property_preservation_step_seed_001(world):
    await fee_item(world)
    await bill_months(world, FIRST, 18)
    customer = world.customers[0]["id"]
    await ladder(world, month_start(FIRST, 18))
    sue = (await steps(world, customer, "sue"))[0]
    finance = await world.principal("finance")
    filed = await svc.record_outcome(finance, sue["id"], {"outcome": "filed"}, NOW)
    assert filed["status"] == "open"
    won = await svc.record_outcome(finance, sue["id"], {"outcome": "won", "note": "一审胜诉"}, NOW)
    assert won["status"] == "done" and won["outcome"] == "won"
    preservation = await steps(world, customer, "preservation")
    assert len(preservation) == 1 and preservation[0]["status"] == "open"
    assert preservation[0]["assignee_id"] == world.staff["finance"] and preservation[0]["due_date"] > date(2026, 11, 1)
