"""KPIs of the seeds computed in SQL, with exact numbers, per project and per staff member."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core import kpi, tickets
from tests.conftest import at, make_world

OCT = (at("2026-10-01 00:00"), at("2026-11-01 00:00"))


async def _ticket(w, now, role="front_desk", project=None, **fields):
    p = await w.principal(role)
    data = {"project_id": (project or w.project)["id"], "kind": "inquiry", "channel": "hotline", "title": "咨询",
            **fields}
    return await tickets.create_ticket(p, data, now=now)


async def _move(w, t, to, now, role="company_cs", **kw):
    return await tickets.transition(await w.principal(role), t["id"], to, now=now, **kw)


async def october(w) -> None:
    """A month of one company's work (National Day holiday and make-up Saturday 10-10 included).

    Inquiries of project 1: 20 received in October, 19 closed at once (one of them at exactly 10
    minutes), one after 15 minutes; 10 in the butler's grid, 10 answered for by the front desk.
    """
    day = at("2026-10-01 09:00")
    for i in range(20):
        received = day + timedelta(days=i, minutes=i)
        in_grid = i % 2 == 0
        fields = {"unit_id": w.units[0]["id"]} if in_grid else {}
        t = await _ticket(w, received, **fields)
        wait = timedelta(minutes=15) if i == 5 else timedelta(minutes=10) if i == 7 else timedelta(minutes=3)
        await _move(w, t, "resolved", received + wait)
    # Outside the period or cancelled: never counted.
    t = await _ticket(w, at("2026-09-30 23:58"))
    await _move(w, t, "resolved", at("2026-10-01 00:03"))
    await _ticket(w, at("2026-11-01 00:00"))
    t = await _ticket(w, at("2026-10-05 10:00"))
    await _move(w, t, "cancelled", at("2026-10-05 10:30"), reason="重复登记")
    # One inquiry of project 2, closed at once.
    t = await _ticket(w, at("2026-10-10 10:00"), role="company_cs", project=w.other_project)
    await _move(w, t, "resolved", at("2026-10-10 10:01"))

    # Repairs of project 1: four resolved in October (one late), three return-visited.
    for i, (received, done, visited) in enumerate([
        ("2026-10-02 09:00", "2026-10-02 15:00", "2026-10-03 09:00"),
        ("2026-10-08 09:00", "2026-10-08 20:00", "2026-10-09 10:00"),
        ("2026-10-10 09:00", "2026-10-11 15:00", None),  # 30 hours: late
        ("2026-10-20 09:00", "2026-10-20 11:00", "2026-10-20 18:00"),
    ]):
        t = await _ticket(w, at(received), kind="repair", unit_id=w.units[2]["id"], title=f"报修{i}")
        t = await _move(w, t, "resolved", at(done))
        if visited:
            await _move(w, t, "visited", at(visited), satisfaction=5)
    t = await _ticket(w, at("2026-09-29 09:00"), kind="repair", title="九月报修")
    await _move(w, t, "resolved", at("2026-09-29 10:00"))

    # Emergency repairs: on site after 8 minutes (on time) and after 12 (late).
    for minutes in (8, 12):
        t = await _ticket(w, at("2026-10-15 22:00"), kind="repair", priority="emergency", title="水管爆裂")
        await _move(w, t, "in_progress", at("2026-10-15 22:00") + timedelta(minutes=minutes))

    # Complaints of project 1: one handled (own fault) and visited, one followed by a comment, one untouched.
    c1 = await _ticket(w, at("2026-10-08 09:00"), kind="complaint", title="保洁不到位")
    c1 = await _move(w, c1, "resolved", at("2026-10-09 17:00"), own_fault=True)
    await _move(w, c1, "visited", at("2026-10-12 10:00"), satisfaction=4)
    c2 = await _ticket(w, at("2026-10-12 09:00"), kind="complaint", title="噪音")
    await tickets.add_comment(await w.principal("supervisor"), c2["id"], "已联系楼上住户", now=at("2026-10-12 11:00"))
    await _ticket(w, at("2026-10-28 09:00"), kind="complaint", title="停车")


@pytest.fixture(scope="module")
async def company():
    """Built once: the KPI tests only read it."""
    w = await make_world(login=False)
    await october(w)
    other = await make_world(login=False)  # another company's late inquiry is never counted
    t = await _ticket(other, at("2026-10-03 10:00"))
    await _move(other, t, "resolved", at("2026-10-03 11:00"))
    return w


async def test_immediate_closure_19_of_20_inquiries_is_95_percent_seed_000_001(company):
    cs = await company.principal("company_cs")
    got = await kpi.kpis(cs, *OCT, project_id=company.project["id"])
    assert got["total"]["immediate_closure"] == {"count": 19, "of": 20, "rate": 0.95, "percent": 95.0,
                                                 "target": 0.95, "met": True}
    assert got["immediate_minutes"] == 10


async def test_immediate_closure_per_project_and_company_total_seed_000_001(company):
    cs = await company.principal("company_cs")
    got = await kpi.kpis(cs, *OCT)
    by_project = {r["project_id"]: r["immediate_closure"] for r in got["rows"]}
    assert by_project[company.project["id"]]["count"] == 19 and by_project[company.project["id"]]["of"] == 20
    assert by_project[company.other_project["id"]]["rate"] == 1.0
    assert (got["total"]["immediate_closure"]["count"], got["total"]["immediate_closure"]["of"]) == (20, 21)
    assert [r["name"] for r in got["rows"]] == ["项目一", "项目二"]


async def test_immediate_closure_per_staff_member_below_target_seed_000_001(company):
    cs = await company.principal("company_cs")
    got = await kpi.kpis(cs, *OCT, by="staff", project_id=company.project["id"])
    rows = {r["staff_id"]: r for r in got["rows"]}
    butler, desk = rows[company.staff["butler"]], rows[company.staff["front_desk"]]
    assert (butler["immediate_closure"]["count"], butler["immediate_closure"]["of"]) == (10, 10)
    assert desk["immediate_closure"]["rate"] == 0.9 and desk["immediate_closure"]["met"] is False
    assert butler["name"].startswith("butler")


async def test_return_visit_rate_4_of_5_misses_100_percent_target_seed_000_004(company):
    cs = await company.principal("company_cs")
    got = (await kpi.kpis(cs, *OCT, project_id=company.project["id"]))["total"]
    # 4 repairs + 1 complaint resolved in October; one repair not visited (September's repair is not counted).
    assert got["return_visit"] == {"count": 4, "of": 5, "rate": 0.8, "percent": 80.0, "target": 1.0, "met": False}


async def test_complaint_tracking_rate_2_of_3_seed_000_001(company):
    cs = await company.principal("company_cs")
    got = (await kpi.kpis(cs, *OCT, project_id=company.project["id"]))["total"]
    assert (got["complaint_tracking"]["count"], got["complaint_tracking"]["of"]) == (2, 3)
    assert got["complaint_tracking"]["target"] == 1.0 and got["complaint_tracking"]["met"] is False


async def test_own_fault_complaints_target_zero_seed_000(company):
    cs = await company.principal("company_cs")
    got = (await kpi.kpis(cs, *OCT, project_id=company.project["id"]))["total"]
    assert got["own_fault_complaints"] == {"count": 1, "target": 0, "met": False}
    november = await kpi.kpis(cs, at("2026-11-01 00:00"), at("2026-12-01 00:00"), project_id=company.project["id"])
    assert november["total"]["own_fault_complaints"] == {"count": 0, "target": 0, "met": True}


async def test_on_time_rate_by_kind_repairs_24_hours_and_emergency_10_minutes_seed_004(company):
    cs = await company.principal("company_cs")
    on_time = (await kpi.kpis(cs, *OCT, project_id=company.project["id"]))["total"]["on_time"]
    assert (on_time["repair"]["resolution"]["count"], on_time["repair"]["resolution"]["of"]) == (3, 4)
    assert on_time["repair"]["resolution"]["rate"] == 0.75 and on_time["repair"]["resolution"]["target"] == 1.0
    assert (on_time["repair"]["response"]["count"], on_time["repair"]["response"]["of"]) == (1, 2)
    assert (on_time["complaint"]["resolution"]["count"], on_time["complaint"]["resolution"]["of"]) == (1, 1)
    assert "inquiry" not in on_time  # inquiries have no clock unless a reply time was agreed


async def test_kpis_of_a_project_manager_cover_only_its_projects(company):
    pm = await company.principal("project_manager")
    got = await kpi.kpis(pm, *OCT)
    assert [r["project_id"] for r in got["rows"]] == [company.project["id"]]
    with pytest.raises(Exception) as caught:
        await kpi.kpis(pm, *OCT, project_id=company.other_project["id"])
    assert caught.value.status == 404


async def test_kpis_refused_to_technicians_and_bad_periods(company):
    with pytest.raises(Exception) as caught:
        await kpi.kpis(await company.principal("technician"), *OCT)
    assert caught.value.status == 403
    with pytest.raises(Exception) as caught:
        await kpi.kpis(await company.principal("company_cs"), OCT[1], OCT[0])
    assert caught.value.status == 422 and caught.value.errors[0]["field"] == "to"


async def test_kpi_api_per_staff_with_targets(client):
    w = await make_world()
    t = await _ticket(w, at("2026-10-10 10:00"))
    await _move(w, t, "resolved", at("2026-10-10 10:02"))
    r = await client.get("/api/v1/kpis", params={"from": "2026-10-01", "to": "2026-11-01", "by": "staff",
                                                 "project_id": w.project["id"]}, headers=w.headers("supervisor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows"][0]["staff_id"] == w.staff["front_desk"]
    assert body["rows"][0]["immediate_closure"]["rate"] == 1.0
    assert body["targets"]["immediate_closure"] == 0.95
    r = await client.get("/api/v1/kpis", params={"from": "2026-10-01", "to": "2026-11-01", "by": "grid"},
                         headers=w.headers("supervisor"))
    assert r.status_code == 400 or r.status_code == 422
    r = await client.get("/api/v1/kpis", params={"from": "2026-10-01", "to": "2026-11-01"},
                         headers=w.headers("technician"))
    assert r.status_code == 403


async def test_kpi_api_another_companys_project_is_404(client):
    w = await make_world()
    other = await make_world(login=False)
    r = await client.get("/api/v1/kpis", params={"from": "2026-10-01", "to": "2026-11-01",
                                                 "project_id": other.project["id"]}, headers=w.headers("company_cs"))
    assert r.status_code == 404
