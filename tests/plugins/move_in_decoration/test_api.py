"""The API end to end: move-in at the desk, a decoration application from submission to the deposit
refund, drawings and photos with their type and size checked, workers' ID numbers masked by role, bad
input named by field, and another company's rows answering 404."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from core import TenantScope
from core import tables as ct
from plugins.move_in_decoration.demo import png
from plugins.move_in_decoration.tables import Application, Attachment
from tests.plugins.move_in_decoration.helpers import API, PDF, set_settings


def _app_body(world, **extra) -> dict:
    return {"unit_id": world.units[0]["id"], "customer_id": world.customers[0]["id"], "contractor_company": "安居装饰",
            "contractor_manager": "赵工", "contractor_phone": "13600001234", "starts_on": "2026-10-12",
            "ends_on": "2026-12-31", "deposit_fen": 300000, "scope": "厨卫翻新",
            "workers": [{"name": "钱师傅", "id_number": "440301198001011234", "phone": "13700001111", "trade": "水电"}],
            **extra}


async def test_move_in_at_the_desk_through_the_api_seed_001(client, world):
    pm, desk = world.headers("project_manager"), world.headers("front_desk")
    r = await client.post(f"{API}/batches", json={"project_id": world.project["id"], "code": "B1", "name": "第一批",
                                                  "starts_on": "2026-09-28", "ends_on": "2026-10-10"}, headers=pm)
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    r = await client.post(f"{API}/batches/{bid}/slots", json={"starts_at": "2026-09-28T09:00:00+08:00",
                                                              "ends_at": "2026-09-28T10:00:00+08:00", "capacity": 2}, headers=pm)
    assert r.status_code == 201, r.text
    slot = r.json()["id"]
    unit = await TenantScope(world.tenant_id).insert(ct.Unit, project_id=world.project["id"],
                                                     building_id=world.building["id"], entrance="2", floor=5, room="501",
                                                     area=Decimal("96.20"), status="vacant")
    r = await client.post(f"{API}/batches/{bid}/households", json={
        "unit_id": unit["id"], "customer_id": world.customers[1]["id"], "slot_id": slot,
        "fees": [{"item": "物业费", "amount_fen": 96000}]}, headers=pm)
    assert r.status_code == 201, r.text
    h = r.json()
    assert h["fees_total_fen"] == 96000 and len(h["documents"]) == 4
    doc = (await client.get(f"{API}/documents/{h['documents'][0]['id']}", headers=desk)).json()
    assert world.customers[1]["name"] in doc["body"]
    hid = h["id"]
    assert (await client.post(f"{API}/households/{hid}/deliver", headers=desk)).status_code == 200
    steps = [("arrive", {"at": "2026-09-28T09:02:00+08:00"}), ("start", {"at": "2026-09-28T09:09:00+08:00"}),
             ("documents-check", {"documents": {n: True for n in h["documents_checked"]}}),
             ("handover", {"keys": 2, "access_cards": 3}),
             ("inspection", {"items": [{"location": "厨房", "description": "水槽渗漏", "defect": True}]}),
             ("finish", {"at": "2026-09-28T09:30:00+08:00", "move_in_date": "2026-09-28"})]
    for action, body in steps:
        r = await client.post(f"{API}/households/{hid}/{action}", json=body, headers=desk)
        assert r.status_code == 200, (action, r.text)
    done = r.json()
    assert done["status"] == "done" and (done["waiting_minutes"], done["processing_minutes"]) == (7.0, 21.0)
    assert done["inspection"][0]["ticket_id"] and done["cards_handed"] == 3
    report = (await client.get(f"{API}/batches/{bid}/report", headers=desk)).json()
    assert report["batch"]["waiting_within_target"] == 1 and report["days"][0]["day"] == "2026-09-28"
    r = await client.post(f"{API}/households/{hid}/handover", json={"keys": -1, "access_cards": 0}, headers=desk)
    assert r.status_code in (400, 422) and "keys" in r.text


async def test_decoration_from_application_to_refund_through_the_api_seed_001(client, world):
    desk, sup, pm, tech, fin = (world.headers(r) for r in ("front_desk", "supervisor", "project_manager", "technician",
                                                            "finance"))
    r = await client.post(f"{API}/applications", json=_app_body(world, ends_on="2026-10-01"), headers=desk)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ends_on"
    r = await client.post(f"{API}/applications", json=_app_body(world, colour="red"), headers=desk)
    assert r.status_code in (400, 422) and "colour" in r.text
    r = await client.post(f"{API}/applications", json=_app_body(world, customer_id=world.customers[1]["id"]), headers=desk)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer_id"  # not a holder of the unit
    assert await TenantScope(world.tenant_id).count(Application) == 0
    r = await client.post(f"{API}/applications", json=_app_body(world), headers=desk)
    assert r.status_code == 201, r.text
    app = r.json()
    aid = app["id"]
    assert app["status"] == "submitted" and app["reviews"][0]["due_at"]
    # ID numbers: masked for the desk, whole for the project manager
    assert app["workers"][0]["id_number"] == "4403**********1234"
    full = (await client.get(f"{API}/applications/{aid}", headers=pm)).json()
    assert full["workers"][0]["id_number"] == "440301198001011234"
    r = await client.post(f"{API}/applications/{aid}/workers", json={"name": "李", "id_number": "44030119900101567X"},
                          headers=desk)
    assert r.status_code == 201 and r.json()["id_number"].startswith("4403") and "*" in r.json()["id_number"]
    # drawings: the type, the content and the size are checked; stored in the database
    r = await client.post(f"{API}/applications/{aid}/drawings", files={"file": ("plan.txt", b"hello", "text/plain")},
                          headers=desk)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = await client.post(f"{API}/applications/{aid}/drawings", files={"file": ("plan.pdf", b"GIF89a", "application/pdf")},
                          headers=desk)
    assert r.status_code == 422 and "content" in r.json()["detail"]
    await set_settings(world, max_upload_bytes=40)
    r = await client.post(f"{API}/applications/{aid}/drawings", files={"file": ("plan.pdf", PDF, "application/pdf")},
                          headers=desk)
    assert r.status_code == 422 and "at most 40 bytes" in r.json()["detail"]
    await set_settings(world, max_upload_bytes=10_000)
    r = await client.post(f"{API}/applications/{aid}/drawings", data={"label": "平面图"},
                          files={"file": ("plan.pdf", PDF, "application/pdf")}, headers=desk)
    assert r.status_code == 201, r.text
    drawing = r.json()
    assert drawing["size_bytes"] == len(PDF) and "content" not in drawing
    got = await client.get(f"{API}/attachments/{drawing['id']}", headers=tech)
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"].startswith("application/pdf")
    assert got.headers["x-content-type-options"] == "nosniff" and "sandbox" in got.headers["content-security-policy"]
    assert (await client.get(f"{API}/attachments/{drawing['id']}/thumbnail", headers=tech)).status_code == 404
    dwg = b"AC1027" + bytes(64)
    r = await client.post(f"{API}/applications/{aid}/drawings", files={"file": ("水电图.dwg", dwg, "application/octet-stream")},
                          headers=desk)
    assert r.status_code == 201 and r.json()["content_type"] == "image/vnd.dwg" and r.json()["filename"] == "水电图.dwg"
    # review: problems told, resubmitted, approved with a permit
    r = await client.post(f"{API}/applications/{aid}/problems", json={"problems": ["缺少水电图"]}, headers=desk)
    assert r.status_code == 403  # the desk registers; reviewers review
    r = await client.post(f"{API}/applications/{aid}/problems", json={"problems": ["缺少水电图"]}, headers=sup)
    assert r.status_code == 200 and r.json()["status"] == "needs_changes"
    notice = r.json()["notices"][0]
    r = await client.post(f"{API}/notices/{notice['id']}/told", json={"via": "phone"}, headers=sup)
    assert r.status_code == 200 and r.json()["told_via"] == "phone"
    assert (await client.post(f"{API}/applications/{aid}/approve", json={}, headers=sup)).status_code == 409
    assert (await client.post(f"{API}/applications/{aid}/resubmit", json={"note": "已补图"}, headers=desk)).status_code == 200
    r = await client.post(f"{API}/applications/{aid}/approve", json={"note": "同意"}, headers=sup)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    permit = (await client.get(f"{API}/permits/{r.json()['permit']['id']}", headers=desk)).json()
    assert permit["work_hours"] == [["08:00", "12:00"], ["14:00", "18:00"]]
    # patrol with a violation and a photo; corrected
    r = await client.post(f"{API}/applications/{aid}/patrols", json={"note": "巡查",
                          "violations": [{"description": "楼道堆放垃圾"}]}, headers=tech)
    assert r.status_code == 201, r.text
    patrol = r.json()
    r = await client.post(f"{API}/patrols/{patrol['id']}/photos", files={"file": ("x.pdf", PDF, "application/pdf")},
                          headers=tech)
    assert r.status_code == 422  # photos are JPEG or PNG
    r = await client.post(f"{API}/patrols/{patrol['id']}/photos", files={"file": ("site.png", png(), "image/png")},
                          headers=tech)
    assert r.status_code == 201 and r.json()["kind"] == "patrol_photo"
    thumb = await client.get(f"{API}/attachments/{r.json()['id']}/thumbnail", headers=desk)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert len((await client.get(f"{API}/patrols/{patrol['id']}", headers=desk)).json()["photos"]) == 1
    assert (await client.post(f"{API}/applications/{aid}/acceptance-requests", headers=desk)).status_code == 409
    r = await client.post(f"{API}/violations/{patrol['violations'][0]['id']}/corrected", json={"note": "已清理"}, headers=tech)
    assert r.status_code == 200 and r.json()["status"] == "corrected"
    # acceptance, refund by finance
    r = await client.post(f"{API}/applications/{aid}/acceptance-requests", headers=desk)
    assert r.status_code == 201, r.text
    acceptance = r.json()
    r = await client.post(f"{API}/acceptances/{acceptance['id']}/inspection", json={"passed": True}, headers=tech)
    assert r.status_code == 200 and r.json()["outcome"] == "passed"
    refunds = (await client.get(f"{API}/refunds", params={"project_id": world.project["id"], "open_only": True},
                                headers=fin)).json()
    assert len(refunds) == 1 and refunds[0]["amount_fen"] == 300000
    r = await client.post(f"{API}/refunds/{refunds[0]['id']}/refunded", json={"method": "wire"}, headers=fin)
    assert r.status_code in (400, 422) and "method" in r.text
    r = await client.post(f"{API}/refunds/{refunds[0]['id']}/refunded", json={"method": "bank_transfer",
                                                                              "reference": "TR1"}, headers=fin)
    assert r.status_code == 200 and r.json()["refunded_at"]
    assert (await client.get(f"{API}/applications/{aid}", headers=desk)).json()["status"] == "refunded"
    report = (await client.get(f"{API}/reports/deadlines", params={"project_id": world.project["id"]}, headers=sup)).json()
    assert report["deposit_refund_1_day"]["done"] == 1 and report["review_3_working_days"]["done"] == 2
    assert await TenantScope(world.tenant_id).count(Attachment) == 3


async def test_another_companys_rows_are_404_seed_001(client, world, other_world):
    from plugins.move_in_decoration import services as svc
    from tests.conftest import at
    from tests.plugins.move_in_decoration.helpers import application

    app = await application(other_world, at("2026-09-28 10:00"))
    manager = await other_world.principal("project_manager")
    batch = await svc.create_batch(manager, {"project_id": other_world.project["id"], "code": "O", "name": "o",
                                             "starts_on": date(2026, 9, 28), "ends_on": date(2026, 10, 1)},
                                   now=at("2026-09-20 10:00"))
    for url in (f"{API}/applications/{app['id']}", f"{API}/batches/{batch['id']}", f"{API}/batches/{batch['id']}/report",
                f"/portal/move-in-decoration/applications/{app['id']}"):
        r = await client.get(url, headers=world.headers("company_cs"))
        assert r.status_code == 404, url
    r = await client.post(f"{API}/applications/{app['id']}/approve", json={}, headers=world.headers("supervisor"))
    assert r.status_code == 404
    r = await client.get(f"{API}/applications", params={"project_id": other_world.project["id"]},
                         headers=world.headers("company_cs"))
    assert r.status_code == 404
    r = await client.post(f"{API}/applications", json={**_app_body(world), "unit_id": other_world.units[0]["id"]},
                          headers=world.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit_id"
