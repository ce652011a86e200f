"""Rules of community events with the numbers of seeds 001 and 004: one themed event a quarter, festival
dates from the lunar calendar, safety measures before publishing, the waiting list, ≥ 10 % return visits,
satisfaction below 80 % flagged, greetings once."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core import Problem, TenantScope
from core import tables as ct
from plugins.community_events import services as svc
from plugins.community_events.tables import Greeting, Signup, Task
from tests.conftest import at

PLAN = "猜灯谜、做月饼。"
SAFETY = "两个出入口专人疏导；不用明火；配急救箱与灭火器。"


async def customers(world, n: int) -> list[int]:
    """n more households in the project (plus the world's two)."""
    scope = TenantScope(world.tenant_id)
    ids = [c["id"] for c in world.customers]
    for i in range(n):
        unit = await scope.insert(ct.Unit, project_id=world.project["id"], building_id=world.building["id"],
                                  room=f"9{i:03d}", floor=9, area=Decimal("88.00"))
        c = await scope.insert(ct.Customer, name=f"住户{i}", phone=f"1390000{i:04d}")
        await scope.insert(ct.Occupancy, customer_id=c["id"], unit_id=unit["id"], role="owner",
                           start_date=date(2021, 1, 1))
        ids.append(c["id"])
    return ids


async def published(world, *, capacity: int = 50, day: str = "2026-09-26") -> dict:
    manager = await world.principal("project_manager")
    event = await svc.create_event(manager, {
        "project_id": world.project["id"], "title": "中秋游园会", "starts_at": at(f"{day} 18:30"),
        "ends_at": at(f"{day} 21:00"), "capacity": capacity, "budget_fen": 800000, "plan": PLAN,
        "safety_measures": SAFETY})
    await svc.approve_event(manager, event["id"], at("2026-09-01 10:00"))
    return await svc.publish_event(manager, event["id"], at("2026-09-01 11:00"))


async def participants(world, event: dict, n: int) -> list[dict]:
    desk = await world.principal("front_desk")
    ids = (await customers(world, max(0, n - 2)))[:n]
    signups = [await svc.sign_up(desk, event["id"], c, at("2026-09-10 10:00") + timedelta(minutes=i))
               for i, c in enumerate(ids)]
    for s in signups:
        await svc.check_in(desk, event["id"], token=s["token"], signup_id=None, now=at("2026-09-26 18:20"))
    return signups


def test_lunar_festival_dates_computed_mid_autumn_2026_spring_festival_2027_seed_001():
    assert svc.festival_dates(2026)["mid_autumn"] == date(2026, 9, 25)
    assert svc.festival_dates(2027)["spring_festival"] == date(2027, 2, 6)
    assert svc.festival_dates(2026)["spring_festival"] == date(2026, 2, 17)
    assert svc.festival_dates(2025)["mid_autumn"] == date(2025, 10, 6)
    assert svc.festival_dates(2026)["national_day"] == date(2026, 10, 1)
    assert svc.festival_dates(2027)["new_year"] == date(2027, 1, 1)


async def test_festival_decoration_tasks_on_their_dates_once_seed_001(world):
    as_of = at("2026-09-01 07:00")
    first = await svc.ensure_festival_tasks(world.tenant_id, as_of)
    assert first["tasks"] > 0
    assert (await svc.ensure_festival_tasks(world.tenant_id, as_of))["tasks"] == 0  # idempotent
    scope = TenantScope(world.tenant_id)
    tasks = await scope.select(Task).where(Task.project_id == world.project["id"])
    by = {(t["festival"], t["festival_date"]): t for t in tasks}
    assert by[("mid_autumn", date(2026, 9, 25))]["due_date"] == date(2026, 9, 24)
    assert by[("spring_festival", date(2027, 2, 6))]["due_date"] == date(2027, 2, 5)
    assert ("national_day", date(2026, 10, 1)) in by and ("new_year", date(2027, 1, 1)) in by
    assert len([t for t in tasks if t["festival_date"].year == 2026]) == 4


async def test_one_themed_event_a_quarter_flagged_before_quarter_ends_seed_001(world):
    pid = world.project["id"]
    as_of = at("2026-08-15 10:00")  # Q3, 47 days before it ends
    flags = await svc.quarters_without_event(world.tenant_id, as_of)
    assert [(f["project_id"], f["quarter"], f["days_left"]) for f in flags if f["project_id"] == pid] == [(pid, 3, 47)]
    await published(world, day="2026-09-26")
    flags = await svc.quarters_without_event(world.tenant_id, as_of)
    assert pid not in [f["project_id"] for f in flags]
    quarters = await svc.quarter_check(TenantScope(world.tenant_id), pid, 2026, as_of)
    assert [q["status"] for q in quarters] == ["missed", "missed", "ok", "at_risk"]


async def test_cancelled_event_does_not_count_for_the_quarter_seed_001(world):
    event = await published(world, day="2026-09-26")
    await svc.cancel_event(await world.principal("project_manager"), event["id"])
    flags = await svc.quarters_without_event(world.tenant_id, at("2026-09-20 10:00"))
    assert world.project["id"] in [f["project_id"] for f in flags]


async def test_safety_measures_before_publishing_seed_001(world):
    manager = await world.principal("project_manager")
    event = await svc.create_event(manager, {
        "project_id": world.project["id"], "title": "义诊", "starts_at": at("2026-10-10 09:00"),
        "ends_at": at("2026-10-10 11:00"), "capacity": 20, "budget_fen": 100000, "plan": PLAN})
    with pytest.raises(Problem) as exc:
        await svc.publish_event(manager, event["id"], at("2026-09-01 10:00"))
    assert exc.value.status == 409
    with pytest.raises(Problem) as exc:
        await svc.approve_event(manager, event["id"], at("2026-09-01 10:00"))
    assert exc.value.status == 422
    await svc.update_event(manager, event["id"], {"safety_measures": SAFETY})
    await svc.approve_event(manager, event["id"], at("2026-09-01 10:00"))
    done = await svc.publish_event(manager, event["id"], at("2026-09-01 11:00"))
    assert done["status"] == "published"


async def test_waiting_list_promoted_on_cancellation_seed_001(world):
    event = await published(world, capacity=2)
    desk = await world.principal("front_desk")
    ids = await customers(world, 1)
    rows = [await svc.sign_up(desk, event["id"], c, at("2026-09-10 10:00") + timedelta(minutes=i))
            for i, c in enumerate(ids)]
    assert [r["status"] for r in rows] == ["confirmed", "confirmed", "waiting"]
    out = await svc.cancel_signup(desk, rows[0]["id"], at("2026-09-11 10:00"))
    assert out["status"] == "cancelled" and out["promoted_signup_id"] == rows[2]["id"]
    scope = TenantScope(world.tenant_id)
    assert await scope.count(Signup).where((Signup.event_id == event["id"]) & (Signup.status == "confirmed")) == 2
    with pytest.raises(Problem) as exc:  # cancelling twice is refused
        await svc.cancel_signup(desk, rows[0]["id"], at("2026-09-11 10:00"))
    assert exc.value.status == 409


@pytest.mark.parametrize("n, sampled", [(25, 3), (5, 1), (10, 1), (11, 2)])
async def test_return_visits_at_least_10_percent_and_at_least_one_seed_001(world, n, sampled):
    event = await published(world)
    await participants(world, event, n)
    desk = await world.principal("front_desk")
    with pytest.raises(Problem):  # not before the event ends
        await svc.draw_return_visits(desk, event["id"], at("2026-09-26 20:00"))
    visits = await svc.draw_return_visits(desk, event["id"], at("2026-09-27 09:00"))
    assert len(visits) == sampled == svc.sample_size(n)
    again = await svc.draw_return_visits(desk, event["id"], at("2026-09-28 09:00"))
    assert [v["id"] for v in again] == [v["id"] for v in visits]  # reproducible, drawn once


async def test_sample_seeded_by_event_id_is_reproducible_seed_001():
    import random
    population = list(range(40))
    assert random.Random(7).sample(population, 4) == random.Random(7).sample(population, 4)
    assert svc.sample_size(0) == 0 and svc.sample_size(1) == 1 and svc.sample_size(100) == 10
    assert svc.sample_size(30) == 3 and svc.sample_size(101) == 11  # whole-number arithmetic, rounded up


async def test_satisfaction_below_80_percent_flagged_with_comments_seed_001(world):
    event = await published(world)
    await participants(world, event, 45)  # 5 visits
    desk = await world.principal("front_desk")
    visits = await svc.draw_return_visits(desk, event["id"], at("2026-09-27 09:00"))
    assert len(visits) == 5
    for v, score in zip(visits, [5, 5, 4, 3, 2]):  # 3 of 5 satisfied = 60 %
        await svc.record_visit(desk, v["id"], score, "座位太少" if score < 4 else "", at("2026-09-28 10:00"))
    sat = await svc.satisfaction(TenantScope(world.tenant_id), event["id"])
    assert sat["satisfaction_pct"] == 60 and sat["flagged"] is True
    assert [c["comment"] for c in sat["comments"]] == ["座位太少", "座位太少"]
    await svc.record_visit(desk, visits[4]["id"], 4, "", at("2026-09-28 11:00"))  # 4 of 5 = 80 %: not flagged
    sat = await svc.satisfaction(TenantScope(world.tenant_id), event["id"])
    assert sat["satisfaction_pct"] == 80 and sat["flagged"] is False and sat["comments"] == []
    summary = await svc.save_summary(desk, event["id"], 850000, "热闹")
    assert summary["participants"] == 45 and summary["satisfaction_pct"] == 80
    assert summary["budget_fen"] == 800000 and summary["over_budget_fen"] == 50000


async def test_greetings_sent_once_birthday_and_mid_autumn_seed_004(world):
    scope = TenantScope(world.tenant_id)
    a, b = world.customers
    await scope.update(ct.Customer, {ct.Customer.greetings_opt_in: True, ct.Customer.birthday: date(1980, 9, 25)}).where(
        ct.Customer.id == a["id"])
    await scope.update(ct.Customer, {ct.Customer.birthday: date(1985, 9, 25)}).where(ct.Customer.id == b["id"])  # opted out
    as_of = at("2026-09-25 07:00")  # Mid-Autumn 2026 and a's birthday
    first = await svc.send_greetings(world.tenant_id, as_of)
    assert first == {"birthday": 1, "festival": 1}
    assert await svc.send_greetings(world.tenant_id, as_of + timedelta(hours=3)) == {"birthday": 0, "festival": 0}
    rows = await scope.select(Greeting).order_by(Greeting.occasion)
    assert [(r["customer_id"], r["occasion"]) for r in rows] == [(a["id"], "birthday:2026"), (a["id"], "mid_autumn:2026")]
    sent = await scope.select(ct.Notification).where(ct.Notification.recipient_customer_id == a["id"])
    assert len(sent) == 2 and {n["channel"] for n in sent} == {"sms"}
    assert {n["outcome"] for n in sent} == {"not_configured"}  # no SMS provider yet
    assert await svc.send_greetings(world.tenant_id, at("2026-09-26 07:00")) == {"birthday": 0, "festival": 0}


async def test_qr_check_in_by_token_twice_is_harmless_seed_001(world):
    event = await published(world)
    desk = await world.principal("front_desk")
    s = await svc.sign_up(desk, event["id"], world.customers[0]["id"], at("2026-09-10 10:00"))
    one = await svc.check_in(desk, event["id"], token=s["token"], signup_id=None, now=at("2026-09-26 18:20"))
    two = await svc.check_in(desk, event["id"], token=s["token"], signup_id=None, now=at("2026-09-26 18:40"))
    assert one["checked_in_at"] == two["checked_in_at"]
    with pytest.raises(Problem) as exc:
        await svc.check_in(desk, event["id"], token="nope", signup_id=None, now=at("2026-09-26 18:40"))
    assert exc.value.status == 422
