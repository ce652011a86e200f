"""Customers' personal data (PIPL; seed 004: customer information is never disclosed, access strictly limited):
a copy of everything stored about a customer, and erasure that keeps the records the law requires."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from tests.conftest import PASSWORD, at
from tests.frontend.portal_helpers import portal_login, post_form

PROBLEM = "application/problem+json"
NAME, PHONE, ID_NUMBER, EMAIL = "欧阳娜娜", "13712345678", "440301198801017777", "ouyang.nana@example.com"


def _problem(r, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    if field is not None:
        assert body["errors"][0]["field"] == field, body
    return body


def _ids_by_table(export: dict) -> dict[str, set[int]]:
    """Row ids the export holds, by table name."""
    out: dict[str, set[int]] = {"core_occupancy": {u["id"] for u in export["units"]},
                                "core_ticket": {t["id"] for t in export["tickets"]}}
    sections = [export["records"], *export["plugins"].values()]
    for section in sections:
        for name, rows in section.items():
            if isinstance(rows, list):
                out.setdefault(name, set()).update(r["id"] for r in rows if isinstance(r, dict) and "id" in r)
    return out


@pytest.fixture(scope="module")
async def demo():
    from core.demo import ensure_demo

    return await ensure_demo(PASSWORD, buildings=1, tickets=12, slug=f"pd-{uuid.uuid4().hex[:8]}",
                             as_of=at("2026-09-30 17:00"))


async def test_export_holds_every_row_of_every_table_that_names_the_customer_demo_seed_004(demo):
    """For every table of the kernel and of every plugin with a foreign key to core_customer, a demo row that
    names a customer appears in that customer's export (the plugins' hooks, or the kernel's fallback)."""
    from core import personal_data
    from core.tables import Customer
    from core.tenancy import TenantScope

    tenant_id = demo["tenant"]["id"]
    scope = TenantScope(tenant_id)
    checked, missing = [], []
    for table in personal_data.tenant_tables():
        for column in personal_data.foreign_keys_to(table, Customer):
            col = getattr(table, column)
            row = await scope.select(table, table.id, col.as_alias("customer")).where(col.is_not_null()).order_by(
                table.id).first()
            if row is None:
                continue
            export = await personal_data.gather(tenant_id, row["customer"])
            checked.append(f"{table._meta.tablename}.{column}")
            if row["id"] not in _ids_by_table(export).get(table._meta.tablename, set()):
                missing.append(f"{table._meta.tablename}.{column} row {row['id']}")
    assert len(checked) >= 20, checked
    assert not missing, missing
    json.dumps(export, default=str)  # JSON-friendly all the way down


async def test_personal_data_export_is_for_company_cs_only_audited_and_downloadable_seed_004(client, world):
    from core import tickets

    c = world.customers[0]
    desk = await world.principal("front_desk")
    await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": "repair", "channel": "hotline",
                                       "title": "厨房漏水", "unit_id": world.units[0]["id"], "customer_id": c["id"],
                                       "contact_phone": c["phone"]})
    url = f"/api/v1/customers/{c['id']}/personal-data"
    for role in ("front_desk", "supervisor", "project_manager", "finance", "butler"):
        _problem(await client.get(url, headers=world.headers(role)), 403)
    r = await client.get(url, headers=world.headers("company_cs"))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["customer"]["phone"] == c["phone"] and data["customer"]["id_number"] == c["id_number"]  # unmasked: it is theirs
    assert [u["room"] for u in data["units"]] == ["101"] and data["tickets"][0]["title"] == "厨房漏水"
    assert "core_ticket_event" in data["records"] and data["access_log"] == []
    r = await client.get(url, params={"download": "true"}, headers=world.headers("company_cs"))
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert r.headers["content-disposition"].endswith(f'personal-data-customer-{c["id"]}.json"')
    assert json.loads(r.content)["customer"]["id"] == c["id"]
    log = (await client.get("/api/v1/audit", headers=world.headers("company_cs"))).json()["items"]
    exports = [e for e in log if e["action"] == "customer.personal_data_export"]
    assert len(exports) == 2 and {e["object_id"] for e in exports} == {c["id"]}
    assert exports[0]["user_id"] == world.staff["company_cs"]
    # the export lists who read the customer's file
    await client.get(f"/api/v1/customers/{c['id']}/file", headers=world.headers("supervisor"))
    access = (await client.get(url, headers=world.headers("company_cs"))).json()["access_log"]
    assert [a["action"] for a in access][:3] == ["customer.personal_data_export", "customer.personal_data_export",
                                                 "customer.file_read"]


