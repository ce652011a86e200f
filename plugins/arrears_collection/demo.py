"""Demo data of arrears collection: published fee items, a month of bills, payments with receipts, and
customers on every rung of the collection ladder, built by replaying the monthly ladder month by month."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from core import TenantScope, places, principal_of, tables
from plugins.arrears_collection import services as svc
from plugins.arrears_collection.tables import Task

# months in arrears at the demo's "now", per customer: every rung of the ladder
ESTATE_PLAN = (("reminder", 2), ("watched", 5), ("letter", 8), ("second_letter", 14), ("sue", 20), ("paid", 3))
PLAZA_PLAN = (("large_reminder", 2), ("large_letter", 5), ("large_sue", 7))


async def _owners(scope: TenantScope, project_id: int, role: str, before: date, count: int) -> list[dict[str, Any]]:
    O = tables.Occupancy
    rows = await scope.select(O, O.customer_id, O.unit_id).where(
        (O.unit_id.project_id == project_id) & (O.role == role) & O.end_date.is_null() & (O.start_date <= before)
    ).order_by(O.unit_id).limit(count * 3)
    seen, out = set(), []
    for r in rows:
        if r["customer_id"] not in seen:
            seen.add(r["customer_id"])
            out.append(r)
    return out[:count]


async def seed(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: datetime) -> None:
    scope = TenantScope(tenant_id)
    finance = await principal_of(tenant_id, staff["finance"])
    today = svc.local_date(as_of)
    current = svc.period_of(today)
    cur_no = svc.period_no(current)
    first_no = cur_no - 22
    published = svc.period_bounds(svc.period_from_no(first_no))[0]
    estate, plaza = projects["residential"], projects["commercial"]
    items = [
        (estate, "PROP", "物业服务费", "area_month", 280, "m²·月", "深发改〔2019〕物业服务收费备案", "residential"),
        (estate, "WASTE", "生活垃圾处理费", "unit_month", 800, "户·月", "市城管局生活垃圾处理费标准", "residential"),
        (estate, "WATER", "二次供水水费", "metered", 420, "m³", "市水务局二次供水价格", ""),
        (plaza, "PROP", "写字楼物业服务费", "area_month", 1500, "m²·月", "物业服务合同第五条", ""),
    ]
    for project, code, name, basis, std, unit_label, basis_text, use in items:
        await svc.create_fee_item(finance, {"project_id": project["id"], "code": code, "name": name, "basis": basis,
                                            "standard_fen": std, "unit_label": unit_label, "basis_text": basis_text,
                                            "unit_use": use, "published_on": published})
    before = published
    plan: list[tuple[dict[str, Any], str, int, dict[str, Any]]] = []
    for (label, months), holder in zip(ESTATE_PLAN, await _owners(scope, estate["id"], "owner", before, len(ESTATE_PLAN))):
        plan.append((estate, label, months, holder))
    for (label, months), holder in zip(PLAZA_PLAN, await _owners(scope, plaza["id"], "company", before, len(PLAZA_PLAN))):
        plan.append((plaza, label, months, holder))
    # replay the months: back-bill the customers in arrears, then run the ladder on the 1st of the next month
    for back in range(max(m for _, _, m, _ in plan), 0, -1):
        period = svc.period_from_no(cur_no - back)
        for project in (estate, plaza):
            units = [h["unit_id"] for p, _, m, h in plan if p is project and m >= back]
            if units:
                await svc.generate_bills(tenant_id, project, period, now=as_of, unit_ids=units)
        first_of_next = svc.period_bounds(svc.period_from_no(cur_no - back + 1))[0]
        await svc.run_ladder_for_tenant(tenant_id, first_of_next, now=as_of)
    await svc.run_ladder_for_tenant(tenant_id, today, now=as_of)
    # this month's bills for everyone, and a metered water charge
    for project in (estate, plaza):
        await svc.generate_bills(tenant_id, project, current, now=as_of)
    water = [f for f in await svc.list_fee_items(finance, estate["id"]) if f["code"] == "WATER"][0]
    await svc.add_metered_bill(finance, {"fee_item_id": water["id"], "unit_id": plan[0][3]["unit_id"], "period": current,
                                         "quantity": 12}, as_of)
    by_label = {label: holder for _, label, _, holder in plan}
    # the customer 3 months in arrears pays everything: the ladder stops
    paid = by_label["paid"]
    owed = await _owed(scope, estate["id"], paid["customer_id"])
    await svc.record_payment(finance, {"project_id": estate["id"], "customer_id": paid["customer_id"], "amount_fen": owed,
                                       "method": "wechat", "paid_on": today, "note": "补缴欠费"}, as_of)
    # some households pay this month's bills
    payers = await scope.select(tables.Occupancy, tables.Occupancy.customer_id).where(
        (tables.Occupancy.unit_id.project_id == estate["id"]) & (tables.Occupancy.role == "owner")
        & tables.Occupancy.end_date.is_null()).order_by(tables.Occupancy.id, ascending=False).limit(25)
    in_plan = {h["customer_id"] for _, _, _, h in plan}
    for i, row in enumerate(r for r in payers if r["customer_id"] not in in_plan):
        owed = await _owed(scope, estate["id"], row["customer_id"])
        if owed:
            await svc.record_payment(finance, {"project_id": estate["id"], "customer_id": row["customer_id"],
                                               "amount_fen": owed, "method": ("wechat", "alipay", "cash", "bank_card")[i % 4],
                                               "paid_on": today - timedelta(days=i % 5)}, as_of)
    # outcomes recorded by the staff named on the steps
    await _outcome(finance, by_label["reminder"]["customer_id"], "reminder",
                   {"outcome": "promised", "promised_on": today + timedelta(days=10), "delivery": "phone",
                    "note": "业主承诺月中缴清"}, as_of)
    await _outcome(finance, by_label["reminder"]["customer_id"], "notice",
                   {"outcome": "signed", "delivery": "in_person", "note": "送达本人签收"}, as_of)
    await _outcome(finance, by_label["watched"]["customer_id"], "reminder",
                   {"outcome": "refused", "delivery": "phone", "note": "对服务有意见,拒绝缴费"}, as_of)
    await _outcome(finance, by_label["letter"]["customer_id"], "legal_notice", {"outcome": "sent"}, as_of)
    await _outcome(finance, by_label["letter"]["customer_id"], "lawyer_letter",
                   {"outcome": "sent", "delivery": "express", "tracking_no": "SF1402857361"}, as_of)
    await _outcome(finance, by_label["sue"]["customer_id"], "sue", {"outcome": "won", "note": "一审胜诉"}, as_of)
    await _outcome(finance, by_label["large_sue"]["customer_id"], "sue", {"outcome": "filed", "note": "已立案"}, as_of)
    # the watched unit is sold: finance is alerted at once
    watched = by_label["watched"]
    desk = await principal_of(tenant_id, staff["front_desk"])
    buyer = await scope.insert(tables.Customer, name="买受人 陈先生", phone="13900001111", kind="person")
    await places.move_in(desk, buyer["id"], watched["unit_id"], "owner", today)


async def _owed(scope: TenantScope, project_id: int, customer_id: int) -> int:
    rows = await scope.select(svc.Bill, svc.Bill.amount_fen, svc.Bill.paid_fen).where(
        (svc.Bill.project_id == project_id) & (svc.Bill.customer_id == customer_id))
    return sum(r["amount_fen"] - r["paid_fen"] for r in rows)


async def _outcome(principal: Any, customer_id: int, kind: str, data: dict[str, Any], now: datetime) -> None:
    task = await principal.scope.select(Task, Task.id).where(
        (Task.customer_id == customer_id) & (Task.kind == kind) & (Task.status == "open")).order_by(Task.id).first()
    if task:
        await svc.record_outcome(principal, task["id"], data, now)
