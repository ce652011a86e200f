"""Routes of arrears collection: tenancy (another company's rows are 404), outcomes, documents, reports,
portal pages, the monthly jobs and the demo data."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from io import BytesIO

from core import TenantScope, tables
from plugins.arrears_collection import demo, services as svc
from plugins.arrears_collection.actors import bill_tenant, ladder_tenant
from plugins.arrears_collection.tables import TABLES, Case, Payment, Task, Watch
from tests.plugins.arrears_collection.helpers import API, MONTHLY_FEN, NOW, bill_months, fee_item, ladder, steps


async def _company_with_arrears(world):
    await fee_item(world)
    await bill_months(world, "2025-01", 8)
    await ladder(world, date(2025, 9, 1))
    finance = await world.principal("finance")
    payment = await svc.record_payment(finance, {"project_id": world.project["id"], "customer_id": world.customers[1]["id"],
                                                 "amount_fen": 100, "method": "cash", "paid_on": date(2025, 9, 2)}, NOW)
    return payment


async def test_another_companys_rows_are_404_on_every_route(world, other_world, client):
    await _company_with_arrears(other_world)
    scope = TenantScope(other_world.tenant_id)
    ids = {
        "fee-items": (await scope.select(svc.FeeItem, svc.FeeItem.id).first())["id"],
        "bills": (await scope.select(svc.Bill, svc.Bill.id).first())["id"],
        "payments": (await scope.select(Payment, Payment.id).first())["id"],
        "cases": (await scope.select(Case, Case.id).first())["id"],
        "tasks": (await scope.select(Task, Task.id).where(Task.kind == "lawyer_letter").first())["id"],
        "watches": (await scope.select(Watch, Watch.id).first())["id"],
    }
    for path, row_id in ids.items():
        own = await client.get(f"{API}/{path}/{row_id}", headers=other_world.headers("finance"))
        assert own.status_code == 200, (path, own.text)
        r = await client.get(f"{API}/{path}/{row_id}", headers=world.headers("finance"))
        assert r.status_code == 404, (path, r.text)
    for path in (f"payments/{ids['payments']}/receipt.pdf", f"tasks/{ids['tasks']}/document.pdf"):
        assert (await client.get(f"{API}/{path}", headers=world.headers("finance"))).status_code == 404
    r = await client.post(f"{API}/tasks/{ids['tasks']}/outcome", json={"outcome": "sent", "tracking_no": "SF1"},
                          headers=world.headers("finance"))
    assert r.status_code == 404
    r = await client.patch(f"{API}/fee-items/{ids['fee-items']}", json={"standard_fen": 1}, headers=world.headers("finance"))
    assert r.status_code == 404
    r = await client.post(f"{API}/payments", headers=world.headers("finance"), json={
        "project_id": other_world.project["id"], "customer_id": other_world.customers[0]["id"], "amount_fen": 100,
        "method": "cash", "paid_on": "2025-09-02"})
    assert r.status_code == 422 and "project_id" in r.text
    # nothing of the other company shows in lists and reports
    for path in ("bills", "payments", "cases", "tasks", "watches"):
        assert (await client.get(f"{API}/{path}", headers=world.headers("finance"))).json()["items"] == []
    assert (await client.get(f"{API}/reports/ageing-buckets", params={"as_of": "2025-09-01"},
                             headers=world.headers("finance"))).json() == []


async def test_outcomes_recorded_with_their_details_seed_001(world, client):
    await _company_with_arrears(world)
    customer = world.customers[0]["id"]
    letter = (await steps(world, customer, "lawyer_letter"))[0]
    r = await client.post(f"{API}/tasks/{letter['id']}/outcome", json={"outcome": "sent"}, headers=world.headers("finance"))
    assert r.status_code == 422 and "tracking_no" in r.text
    r = await client.post(f"{API}/tasks/{letter['id']}/outcome", json={"outcome": "won"}, headers=world.headers("finance"))
    assert r.status_code == 422 and "outcome" in r.text
    r = await client.post(f"{API}/tasks/{letter['id']}/outcome", headers=world.headers("finance"),
                          json={"outcome": "sent", "delivery": "express", "tracking_no": "SF1402857361"})
    assert r.status_code == 200 and r.json()["status"] == "done" and r.json()["tracking_no"] == "SF1402857361"
    again = await client.post(f"{API}/tasks/{letter['id']}/outcome", json={"outcome": "delivered"},
                              headers=world.headers("finance"))
    assert again.status_code == 409


async def test_reminder_steps_named_for_the_butler_who_records_a_promise_seed_001(world, client):
    await fee_item(world)
    await bill_months(world, "2025-01", 2)
    await ladder(world, date(2025, 3, 1))
    mine = (await client.get(f"{API}/tasks", params={"mine": "true"}, headers=world.headers("butler"))).json()["items"]
    reminder = [t for t in mine if t["kind"] == "reminder" and t["customer_id"] == world.customers[0]["id"]][0]
    assert reminder["label_zh"] == "口头/电话/短信提示" and reminder["due_date"] == "2025-03-06"
    r = await client.post(f"{API}/tasks/{reminder['id']}/outcome", json={"outcome": "promised"},
                          headers=world.headers("butler"))
    assert r.status_code == 422 and "promised_on" in r.text
    r = await client.post(f"{API}/tasks/{reminder['id']}/outcome", headers=world.headers("butler"),
                          json={"outcome": "promised", "promised_on": "2025-03-15", "delivery": "sms"})
    assert r.status_code == 200 and r.json()["promised_on"] == "2025-03-15" and r.json()["done_by"] == world.staff["butler"]
    # a butler sees the steps named for it, not the company's money
    assert (await client.get(f"{API}/bills", headers=world.headers("butler"))).status_code == 403


async def test_collection_notice_pdf_states_amount_and_late_fee_seed_001(world, client):
    await _company_with_arrears(world)
    finance = await world.principal("finance")
    notice = (await steps(world, world.customers[0]["id"], "lawyer_letter"))[0]
    ctx = await svc.notice_context(finance, notice["id"])
    assert ctx["task"]["owed_fen"] == 8 * MONTHLY_FEN and sum(b["amount_fen"] for b in ctx["bills"]) == 8 * MONTHLY_FEN
    assert ctx["task"]["late_fee_fen"] > 0 and "万分之5" in ctx["rules"].late_fee_text()
    r = await client.get(f"{API}/tasks/{notice['id']}/document.pdf", headers=world.headers("finance"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/pdf") and r.content[:4] == b"%PDF"


async def test_reports_collection_rate_ageing_buckets_ladder_actions_and_excel_seed_001(world, client):
    await fee_item(world)
    await bill_months(world, "2024-01", 20)  # customer 0 and 1 owe from January 2024
    await ladder(world, date(2025, 9, 1))
    finance = await world.principal("finance")
    await svc.record_payment(finance, {"project_id": world.project["id"], "customer_id": world.customers[1]["id"],
                                       "amount_fen": 19 * MONTHLY_FEN, "method": "transfer", "paid_on": date(2025, 8, 20)}, NOW)
    h = world.headers("finance")
    rates = (await client.get(f"{API}/reports/collection-rate", params={"from_period": "2024-01", "to_period": "2024-02"},
                              headers=h)).json()
    assert [(r["period"], r["billed_fen"], r["collected_fen"], r["rate_bp"]) for r in rates] == [
        ("2024-01", 2 * MONTHLY_FEN, MONTHLY_FEN, 5000), ("2024-02", 2 * MONTHLY_FEN, MONTHLY_FEN, 5000)]
    buckets = (await client.get(f"{API}/reports/ageing-buckets", params={"as_of": "2025-09-01"}, headers=h)).json()
    assert {b["bucket"]: b["customers"] for b in buckets} == {"0-3": 1, "3-6": 0, "6-18": 0, "18+": 1}
    later = (await client.get(f"{API}/reports/ageing-buckets", params={"as_of": "2025-10-01"}, headers=h)).json()
    assert {b["bucket"]: b["customers"] for b in later}["18+"] == 1  # customer 0 owes from January 2024
    actions = (await client.get(f"{API}/reports/ladder-actions", headers=h)).json()
    assert {(a["kind"], a["status"]) for a in actions} >= {("sue", "open"), ("sue", "cancelled")}
    xlsx = await client.get(f"{API}/reports/export.xlsx", params={"as_of": "2025-09-01"}, headers=h)
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(xlsx.content))
    assert len(wb.sheetnames) == 4
    owed = [row for row in wb.worksheets[3].iter_rows(min_row=3, values_only=True)]
    assert Decimal(str(owed[0][3])) == Decimal("4723.60") == Decimal(20 * MONTHLY_FEN) / 100  # yuan, to the fen
    assert await TenantScope(world.tenant_id).count(tables.AuditLog).where(
        tables.AuditLog.action == "arrears_collection.export") == 1


async def test_portal_pages_for_finance(world, client):
    await _company_with_arrears(world)
    for page in ("", "fee-items", "bills?unpaid=true", "payments", "tasks", "tasks?status=", "reports?as_of=2025-09-01",
                 "?as_of=2025-09-01"):
        r = await client.get(f"/portal/arrears-collection/{page}", headers=world.headers("finance"))
        assert r.status_code == 200, (page, r.text[:300])
        assert "欠费追缴" in r.text
    task = (await steps(world, world.customers[0]["id"], "legal_notice"))[0]
    r = await client.post(f"/portal/arrears-collection/tasks/{task['id']}/outcome", data={"outcome": "sent"},
                          headers=world.headers("finance"), follow_redirects=False)
    assert r.status_code in (301, 302, 303)
    assert (await svc.get_task(await world.principal("finance"), task["id"]))["outcome"] == "sent"


async def test_monthly_jobs_bill_and_climb_the_ladder_idempotently_seed_001(world):
    await fee_item(world)
    first = await bill_tenant.fn(world.tenant_id, "2025-01-01T01:00:00+08:00")
    assert first["period"] == "2025-01" and first["created"]["P1"] == 2
    again = await bill_tenant.fn(world.tenant_id, "2025-01-01T01:00:00+08:00")
    assert again["created"]["P1"] == 0
    run = await ladder_tenant.fn(world.tenant_id, "2025-02-01T03:00:00+08:00")
    assert run["projects"]["P1"]["tasks"] == 4  # a reminder and a notice for each of the two customers
    rerun = await ladder_tenant.fn(world.tenant_id, "2025-02-01T03:00:00+08:00")
    assert rerun["projects"]["P1"] == {"cases_opened": 0, "cases_closed": 0, "tasks": 0, "watches": 0}


async def test_seed_demo_puts_customers_on_every_rung_seed_001(world):
    """The demo fills every table of the plugin and shows every rung of the ladder."""
    scope = TenantScope(world.tenant_id)
    # a commercial project with company customers (the plaza) beside the residential estate
    plaza = world.other_project
    for role in ("finance", "front_desk"):  # as in the demo company, finance and the desk cover both projects
        await scope.update(tables.Membership, {tables.Membership.project_ids: [world.project["id"], plaza["id"]]}).where(
            tables.Membership.user_id == world.staff[role])
    building = await scope.insert(tables.Building, project_id=plaza["id"], code="T1", name="大厦", floors=10)
    for i in range(4):
        unit = await scope.insert(tables.Unit, project_id=plaza["id"], building_id=building["id"], room=f"{i + 1}01",
                                  floor=i + 1, area=Decimal("260.00"), use="office", status="occupied")
        company = await scope.insert(tables.Customer, name=f"公司{i}", kind="company")
        await scope.insert(tables.Occupancy, customer_id=company["id"], unit_id=unit["id"], role="company",
                           start_date=date(2021, 3, 1))
    for i in range(2, 4):
        extra = await scope.insert(tables.Customer, name=f"业主{i}")
        await scope.insert(tables.Occupancy, customer_id=extra["id"], unit_id=world.units[i]["id"], role="owner",
                           start_date=date(2020, 1, 1))
    for i in range(4):  # enough estate households for the plan
        unit = await scope.insert(tables.Unit, project_id=world.project["id"], building_id=world.building["id"],
                                  entrance="2", room=f"{i + 1}02", area=Decimal("96.20"))
        owner = await scope.insert(tables.Customer, name=f"住户{i}")
        await scope.insert(tables.Occupancy, customer_id=owner["id"], unit_id=unit["id"], role="owner",
                           start_date=date(2020, 1, 1))
    as_of = datetime(2026, 9, 30, 9, 0, tzinfo=timezone.utc)
    await demo.seed(world.tenant_id, {"residential": world.project, "commercial": plaza}, world.staff, as_of)
    for table in TABLES:
        assert await scope.count(table) > 0, table._meta.tablename
    rungs = {r["rung"] for r in await scope.select(Task, Task.rung)}
    assert rungs >= {"ordinary_1_6", "ordinary_6_18", "ordinary_18", "large_1_3", "large_3_6", "large_6",
                     "after_suit", "watch"}
    kinds = {(r["kind"], r["dedup_key"]) for r in await scope.select(Task, Task.kind, Task.dedup_key).where(
        Task.kind == "lawyer_letter")}
    assert ("lawyer_letter", "2") in kinds
    assert await scope.count(Task).where(Task.status == "cancelled") > 0  # the customer who paid
    assert await scope.count(Watch).where(Watch.alerted_at.is_not_null()) == 1
