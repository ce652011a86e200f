"""Another company's rows are 404 on every route; the demo fills every table; the portal pages render."""
from __future__ import annotations

from datetime import timedelta

from core import TenantScope
from plugins.commercial_buildings import hooks, services
from plugins.commercial_buildings.tables import TABLES
from tests.conftest import at
from tests.plugins.commercial_buildings.helpers import API, person, zone

T0 = at("2026-09-29 09:00")


async def _rows_of(client, w) -> dict[str, int]:
    """One row of each kind in company `w`, made through the services."""
    desk = await w.principal()
    z = await zone(client, w, "lobby", 1, 1, lead="front_desk")
    v = await services.register_visitor(desk, {"project_id": w.project["id"], "name": "访客", "lobby_id": z["id"],
                                               "host_customer_id": w.customers[0]["id"], "time_in": T0})
    contact = await services.add_contact(desk, {"unit_id": w.units[0]["id"], "authorised_by_id": w.customers[0]["id"],
                                                "contact_id": (await person(w))["id"]})
    p = await services.request_pass_out(desk, unit_id=w.units[0]["id"], items=[{"description": "柜子"}],
                                        carrier_name="搬运", window_start=T0, window_end=T0 + timedelta(days=36500), now=T0)
    s = await services.deposit_item(desk, {"project_id": w.project["id"], "description": "包", "depositor_name": "甲"})
    vip = await services.add_vip_vehicle(desk, {"project_id": w.project["id"], "plate": "粤B12345"})
    c = await services.create_checklist(desk, {"unit_id": w.units[0]["id"], "customer_id": w.customers[0]["id"],
                                               "kind": "move_in", "arrived_at": T0})
    return {"zone_id": z["id"], "visitor_id": v["id"], "authorised_contact_id": contact["id"], "pass_out_id": p["id"],
            "stored_item_id": s["id"], "vip_vehicle_id": vip["id"], "checklist_id": c["id"]}


async def test_another_companys_rows_are_404_on_every_route(client, cworld, other_cworld):
    ids = await _rows_of(client, other_cworld)
    h = cworld.headers("company_cs")
    checks = [
        ("GET", f"{API}/zones/{ids['zone_id']}", None), ("PATCH", f"{API}/zones/{ids['zone_id']}", {"name": "x"}),
        ("DELETE", f"{API}/zones/{ids['zone_id']}", None),
        ("GET", f"{API}/visitors/{ids['visitor_id']}", None),
        ("POST", f"{API}/visitors/{ids['visitor_id']}/leave", {}),
        ("POST", f"{API}/visitors/{ids['visitor_id']}/arrive", {}),
        ("POST", f"{API}/authorised-contacts/{ids['authorised_contact_id']}/revoke", None),
        ("GET", f"{API}/pass-outs/{ids['pass_out_id']}", None),
        ("POST", f"{API}/pass-outs/{ids['pass_out_id']}/confirm", {"customer_id": other_cworld.customers[0]["id"]}),
        ("POST", f"{API}/pass-outs/{ids['pass_out_id']}/links", {"customer_id": other_cworld.customers[0]["id"]}),
        ("POST", f"{API}/pass-outs/{ids['pass_out_id']}/reject", {"reason": "x"}),
        ("POST", f"{API}/pass-outs/{ids['pass_out_id']}/release", {}),
        ("GET", f"{API}/stored-items/{ids['stored_item_id']}", None),
        ("POST", f"{API}/stored-items/{ids['stored_item_id']}/pickup", {"code": "123456", "picked_up_by_name": "x"}),
        ("DELETE", f"{API}/vip-vehicles/{ids['vip_vehicle_id']}", None),
        ("GET", f"{API}/checklists/{ids['checklist_id']}", None),
        ("POST", f"{API}/checklists/{ids['checklist_id']}/start", {}),
        ("PUT", f"{API}/checklists/{ids['checklist_id']}/items", {"done": {}}),
        ("POST", f"{API}/checklists/{ids['checklist_id']}/finish", {}),
        ("GET", f"{API}/visitors?project_id={other_cworld.project['id']}", None),
        ("GET", f"{API}/stored-items?project_id={other_cworld.project['id']}", None),
        ("GET", f"/portal/commercial-buildings/pass-outs/{ids['pass_out_id']}", None),
        ("POST", f"/portal/commercial-buildings/pass-outs/{ids['pass_out_id']}/release", None),
        ("POST", f"/portal/commercial-buildings/storage/{ids['stored_item_id']}/pickup", None),
        ("POST", f"/portal/commercial-buildings/visitors/{ids['visitor_id']}/leave", None),
        ("POST", f"/portal/commercial-buildings/checklists/{ids['checklist_id']}/start", None),
    ]
    for method, url, body in checks:
        r = await client.request(method, url, json=body, headers=h) if body is not None else \
            await client.request(method, url, headers=h)
        assert r.status_code == 404, (method, url, r.status_code, r.text)
    listed = (await client.get(f"{API}/pass-outs", headers=h)).json()
    assert ids["pass_out_id"] not in {p["id"] for p in listed}
    r = await client.get(f"{API}/zones", params={"project_id": other_cworld.project["id"]}, headers=h)
    assert r.json() == []


