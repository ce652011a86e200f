"""Item storage, the garage VIP list and move-in/move-out checklists (seed 001)."""
from __future__ import annotations

from datetime import timedelta

from core import TenantScope, tables
from plugins.commercial_buildings import services
from plugins.commercial_buildings.tables import StoredItem
from tests.conftest import at
from tests.plugins.commercial_buildings.helpers import API, renter, zone


async def test_stored_item_handed_over_only_once_with_its_code_seed_001(client, cworld):
    r = await client.post(f"{API}/stored-items", json={"project_id": cworld.project["id"], "description": "文件袋",
                                                       "depositor_name": "快递员", "for_name": "业主0"},
                          headers=cworld.headers())
    assert r.status_code == 201, r.text
    item = r.json()
    code = item["pickup_code"]
    assert len(code) == 6 and "code_hash" not in item
    stored = await TenantScope(cworld.tenant_id).get(StoredItem, item["id"])
    assert stored["code_hash"] != code
    got = (await client.get(f"{API}/stored-items/{item['id']}", headers=cworld.headers())).json()
    assert "pickup_code" not in got and got["status"] == "waiting"
    wrong = "000000" if code != "000000" else "111111"
    r = await client.post(f"{API}/stored-items/{item['id']}/pickup", json={"code": wrong, "picked_up_by_name": "某人"},
                          headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "code"
    r = await client.post(f"{API}/stored-items/{item['id']}/pickup", json={"code": code, "picked_up_by_name": "业主0"},
                          headers=cworld.headers())
    assert r.status_code == 200 and r.json()["status"] == "picked_up"
    r = await client.post(f"{API}/stored-items/{item['id']}/pickup", json={"code": code, "picked_up_by_name": "又来"},
                          headers=cworld.headers())
    assert r.status_code == 409 and "Already handed over" in r.json()["detail"]
    waiting = (await client.get(f"{API}/stored-items", params={"project_id": cworld.project["id"], "waiting_only": True},
                                headers=cworld.headers())).json()
    assert waiting == []


async def test_vip_vehicle_arrival_notifies_the_garage_team_seed_001(client, cworld):
    garage = await zone(client, cworld, "garage", -3, -1, lead="team_lead", members=("butler",))
    r = await client.post(f"{API}/vip-vehicles", json={"project_id": cworld.project["id"], "plate": "粤B 88888",
                                                       "owner_name": "周董"}, headers=cworld.headers())
    assert r.status_code == 201 and r.json()["plate"] == "粤B88888"
    r = await client.post(f"{API}/vip-vehicles", json={"project_id": cworld.project["id"], "plate": "粤b88888"},
                          headers=cworld.headers())
    assert r.status_code == 409
    r = await client.post(f"{API}/vehicle-arrivals", json={"project_id": cworld.project["id"], "plate": "粤b 88888",
                                                           "at": "2026-09-29T08:55:00+08:00"}, headers=cworld.headers())
    assert r.status_code == 201, r.text
    assert r.json()["notified"] == 2
    assert set(r.json()["notified_user_ids"]) == set(garage["member_ids"])
    inbox = await TenantScope(cworld.tenant_id).select(tables.Notification).where(
        tables.Notification.template == "commercial_buildings.vip_arrival")
    assert {n["recipient_user_id"] for n in inbox} == {cworld.staff["team_lead"], cworld.staff["butler"]}
    r = await client.post(f"{API}/vehicle-arrivals", json={"project_id": cworld.project["id"], "plate": "粤B00001"},
                          headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "plate"


async def test_move_in_waiting_15_and_processing_30_minutes_measured_and_reported_seed_001(client, cworld):
    desk = await cworld.principal()
    t0 = at("2026-09-29 09:00")
    fast = await services.create_checklist(desk, {"unit_id": cworld.units[2]["id"], "customer_id": cworld.customers[0]["id"],
                                                  "kind": "move_in", "arrived_at": t0})
    slow = await services.create_checklist(desk, {"unit_id": cworld.units[3]["id"], "customer_id": cworld.customers[1]["id"],
                                                  "kind": "move_in", "arrived_at": t0 + timedelta(minutes=5)})
    assert fast["status"] == "waiting" and len(fast["items"]) >= 5
    await services.start_checklist(desk, fast["id"], at=t0 + timedelta(minutes=15))  # exactly 15: on target
    await services.start_checklist(desk, slow["id"], at=t0 + timedelta(minutes=21))  # 16 minutes waiting
    r = await client.post(f"{API}/checklists/{fast['id']}/finish", json={"at": "2026-09-29T09:40:00+08:00"},
                          headers=cworld.headers())
    assert r.status_code == 409 and r.json()["undone"]  # items still open
    for c in (fast, slow):
        r = await client.put(f"{API}/checklists/{c['id']}/items", json={"done": {i["name"]: True for i in c["items"]}},
                             headers=cworld.headers())
        assert r.status_code == 200
    r = await client.post(f"{API}/checklists/{fast['id']}/finish", json={"at": "2026-09-29T09:45:00+08:00"},
                          headers=cworld.headers())
    assert r.status_code == 200 and r.json()["processing_minutes"] == 30 and r.json()["processing_within_target"]
    r = await client.post(f"{API}/checklists/{slow['id']}/finish", json={"at": "2026-09-29T09:52:00+08:00"},
                          headers=cworld.headers())
    assert r.json()["processing_minutes"] == 31 and r.json()["processing_within_target"] is False
    report = (await client.get(f"{API}/checklists/report", params={
        "project_id": cworld.project["id"], "from": "2026-09-01T00:00:00+08:00", "to": "2026-10-01T00:00:00+08:00"},
        headers=cworld.headers())).json()
    assert report["targets"] == {"waiting_minutes": 15, "processing_minutes": 30}
    assert report["arrived"] == 2 and report["waiting_within_target"] == 1 and report["processing_within_target"] == 1
    assert report["average_waiting_minutes"] == 15.5 and report["average_processing_minutes"] == 30.5
    assert [b["id"] for b in report["breaches"]] == [slow["id"]]


async def test_move_out_needs_a_holder_of_the_unit(client, cworld):
    r = await client.post(f"{API}/checklists", json={"unit_id": cworld.units[0]["id"], "customer_id": cworld.customers[1]["id"],
                                                     "kind": "move_out", "arrived_at": "2026-09-29T09:00:00+08:00"},
                          headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer_id"
    company = await renter(cworld, 3)
    r = await client.post(f"{API}/checklists", json={"unit_id": cworld.units[3]["id"], "customer_id": company["id"],
                                                     "kind": "move_out", "arrived_at": "2026-09-29T09:00:00+08:00"},
                          headers=cworld.headers())
    assert r.status_code == 201 and r.json()["kind"] == "move_out"
