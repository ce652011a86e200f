"""Another company's rows answer 404 on every route of the plugin; the demo company shows every feature."""
from __future__ import annotations

from tests.conftest import PASSWORD, at
from plugins.residential_grids.demo import signature_png

API = "/api/v1/residential-grids"


async def _rows_of(w) -> dict[str, int]:
    """One row of each kind in company `w`, made through the services."""
    from core import tickets
    from plugins.residential_grids import services as svc

    pid = w.project["id"]
    pm, sup, desk = await w.principal("project_manager"), await w.principal("supervisor"), await w.principal("front_desk")
    await svc.assign(pm, w.grid["id"], w.staff["butler"], now=at("2026-08-01 09:00"))
    answer = await svc.create_answer(sup, pid, {"question": "q", "answer": "a"})
    entry = await svc.log_contact(desk, pid, {"channel": "call", "subject": "s", "answer": "a"})
    parcel = await svc.register_parcel(desk, pid, {"unit_id": w.units[0]["id"], "carrier": "EMS", "tracking_no": "E1"})
    await svc.release_parcel(desk, parcel["id"], {"picker": "household", "customer_id": w.customers[0]["id"],
                                                  "signature": signature_png()})
    gold = await svc.apply_gold(await w.principal("butler"), pid, "r")
    ticket = await tickets.create_ticket(desk, {"project_id": pid, "kind": "inquiry", "channel": "hotline", "title": "t"})
    evaluation = (await svc.compute_month(w.tenant_id, pid, "2026-09", at("2026-10-01 09:00")))[0]
    return {"project_id": pid, "grid_id": w.grid["id"], "prepared_answer_id": answer["id"], "register_entry_id": entry["id"],
            "parcel_id": parcel["id"], "gold_application_id": gold["id"], "ticket_id": ticket["id"],
            "evaluation_id": evaluation["id"]}


async def test_other_company_rows_are_404_on_every_route_of_the_plugin(world, other_world, client):
    theirs = await _rows_of(other_world)
    mine = await _rows_of(world)
    calls = [
        ("GET", "/projects/{project_id}/grids", None), ("POST", "/projects/{project_id}/auto-divide", {}),
        ("GET", "/projects/{project_id}/role-configuration?format=csv", None),
        ("POST", "/grids/{grid_id}/assignment", {"user_id": world.staff["butler"]}),
        ("GET", "/grids/{grid_id}/assignments", None), ("GET", "/grids/{grid_id}/board.pdf", None),
        ("GET", "/projects/{project_id}/gold-applications", None),
        ("POST", "/projects/{project_id}/gold-applications", {"reason": "r"}),
        ("GET", "/gold-applications/{gold_application_id}", None),
        ("POST", "/gold-applications/{gold_application_id}/decision", {"approve": True}),
        ("GET", "/projects/{project_id}/lookup?phone=1", None), ("GET", "/projects/{project_id}/register", None),
        ("POST", "/projects/{project_id}/register", {"channel": "call", "subject": "s", "answer": "a"}),
        ("GET", "/register/{register_entry_id}", None), ("POST", "/register/{register_entry_id}/reply", {"answer": "a"}),
        ("GET", "/projects/{project_id}/prepared-answers", None),
        ("POST", "/projects/{project_id}/prepared-answers", {"question": "q", "answer": "a"}),
        ("GET", "/prepared-answers/{prepared_answer_id}", None), ("PATCH", "/prepared-answers/{prepared_answer_id}", {}),
        ("POST", "/tickets/{ticket_id}/close-with-answer", {"prepared_answer_id": mine["prepared_answer_id"]}),
        ("POST", "/projects/{project_id}/parcels", {"unit_id": world.units[0]["id"], "carrier": "x", "tracking_no": "X9"}),
        ("GET", "/projects/{project_id}/parcels/daily", None), ("GET", "/parcels/{parcel_id}", None),
        ("POST", "/parcels/{parcel_id}/delegate", {"name": "n"}), ("GET", "/parcels/{parcel_id}/signature.png", None),
        ("POST", "/parcels/{parcel_id}/release", {"picker": "delegate", "name": "n", "signature": signature_png()}),
        ("POST", "/projects/{project_id}/evaluations/compute", {"month": "2026-09"}),
        ("GET", "/projects/{project_id}/evaluations", None),
        ("GET", "/projects/{project_id}/evaluations/series?user_id=1", None),
        ("GET", "/evaluations/{evaluation_id}", None), ("PATCH", "/evaluations/{evaluation_id}", {"score": 1}),
    ]
    for role in ("company_cs", "supervisor", "front_desk", "butler"):
        for method, path, body in calls:
            url = API + path.format(**theirs)
            r = await client.request(method, url, headers=world.headers(role), json=body)
            assert r.status_code == 404, f"{role} {method} {url}: {r.status_code} {r.text[:200]}"
            assert r.headers["content-type"].startswith("application/problem+json")
    # and the own rows answer
    for path in ("/gold-applications/{gold_application_id}", "/register/{register_entry_id}", "/parcels/{parcel_id}",
                 "/prepared-answers/{prepared_answer_id}", "/evaluations/{evaluation_id}", "/grids/{grid_id}/assignments"):
        assert (await client.get(API + path.format(**mine), headers=world.headers("company_cs"))).status_code == 200
    # the public board of the other company's grid under this company's address
    r = await client.get(f"/public/{world.tenant['slug']}/residential-grids/grids/{theirs['grid_id']}")
    assert r.status_code == 404


async def test_seed_demo_divides_the_estate_and_fills_every_table():
    import uuid

    from core.demo import ensure_demo
    from core.tables import Grid, Unit
    from core.tenancy import TenantScope
    from plugins.residential_grids.tables import TABLES

    result = await ensure_demo(PASSWORD, buildings=6, tickets=30, slug=f"rg-{uuid.uuid4().hex[:8]}",
                               as_of=at("2026-09-30 17:00"))
    scope = TenantScope(result["tenant"]["id"])
    for table in TABLES:
        assert await scope.count(table) >= 1, table._meta.tablename
    from plugins.residential_grids import services as svc

    estate = (await scope.select(Grid, Grid.project_id).first())["project_id"]
    grids = [g for g in await svc.list_grids(await _principal(scope.tenant_id), estate) if g["households"]]
    assert len(grids) >= 2 and all(g["holder"] for g in grids)
    assert all(350 <= g["households"] <= 400 or (g["households"] > 400 and g["holder"]["gold"]) for g in grids)
    assert await scope.count(Unit).where((Unit.project_id == estate) & Unit.grid_id.is_null()) == 0


async def _principal(tenant_id: int):
    from core.admin import principal_of
    from core.tables import Membership

    m = await Membership.select(Membership.user_id).where(
        (Membership.tenant_id == tenant_id) & (Membership.role == "company_cs")).first()
    return await principal_of(tenant_id, m["user_id"], "company_cs")
