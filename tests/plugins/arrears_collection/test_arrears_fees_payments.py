"""Fees, bills, payments and receipts (seed 001, 收费管理): published standards, exact money, receipts without gaps."""
from __future__ import annotations

from datetime import date

import pytest

from core import TenantScope, get_registry
from plugins.arrears_collection.tables import Allocation, Bill, FeeItem, Payment
from tests.plugins.arrears_collection import charges_plugin
from tests.plugins.arrears_collection.helpers import API, MONTHLY_FEN, bill_months, fee_item


async def test_fee_item_published_with_standard_and_basis_seed_001(world, client):
    body = {"project_id": world.project["id"], "code": "PROP", "name": "物业服务费", "basis": "area_month",
            "standard_fen": 235, "unit_label": "m²·月", "basis_text": "深发改〔2019〕备案", "published_on": "2025-01-01"}
    r = await client.post(f"{API}/fee-items", json=body, headers=world.headers("finance"))
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["standard_fen"] == 235 and item["basis_text"] == "深发改〔2019〕备案"
    listed = (await client.get(f"{API}/fee-items", headers=world.headers("supervisor"))).json()
    assert [i["code"] for i in listed] == ["PROP"]
    # bad input names the field and writes nothing
    bad = await client.post(f"{API}/fee-items", json={**body, "code": "X2", "standard_fen": 2.35},
                            headers=world.headers("finance"))
    assert bad.status_code == 400 or bad.status_code == 422
    assert "standard_fen" in bad.text
    dup = await client.post(f"{API}/fee-items", json=body, headers=world.headers("finance"))
    assert dup.status_code == 409
    assert await TenantScope(world.tenant_id).count(FeeItem) == 1
    # only finance publishes fee items
    assert (await client.post(f"{API}/fee-items", json={**body, "code": "X3"},
                              headers=world.headers("front_desk"))).status_code == 403


async def test_monthly_bill_is_exact_to_the_fen_and_billed_once_seed_001(world, client):
    await fee_item(world)  # 2.35 yuan per m² per month
    r = await client.post(f"{API}/billing-runs", json={"project_id": world.project["id"], "period": "2025-03"},
                          headers=world.headers("finance"))
    assert r.json()["created"] == 2  # two held units; units without an owner are not billed
    again = await client.post(f"{API}/billing-runs", json={"project_id": world.project["id"], "period": "2025-03"},
                              headers=world.headers("finance"))
    assert again.json()["created"] == 0
    bills = (await client.get(f"{API}/bills", params={"period": "2025-03"}, headers=world.headers("finance"))).json()
    assert {b["amount_fen"] for b in bills["items"]} == {MONTHLY_FEN}  # 100.50 m² × 235 fen = 23,617.5 → 23,618
    assert {str(b["due_date"]) for b in bills["items"]} == {"2025-03-31"}
    bad = await client.post(f"{API}/billing-runs", json={"project_id": world.project["id"], "period": "2025-13"},
                            headers=world.headers("finance"))
    assert bad.status_code in (400, 422) and "period" in bad.text


async def test_receipts_numbered_without_gaps_per_project_seed_001(world, client):
    await fee_item(world)
    await bill_months(world, "2025-01", 3)
    pay = {"project_id": world.project["id"], "customer_id": world.customers[0]["id"], "method": "wechat",
           "paid_on": "2025-04-02"}
    numbers = []
    for amount in (10000, 5000, 10 ** 9, 3000):  # the third asks more than is owed: refused, no number used
        r = await client.post(f"{API}/payments", json={**pay, "amount_fen": amount}, headers=world.headers("finance"))
        if amount == 10 ** 9:
            assert r.status_code == 422 and "amount_fen" in r.text
            continue
        assert r.status_code == 201, r.text
        numbers.append(r.json()["receipt_no"])
    assert numbers == ["P1-00000001", "P1-00000002", "P1-00000003"]
    payments = await TenantScope(world.tenant_id).select(Payment, Payment.receipt_seq).where(
        Payment.project_id == world.project["id"]).order_by(Payment.receipt_seq)
    assert [p["receipt_seq"] for p in payments] == [1, 2, 3]
    receipt = await client.get(f"{API}/payments/{(await _last_payment(world))['id']}/receipt.pdf",
                               headers=world.headers("finance"))
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
    assert (await client.post(f"{API}/payments", json={**pay, "amount_fen": 100},
                              headers=world.headers("front_desk"))).status_code == 403


async def _last_payment(world):
    return await TenantScope(world.tenant_id).select(Payment).order_by(Payment.id, ascending=False).first()


