"""Lobby visitor register (来访登记, seed 001): quick registration, masked IDs, day list, close of day, retention."""
from __future__ import annotations

from datetime import timedelta

from core import TenantScope
from plugins.commercial_buildings import services
from plugins.commercial_buildings.tables import Visitor
from tests.conftest import at
from tests.plugins.commercial_buildings.helpers import API, settings, zone

ID = "440301199001011234"


def _visitor(w, **extra):
    return {"project_id": w.project["id"], "name": "李明", "host_customer_id": w.customers[0]["id"],
            "purpose": "商务洽谈", "id_type": "id_card", "id_number": ID, **extra}


async def test_visitor_registered_with_id_masked_except_for_roles_that_need_it_seed_001(client, cworld):
    r = await client.post(f"{API}/visitors", json=_visitor(cworld, time_in="2026-09-29T10:00:00+08:00"),
                          headers=cworld.headers("front_desk"))
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["status"] == "inside" and v["id_number"] == "4403**********1234"
    got = (await client.get(f"{API}/visitors/{v['id']}", headers=cworld.headers("supervisor"))).json()
    assert got["id_number"] == ID  # customer.view_id_number
    got = (await client.get(f"{API}/visitors/{v['id']}", headers=cworld.headers("butler"))).json()
    assert got["id_number"] != ID and got["id_number"].endswith("1234")
    stored = await TenantScope(cworld.tenant_id).get(Visitor, v["id"])
    assert stored["id_number"] == ID


async def test_visitor_host_must_be_a_customer_of_the_project_and_bad_input_writes_nothing(client, cworld, other_cworld):
    r = await client.post(f"{API}/visitors", json=_visitor(cworld, host_customer_id=other_cworld.customers[0]["id"]),
                          headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "host_customer_id"
    r = await client.post(f"{API}/visitors", json={**_visitor(cworld), "name": ""}, headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    r = await client.post(f"{API}/visitors", json={**_visitor(cworld), "id_number": "44<script>"}, headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "id_number"
    r = await client.post(f"{API}/visitors", json={**_visitor(cworld), "time_in": "2026-09-29T10:00:00"},
                          headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "time_in"
    assert await TenantScope(cworld.tenant_id).count(Visitor) == 0


async def test_pre_registered_visitor_is_expected_then_arrives(client, cworld):
    lobby = await zone(client, cworld, "lobby", 1, 1, lead="front_desk")
    r = await client.post(f"{API}/visitors/pre-register",
                          json={k: v for k, v in _visitor(cworld, lobby_id=lobby["id"], id_number="").items()}
                          | {"expected_at": "2026-09-29T14:00:00+08:00"}, headers=cworld.headers())
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["status"] == "expected" and v["pre_registered"] is True
    day = (await client.get(f"{API}/visitors", params={"project_id": cworld.project["id"], "day": "2026-09-29",
                                                        "lobby_id": lobby["id"]}, headers=cworld.headers())).json()
    assert day["expected"] == 1 and day["items"][0]["id"] == v["id"]
    r = await client.post(f"{API}/visitors/{v['id']}/arrive", json={"id_number": ID, "at": "2026-09-29T14:05:00+08:00"},
                          headers=cworld.headers())
    assert r.status_code == 200 and r.json()["status"] == "inside"
    r = await client.post(f"{API}/visitors/{v['id']}/arrive", json={}, headers=cworld.headers())
    assert r.status_code == 409
    r = await client.post(f"{API}/visitors/{v['id']}/leave", json={"at": "2026-09-29T13:00:00+08:00"},
                          headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "at"
    r = await client.post(f"{API}/visitors/{v['id']}/leave", json={"at": "2026-09-29T15:00:00+08:00"},
                          headers=cworld.headers())
    assert r.status_code == 200 and r.json()["status"] == "left"


async def test_visitors_still_inside_at_close_of_day_are_flagged_seed_001(client, cworld):
    desk = await cworld.principal()
    staying = await services.register_visitor(desk, _visitor(cworld, time_in=at("2026-09-29 19:00")))
    gone = await services.register_visitor(desk, _visitor(cworld, name="王芳", time_in=at("2026-09-29 10:00")))
    await services.visitor_leaves(desk, gone["id"], at=at("2026-09-29 11:00"))
    before = await services.visitors_of_day(desk, cworld.project["id"], at("2026-09-29 00:00").date(),
                                            now=at("2026-09-29 21:00"))
    assert before["still_inside_at_close"] == []
    after = await services.visitors_of_day(desk, cworld.project["id"], at("2026-09-29 00:00").date(),
                                           now=at("2026-09-29 22:30"))
    assert after["still_inside_at_close"] == [staying["id"]]
    flagged = await services.flag_still_inside(at("2026-09-29 23:30"))
    assert flagged[str(cworld.tenant_id)] == 1
    assert str(cworld.tenant_id) not in await services.flag_still_inside(at("2026-09-29 23:45"))  # idempotent
    row = await TenantScope(cworld.tenant_id).get(Visitor, staying["id"])
    assert row["flagged_at"] is not None


async def test_retention_purge_erases_id_numbers_after_90_days_and_counts_them_seed_001(cworld):
    desk = await cworld.principal()
    as_of = at("2026-09-30 02:30")
    old = await services.register_visitor(desk, _visitor(cworld, time_in=as_of - timedelta(days=95)))
    await services.visitor_leaves(desk, old["id"], at=as_of - timedelta(days=95) + timedelta(hours=1))
    older_inside = await services.register_visitor(desk, _visitor(cworld, time_in=as_of - timedelta(days=91)))
    recent = await services.register_visitor(desk, _visitor(cworld, time_in=as_of - timedelta(days=89)))
    result = await services.purge_visitor_ids(as_of)
    assert result["tenants"][str(cworld.tenant_id)] == 2
    scope = TenantScope(cworld.tenant_id)
    assert (await scope.get(Visitor, old["id"]))["id_number"] == ""
    assert (await scope.get(Visitor, older_inside["id"]))["id_erased_at"] is not None
    assert (await scope.get(Visitor, recent["id"]))["id_number"] == ID
    again = await services.purge_visitor_ids(as_of)
    assert str(cworld.tenant_id) not in again["tenants"]  # a second run for the same as_of erases nothing


async def test_retention_follows_the_tenant_setting(client, cworld):
    await settings(client, cworld, visitor_retention_days=30)
    desk = await cworld.principal()
    as_of = at("2026-09-30 02:30")
    await services.register_visitor(desk, _visitor(cworld, time_in=as_of - timedelta(days=31)))
    result = await services.purge_visitor_ids(as_of)
    assert result["tenants"][str(cworld.tenant_id)] == 1