async def _customer_with_data_everywhere(world) -> dict:
    """The world's first customer, renamed, with rows in the kernel and every plugin that mention it."""
    from core import tickets
    from core.tables import Customer, Notification, Occupancy
    from core.tenancy import TenantScope
    from plugins.arrears_collection import tables as ac
    from plugins.commercial_buildings import tables as cb
    from plugins.community_events import tables as ce
    from plugins.parking_leases import tables as pl
    from plugins.residential_grids import tables as rg

    scope = TenantScope(world.tenant_id)
    c = world.customers[0]
    await scope.update(Customer, {Customer.name: NAME, Customer.phone: PHONE, Customer.id_number: ID_NUMBER,
                                  Customer.email: EMAIL, Customer.note: f"{NAME}的备用电话 {PHONE}",
                                  Customer.birthday: date(1988, 1, 1)}).where(Customer.id == c["id"])
    desk = await world.principal("front_desk")
    pid, staff = world.project["id"], world.staff
    t = await tickets.create_ticket(desk, {"project_id": pid, "kind": "complaint", "channel": "hotline",
                                           "title": f"{NAME}投诉噪音", "description": f"业主{NAME}来电 {PHONE}，证件 {ID_NUMBER}",
                                           "unit_id": world.units[0]["id"], "customer_id": c["id"], "contact_phone": PHONE,
                                           "data": {"caller": NAME, "callback": PHONE}})
    await tickets.add_comment(desk, t["id"], f"已回电 {PHONE}，{NAME}表示满意")
    await scope.insert(Notification, channel="sms", recipient_customer_id=c["id"], address=PHONE, template="t",
                       subject="通知", body=f"{NAME}您好", idempotency_key=f"pd-{t['id']}", ticket_id=t["id"])
    await scope.insert(Notification, channel="in_app", recipient_user_id=staff["supervisor"], template="t",
                       subject=f"#{t['id']}", body=f"业主{NAME}投诉", idempotency_key=f"pd-staff-{t['id']}",
                       ticket_id=t["id"])
    now = datetime(2026, 9, 30, 9, tzinfo=timezone.utc)
    await scope.insert(rg.RegisterEntry, project_id=pid, staff_id=staff["front_desk"], customer_id=c["id"], phone=PHONE,
                       caller_name=NAME, subject="咨询", content=f"{NAME}询问停车，回拨 {PHONE}")
    parcel = await scope.insert(rg.Parcel, project_id=pid, building_id=world.building["id"], unit_id=world.units[0]["id"],
                                carrier="顺丰", tracking_no="SF1", recipient_name=NAME, received_by_id=staff["front_desk"],
                                status="released", picker_kind="household", picker_name=NAME,
                                picker_customer_id=c["id"], delegate_name="李四", delegate_phone="13600000000")
    await scope.insert(rg.Signature, parcel_id=parcel["id"], image="data:image/png;base64,AAAA", signer_name=NAME,
                       staff_id=staff["front_desk"])
    await scope.insert(cb.VipVehicle, project_id=pid, plate="粤B12345", owner_name=NAME, customer_id=c["id"])
    await scope.insert(cb.StoredItem, project_id=pid, description="钥匙", depositor_name="王五", customer_id=c["id"],
                       for_name=NAME, code_hash="x" * 64, deposited_at=now)
    app = await scope.insert(pl.Application, project_id=pid, customer_id=c["id"], space_type="standard", term="monthly",
                             plates=["粤B12345"], received_at=now, note=f"{NAME} 电话 {PHONE}")
    await scope.insert(pl.Document, application_id=app["id"], requirement="身份证", filename=f"{NAME}身份证.png",
                       content_type="image/png", size_bytes=4, content=b"\x89PNG")
    await scope.insert(ac.ReceiptCounter, project_id=pid, last_seq=1)
    payment = await scope.insert(ac.Payment, project_id=pid, customer_id=c["id"], amount_fen=123456, method="cash",
                                 paid_on=date(2026, 9, 1), receipt_seq=1, receipt_no="HY-2026-000001",
                                 note=f"{NAME}现金缴费")
    event = await scope.insert(ce.Event, project_id=pid, title="中秋游园", starts_at=now, ends_at=now + timedelta(hours=2),
                               capacity=50)
    await scope.insert(ce.Answer, event_id=event["id"], customer_id=c["id"], answers=[f"我是{NAME}", PHONE])
    await scope.insert(ce.Greeting, customer_id=c["id"], occasion="birthday:2026", sent_on=date(2026, 1, 1))
    occ = await scope.select(Occupancy, Occupancy.id).where(Occupancy.customer_id == c["id"]).first()
    return {"customer": c, "ticket": t, "payment": payment, "occupancy_id": occ["id"], "event": event}


