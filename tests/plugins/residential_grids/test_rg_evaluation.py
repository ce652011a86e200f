"""Monthly butler evaluation (seed 000): immediate closure ≥ 95 %, return visits 100 %, complaint return
visits within 3 working days, own-fault complaints 0; the supervisor's score; gold-butler applications."""
from __future__ import annotations

from datetime import timedelta

from tests.conftest import at

API = "/api/v1/residential-grids"


async def _held(world) -> None:
    from plugins.residential_grids import services as svc

    await svc.assign(await world.principal("project_manager"), world.grid["id"], world.staff["butler"],
                     now=at("2026-08-01 09:00"))


async def _ticket(world, kind: str, created, **extra):
    from core import tickets

    desk = await world.principal("front_desk")
    return await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": kind, "channel": "hotline",
                                              "title": kind, "unit_id": world.units[0]["id"], **extra}, now=created)


async def _compute(client, world, as_of: str = "2026-10-15T12:00:00+08:00") -> dict:
    r = await client.post(f"{API}/projects/{world.project['id']}/evaluations/compute",
                          json={"month": "2026-09", "as_of": as_of}, headers=world.headers("supervisor"))
    assert r.status_code == 200, r.text
    return next(e for e in r.json() if e["user_id"] == world.staff["butler"])


async def test_immediate_closure_rate_of_inquiries_at_least_95_percent_seed_000(world, client):
    from core import tickets

    await _held(world)
    butler = await world.principal("butler")
    for i in range(20):
        created = at("2026-09-07 09:00") + timedelta(hours=i)
        t = await _ticket(world, "inquiry", created)
        assert t["responsible_id"] == world.staff["butler"]
        await tickets.transition(butler, t["id"], "resolved", now=created + (timedelta(hours=2) if i == 0 else timedelta(minutes=10)))
    e = await _compute(client, world)
    assert e["inquiries"] == 20 and e["inquiries_immediate"] == 19 and e["tickets_by_kind"] == {"inquiry": 20}
    assert e["rates"]["immediate_closure"] == {"value": 0.95, "target": 0.95, "met": True}
    t = await _ticket(world, "inquiry", at("2026-09-20 10:00"))
    await tickets.transition(butler, t["id"], "resolved", now=at("2026-09-21 10:00"))
    e = await _compute(client, world)
    assert e["rates"]["immediate_closure"]["value"] == round(19 / 21, 4) and not e["rates"]["immediate_closure"]["met"]


async def test_return_visit_rate_100_percent_seed_000(world, client):
    from core import tickets

    await _held(world)
    butler = await world.principal("butler")
    repairs = []
    for day in (7, 8):
        t = await _ticket(world, "repair", at(f"2026-09-0{day} 09:00"))
        await tickets.transition(butler, t["id"], "resolved", now=at(f"2026-09-0{day} 15:00"))
        repairs.append(t)
    await tickets.transition(butler, repairs[0]["id"], "visited", satisfaction=5, now=at("2026-09-08 10:00"))
    e = await _compute(client, world)
    assert (e["visits_due"], e["visits_done"]) == (2, 1)
    assert e["rates"]["return_visit"]["value"] == 0.5 and not e["rates"]["return_visit"]["met"]
    await tickets.transition(butler, repairs[1]["id"], "visited", satisfaction=4, now=at("2026-09-09 10:00"))
    e = await _compute(client, world)
    assert e["rates"]["return_visit"] == {"value": 1.0, "target": 1.0, "met": True}
    # as_of matters: before the second visit the rate was 50 %
    e = await _compute(client, world, as_of="2026-09-09T09:00:00+08:00")
    assert e["visits_due"] == 2 and e["visits_done"] == 1