async def test_seed_demo_fills_every_table_of_the_plugin(client, cworld):
    await hooks.seed_demo(tenant_id=cworld.tenant_id, projects={"commercial": cworld.project}, staff=cworld.staff,
                          as_of=at("2026-09-30 17:00"))
    scope = TenantScope(cworld.tenant_id)
    for table in TABLES:
        assert await scope.count(table) >= 1, table._meta.tablename
    passes = (await client.get(f"{API}/pass-outs", headers=cworld.headers())).json()
    assert {"requested", "confirmed", "released", "rejected", "expired"} <= {p["status"] for p in passes}
    zones = (await client.get(f"{API}/zones", headers=cworld.headers())).json()
    assert {"office", "hotel", "retail", "lobby", "garage"} == {z["kind"] for z in zones}


async def test_portal_pages_render_for_the_demo_data(client, cworld):
    await hooks.seed_demo(tenant_id=cworld.tenant_id, projects={"commercial": cworld.project}, staff=cworld.staff,
                          as_of=at("2026-09-30 17:00"))
    h = cworld.headers("supervisor")
    pid = cworld.project["id"]
    for path, text in ((f"/portal/commercial-buildings?project_id={pid}", "写字楼"),
                       (f"/portal/commercial-buildings/visitors?project_id={pid}&day=2026-09-30", "李明"),
                       (f"/portal/commercial-buildings/pass-outs?project_id={pid}", "released"),
                       (f"/portal/commercial-buildings/storage?project_id={pid}", "文件袋"),
                       (f"/portal/commercial-buildings/vehicles?project_id={pid}", "粤B88888"),
                       (f"/portal/commercial-buildings/checklists?project_id={pid}&day=2026-09-30", "15")):
        r = await client.get(path, headers=h)
        assert r.status_code == 200, (path, r.text[:500])
        assert text in r.text, path
    passes = (await client.get(f"{API}/pass-outs", params={"status": "requested"}, headers=h)).json()
    r = await client.get(f"/portal/commercial-buildings/pass-outs/{passes[0]['id']}", headers=h)
    assert r.status_code == 200 and passes[0]["code"] in r.text


async def test_portal_forms_register_a_visitor_and_hand_over_storage(client, cworld):
    h = cworld.headers()
    pid = cworld.project["id"]
    r = await client.post("/portal/commercial-buildings/visitors", data={
        "project_id": pid, "name": "门户访客", "host_customer_id": cworld.customers[0]["id"], "purpose": "拜访",
        "id_type": "id_card", "id_number": "440301199001019999"}, headers=h, follow_redirects=False)
    assert r.status_code in (302, 303) and "%E2%9C%93" in r.headers["location"]
    today = (await client.get(f"{API}/visitors", params={"project_id": pid}, headers=h)).json()
    assert [v["name"] for v in today["items"]] == ["门户访客"]
    r = await client.post("/portal/commercial-buildings/storage", data={"project_id": pid, "description": "雨伞",
                                                                         "depositor_name": "乙"},
                          headers=h, follow_redirects=False)
    assert r.status_code in (302, 303) and "Pickup" in r.headers["location"]