async def _personal_texts(tenant_id: int) -> list[str]:
    """Every text column of every row of the tenant (JSON decoded too) that holds the old name, phone, ID or e-mail."""
    from piccolo.columns import JSON

    from core import personal_data
    from core.db import json_value
    from core.tenancy import TenantScope

    found = []
    for table in personal_data.tenant_tables():
        columns = personal_data.text_columns(table)
        if not columns:
            continue
        for row in await TenantScope(tenant_id).select(table):
            for col in columns:
                value = row[col._meta.name]
                if value is None:
                    continue
                texts = [value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)]
                if isinstance(col, JSON):
                    texts.append(json.dumps(json_value(value), ensure_ascii=False))
                for text in texts:
                    for secret in (NAME, PHONE, ID_NUMBER, EMAIL):
                        if secret in text:
                            found.append(f"{table._meta.tablename}.{col._meta.name} #{row['id']}: {secret}")
    return found


async def test_erased_customer_leaves_no_name_phone_or_id_in_any_text_column_but_keeps_records_seed_004(client, world):
    from core.tables import Customer, Ticket
    from core.tenancy import TenantScope
    from plugins.arrears_collection import tables as ac
    from plugins.community_events import tables as ce
    from plugins.parking_leases import tables as pl
    from plugins.residential_grids import tables as rg

    made = await _customer_with_data_everywhere(world)
    cid = made["customer"]["id"]
    assert await _personal_texts(world.tenant_id)  # the data is really there before
    url = f"/api/v1/customers/{cid}/erase"
    cs = world.headers("company_cs")
    _problem(await client.post(url, json={"reason": "业主申请注销"}, headers=world.headers("supervisor")), 403)
    _problem(await client.post(url, json={}, headers=cs), 422, "reason")
    _problem(await client.post(url, json={"reason": "x"}, headers=cs), 422, "reason")
    held = _problem(await client.post(url, json={"reason": "业主申请注销"}, headers=cs), 409)
    assert "holds 1 unit" in held["detail"]
    r = await client.post(f"/api/v1/customers/{cid}/units/{made['occupancy_id']}/end", json={"end_date": "2026-09-30"},
                          headers=world.headers("front_desk"))
    assert r.status_code == 200, r.text
    r = await client.post(url, json={"reason": "业主书面申请注销个人信息"}, headers=cs)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["name"] == f"已注销客户#{cid}" and result["keep_records"] is True
    assert set(result["changed"]) >= {"core", "residential_grids", "parking_leases", "arrears_collection",
                                      "community_events", "commercial_buildings"}

    leftovers = await _personal_texts(world.tenant_id)
    assert leftovers == [], leftovers
    scope = TenantScope(world.tenant_id)
    customer = await scope.get(Customer, cid)
    assert (customer["name"], customer["phone"], customer["id_number"], customer["email"], customer["birthday"],
            customer["note"]) == (f"已注销客户#{cid}", "", "", "", None, "")
    # records the law requires stay, linked to the anonymised customer
    ticket = await scope.get(Ticket, made["ticket"]["id"])
    assert ticket["customer_id"] == cid and ticket["contact_phone"] == "" and ticket["title"] == f"已注销客户#{cid}投诉噪音"
    payment = await scope.get(ac.Payment, made["payment"]["id"])
    assert (payment["customer_id"], payment["amount_fen"], payment["receipt_no"]) == (cid, 123456, "HY-2026-000001")
    assert await scope.count(pl.Application).where(pl.Application.customer_id == cid) == 1
    doc = await scope.select(pl.Document).first()
    assert doc["size_bytes"] == 0 and bytes(doc["content"]) == b""
    assert (await scope.select(rg.Signature).first())["image"] == ""
    assert await scope.count(ce.Answer) == 1 and await scope.count(ce.Greeting) == 1  # kept: keep_records
    # the other customer is untouched
    other = await scope.get(Customer, world.customers[1]["id"])
    assert other["phone"] == world.customers[1]["phone"] and other["name"] == world.customers[1]["name"]
    # once only; audited with the reason and without the old values
    _problem(await client.post(url, json={"reason": "再次注销"}, headers=cs), 409)
    log = (await client.get("/api/v1/audit", params={"action": "customer.erased"}, headers=cs)).json()["items"]
    assert len(log) == 1 and log[0]["object_id"] == cid and log[0]["user_id"] == world.staff["company_cs"]
    data = log[0]["data"] if isinstance(log[0]["data"], dict) else json.loads(log[0]["data"])
    assert data["reason"] == "业主书面申请注销个人信息" and data["changed"]["core"]["core_customer"] == 1
    assert NAME not in json.dumps(log, ensure_ascii=False) and PHONE not in json.dumps(log)


