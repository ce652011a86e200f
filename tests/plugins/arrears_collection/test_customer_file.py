"""The customer's file shows what the customer owes and paid (one household, one file: seed 004)."""
from __future__ import annotations

from tests.plugins.arrears_collection.helpers import bill_months, fee_item


async def test_customer_file_shows_bills_and_the_total_owed_to_finance_not_to_the_front_desk(client, world):
    await fee_item(world)
    await bill_months(world, "2026-07", 3, unit_ids=[world.units[0]["id"]])  # 3 months × 236.18 yuan, none paid
    owner = world.customers[0]["id"]
    r = await client.get(f"/api/v1/customers/{owner}/file", headers=world.headers("finance"))
    assert r.status_code == 200, r.text
    bills = next(s for s in r.json()["sections"] if s["title_en"] == "Bills and arrears")
    assert [row[0] for row in bills["rows"]] == ["2026-09", "2026-08", "2026-07"]
    assert bills["rows"][0][2] == "¥236.18" and bills["rows"][0][3] == "¥0.00"
    assert bills["note"].startswith("欠费合计 / owed in all: ¥708.54 (3)")
    page = await client.get(f"/portal/customers/{owner}", headers=world.headers("finance"))
    assert page.status_code == 200 and "¥708.54" in page.text and "账单与欠费" in page.text
    # the front desk reads the file but has no arrears permission: no money section
    desk = await client.get(f"/api/v1/customers/{owner}/file", headers=world.headers("front_desk"))
    assert not [s for s in desk.json()["sections"] if s["title_en"] in ("Bills and arrears", "Payments")]