async def test_payment_allocated_to_oldest_bills_first_money_exact_seed_001(world, client):
    await fee_item(world)
    await bill_months(world, "2025-01", 3)
    customer = world.customers[0]["id"]
    r = await client.post(f"{API}/payments", headers=world.headers("finance"), json={
        "project_id": world.project["id"], "customer_id": customer, "amount_fen": MONTHLY_FEN + 1, "method": "cash",
        "paid_on": "2025-04-02"})
    payment = r.json()
    assert [a["amount_fen"] for a in payment["allocations"]] == [MONTHLY_FEN, 1]
    scope = TenantScope(world.tenant_id)
    bills = await scope.select(Bill, Bill.period, Bill.paid_fen, Bill.paid_on).where(Bill.customer_id == customer).order_by(Bill.period)
    assert [(b["period"], b["paid_fen"]) for b in bills] == [("2025-01", MONTHLY_FEN), ("2025-02", 1), ("2025-03", 0)]
    assert bills[0]["paid_on"] == date(2025, 4, 2) and bills[1]["paid_on"] is None
    total = sum(a["amount_fen"] for a in await scope.select(Allocation, Allocation.amount_fen))
    assert total == MONTHLY_FEN + 1  # every fen of the payment is allocated, none more
    detail = (await client.get(f"{API}/payments/{payment['id']}", headers=world.headers("finance"))).json()
    assert [a["period"] for a in detail["allocations"]] == ["2025-01", "2025-02"]
    ageing = (await client.get(f"{API}/ageing", params={"as_of": "2025-04-02"}, headers=world.headers("finance"))).json()
    mine = [a for a in ageing["items"] if a["customer_id"] == customer][0]
    assert mine["owed_fen"] == 3 * MONTHLY_FEN - MONTHLY_FEN - 1 and mine["months"] == 2


async def test_late_fee_follows_the_tenant_rule_seed_001(world, client):
    await fee_item(world)
    await bill_months(world, "2025-01", 2)
    as_of = date(2025, 3, 11)  # January due 31 Jan: 39 days late; February due 28 Feb: 11 days late
    rows = (await client.get(f"{API}/ageing", params={"as_of": as_of.isoformat()}, headers=world.headers("finance"))).json()
    row = [a for a in rows["items"] if a["customer_id"] == world.customers[0]["id"]][0]
    daily = MONTHLY_FEN * 39 * 5 // 10000 + MONTHLY_FEN * 11 * 5 // 10000  # 5 ‱ a day, by default
    assert row["late_fee_fen"] == daily and row["months"] == 2 and row["owed_fen"] == 2 * MONTHLY_FEN
    r = await client.put("/api/v1/plugins/arrears_collection", headers=world.headers("company_cs"),
                         json={"enabled": True, "settings": {"late_fee_daily_per_10k": 0, "late_fee_monthly_percent": 3}})
    assert r.status_code == 200, r.text
    rows = (await client.get(f"{API}/ageing", params={"as_of": as_of.isoformat(), "by": "unit"},
                             headers=world.headers("finance"))).json()
    row = [a for a in rows["items"] if a["customer_id"] == world.customers[0]["id"]][0]
    assert row["late_fee_fen"] == MONTHLY_FEN * 2 * 3 // 100 + MONTHLY_FEN * 1 * 3 // 100  # 3 % a month
    assert row["unit_id"] == world.units[0]["id"]


@pytest.fixture
def charges_registered():
    registry = get_registry()
    if "arrears_test_charges" not in registry.metas:
        registry.add(charges_plugin)
    yield charges_plugin
    registry.pm.unregister(name="arrears_test_charges")
    registry.metas.pop("arrears_test_charges", None)
    registry.packages.pop("arrears_test_charges", None)
    charges_plugin.TENANTS.clear()


async def test_other_plugins_add_charges_through_the_hook_billed_once_seed_001(charges_registered):
    from tests.conftest import make_world

    world = await make_world(plugins=[p for p in get_registry().metas if p not in ("core", "dummy")], login=False)
    charges_registered.TENANTS[world.tenant_id] = world.units[1]["id"]
    await fee_item(world)
    assert await bill_months(world, "2025-05", 1) == 3  # two property fees and one parking charge
    assert await bill_months(world, "2025-05", 1) == 0
    scope = TenantScope(world.tenant_id)
    parking = await scope.select(Bill, Bill.amount_fen, Bill.customer_id, Bill.fee_item_id.code.as_alias("code")).where(
        Bill.fee_item_id.basis == "external")
    assert parking == [{"amount_fen": 30000, "customer_id": world.customers[1]["id"], "code": "arrears_test_charges.parking"}]


async def test_metered_charge_is_quantity_times_standard_seed_001(world, client):
    water = await fee_item(world, code="WATER", basis="metered", standard_fen=420)
    r = await client.post(f"{API}/bills", headers=world.headers("finance"), json={
        "fee_item_id": water["id"], "unit_id": world.units[0]["id"], "period": "2025-06", "quantity": 13})
    assert r.status_code == 201 and r.json()["amount_fen"] == 13 * 420
    again = await client.post(f"{API}/bills", headers=world.headers("finance"), json={
        "fee_item_id": water["id"], "unit_id": world.units[0]["id"], "period": "2025-06", "quantity": 13})
    assert again.status_code == 409