async def test_erasure_without_keep_records_deletes_survey_answers_and_greetings_only_seed_004(client, world):
    from core.tenancy import TenantScope
    from plugins.arrears_collection import tables as ac
    from plugins.community_events import tables as ce

    made = await _customer_with_data_everywhere(world)
    cid = made["customer"]["id"]
    await client.post(f"/api/v1/customers/{cid}/units/{made['occupancy_id']}/end", json={"end_date": "2026-09-30"},
                      headers=world.headers("front_desk"))
    r = await client.post(f"/api/v1/customers/{cid}/erase", json={"reason": "录入错误，删除", "keep_records": False},
                          headers=world.headers("company_cs"))
    assert r.status_code == 200, r.text
    scope = TenantScope(world.tenant_id)
    assert await scope.count(ce.Answer) == 0 and await scope.count(ce.Greeting) == 0
    assert await scope.count(ac.Payment).where(ac.Payment.customer_id == cid) == 1  # money is never deleted
    assert await _personal_texts(world.tenant_id) == []


async def test_erasure_is_refused_while_an_arrears_case_is_open_and_nothing_changes_seed_004(client, world):
    from core.tables import Customer, Occupancy
    from core.tenancy import TenantScope
    from plugins.arrears_collection import tables as ac

    scope = TenantScope(world.tenant_id)
    c = world.customers[1]
    await scope.update(Occupancy, {Occupancy.end_date: date(2026, 9, 1)}).where(Occupancy.customer_id == c["id"])
    await scope.insert(ac.Case, project_id=world.project["id"], customer_id=c["id"], opened_period="2026-05",
                       opened_on=date(2026, 6, 1))
    body = _problem(await client.post(f"/api/v1/customers/{c['id']}/erase", json={"reason": "业主申请"},
                                      headers=world.headers("company_cs")), 409)
    assert "arrears" in body["detail"]
    assert (await scope.get(Customer, c["id"]))["phone"] == c["phone"]


async def test_portal_customer_file_offers_download_and_erasure_to_company_cs_only_seed_004(client, world):
    from tests.conftest import make_world

    w = await make_world(login=False)
    c = w.customers[0]
    token = await portal_login(client, w, "front_desk")
    page = await client.get(f"/portal/customers/{c['id']}")
    assert page.status_code == 200 and "personal-data?download=true" not in page.text and "/erase" not in page.text
    await client.post("/portal/logout", data={"_csrf": token})
    client.cookies.clear()
    token = await portal_login(client, w, "company_cs")
    page = await client.get(f"/portal/customers/{c['id']}")
    assert f"/api/v1/customers/{c['id']}/personal-data?download=true" in page.text
    download = await client.get(f"/api/v1/customers/{c['id']}/personal-data", params={"download": "true"})
    assert download.status_code == 200 and json.loads(download.content)["customer"]["name"] == c["name"]
    # still holds a unit: refused, the reason typed is kept
    r = await post_form(client, f"/portal/customers/{c['id']}/erase", token, reason="业主申请注销")
    assert r.status_code == 409 and "业主申请注销" in r.text and 'data-field="_"' in r.text
    r = await post_form(client, f"/portal/customers/{c['id']}/erase", token, reason="")
    assert r.status_code == 422 and 'data-field="reason"' in r.text
    r = await client.post(f"/api/v1/customers/{c['id']}/units/{(await _occupancy(w, c['id']))}/end",
                          json={"end_date": "2026-09-30"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    r = await post_form(client, f"/portal/customers/{c['id']}/erase", token, reason="业主申请注销")
    assert r.status_code == 303 and r.headers["location"] == f"/portal/customers/{c['id']}?erased=1"
    page = await client.get(r.headers["location"])
    assert f"已注销客户#{c['id']}" in page.text and "/erase" not in page.text
    settings = await client.get("/portal/personal-data")
    assert settings.status_code == 200 and 'data-action="customer.erased"' in settings.text
    assert 'data-action="customer.personal_data_export"' in settings.text


async def _occupancy(world, customer_id: int) -> int:
    from core.tables import Occupancy
    from core.tenancy import TenantScope

    return (await TenantScope(world.tenant_id).select(Occupancy, Occupancy.id).where(
        Occupancy.customer_id == customer_id).first())["id"]
