"""Projects, buildings, units, grids and customers through the API: permissions, scope, paging, conflicts,
masking, the customer file, move in / move out / ownership change."""
from __future__ import annotations

PROBLEM = "application/problem+json"


def _problem(r, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status
    if field is not None:
        assert body["errors"][0]["field"] == field, body
    return body


def _invalid(r, field: str) -> dict:
    """Bad input: 400/422 problem naming the field."""
    return _problem(r, r.status_code if r.status_code in (400, 422) else 422, field)


async def _all_pages(client, url: str, headers: dict, limit: int = 2, **params) -> list[dict]:
    items, cursor, pages = [], None, 0
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        r = await client.get(url, params=query, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            return items
        assert pages < 100


# ---------------------------------------------------------------- projects

async def test_project_crud_with_permissions_and_duplicate_code_conflict(client, world):
    body = {"code": "P9", "name": "九号项目", "kind": "industrial", "total_area": "12000.50"}
    _problem(await client.post("/api/v1/projects", json=body, headers=world.headers("front_desk")), 403)
    _problem(await client.post("/api/v1/projects", json=body, headers=world.headers("project_manager")), 403)
    r = await client.post("/api/v1/projects", json=body, headers=world.headers("company_cs"))
    assert r.status_code == 201, r.text
    project = r.json()
    assert project["kind"] == "industrial" and project["tenant_id"] == world.tenant_id
    _problem(await client.post("/api/v1/projects", json=body, headers=world.headers("company_cs")), 409)
    r = await client.patch(f"/api/v1/projects/{project['id']}", json={"name": "九号工业园"},
                           headers=world.headers("company_cs"))
    assert r.status_code == 200 and r.json()["name"] == "九号工业园"
    # a project manager covers its own project only
    r = await client.patch(f"/api/v1/projects/{world.project['id']}", json={"address": "深圳市南山区"},
                           headers=world.headers("project_manager"))
    assert r.status_code == 200 and r.json()["address"] == "深圳市南山区"
    _problem(await client.patch(f"/api/v1/projects/{project['id']}", json={"name": "x"},
                                headers=world.headers("project_manager")), 404)
    _problem(await client.patch(f"/api/v1/projects/{world.project['id']}", json={"name": "x"},
                                headers=world.headers("front_desk")), 403)
    _problem(await client.delete(f"/api/v1/projects/{world.project['id']}", headers=world.headers("company_cs")), 409)
    assert (await client.delete(f"/api/v1/projects/{project['id']}", headers=world.headers("company_cs"))).status_code == 204
    _problem(await client.get(f"/api/v1/projects/{project['id']}", headers=world.headers("company_cs")), 404)


async def test_project_bad_input_is_a_problem_naming_the_field_and_writes_nothing(client, world):
    cases = [({"code": "P 9", "name": "x", "kind": "residential"}, "code"),
             ({"code": "P9", "name": "x", "kind": "castle"}, "kind"),
             ({"code": "P9", "name": "x" * 201, "kind": "residential"}, "name"),
             ({"code": "P9", "name": "x", "kind": "residential", "owner": "me"}, "owner"),
             ({"code": "P9", "name": "x", "kind": "residential", "total_area": "-1"}, "total_area")]
    for body, field in cases:
        _invalid(await client.post("/api/v1/projects", json=body, headers=world.headers("company_cs")), field)
    listed = await _all_pages(client, "/api/v1/projects", world.headers("company_cs"), limit=100)
    assert sorted(p["code"] for p in listed) == ["P1", "P2"]


async def test_project_list_is_scoped_to_the_membership_and_pages_by_cursor(client, world):
    for i in range(3):
        r = await client.post("/api/v1/projects", json={"code": f"X{i}", "name": f"项目X{i}", "kind": "residential"},
                              headers=world.headers("company_cs"))
        assert r.status_code == 201
    everything = await _all_pages(client, "/api/v1/projects", world.headers("company_cs"), limit=2)
    assert [p["code"] for p in everything] == ["P1", "P2", "X0", "X1", "X2"]
    assert [p["id"] for p in everything] == sorted(p["id"] for p in everything)
    mine = await _all_pages(client, "/api/v1/projects", world.headers("front_desk"), limit=2)
    assert [p["code"] for p in mine] == ["P1"]
    _problem(await client.get(f"/api/v1/projects/{world.other_project['id']}", headers=world.headers("front_desk")), 404)
    _problem(await client.get("/api/v1/projects", params={"cursor": "not-a-cursor!"},
                              headers=world.headers("company_cs")), 422, "cursor")


# ---------------------------------------------------------------- buildings and units

async def test_building_and_unit_crud_with_conflicts_on_duplicate_code_and_room(client, world):
    mgr = world.headers("project_manager")
    body = {"project_id": world.project["id"], "code": "B2", "name": "2栋", "floors": 18}
    _problem(await client.post("/api/v1/buildings", json=body, headers=world.headers("front_desk")), 403)
    r = await client.post("/api/v1/buildings", json=body, headers=mgr)
    assert r.status_code == 201, r.text
    building = r.json()
    _problem(await client.post("/api/v1/buildings", json=body, headers=mgr), 409)
    _problem(await client.post("/api/v1/buildings", json={**body, "project_id": world.other_project["id"]}, headers=mgr),
             422, "project_id")  # the manager does not cover the other project
    unit = {"building_id": building["id"], "entrance": "1", "floor": 3, "room": "301", "area": "89.50"}
    r = await client.post("/api/v1/units", json=unit, headers=mgr)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["project_id"] == world.project["id"] and created["status"] == "sold"
    _problem(await client.post("/api/v1/units", json=unit, headers=mgr), 409)
    assert (await client.post("/api/v1/units", json={**unit, "entrance": "2"}, headers=mgr)).status_code == 201
    _problem(await client.post("/api/v1/units", json={**unit, "room": "302", "area": "-3"}, headers=mgr), 422, "area")
    _problem(await client.post("/api/v1/units", json={**unit, "room": "303", "grid_id": 10**9}, headers=mgr),
             422, "grid_id")
    r = await client.patch(f"/api/v1/units/{created['id']}", json={"status": "occupied", "grid_id": world.grid["id"]},
                           headers=mgr)
    assert r.status_code == 200 and r.json()["grid_id"] == world.grid["id"]
    _problem(await client.patch(f"/api/v1/units/{created['id']}", json={"status": "vacant"},
                                headers=world.headers("front_desk")), 403)
    # a building with units cannot go; a unit without tickets or customers can
    _problem(await client.delete(f"/api/v1/buildings/{building['id']}", headers=mgr), 409)
    _problem(await client.delete(f"/api/v1/units/{world.units[0]['id']}", headers=mgr), 409)  # it has an owner
    assert (await client.delete(f"/api/v1/units/{created['id']}", headers=mgr)).status_code == 204
    _problem(await client.get(f"/api/v1/units/{created['id']}", headers=mgr), 404)
    r = await client.patch(f"/api/v1/buildings/{building['id']}", json={"floors": 20}, headers=mgr)
    assert r.status_code == 200 and r.json()["floors"] == 20


async def test_unit_list_filters_and_pages_and_a_butler_sees_only_its_grid(client, world):
    mgr = world.headers("project_manager")
    units = await _all_pages(client, "/api/v1/units", mgr, limit=3, building_id=world.building["id"])
    assert [u["room"] for u in units] == ["101", "201", "301", "401"] and units[0]["building_code"] == "B1"
    assert [u["room"] for u in await _all_pages(client, "/api/v1/units", mgr, room="201")] == ["201"]
    in_grid = await _all_pages(client, "/api/v1/units", mgr, grid_id=world.grid["id"])
    assert [u["id"] for u in in_grid] == [world.units[0]["id"], world.units[1]["id"]]
    butler = await _all_pages(client, "/api/v1/units", world.headers("butler"), limit=1)
    assert [u["id"] for u in butler] == [world.units[0]["id"], world.units[1]["id"]]
    assert (await client.get(f"/api/v1/units/{world.units[0]['id']}", headers=world.headers("butler"))).status_code == 200
    _problem(await client.get(f"/api/v1/units/{world.units[2]['id']}", headers=world.headers("butler")), 404)


# ---------------------------------------------------------------- grids

async def test_grid_crud_assigns_units_and_counts_households(client, world):
    mgr = world.headers("project_manager")
    body = {"project_id": world.project["id"], "code": "G2", "name": "二号网格", "responsible_id": world.staff["team_lead"],
            "unit_ids": [world.units[2]["id"], world.units[3]["id"]]}
    _problem(await client.post("/api/v1/grids", json=body, headers=world.headers("butler")), 403)
    r = await client.post("/api/v1/grids", json=body, headers=mgr)
    assert r.status_code == 201, r.text
    grid = r.json()
    _problem(await client.post("/api/v1/grids", json=body, headers=mgr), 409)
    _problem(await client.post("/api/v1/grids", json={**body, "code": "G3", "responsible_id": 10**9}, headers=mgr),
             422, "responsible_id")
    _problem(await client.post("/api/v1/grids", json={**body, "code": "G4", "unit_ids": [10**9]}, headers=mgr),
             422, "unit_ids")
    codes = [g["code"] for g in (await client.get("/api/v1/grids", headers=mgr)).json()["items"]]
    assert codes == ["G1", "G2"]  # nothing half-written by the refused ones
    got = (await client.get(f"/api/v1/grids/{grid['id']}", headers=mgr)).json()
    assert got["households"] == 2 and got["responsible_id"] == world.staff["team_lead"]
    r = await client.patch(f"/api/v1/grids/{grid['id']}", json={"unit_ids": [world.units[3]["id"]]}, headers=mgr)
    assert r.status_code == 200
    assert (await client.get(f"/api/v1/grids/{grid['id']}", headers=mgr)).json()["households"] == 1
    # the butler sees its own grid only
    listed = (await client.get("/api/v1/grids", headers=world.headers("butler"))).json()["items"]
    assert [g["id"] for g in listed] == [world.grid["id"]]
    _problem(await client.get(f"/api/v1/grids/{grid['id']}", headers=world.headers("butler")), 404)
    assert (await client.delete(f"/api/v1/grids/{grid['id']}", headers=mgr)).status_code == 204
    unit = (await client.get(f"/api/v1/units/{world.units[3]['id']}", headers=mgr)).json()
    assert unit["grid_id"] is None


# ---------------------------------------------------------------- customers

async def test_customer_phone_and_id_number_are_masked_for_roles_without_the_permission(client, world):
    c = world.customers[0]
    seen = {}
    for role in ("company_cs", "supervisor", "front_desk", "butler", "finance"):
        r = await client.get(f"/api/v1/customers/{c['id']}", headers=world.headers(role))
        assert r.status_code == 200, (role, r.text)
        seen[role] = r.json()
    assert seen["supervisor"]["phone"] == c["phone"] and seen["supervisor"]["id_number"] == c["id_number"]
    assert seen["finance"]["id_number"] == c["id_number"]
    assert seen["front_desk"]["phone"] == c["phone"]
    masked_id = c["id_number"][:4] + "*" * (len(c["id_number"]) - 8) + c["id_number"][-4:]
    assert seen["front_desk"]["id_number"] == masked_id and seen["butler"]["id_number"] == masked_id
    listed = (await client.get("/api/v1/customers", headers=world.headers("front_desk"))).json()["items"]
    assert {x["id_number"] for x in listed} == {c["id_number"][:4] + "*" * 10 + c["id_number"][-4:]
                                                for c in world.customers}
    # the technician needs neither: it sees no customer it has no ticket for
    assert (await client.get("/api/v1/customers", headers=world.headers("technician"))).json()["items"] == []
    _problem(await client.get(f"/api/v1/customers/{c['id']}", headers=world.headers("technician")), 404)
    r = await client.post("/api/v1/tickets", json={"project_id": world.project["id"], "kind": "repair",
                                                   "channel": "hotline", "title": "漏水", "unit_id": world.units[0]["id"],
                                                   "customer_id": c["id"], "executor_id": world.staff["technician"]},
                          headers=world.headers())
    assert r.status_code == 201, r.text
    tech = (await client.get(f"/api/v1/customers/{c['id']}", headers=world.headers("technician"))).json()
    assert tech["phone"] == c["phone"][:3] + "****" + c["phone"][-4:] and "*" in tech["id_number"]


async def test_customer_crud_search_and_butler_scope(client, world):
    desk = world.headers("front_desk")
    r = await client.post("/api/v1/customers", json={"name": "张三", "phone": "13900001111", "id_number": "440300199001011234"},
                          headers=desk)
    assert r.status_code == 201, r.text
    zhang = r.json()
    _problem(await client.post("/api/v1/customers", json={"name": "李四", "phone": "call me"}, headers=desk), 422, "phone")
    _problem(await client.post("/api/v1/customers", json={"name": ""}, headers=desk), 422, "name")
    _problem(await client.post("/api/v1/customers", json={"name": "x"}, headers=world.headers("technician")), 403)
    r = await client.post(f"/api/v1/customers/{zhang['id']}/units",
                          json={"unit_id": world.units[2]["id"], "role": "renter", "start_date": "2026-09-01"}, headers=desk)
    assert r.status_code == 201, r.text
    found = (await client.get("/api/v1/customers", params={"q": "1390000"}, headers=desk)).json()["items"]
    assert [x["id"] for x in found] == [zhang["id"]] and found[0]["unit_role"] == "renter" and found[0]["room"] == "301"
    r = await client.patch(f"/api/v1/customers/{zhang['id']}", json={"note": "白天不在家"}, headers=desk)
    assert r.status_code == 200 and r.json()["note"] == "白天不在家"
    # unit 301 is outside the butler's grid
    butler = world.headers("butler")
    listed = await _all_pages(client, "/api/v1/customers", butler, limit=1)
    assert sorted(x["id"] for x in listed) == sorted(c["id"] for c in world.customers)
    _problem(await client.get(f"/api/v1/customers/{zhang['id']}", headers=butler), 404)
    # a customer who held a unit keeps its file: no delete
    _problem(await client.delete(f"/api/v1/customers/{zhang['id']}", headers=world.headers("supervisor")), 409)
    lone = (await client.post("/api/v1/customers", json={"name": "王五"}, headers=desk)).json()
    _problem(await client.delete(f"/api/v1/customers/{lone['id']}", headers=desk), 403)
    assert (await client.delete(f"/api/v1/customers/{lone['id']}", headers=world.headers("supervisor"))).status_code == 204


async def test_a_customer_or_unit_others_still_refer_to_is_kept_never_deleted_with_their_records(client, world):
    """Foreign keys cascade: deleting a customer with a ticket (and no unit) would delete the ticket too, and a
    unit with a plugin's record likewise. Both are refused (409 naming the table) and everything is kept."""
    from core import tickets

    desk, supervisor = world.headers("front_desk"), world.headers("supervisor")
    walk_in = (await client.post("/api/v1/customers", json={"name": "赵六"}, headers=desk)).json()
    ticket = await tickets.create_ticket(await world.principal("front_desk"), {
        "project_id": world.project["id"], "kind": "complaint", "channel": "walk_in", "title": "噪音",
        "customer_id": walk_in["id"]})
    r = await client.delete(f"/api/v1/customers/{walk_in['id']}", headers=supervisor)
    assert r.status_code == 409 and r.json()["referenced_by"] == "core_ticket", r.text
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=desk)).status_code == 200
    assert (await client.get(f"/api/v1/customers/{walk_in['id']}", headers=desk)).status_code == 200
    from core.tables import Unit
    from core.tenancy import TenantScope
    from plugins.commercial_buildings.tables import AuthorisedContact

    scope = TenantScope(world.tenant_id)
    spare = await scope.insert(Unit, project_id=world.project["id"], building_id=world.building["id"], room="909")
    await scope.insert(AuthorisedContact, unit_id=spare["id"], authorised_by_id=world.customers[0]["id"],
                       contact_id=walk_in["id"])
    r = await client.delete(f"/api/v1/units/{spare['id']}", headers=supervisor)
    assert r.status_code == 409 and r.json()["referenced_by"] == "commercial_buildings_authorised_contact", r.text
    assert await scope.count(AuthorisedContact).where(AuthorisedContact.unit_id == spare["id"]) == 1
