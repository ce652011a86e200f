"""Opening balances (期初欠费) taken over at onboarding: one unpaid bill per unit, fee and month.

Each fee name gets an external fee item of the project (`opening.<hash>`, "期初欠费·<fee>"), so the bills
sit beside the monthly ones, age from their due date and enter the collection ladder like any other.
"""
from __future__ import annotations

import hashlib
from typing import Any

from core import TenantScope
from plugins.arrears_collection.services import period_bounds, period_no
from plugins.arrears_collection.tables import Bill, FeeItem


def fee_code(fee_name: str) -> str:
    return "opening." + hashlib.sha1(fee_name.encode("utf-8")).hexdigest()[:12]


async def import_opening_balances(tenant_id: int, project: dict[str, Any], balances: list[dict[str, Any]]) -> dict[str, int]:
    """Store the balances as bills; a re-import changes an unpaid bill's amount, payer or due date and
    leaves a bill that has been paid (in part) as it is."""
    scope = TenantScope(tenant_id)
    pid = int(project["id"])
    items = {r["code"]: r for r in await scope.select(FeeItem).where(FeeItem.project_id == pid)}
    created = updated = 0
    for b in balances:
        code = fee_code(b["fee_name"])
        if code not in items:
            items[code] = await scope.insert(
                FeeItem, project_id=pid, code=code, name=f"期初欠费·{b['fee_name']}"[:100], basis="external",
                standard_fen=0, unit_label="", basis_text="期初欠费(资料导入) opening balance taken over at onboarding",
                source="onboarding", published_on=period_bounds(b["period"])[0])
        item_id = items[code]["id"]
        old = await scope.select(Bill).where((Bill.unit_id == b["unit_id"]) & (Bill.fee_item_id == item_id)
                                             & (Bill.period == b["period"])).first()
        if old is None:
            await scope.insert(Bill, project_id=pid, unit_id=b["unit_id"], customer_id=b["customer_id"],
                               fee_item_id=item_id, period=b["period"], period_no=period_no(b["period"]),
                               due_date=b["due_date"], quantity=1, amount_fen=int(b["amount_fen"]), paid_fen=0)
            created += 1
        elif old["paid_fen"] == 0 and (old["amount_fen"], old["customer_id"], old["due_date"]) != (
                b["amount_fen"], b["customer_id"], b["due_date"]):
            await scope.update(Bill, {Bill.amount_fen: int(b["amount_fen"]), Bill.customer_id: b["customer_id"],
                                      Bill.due_date: b["due_date"]}).where(Bill.id == old["id"])
            updated += 1
    return {"created": created, "updated": updated}
