"""Grids of 350–400 households per butler, gold butlers, assignments, the record export, routing and the
public board (seed 000)."""
from __future__ import annotations

import io

from tests.conftest import at
from tests.plugins.residential_grids.helpers import estate, gold, grids_body

API = "/api/v1/residential-grids"


async def test_auto_divide_proposes_grids_of_350_to_400_households_keeping_buildings_whole_seed_000(world, client):
    e = await estate(world, [[65, 65]] * 6, vacant=3)  # 780 households (vacant units do not count)
    pid = e["project"]["id"]
    r = await client.post(f"{API}/projects/{pid}/auto-divide", json={}, headers=world.headers("supervisor"))
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["households"] == 780 and p["grid_count"] == 2 and not p["applied"]
    assert [g["households"] for g in p["grids"]] == [390, 390]
    assert [g["buildings"] for g in p["grids"]] == [["1", "2", "3"], ["4", "5", "6"]]  # buildings kept whole
    assert all(350 <= g["households"] <= 400 and g["flags"] == [] for g in p["grids"])
    # nothing is saved by a proposal
    from core.tables import Grid
    from core.tenancy import TenantScope

    assert await TenantScope(world.tenant_id).count(Grid).where(Grid.project_id == pid) == 0


async def test_auto_divide_apply_saves_grids_and_units_in_one_go_and_flags_adjusted_sizes_seed_000(world, client):
    e = await estate(world, [[65, 65]] * 6, vacant=3)
    pid = e["project"]["id"]
    h = world.headers("project_manager")
    p = (await client.post(f"{API}/projects/{pid}/auto-divide", json={}, headers=h)).json()
    body = grids_body(p)
    body[1]["entrances"].append(body[0]["entrances"].pop())  # staff move one entrance: 325 / 455
    r = await client.post(f"{API}/projects/{pid}/auto-divide", json={"apply": True, "grids": body}, headers=h)
    assert r.status_code == 200, r.text
    saved = {g["code"]: g for g in r.json()["grids"]}
    assert saved["G1"]["households"] == 325 and saved["G2"]["households"] == 455
    assert "under 350" in saved["G1"]["flags"][0]
    assert "over 400" in saved["G2"]["flags"][0] and "gold butler" in saved["G2"]["flags"][0]
    from core.tables import Unit
    from core.tenancy import TenantScope

    scope = TenantScope(world.tenant_id)
    assert await scope.count(Unit).where((Unit.grid_id == saved["G1"]["id"]) & (Unit.status == "occupied")) == 325
    assert await scope.count(Unit).where((Unit.project_id == pid) & Unit.grid_id.is_null()) == 0
    # an entrance in two grids is refused and nothing changes
    bad = grids_body(p)
    bad[1]["entrances"].append(bad[0]["entrances"][0])
    r = await client.post(f"{API}/projects/{pid}/auto-divide", json={"apply": True, "grids": bad}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("grids.1.entrances")
    assert await scope.count(Unit).where((Unit.grid_id == saved["G1"]["id"]) & (Unit.status == "occupied")) == 325


async def test_grid_under_350_households_is_flagged_with_the_reason_seed_000(world, client):
    e = await estate(world, [[150, 150]])
    r = await client.post(f"{API}/projects/{e['project']['id']}/auto-divide", json={}, headers=world.headers("supervisor"))
    grid = r.json()["grids"][0]
    assert grid["households"] == 300
    assert grid["flags"] == ["under 350: 300 households (standard 350–400 per butler)"]


async def test_only_a_gold_butler_may_hold_a_grid_over_400_households_seed_000(world, client):
    e = await estate(world, [[140, 140, 140]])  # 420 households, entrances cannot be split
    pid = e["project"]["id"]
    h = world.headers("supervisor")
    p = (await client.post(f"{API}/projects/{pid}/auto-divide", json={}, headers=h)).json()
    assert p["grids"][0]["households"] == 420 and "over 400" in p["grids"][0]["flags"][0]
    # saving a division that gives the 420 grid to an ordinary butler is refused, nothing written
    body = grids_body(p)
    body[0]["butler_id"] = world.staff["butler"]
    r = await client.post(f"{API}/projects/{pid}/auto-divide", json={"apply": True, "grids": body}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "grids.0.butler_id"
    from core.tables import Grid
    from core.tenancy import TenantScope

    assert await TenantScope(world.tenant_id).count(Grid).where(Grid.project_id == pid) == 0
    body[0].pop("butler_id")
    grid = (await client.post(f"{API}/projects/{pid}/auto-divide", json={"apply": True, "grids": body},
                              headers=h)).json()["grids"][0]
    r = await client.post(f"{API}/grids/{grid['id']}/assignment", json={"user_id": world.staff["butler"]}, headers=h)
    assert r.status_code == 422 and "gold butler" in r.json()["detail"]
    await gold(world, world.staff["butler"], pid)
    r = await client.post(f"{API}/grids/{grid['id']}/assignment", json={"user_id": world.staff["butler"]}, headers=h)
    assert r.status_code == 201, r.text
    listed = (await client.get(f"{API}/projects/{pid}/grids", headers=h)).json()[0]
    assert listed["households"] == 420 and listed["holder"]["gold"] and listed["flags"] == []


async def test_one_butler_per_grid_at_a_time_with_history_seed_000(world, client):
    from core import admin

    h = world.headers("supervisor")
    pid = world.project["id"]
    second = await admin.create_user(f"{world.tenant['slug']}-b2", "第二管家", "password-123")
    await admin.add_membership(world.tenant_id, second["id"], "butler", [pid], work_phone="0755-1")
    other = (await client.post("/api/v1/grids/", json={"project_id": pid, "code": "G2", "name": "二号网格"},
                               headers=h)).json()
    gid = world.grid["id"]
    r1 = await client.post(f"{API}/grids/{gid}/assignment",
                           json={"user_id": world.staff["butler"], "at": "2026-08-01T09:00:00+08:00"}, headers=h)
    assert r1.status_code == 201, r1.text
    r2 = await client.post(f"{API}/grids/{gid}/assignment", json={"user_id": second["id"], "at": "2026-09-01T09:00:00+08:00"},
                           headers=h)
    assert r2.status_code == 201
    history = (await client.get(f"{API}/grids/{gid}/assignments", headers=h)).json()
    assert [x["user_id"] for x in history] == [second["id"], world.staff["butler"]]
    assert history[0]["ended_at"] is None and history[1]["ended_at"].startswith("2026-09-01T01:00")
    # a butler holds one grid at a time: taking a second grid needs an explicit move
    r = await client.post(f"{API}/grids/{other['id']}/assignment", json={"user_id": second["id"]}, headers=h)
    assert r.status_code == 409
    r = await client.post(f"{API}/grids/{other['id']}/assignment", json={"user_id": second["id"], "move": True}, headers=h)
    assert r.status_code == 201
    assert (await client.get(f"{API}/grids/{gid}/assignments", headers=h)).json()[0]["ended_at"] is not None
    # the team lead also holds a grid; a technician cannot
    r = await client.post(f"{API}/grids/{gid}/assignment", json={"user_id": world.staff["team_lead"]}, headers=h)
    assert r.status_code == 201 and r.json()["role"] == "team_lead"
    r = await client.post(f"{API}/grids/{gid}/assignment", json={"user_id": world.staff["technician"]}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "user_id"
    # a butler may not assign
    r = await client.post(f"{API}/grids/{gid}/assignment", json={"user_id": world.staff["butler"]},
                          headers=world.headers("butler"))
    assert r.status_code in (403, 404)


async def test_role_configuration_exports_for_the_record_as_csv_and_excel_seed_000(world, client):
    h = world.headers("project_manager")
    pid = world.project["id"]
    await client.post(f"{API}/grids/{world.grid['id']}/assignment", json={"user_id": world.staff["butler"]}, headers=h)
    config = (await client.get(f"{API}/projects/{pid}/role-configuration", headers=h)).json()
    butler = next(r for r in config["rows"] if r["role"] == "butler")
    assert butler["grid_code"] == "G1" and butler["households"] == 2
    assert {r["role"] for r in config["rows"]} >= {"supervisor", "team_lead", "front_desk", "butler"}
    r = await client.get(f"{API}/projects/{pid}/role-configuration?format=csv", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert "客服管家" in text and "G1" in text and "attachment" in r.headers["content-disposition"]
    r = await client.get(f"{API}/projects/{pid}/role-configuration?format=xlsx", headers=h)
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws["A2"].value == "岗位 Role" and any(row[4] == "G1" for row in ws.iter_rows(min_row=3, values_only=True))
    from core.tables import AuditLog
    from core.tenancy import TenantScope

    assert await TenantScope(world.tenant_id).count(AuditLog).where(AuditLog.action == "residential_grids.export_roles") == 3


async def test_ticket_about_a_unit_goes_to_its_grid_butler_and_public_areas_to_the_building_grid_or_team_lead_seed_000(world):
    from core import tickets
    from core.tables import Building
    from core.tenancy import TenantScope
    from plugins.residential_grids import services as svc

    pm = await world.principal("project_manager")
    await svc.assign(pm, world.grid["id"], world.staff["butler"], now=at("2026-09-01 09:00"))
    desk = await world.principal("front_desk")
    base = {"project_id": world.project["id"], "channel": "hotline", "title": "t"}
    in_grid = await tickets.create_ticket(desk, {**base, "kind": "complaint", "unit_id": world.units[0]["id"]})
    assert in_grid["responsible_id"] == world.staff["butler"]
    public = await tickets.create_ticket(desk, {**base, "kind": "repair", "building_id": world.building["id"]})
    assert public["responsible_id"] == world.staff["butler"]  # B1 is held by grid G1
    lone = await TenantScope(world.tenant_id).insert(Building, project_id=world.project["id"], code="B9", name="9栋")
    public = await tickets.create_ticket(desk, {**base, "kind": "repair", "building_id": lone["id"]})
    assert public["responsible_id"] == world.staff["team_lead"]
    outside = await tickets.create_ticket(desk, {**base, "kind": "inquiry", "unit_id": world.units[3]["id"]})
    assert outside["responsible_id"] == world.staff["team_lead"]  # a unit in no grid
    # only residential projects: a commercial project keeps the kernel's answer (the first receiver)
    cs = await world.principal("company_cs")
    commercial = await tickets.create_ticket(cs, {**base, "project_id": world.other_project["id"], "kind": "inquiry",
                                                  "building_id": None})
    assert commercial["responsible_id"] == world.staff["company_cs"]


async def test_public_board_shows_the_butler_never_customer_data_and_files_requests_rate_limited_seed_000(world, client):
    from core import admin
    from core.tables import User

    await User.update({User.photo_url: "/static/butler.png"}).where(User.id == world.staff["butler"])
    pm = await world.principal("project_manager")
    from plugins.residential_grids import services as svc

    await svc.assign(pm, world.grid["id"], world.staff["butler"])
    from core.tables import Membership
    from core.tenancy import TenantScope

    await TenantScope(world.tenant_id).update(Membership, {Membership.work_phone: "0755-88880001"}).where(
        Membership.user_id == world.staff["butler"])
    url = f"/public/{world.tenant['slug']}/residential-grids/grids/{world.grid['id']}"
    r = await client.get(url)  # no login
    assert r.status_code == 200
    page = r.text
    assert "一号网格" in page and "butler" in page and "0755-88880001" in page and "/static/butler.png" in page
    for c in world.customers:
        assert c["name"] not in page and c["phone"] not in page
    # the request form files a ticket into the grid, acting as the grid's butler
    form = {"kind": "repair", "name": "陈女士", "phone": "13700001111", "room": "1栋101", "description": "楼道灯不亮"}
    r = await client.post(url + "/requests", data=form)
    assert r.status_code == 201 and "工单号" in r.text
    r = await client.post(url + "/requests", data=form, headers={"Accept": "application/json"})
    ticket_id = r.json()["ticket_id"]
    from core.tables import Ticket

    t = await TenantScope(world.tenant_id).get(Ticket, ticket_id)
    assert t["grid_id"] == world.grid["id"] and t["responsible_id"] == world.staff["butler"]
    assert t["first_receiver_id"] == world.staff["butler"] and t["channel"] == "online" and t["kind"] == "repair"
    r = await client.post(url + "/requests", data={**form, "phone": ""})
    assert r.status_code == 422 and "phone" in r.text
    assert (await client.post(url + "/requests", data=form)).status_code == 201
    r = await client.post(url + "/requests", data=form)  # the 4th from this address within the hour
    assert r.status_code == 429 and "3" in r.text
    # another company's grid under this company's address, or an unknown company: 404
    other = await admin.create_tenant(f"{world.tenant['slug']}-x", "别家", plugins=["residential_grids"])
    assert (await client.get(f"/public/{other['slug']}/residential-grids/grids/{world.grid['id']}")).status_code == 404
    assert (await client.get(f"/public/no-such-company/residential-grids/grids/{world.grid['id']}")).status_code == 404


async def test_public_board_is_404_when_the_plugin_is_disabled(client):
    from tests.conftest import make_world

    w = await make_world(plugins=[], login=False)
    assert (await client.get(f"/public/{w.tenant['slug']}/residential-grids/grids/{w.grid['id']}")).status_code == 404


async def test_board_pdf_is_a_printable_a4_page_with_a_qr_code(world, client):
    r = await client.get(f"{API}/grids/{world.grid['id']}/board.pdf", headers=world.headers("supervisor"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and b"/MediaBox [0 0 595.28 841.89]" in r.content


async def test_portal_grid_page_renders(world, client):
    r = await client.get("/portal/residential-grids", headers=world.headers("supervisor"))
    assert r.status_code == 200 and "一号网格" in r.text and "auto-divide" in r.text


async def test_a_new_ticket_goes_to_the_grid_holder_of_the_moment_read_with_its_unit_seed_000(world, monkeypatch):
    """The kernel reads the unit's grid and its holder in the statement that reads the project; the butler
    is the one assigned at that moment, with no query of the plugin's own."""
    from core import admin, tickets
    from plugins.residential_grids import services as svc

    pm = await world.principal("project_manager")
    second = await admin.create_user(f"{world.tenant['slug']}-b2", "第二管家", "password-123")
    await admin.add_membership(world.tenant_id, second["id"], "butler", [world.project["id"]])
    desk = await world.principal("front_desk")
    base = {"project_id": world.project["id"], "channel": "hotline", "title": "t", "kind": "complaint",
            "unit_id": world.units[0]["id"]}

    async def no_query(*args, **kwargs):
        raise AssertionError("the grid's holder came with the unit: no query needed")

    monkeypatch.setattr(svc, "grid_holder_id", no_query)
    await svc.assign(pm, world.grid["id"], world.staff["butler"], now=at("2026-09-01 09:00"))
    assert (await tickets.create_ticket(desk, dict(base)))["responsible_id"] == world.staff["butler"]
    await svc.assign(pm, world.grid["id"], second["id"], now=at("2026-09-02 09:00"))  # the handover
    assert (await tickets.create_ticket(desk, dict(base)))["responsible_id"] == second["id"]
