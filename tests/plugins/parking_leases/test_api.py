"""The parking leases API, portal and public page: the desk's flow end to end, bad input, bulk spaces,
and isolation (another company's rows are 404)."""
from __future__ import annotations

import io

import openpyxl

from core import TenantScope
from core import tables as ct
from plugins.parking_leases import services as svc
from plugins.parking_leases.tables import Application, Document, Space
from tests.conftest import at
from tests.plugins.parking_leases.helpers import DOCS, PLAN, PNG, checked_application, customer, garage, signed_lease

API = "/api/v1/parking-leases"


async def test_plan_and_fees_published_on_public_page_without_login_seed_001(client, world):
    pid = world.project["id"]
    r = await client.put(f"{API}/projects/{pid}/plan", json=PLAN, headers=world.headers("front_desk"))
    assert r.status_code == 403  # the front desk does not publish the plan
    r = await client.put(f"{API}/projects/{pid}/plan", json=PLAN, headers=world.headers("project_manager"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision_ref"] == "HY-业主大会-2026-02号" and body["decision_date"] == "2026-03-15"
    assert [(f["space_type"], f["term"], f["amount_fen"]) for f in body["fees"]][:2] == [
        ("standard", "monthly", 30000), ("standard", "quarterly", 87000)]
    slug = world.tenant["slug"]
    page = await client.get(f"/public/{slug}/parking-leases/projects/{pid}")  # no login
    assert page.status_code == 200
    text = page.text
    for needle in ("HY-业主大会-2026-02号", "2026-03-15", "房产证或租赁合同", "暂无车位的书面说明原因并登记轮候",
                   "300.00", "870.00", "500.00", "充电车位", "不超过20分钟", "3天内确认"):
        assert needle in text, needle
    portal = await client.get(f"/portal/parking-leases/projects/{pid}", headers=world.headers("front_desk"))
    assert portal.status_code == 200 and "HY-业主大会-2026-02号" in portal.text
    # no plan in the other project; unknown company; the plugin off for the project: 404
    assert (await client.get(f"/public/{slug}/parking-leases/projects/{world.other_project['id']}")).status_code == 404
    assert (await client.get(f"/public/no-such-company/parking-leases/projects/{pid}")).status_code == 404
    await TenantScope(world.tenant_id).insert(ct.PluginState, plugin="parking_leases", project_id=pid, enabled=False)
    from core import get_registry

    get_registry().forget(world.tenant_id)
    assert (await client.get(f"/public/{slug}/parking-leases/projects/{pid}")).status_code == 404
    assert (await client.get(f"{API}/projects/{pid}/plan", headers=world.headers("front_desk"))).status_code == 404


async def test_bad_plan_names_the_field_and_writes_nothing_seed_001(client, world):
    pid = world.project["id"]
    bad = {**PLAN, "fees": [{"space_type": "standard", "term": "monthly", "amount_fen": -5}]}
    r = await client.put(f"{API}/projects/{pid}/plan", json=bad, headers=world.headers("project_manager"))
    assert r.status_code == 422 and "fees" in r.json()["errors"][0]["field"]
    twice = {**PLAN, "fees": [PLAN["fees"][0], PLAN["fees"][0]]}
    r = await client.put(f"{API}/projects/{pid}/plan", json=twice, headers=world.headers("project_manager"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "fees.1"
    r = await client.get(f"{API}/projects/{pid}/plan", headers=world.headers("project_manager"))
    assert r.status_code == 404


async def test_desk_flow_through_the_api_documents_checklist_offer_sign_seed_001(client, world):
    await garage(world, standard=2, ev=0, now=at("2026-10-01 08:00"))
    h = world.headers("front_desk")
    r = await client.post(f"{API}/applications", headers=h, json={
        "project_id": world.project["id"], "customer_id": world.customers[0]["id"], "space_type": "standard",
        "term": "yearly", "plates": ["粤b 12345", "粤BD12345"]})
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["plates"] == ["粤B12345", "粤BD12345"] and app["holder_role"] == "owner" and app["priority"] == 0
    aid = app["id"]
    # a file of the wrong type, or not what it claims to be, is refused and not stored
    r = await client.post(f"{API}/applications/{aid}/documents", headers=h, data={"requirement": DOCS[0]},
                          files={"file": ("id.txt", b"hello", "text/plain")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = await client.post(f"{API}/applications/{aid}/documents", headers=h, data={"requirement": DOCS[0]},
                          files={"file": ("id.png", b"not a png at all", "image/png")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = await client.post(f"{API}/applications/{aid}/documents", headers=h, data={"requirement": "户口本"},
                          files={"file": ("id.png", PNG, "image/png")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "requirement"
    assert await TenantScope(world.tenant_id).count(Document).where(Document.application_id == aid) == 0
    for name in DOCS:
        r = await client.post(f"{API}/applications/{aid}/documents", headers=h, data={"requirement": name},
                              files={"file": (f"{name}.png", PNG, "image/png")})
        assert r.status_code == 201, r.text
    doc_id = r.json()["id"]
    got = await client.get(f"{API}/documents/{doc_id}", headers=h)
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
    r = await client.patch(f"{API}/applications/{aid}/checklist", headers=h, json={"items": {d: True for d in DOCS}})
    assert r.status_code == 200 and r.json()["status"] == "checked"
    r = await client.post(f"{API}/applications/{aid}/allocate", headers=h, json={})
    assert r.status_code == 201 and r.json()["outcome"] == "offered"
    space_id = r.json()["space"]["id"]
    r = await client.post(f"{API}/applications/{aid}/sign", headers=h, json={"start_date": "2026-11-01"})
    assert r.status_code == 201, r.text
    lease = r.json()
    assert lease["plates"] == ["粤B12345", "粤BD12345"] and lease["fee_fen"] == 330000 and lease["deposit_fen"] == 50000
    assert lease["start_date"] == "2026-11-01" and lease["end_date"] == "2027-10-31"
    assert lease["space"]["id"] == space_id and lease["space"]["status"] == "leased"
    app = (await client.get(f"{API}/applications/{aid}", headers=h)).json()
    assert app["status"] == "signed" and 0 <= app["handling_seconds"] < 120
    report = (await client.get(f"{API}/projects/{world.project['id']}/reports/handling-time", headers=h)).json()
    assert report["signed"] == 1 and report["within_target"] == 1 and report["target_minutes"] == 20
    page = await client.get(f"/portal/parking-leases/applications/{aid}", headers=h)
    assert page.status_code == 200 and "粤BD12345" in page.text
    assert (await client.get("/portal/parking-leases", headers=h)).status_code == 200
    r = await client.post(f"{API}/leases/{lease['id']}/terminate", headers=h, json={"reason": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"


async def test_bad_application_names_the_field_and_writes_nothing_seed_001(client, world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    base = {"project_id": world.project["id"], "customer_id": world.customers[0]["id"], "space_type": "standard",
            "term": "monthly"}
    h = world.headers("front_desk")
    for body, field in (({**base, "plates": ["ABC"]}, "plates.0"), ({**base, "term": "weekly"}, "term"),
                        ({**base, "customer_id": 10**9}, "customer_id"), ({**base, "colour": "red"}, "colour"),
                        ({**base, "project_id": world.other_project["id"]}, "project_id")):
        r = await client.post(f"{API}/applications", headers=h, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, r.json()
    assert await TenantScope(world.tenant_id).count(Application) == 0


async def test_waiting_list_notice_in_portal_and_api_seed_001(client, world):
    await garage(world, standard=0, ev=1, now=at("2026-10-01 08:00"))
    await signed_lease(world, world.customers[0]["id"], "ev", "quarterly", at("2026-10-08 09:00"))
    app = await checked_application(world, world.customers[1]["id"], "ev", "quarterly", at("2026-10-08 10:00"))
    h = world.headers("front_desk")
    r = await client.post(f"{API}/applications/{app['id']}/allocate", headers=h, json={})
    assert r.status_code == 201 and r.json()["outcome"] == "waiting"
    wid = r.json()["waitlist"]["id"]
    entry = (await client.get(f"{API}/waitlist/{wid}", headers=h)).json()
    assert entry["position"] == 1 and "充电车位" in entry["reason"]
    letter = await client.get(f"/portal/parking-leases/waitlist/{wid}", headers=h)
    assert letter.status_code == 200 and "第1位" in letter.text and "业主1" in letter.text
    queue = (await client.get(f"{API}/projects/{world.project['id']}/waitlist", headers=h)).json()
    assert [w["id"] for w in queue] == [wid]
    rep = (await client.get(f"{API}/projects/{world.project['id']}/reports/waitlist", headers=h)).json()
    assert rep["waiting"] == 1


async def test_spaces_from_a_range_and_an_excel_sheet_all_or_nothing(client, world):
    h = world.headers("project_manager")
    r = await client.post(f"{API}/garages", headers=h, json={"project_id": world.project["id"], "code": "B3",
                                                              "name": "B3 地下车库"})
    assert r.status_code == 201, r.text
    gid = r.json()["id"]
    r = await client.post(f"{API}/garages/{gid}/spaces/range", headers=h,
                          json={"first": "B3-001", "last": "B3-120", "zone": "B3"})
    assert r.status_code == 201 and r.json() == {"created": 120, "first": "B3-001", "last": "B3-120"}
    r = await client.post(f"{API}/garages/{gid}/spaces/range", headers=h,
                          json={"first": "B3-118", "last": "B3-125", "zone": "B3"})
    assert r.status_code == 409 and "B3-118" in r.json()["detail"]
    r = await client.post(f"{API}/garages/{gid}/spaces/range", headers=h, json={"first": "B3-010", "last": "A-020"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "last"
    scope = TenantScope(world.tenant_id)
    assert await scope.count(Space).where(Space.garage_id == gid) == 120

    def sheet(rows) -> bytes:
        book = openpyxl.Workbook()
        ws = book.active
        ws.append(["车位号", "区域", "类型", "状态"])
        for row in rows:
            ws.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    bad = sheet([["EV-01", "B3", "充电车位", ""], ["EV-02", "B3", "flying", ""], ["EV-03", "B3", "ev", "broken"],
                 ["EV-01", "B3", "ev", ""], [None, "B3", "ev", ""]])
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = await client.post(f"{API}/garages/{gid}/spaces/import", headers=h, files={"file": ("spaces.xlsx", bad, xlsx)})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(3, "line 3.type"), (4, "line 4.status"), (5, "line 5.number"),
                                                        (6, "line 6.number")]
    assert await scope.count(Space).where(Space.garage_id == gid) == 120  # nothing imported half-way
    r = await client.post(f"{API}/garages/{gid}/spaces/import", headers=h,
                          files={"file": ("spaces.xlsx", b"not excel", xlsx)})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    good = sheet([["EV-01", "B3", "充电车位", ""], ["EV-02", "B3", "ev", "停用"], ["V-01", "B3", "vip", "free"]])
    r = await client.post(f"{API}/garages/{gid}/spaces/import", headers=h, files={"file": ("spaces.xlsx", good, xlsx)})
    assert r.status_code == 201 and r.json() == {"created": 3}
    spaces = (await client.get(f"{API}/spaces", headers=h, params={"project_id": world.project["id"],
                                                                     "space_type": "ev"})).json()["items"]
    assert [(s["number"], s["status"]) for s in spaces] == [("EV-01", "free"), ("EV-02", "out_of_service")]
    r = await client.patch(f"{API}/spaces/{spaces[1]['id']}", headers=h, json={"status": "free"})
    assert r.status_code == 200 and r.json()["status"] == "free"
    occ = (await client.get(f"{API}/projects/{world.project['id']}/reports/occupancy", headers=h)).json()
    assert occ["total"]["total"] == 123 and occ["total"]["free"] == 123


async def test_another_companys_rows_are_404(client, world, other_world):
    other = other_world
    g = await garage(other, standard=1, ev=1, now=at("2026-10-01 08:00"))
    lease = await signed_lease(other, other.customers[0]["id"], "ev", "quarterly", at("2026-10-08 09:00"))
    app = await checked_application(other, other.customers[1]["id"], "ev", "quarterly", at("2026-10-08 10:00"))
    waiting = await svc.allocate(await other.principal("front_desk"), app["id"], None, now=at("2026-10-08 10:06"))
    offer_app = await checked_application(other, await customer(other, "owner", 2, "业主丙"), "standard", "monthly",
                                          at("2026-10-08 11:00"))
    offered = await svc.allocate(await other.principal("front_desk"), offer_app["id"], None, now=at("2026-10-08 11:06"))
    doc_id = (await svc.get_application(await other.principal("front_desk"), app["id"]))["documents"][0]["id"]
    h = world.headers("company_cs")
    pid = other.project["id"]
    for url in (f"{API}/garages/{g['id']}", f"{API}/spaces/{lease['space_id']}", f"{API}/leases/{lease['id']}",
                f"{API}/applications/{app['id']}", f"{API}/documents/{doc_id}",
                f"{API}/waitlist/{waiting['waitlist']['id']}", f"{API}/offers/{offered['offer']['id']}",
                f"{API}/projects/{pid}/plan", f"{API}/projects/{pid}/reports/occupancy",
                f"/portal/parking-leases/projects/{pid}", f"/portal/parking-leases/applications/{app['id']}",
                f"/portal/parking-leases/waitlist/{waiting['waitlist']['id']}"):
        r = await client.get(url, headers=h)
        assert r.status_code == 404, (url, r.status_code)
    for url, body in ((f"{API}/leases/{lease['id']}/terminate", {"reason": "x"}),
                      (f"{API}/offers/{offered['offer']['id']}/decline", {}),
                      (f"{API}/applications/{offer_app['id']}/sign", {})):
        assert (await client.post(url, headers=h, json=body)).status_code == 404, url
    r = await client.post(f"{API}/leases", headers=world.headers("project_manager"), json={
        "space_id": lease["space_id"], "customer_id": world.customers[0]["id"], "term": "monthly",
        "start_date": "2026-11-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "space_id"
    # the public page of the other company's project is not reachable through this company's slug
    assert (await client.get(f"/public/{world.tenant['slug']}/parking-leases/projects/{pid}")).status_code == 404
    assert (await svc.get_lease(await other.principal("front_desk"), lease["id"]))["status"] == "active"
