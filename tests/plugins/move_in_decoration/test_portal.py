"""Portal pages of move-in and decoration: every page renders, the menu has the entry, forms do the work
and on a problem come back with what was typed and the message by its field."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from core import TenantScope
from core import tables as ct
from plugins.move_in_decoration import services as svc
from plugins.move_in_decoration.tables import Application, Batch, Household, MovingOut
from tests.conftest import at
from tests.plugins.move_in_decoration.helpers import PDF, PORTAL, application


async def test_menu_entry_and_every_page_renders(client, world):
    menu = await client.get("/portal/menu", headers=world.headers("finance"))
    assert "/portal/move-in-decoration" in menu.text and "入伙与装修" in menu.text
    page = await client.get(PORTAL, headers=world.headers("front_desk"))
    assert page.status_code == 200 and "入伙批次" in page.text and "装修时限" in page.text
    app = await application(world, at("2026-09-28 10:00"))
    sup = await world.principal("supervisor")
    await svc.record_problems(sup, app["id"], ["缺少水电图"], "", now=at("2026-09-28 11:00"))
    page = await client.get(f"{PORTAL}/applications/{app['id']}", headers=world.headers("supervisor"))
    assert page.status_code == 200 and "缺少水电图" in page.text and "440301198001011234" in page.text
    page = await client.get(f"{PORTAL}/applications/{app['id']}", headers=world.headers("front_desk"))
    assert "4403**********1234" in page.text and "440301198001011234" not in page.text
    await svc.resubmit(await world.principal(), app["id"], now=at("2026-09-28 12:00"))
    done = await svc.approve(sup, app["id"], now=at("2026-09-28 13:00"))
    page = await client.get(f"{PORTAL}/permits/{done['permit']['id']}", headers=world.headers())
    assert page.status_code == 200 and "08:00–12:00、14:00–18:00" in page.text
    manager = await world.principal("project_manager")
    batch = await svc.create_batch(manager, {"project_id": world.project["id"], "code": "B", "name": "一批",
                                             "starts_on": date(2026, 9, 28), "ends_on": date(2026, 10, 2)},
                                   now=at("2026-09-20 10:00"))
    h = await svc.add_household(manager, batch["id"], {"unit_id": world.units[2]["id"], "customer_id": world.customers[0]["id"],
                                                       "fees": [{"item": "物业费", "amount_fen": 1000}]}, now=at("2026-09-20 10:00"))
    for url, text in ((f"{PORTAL}/batches/{batch['id']}", "等候与办理时长"), (f"{PORTAL}/households/{h['id']}", "10.00"),
                      (f"{PORTAL}/documents/{h['documents'][0]['id']}", "入伙通知书")):
        page = await client.get(url, headers=world.headers())
        assert page.status_code == 200 and text in page.text, url


async def test_forms_keep_what_was_typed_on_a_problem_and_redirect_when_done(client, world):
    pm = world.headers("project_manager")
    form = {"project_id": str(world.project["id"]), "code": "PB1", "name": "门户批次", "starts_on": "2026-10-05",
            "ends_on": "2026-10-01"}
    r = await client.post(f"{PORTAL}/batches", data=form, headers=pm, follow_redirects=False)
    assert r.status_code == 422 and 'value="门户批次"' in r.text and "is before starts_on" in r.text
    assert await TenantScope(world.tenant_id).count(Batch) == 0
    r = await client.post(f"{PORTAL}/batches", data={**form, "ends_on": "2026-10-09"}, headers=pm, follow_redirects=False)
    assert r.status_code == 303
    batch = await TenantScope(world.tenant_id).select(Batch).first()
    assert r.headers["location"] == f"{PORTAL}/batches/{batch['id']}"
    # a household by the unit's building and room; its owner is the customer when none is given
    r = await client.post(f"{PORTAL}/batches/{batch['id']}/households", data={"unit": "B1-1-999", "fees": "物业费 960"},
                          headers=pm, follow_redirects=False)
    assert r.status_code == 422 and "no such unit" in r.text and 'value="B1-1-999"' in r.text
    r = await client.post(f"{PORTAL}/batches/{batch['id']}/households", data={"unit": "B1-1-101", "fees": "物业费 960.50"},
                          headers=pm, follow_redirects=False)
    assert r.status_code == 303, r.text
    h = await TenantScope(world.tenant_id).select(Household).first()
    assert h["customer_id"] == world.customers[0]["id"] and h["fees_total_fen"] == 96050
    desk = world.headers("front_desk")
    for action, data in (("arrive", {"at": "2026-10-05T09:00"}), ("start", {"at": "2026-10-05T09:12"}),
                         ("documents", {"doc0": "on", "doc1": "on", "doc2": "on"}), ("handover", {"keys": "2", "access_cards": "1"}),
                         ("inspection", {"items": "客厅: 良好\n!卫生间: 地漏堵塞"}), ("finish", {"at": "2026-10-05T09:40"})):
        r = await client.post(f"{PORTAL}/households/{h['id']}/{action}", data=data, headers=desk, follow_redirects=False)
        assert r.status_code == 303, (action, r.text[:500])
    h = await TenantScope(world.tenant_id).get(Household, h["id"])
    assert (h["status"], h["waiting_seconds"], h["processing_seconds"], h["defects"]) == ("done", 720, 1680, 1)
    # an application by the unit; a drawing uploaded through the page
    r = await client.post(f"{PORTAL}/applications", data={
        "project_id": str(world.project["id"]), "unit": "B1-101", "contractor_company": "安居装饰", "contractor_manager": "赵工",
        "starts_on": "2026-10-12", "ends_on": "2026-10-10", "deposit_yuan": "3000", "workers": "钱师傅,440301198001011234"},
        headers=desk, follow_redirects=False)
    assert r.status_code == 422 and "安居装饰" in r.text and "is before starts_on" in r.text
    r = await client.post(f"{PORTAL}/applications", data={
        "project_id": str(world.project["id"]), "unit": "B1-101", "contractor_company": "安居装饰", "contractor_manager": "赵工",
        "starts_on": "2026-10-12", "ends_on": "2026-12-10", "deposit_yuan": "3000.50", "structural_change": "on",
        "workers": "钱师傅,440301198001011234,13700001111,水电"}, headers=desk, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    app = await TenantScope(world.tenant_id).select(Application).first()
    assert app["deposit_fen"] == 300050 and app["structural_change"] and app["customer_id"] == world.customers[0]["id"]
    r = await client.post(f"{PORTAL}/applications/{app['id']}/drawings", data={"label": "平面图"},
                          files={"file": ("plan.pdf", PDF, "application/pdf")}, headers=desk, follow_redirects=False)
    assert r.status_code == 303
    sup = world.headers("supervisor")
    r = await client.post(f"{PORTAL}/applications/{app['id']}/approve", data={"note": "ok"}, headers=sup,
                          follow_redirects=False)
    assert r.status_code == 409 and "extra review" in r.text
    r = await client.post(f"{PORTAL}/applications/{app['id']}/problems", data={"problems": "缺少水电图\n结构计算书"},
                          headers=sup, follow_redirects=False)
    assert r.status_code == 303
    view = await svc.application_view(await world.principal("supervisor"), app["id"])
    assert len(view["notices"][0]["problems"]) == 2 and len(view["drawings"]) == 1
    r = await client.post(f"{PORTAL}/notices/{view['notices'][0]['id']}/told", data={"via": "phone"}, headers=sup,
                          follow_redirects=False)
    assert r.status_code == 303
    # moving out through the page
    r = await client.post(f"{PORTAL}/moving-outs", data={
        "project_id": str(world.project["id"]), "unit": "B1-101", "carrier_name": "搬家公司", "items": "沙发*1\n纸箱*5",
        "window_start": "2026-10-05T09:00", "window_end": "2026-10-05T08:00"}, headers=desk, follow_redirects=False)
    assert r.status_code == 422 and "window_end" in r.text and "沙发*1" in r.text
    assert await TenantScope(world.tenant_id).count(MovingOut) == 0
    _ = (Decimal, ct)