async def test_complaint_return_visit_within_3_working_days_and_own_fault_complaints_seed_000(world, client):
    from core import tickets

    await _held(world)
    butler = await world.principal("butler")
    # resolved Thursday 24 Sep before the Mid-Autumn holiday (25–27 Sep): 3 working days end on Wednesday 30 Sep
    on_time = await _ticket(world, "complaint", at("2026-09-24 09:00"))
    await tickets.transition(butler, on_time["id"], "resolved", now=at("2026-09-24 10:00"))
    await tickets.transition(butler, on_time["id"], "visited", satisfaction=5, now=at("2026-09-30 18:00"))
    # resolved Monday 7 Sep, visited Friday 11 Sep: the 4th working day — late
    late = await _ticket(world, "complaint", at("2026-09-07 09:00"))
    await tickets.transition(butler, late["id"], "resolved", now=at("2026-09-07 10:00"), own_fault=True)
    await tickets.transition(butler, late["id"], "visited", satisfaction=3, now=at("2026-09-11 10:00"))
    e = await _compute(client, world)
    assert (e["complaints_resolved"], e["complaint_visits_in_time"]) == (2, 1)
    assert e["rates"]["complaint_visit_within_3_working_days"]["value"] == 0.5
    assert not e["rates"]["complaint_visit_within_3_working_days"]["met"]
    assert e["own_fault_complaints"] == 1 and e["rates"]["own_fault_complaints"] == {"value": 1, "target": 0, "met": False}
    assert e["rates"]["return_visit"]["value"] == 1.0


async def test_supervisor_scores_the_month_and_the_chart_shows_months_seed_000(world, client):
    from core import tickets

    await _held(world)
    butler = await world.principal("butler")
    t = await _ticket(world, "inquiry", at("2026-09-07 09:00"))
    await tickets.transition(butler, t["id"], "resolved", now=at("2026-09-07 09:05"))
    e = await _compute(client, world)
    h = world.headers("supervisor")
    r = await client.patch(f"{API}/evaluations/{e['id']}", json={"score": 90, "comment": "好"}, headers=h)
    assert r.status_code == 200 and r.json()["score"] == 90
    assert (await client.patch(f"{API}/evaluations/{e['id']}", json={"score": 101}, headers=h)).status_code == 422
    assert (await client.patch(f"{API}/evaluations/{e['id']}", json={"score": 80},
                               headers=world.headers("butler"))).status_code == 403
    again = await _compute(client, world)  # recomputing keeps the score
    assert again["id"] == e["id"] and again["score"] == 90
    r = await client.post(f"{API}/projects/{world.project['id']}/evaluations/compute",
                          json={"month": "2026-10", "as_of": "2026-10-31T12:00:00+08:00"}, headers=h)
    assert r.status_code == 200
    series = (await client.get(f"{API}/projects/{world.project['id']}/evaluations/series?user_id={world.staff['butler']}",
                               headers=h)).json()
    assert series["months"] == ["2026-09", "2026-10"] and series["series"]["score"] == [90, None]
    assert series["series"]["immediate_closure_pct"] == [100.0, None] and series["series"]["households"] == [2, 2]
    r = await client.get(f"/portal/residential-grids/evaluations?user_id={world.staff['butler']}", headers=h)
    assert r.status_code == 200 and "echarts" in r.text and "2026-09" in r.text
    # the monthly job computes last month for every project with grid holders, idempotently
    from plugins.residential_grids.actors import monthly_evaluations

    assert (await monthly_evaluations.fn("2026-10-01T03:00:00+08:00"))["month"] == "2026-09"
    rows = (await client.get(f"{API}/projects/{world.project['id']}/evaluations?month=2026-09", headers=h)).json()
    assert len(rows) == 1 and rows[0]["score"] == 90


async def test_gold_butler_application_is_approved_or_rejected_with_a_reason_seed_000(world, client):
    pid = world.project["id"]
    b, s = world.headers("butler"), world.headers("supervisor")
    r = await client.post(f"{API}/projects/{pid}/gold-applications", json={"reason": "连续三月优秀"}, headers=b)
    assert r.status_code == 201
    app = r.json()
    assert (await client.post(f"{API}/projects/{pid}/gold-applications", json={"reason": "again"}, headers=b)).status_code == 409
    r = await client.post(f"{API}/gold-applications/{app['id']}/decision", json={"approve": False}, headers=s)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    assert (await client.post(f"{API}/gold-applications/{app['id']}/decision", json={"approve": True},
                              headers=b)).status_code == 403
    r = await client.post(f"{API}/gold-applications/{app['id']}/decision", json={"approve": False, "reason": "投诉未清零"},
                          headers=s)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    app = (await client.post(f"{API}/projects/{pid}/gold-applications", json={"reason": "已整改"}, headers=b)).json()
    r = await client.post(f"{API}/gold-applications/{app['id']}/decision", json={"approve": True}, headers=s)
    assert r.json()["status"] == "approved"
    listed = (await client.get(f"{API}/projects/{pid}/gold-applications", headers=s)).json()
    assert [x["status"] for x in listed] == ["approved", "rejected"]
