"""Zones of a commercial project (seed 001): service profiles, team routing, after-hours air conditioning."""
from __future__ import annotations

from core import TenantScope, get_registry, hookimpl, tables
from tests.plugins.commercial_buildings.helpers import API, settings, zone


async def test_zone_kinds_carry_seed_001_service_profiles_and_plugins_add_kinds(client, cworld):
    class ExtraKinds:
        @hookimpl
        def register_zone_kinds(self):
            return [{"name": "extra.conference", "label_zh": "会议中心", "label_en": "Conference centre",
                     "services": ["会务 event support"]}]

    pm = get_registry().pm
    pm.register(ExtraKinds(), name="extra_zone_kinds")
    try:
        kinds = {k["name"]: k for k in (await client.get(f"{API}/zones/kinds", headers=cworld.headers())).json()}
    finally:
        pm.unregister(name="extra_zone_kinds")
    assert {"office", "hotel", "retail", "lobby", "garage", "extra.conference"} <= set(kinds)
    assert any("24" in s for s in kinds["hotel"]["services"])
    assert any("放行条" in s for s in kinds["lobby"]["services"])
    assert any("贵宾车辆" in s for s in kinds["garage"]["services"])
    assert kinds["extra.conference"]["plugin"] == "extra_zone_kinds"


async def test_zone_team_includes_lead_and_staff_must_exist(client, cworld):
    z = await zone(client, cworld, "office", 3, 4, lead="supervisor", members=("butler",))
    assert z["member_ids"] == [cworld.staff["supervisor"], cworld.staff["butler"]]
    assert z["services"] and z["label_zh"] == "写字楼"
    r = await client.post(f"{API}/zones", json={"project_id": cworld.project["id"], "kind": "office", "name": "x",
                                                "floor_from": 1, "floor_to": 2, "member_ids": [999999]},
                          headers=cworld.headers("project_manager"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "member_ids"
    r = await client.post(f"{API}/zones", json={"project_id": cworld.project["id"], "kind": "spaceport", "name": "x",
                                                "floor_from": 1, "floor_to": 2}, headers=cworld.headers("project_manager"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    r = await client.post(f"{API}/zones", json={"project_id": cworld.project["id"], "kind": "office", "name": "x",
                                                "floor_from": 1, "floor_to": 2}, headers=cworld.headers("front_desk"))
    assert r.status_code == 403
    r = await client.patch(f"{API}/zones/{z['id']}", json={"lead_id": cworld.staff["team_lead"], "member_ids": []},
                           headers=cworld.headers("project_manager"))
    assert r.status_code == 200 and r.json()["member_ids"] == [cworld.staff["team_lead"]]


async def test_zone_only_on_commercial_project(client):
    from tests.conftest import make_world

    w = await make_world(plugins=["commercial_buildings"], kind="residential")
    r = await client.post(f"{API}/zones", json={"project_id": w.project["id"], "kind": "office", "name": "x",
                                                "floor_from": 1, "floor_to": 2}, headers=w.headers("project_manager"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "project_id"


async def test_ticket_on_a_zone_floor_goes_to_the_zone_lead_seed_001(client, cworld):
    await zone(client, cworld, "office", 3, 4, lead="supervisor")
    await zone(client, cworld, "lobby", 1, 1, lead="front_desk")
    await zone(client, cworld, "retail", 1, 2, lead="team_lead")
    body = {"project_id": cworld.project["id"], "kind": "repair", "channel": "hotline", "title": "空调不制冷"}
    r = await client.post("/api/v1/tickets", json={**body, "unit_id": cworld.units[2]["id"]}, headers=cworld.headers())
    assert r.status_code == 201 and r.json()["responsible_id"] == cworld.staff["supervisor"]
    # floor 1 is both lobby and retail podium: a retail unit goes to the retail team
    await TenantScope(cworld.tenant_id).update(tables.Unit, {tables.Unit.use: "retail"}).where(
        tables.Unit.id == cworld.units[0]["id"])
    r = await client.post("/api/v1/tickets", json={**body, "unit_id": cworld.units[0]["id"]}, headers=cworld.headers())
    assert r.json()["responsible_id"] == cworld.staff["team_lead"]


async def test_ticket_outside_every_zone_falls_back_to_the_kernel(client, cworld):
    await zone(client, cworld, "office", 3, 4, lead="supervisor")
    r = await client.post("/api/v1/tickets", json={"project_id": cworld.project["id"], "kind": "repair",
                                                   "channel": "hotline", "title": "漏水", "unit_id": cworld.units[0]["id"]},
                          headers=cworld.headers())
    assert r.json()["responsible_id"] == cworld.staff["butler"]  # the unit's grid


async def _office(client, cworld):
    await zone(client, cworld, "office", 3, 4, lead="supervisor")
    return cworld.units[2]


async def test_after_hours_ac_fee_in_fen_from_tenant_setting_seed_001(client, cworld):
    unit = await _office(client, cworld)
    await settings(client, cworld, after_hours_ac_fee_fen_per_hour=5000)
    r = await client.post(f"{API}/after-hours-ac", json={"unit_id": unit["id"], "date": "2026-09-29", "start": "18:30",
                                                        "end": "21:10", "customer_id": cworld.customers[0]["id"]},
                          headers=cworld.headers())
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["kind"] == "commercial_buildings.after_hours_ac"
    assert t["data"]["hours"] == 3 and t["data"]["fee_fen"] == 15000  # 2 h 40 min billed as 3 started hours
    assert t["responsible_id"] == cworld.staff["supervisor"]


async def test_after_hours_ac_without_fee_setting_has_no_fee(client, cworld):
    unit = await _office(client, cworld)
    r = await client.post(f"{API}/after-hours-ac", json={"unit_id": unit["id"], "date": "2026-10-03", "start": "10:00",
                                                        "end": "12:00"}, headers=cworld.headers())
    assert r.status_code == 201, r.text
    assert r.json()["data"]["fee_fen"] is None and r.json()["data"]["holiday"] is True  # National Day holiday


async def test_after_hours_ac_refused_during_office_hours_and_outside_offices(client, cworld):
    unit = await _office(client, cworld)
    r = await client.post(f"{API}/after-hours-ac", json={"unit_id": unit["id"], "date": "2026-09-29", "start": "17:00",
                                                        "end": "19:00"}, headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "start"
    r = await client.post(f"{API}/after-hours-ac", json={"unit_id": cworld.units[0]["id"], "date": "2026-09-29",
                                                        "start": "19:00", "end": "20:00"}, headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit_id"
    count = await TenantScope(cworld.tenant_id).count(tables.Ticket)
    assert count == 0


async def test_after_hours_ac_through_generic_ticket_api_gets_its_fee(client, cworld):
    unit = await _office(client, cworld)
    await settings(client, cworld, after_hours_ac_fee_fen_per_hour=3000)
    r = await client.post("/api/v1/tickets", json={
        "project_id": cworld.project["id"], "kind": "commercial_buildings.after_hours_ac", "channel": "hotline",
        "title": "加班空调", "unit_id": unit["id"], "data": {"date": "2026-09-30", "start": "19:00", "end": "21:00"}},
        headers=cworld.headers())
    assert r.status_code == 201, r.text
    assert r.json()["data"]["fee_fen"] == 6000
    stored = await TenantScope(cworld.tenant_id).get(tables.Ticket, r.json()["id"])
    from core import json_value
    assert json_value(stored["data"])["fee_fen"] == 6000
