"""The API for SLA overrides, calendar overrides, service hours and the calendar listing (/api/v1)."""
from __future__ import annotations

import pytest

from datetime import datetime

from core.calendar import statutory_year_coverage
from tests.conftest import at, make_world


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
async def w():
    """One company for the module; every test sets the settings it relies on."""
    return await make_world()


@pytest.fixture(scope="module")
async def other():
    return await make_world(login=False)


def _policy(body, name):
    return next(p for p in body["policies"] if p["name"] == name)


async def test_effective_policies_carry_the_seed_numbers_seed_000_001_002_004(client, w):
    await client.put("/api/v1/sla/overrides", json={}, headers=w.headers("company_cs"))
    r = await client.get("/api/v1/sla/policies", headers=w.headers("front_desk"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert _policy(body, "repair.emergency")["response"] == {"amount": 10, "clock": "minutes", "text": "10 minutes"}
    assert _policy(body, "repair.park")["response"]["amount"] == 30
    assert _policy(body, "repair.general")["resolution"]["text"] == "24 hours"
    assert _policy(body, "repair.general")["return_visit"]["text"] == "24 hours"
    assert _policy(body, "complaint.general")["resolution"]["text"] == "2 working days"
    assert _policy(body, "complaint.complex")["resolution"]["text"] == "7 working days"
    assert _policy(body, "complaint.general")["return_visit"]["text"] == "3 working days"
    assert _policy(body, "suggestion")["resolution"]["text"] == "3 days"
    assert _policy(body, "inquiry")["resolution"] is None
    assert _policy(body, "complaint.general")["source"]["resolution"] == "default"


async def test_tenant_override_through_api_sets_due_of_new_tickets_seed_004(client, w):
    r = await client.put("/api/v1/sla/overrides", json={"complaint.general": {"resolution": "3 working_days"}},
                         headers=w.headers("company_cs"))
    assert r.status_code == 200, r.text
    assert r.json()["overrides"] == {"complaint.general": {"resolution": "3 working_days"}}
    assert _policy(r.json(), "complaint.general")["source"]["resolution"] == "tenant"
    t = await client.post("/api/v1/tickets", headers=w.headers(), json={
        "project_id": w.project["id"], "kind": "complaint", "channel": "hotline", "title": "噪音",
        "received_at": "2026-09-25T16:30:00+08:00"})
    assert t.status_code == 201, t.text
    # 09-28, 09-29, 09-30 (Mid-Autumn 09-25..27 off)
    assert _when(t.json()["resolution_due_at"]) == at("2026-09-30 23:59:59.999999")
    await client.put("/api/v1/sla/overrides", json={}, headers=w.headers("company_cs"))


async def test_unknown_policy_is_422_naming_it_and_writes_nothing(client, w):
    await client.put("/api/v1/sla/overrides", json={"suggestion": {"resolution": "2 days"}}, headers=w.headers("company_cs"))
    r = await client.put("/api/v1/sla/overrides", json={"complaint.bogus": {"resolution": "1 days"},
                                                         "suggestion": {"resolution": "1 days"}},
                         headers=w.headers("company_cs"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["complaint.bogus"]
    got = (await client.get("/api/v1/sla/overrides", headers=w.headers("company_cs"))).json()
    assert got["overrides"] == {"suggestion": {"resolution": "2 days"}}


async def test_negative_and_malformed_amounts_are_refused(client, w):
    for value, field in (("-1 working_days", "complaint.general.resolution"),
                         ({"amount": -5, "clock": "minutes"}, "repair.emergency.response"),
                         ("soon", "repair.general.resolution"), ("2 fortnights", "repair.general.resolution")):
        policy, clock = field.rsplit(".", 1)
        r = await client.put("/api/v1/sla/overrides", json={policy: {clock: value}}, headers=w.headers("company_cs"))
        assert r.status_code == 422, (value, r.text)
        assert r.json()["errors"][0]["field"] == field
    r = await client.put("/api/v1/sla/overrides", json={"inquiry": {"speed": "1 days"}}, headers=w.headers("company_cs"))
    assert r.json()["errors"][0]["field"] == "inquiry.speed"


async def test_only_sla_managers_change_overrides(client, w):
    for role in ("front_desk", "supervisor", "technician"):
        r = await client.put("/api/v1/sla/overrides", json={}, headers=w.headers(role))
        assert r.status_code == 403, role
    # A project manager changes its project, not the whole company.
    r = await client.put("/api/v1/sla/overrides", json={}, headers=w.headers("project_manager"))
    assert r.status_code == 403
    r = await client.put(f"/api/v1/sla/projects/{w.project['id']}/overrides",
                         json={"repair.general": {"resolution": "12 hours"}}, headers=w.headers("project_manager"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["overrides"] == {"repair.general": {"resolution": "12 hours"}}
    assert _policy(body, "repair.general")["resolution"]["text"] == "12 hours"
    assert _policy(body, "repair.general")["source"] == {"response": "default", "resolution": "project",
                                                         "return_visit": "default"}
    t = await client.post("/api/v1/tickets", headers=w.headers(), json={
        "project_id": w.project["id"], "kind": "repair", "channel": "hotline", "title": "灯坏",
        "received_at": "2026-10-01T08:00:00+08:00"})
    assert _when(t.json()["resolution_due_at"]) == at("2026-10-01 20:00")  # 12 hours
    await client.put(f"/api/v1/sla/projects/{w.project['id']}/overrides", json={}, headers=w.headers("company_cs"))


async def test_project_overrides_of_hidden_or_foreign_projects_are_404(client, w, other):
    # The project manager's membership covers project 1 only.
    r = await client.put(f"/api/v1/sla/projects/{w.other_project['id']}/overrides", json={},
                         headers=w.headers("project_manager"))
    assert r.status_code == 404
    for method in ("get", "put"):
        kw = {"json": {}} if method == "put" else {}
        r = await getattr(client, method)(f"/api/v1/sla/projects/{other.project['id']}/overrides",
                                          headers=w.headers("company_cs"), **kw)
        assert r.status_code == 404, method
    r = await client.get("/api/v1/sla/policies", params={"project_id": other.project["id"]},
                         headers=w.headers("company_cs"))
    assert r.status_code == 404


async def test_calendar_lists_holidays_and_makeup_days_of_national_day_2026(client, w):
    r = await client.get("/api/v1/calendar", params={"from": "2026-09-18", "to": "2026-10-12"}, headers=w.headers())
    assert r.status_code == 200, r.text
    days = {d["date"]: d for d in r.json()["days"]}
    assert len(days) == 24 and "2026-10-12" not in days
    assert days["2026-09-20"]["kind"] == "makeup_workday" and days["2026-09-20"]["working"] is True
    assert days["2026-09-25"]["kind"] == "holiday"
    assert days["2026-10-01"] == {"date": "2026-10-01", "weekday": 3, "kind": "holiday", "working": False,
                                  "name": "National Day"}
    assert days["2026-10-10"]["kind"] == "makeup_workday"
    assert days["2026-10-11"]["kind"] == "weekend"
    r = await client.get("/api/v1/calendar", params={"from": "2026-10-12", "to": "2026-10-01"}, headers=w.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "to"


@pytest.mark.skipif(statutory_year_coverage()[1] >= 2027, reason="installed calendar data already has 2027")
async def test_calendar_warns_that_2027_is_not_loaded_as_of_2026_11_23(client, w):
    r = await client.get("/api/v1/calendar", params={"from": "2027-01-01", "to": "2027-01-08", "as_of": "2026-11-23"},
                         headers=w.headers())
    body = r.json()
    assert "2027" in body["warning"] and "not loaded yet" in body["warning"]
    assert body["uncovered_years"] == [2027]
    r = await client.get("/api/v1/calendar/warning", params={"as_of": "2026-06-01"}, headers=w.headers())
    assert "2027" in r.json()["warning"]  # the coming year counts too
    r = await client.get("/api/v1/calendar/warning", params={"as_of": "2025-06-01"}, headers=w.headers())
    assert r.json()["warning"] is None


async def test_calendar_overrides_in_both_directions_through_api(client, w):
    cs = w.headers("company_cs")
    r = await client.post("/api/v1/calendar/overrides", json={"day": "2026-10-03", "working": True, "note": "国庆值班"},
                          headers=cs)
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/calendar/overrides", json={"day": "2026-09-29", "working": False, "note": "台风"},
                          headers=cs)
    assert [o["day"] for o in r.json()] == ["2026-09-29", "2026-10-03"]
    days = {d["date"]: d for d in (await client.get("/api/v1/calendar", params={"from": "2026-09-29", "to": "2026-10-04"},
                                                    headers=w.headers())).json()["days"]}
    assert days["2026-10-03"]["kind"] == "override_working" and days["2026-10-03"]["name"] == "国庆值班"
    assert days["2026-09-29"]["kind"] == "override_off" and days["2026-09-29"]["working"] is False
    t = await client.post("/api/v1/tickets", headers=w.headers(), json={
        "project_id": w.project["id"], "kind": "complaint", "channel": "hotline", "title": "噪音",
        "received_at": "2026-09-28T10:00:00+08:00"})
    assert _when(t.json()["resolution_due_at"]) == at("2026-10-03 23:59:59.999999")  # 09-30, Sat 10-03
    assert (await client.delete("/api/v1/calendar/overrides/2026-10-03", headers=cs)).status_code == 204
    assert (await client.delete("/api/v1/calendar/overrides/2026-10-03", headers=cs)).status_code == 404
    assert (await client.delete("/api/v1/calendar/overrides/2026-09-29", headers=cs)).status_code == 204
    assert (await client.get("/api/v1/calendar/overrides", headers=w.headers())).json() == []


async def test_calendar_override_input_is_checked(client, w):
    cs = w.headers("company_cs")
    r = await client.post("/api/v1/calendar/overrides", json={"day": "2026-02-30", "working": True}, headers=cs)
    assert r.status_code in (400, 422) and r.json()["errors"][0]["field"] == "day"
    r = await client.post("/api/v1/calendar/overrides", json={"day": "2026-10-03", "working": True, "colour": "red"},
                          headers=cs)
    assert r.status_code in (400, 422) and r.json()["errors"][0]["field"] == "colour"
    r = await client.post("/api/v1/calendar/overrides", json={"day": "2026-10-03", "working": True},
                          headers=w.headers("project_manager"))
    assert r.status_code == 403
    assert (await client.get("/api/v1/calendar/overrides", headers=w.headers())).json() == []


async def test_service_hours_seven_days_ten_hours_seed_004(client, w):
    r = await client.get("/api/v1/service-hours", headers=w.headers())
    assert r.json() == {"opens": "08:00", "closes": "20:00", "days": [0, 1, 2, 3, 4, 5, 6], "hours_per_day": 12.0,
                        "problems": []}
    r = await client.put("/api/v1/service-hours", json={"opens": "09:00", "closes": "18:00", "days": [0, 1, 2, 3, 4, 5]},
                         headers=w.headers("company_cs"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hours_per_day"] == 9.0 and len(body["problems"]) == 2
    assert "Sunday" in body["problems"][0] and "10 hours" in body["problems"][1]
    assert (await client.get("/api/v1/service-hours", headers=w.headers())).json()["problems"] == body["problems"]
    r = await client.put("/api/v1/service-hours", json={"opens": "08:00", "closes": "18:30"},
                         headers=w.headers("company_cs"))
    assert r.json()["problems"] == [] and r.json()["hours_per_day"] == 10.5


async def test_service_hours_input_is_checked(client, w):
    cs = w.headers("company_cs")
    r = await client.put("/api/v1/service-hours", json={"opens": "25:00", "closes": "18:00"}, headers=cs)
    assert r.status_code in (400, 422) and r.json()["errors"][0]["field"] == "opens"
    r = await client.put("/api/v1/service-hours", json={"opens": "08:00", "closes": "20:00", "days": [7]}, headers=cs)
    assert r.status_code in (400, 422) and r.json()["errors"][0]["field"].startswith("days")
    r = await client.put("/api/v1/service-hours", json={"opens": "08:00", "closes": "20:00"}, headers=w.headers("butler"))
    assert r.status_code == 403
