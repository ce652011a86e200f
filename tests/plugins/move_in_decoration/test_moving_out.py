"""Moving large items out of a residential unit (seed 001): the same rule as the lobby pass-outs of
commercial buildings, through its release gate: released only after the owner confirms, always recorded."""
from __future__ import annotations

from datetime import timedelta

from core import TenantScope, get_registry, utcnow
from core import tables as ct
from plugins.move_in_decoration.tables import MovingOut
from tests.conftest import make_world
from tests.plugins.move_in_decoration.helpers import API


def _window() -> dict:
    now = utcnow()
    return {"window_start": (now - timedelta(hours=1)).isoformat(), "window_end": (now + timedelta(hours=3)).isoformat()}


async def test_moving_out_released_only_after_the_owner_confirms_and_recorded_seed_001(client, world):
    desk = world.headers("front_desk")
    body = {"unit_id": world.units[0]["id"], "items": [{"description": "双人床", "quantity": 1}, {"description": "纸箱",
            "quantity": 6}], "carrier_name": "搬家公司", "carrier_phone": "13800138000", **_window()}
    r = await client.post(f"{API}/moving-outs", json=body, headers=desk)
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["status"] == "requested" and row["pass_out"]["purpose"] == "moving_out"
    assert row["pass_out"]["source"] == "move_in_decoration" and len(row["pass_out"]["items"]) == 2
    mid = row["id"]
    # not confirmed: no release
    r = await client.post(f"{API}/moving-outs/{mid}/release", json={"note": "x"}, headers=desk)
    assert r.status_code == 409 and "confirmed" in r.json()["detail"]
    # only the owner (or renter, or a contact they authorised) confirms
    r = await client.post(f"{API}/moving-outs/{mid}/confirm", json={"customer_id": world.customers[1]["id"]}, headers=desk)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer_id"
    r = await client.post(f"{API}/moving-outs/{mid}/confirm", json={"customer_id": world.customers[0]["id"]}, headers=desk)
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert r.json()["confirmed_by_customer_id"] == world.customers[0]["id"]
    r = await client.post(f"{API}/moving-outs/{mid}/release", json={"note": "与清单一致"}, headers=desk)
    assert r.status_code == 200, r.text
    released = r.json()
    assert released["status"] == "released" and released["released_at"]
    assert released["pass_out"]["release"]["released_by_id"] == world.staff["front_desk"]
    scope = TenantScope(world.tenant_id)
    assert await scope.count(ct.AuditLog).where((ct.AuditLog.action == "pass_out.released")
                                                & (ct.AuditLog.object_id == row["pass_out_id"])) == 1
    stored = await scope.get(MovingOut, mid)
    assert stored["status"] == "released" and stored["released_by"] == world.staff["front_desk"]
    r = await client.post(f"{API}/moving-outs/{mid}/release", json={}, headers=desk)
    assert r.status_code == 409
    listed = (await client.get(f"{API}/moving-outs", params={"project_id": world.project["id"]}, headers=desk)).json()
    assert [m["id"] for m in listed] == [mid]
    # a link to the owner (the token is never returned); a rejection needs a reason
    r = await client.post(f"{API}/moving-outs", json=body, headers=desk)
    second = r.json()["id"]
    r = await client.post(f"{API}/moving-outs/{second}/links", json={"customer_id": world.customers[0]["id"]}, headers=desk)
    assert r.status_code == 200 and "token" not in r.text
    r = await client.post(f"{API}/moving-outs/{second}/reject", json={"reason": "业主不同意"}, headers=desk)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    # a commercial unit uses the lobby's pass-outs
    other = await scope.insert(ct.Building, project_id=world.project["id"], code="S", name="商铺")
    shop = await scope.insert(ct.Unit, project_id=world.project["id"], building_id=other["id"], room="1", use="retail")
    r = await client.post(f"{API}/moving-outs", json={**body, "unit_id": shop["id"]}, headers=desk)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit_id"


async def test_moving_out_without_the_release_gate_is_a_409_saying_so_seed_001(client):
    plugins = [p for p in get_registry().metas if p not in ("core", "dummy", "commercial_buildings")]
    world = await make_world(plugins=plugins)
    r = await client.post(f"{API}/moving-outs", json={"unit_id": world.units[0]["id"], "items": [{"description": "沙发"}],
                                                      "carrier_name": "张三", **_window()}, headers=world.headers())
    assert r.status_code == 409 and r.json()["title"] == "Release gate missing"
    assert "commercial buildings" in r.json()["detail"]
    # the rest of the plugin works without it
    r = await client.get(f"{API}/applications", params={"project_id": world.project["id"]}, headers=world.headers())
    assert r.status_code == 200
