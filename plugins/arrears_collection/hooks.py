"""Hook implementations of arrears collection."""
from __future__ import annotations

import os

from core import MANAGERS, MenuItem, PeriodicJob, Permission, hookimpl

FINANCE = ("finance",)
COLLECTORS = ("finance", *MANAGERS, "team_lead", "front_desk", "butler")


@hookimpl
def register_routes():
    from plugins.arrears_collection.controllers import ROUTES

    return ROUTES


@hookimpl
def register_permissions():
    return [
        Permission("arrears_collection.read", "See fee items, bills, payments, arrears and the ladder",
                   (*FINANCE, *MANAGERS)),
        Permission("arrears_collection.manage", "Publish fee items, run billing and the ladder", FINANCE),
        Permission("arrears_collection.pay", "Receive payments and issue receipts", FINANCE),
        Permission("arrears_collection.collect", "Carry out ladder steps named for you and record outcomes", COLLECTORS),
    ]


@hookimpl
def register_menu_items():
    return [MenuItem("arrears_collection", "欠费追缴", "Arrears", "/portal/arrears-collection",
                     roles=(*FINANCE, *MANAGERS), order=60, plugin="arrears_collection"),
            MenuItem("arrears_collection.tasks", "催缴任务", "Collection steps", "/portal/arrears-collection/tasks",
                     roles=COLLECTORS, order=61, plugin="arrears_collection")]


@hookimpl
def register_periodic_jobs():
    return [
        PeriodicJob("arrears_collection.bill_month", "arrears_collection.bill_month", "monthly 1 01:00",
                    "Bill every held unit for the new month (idempotent)"),
        PeriodicJob("arrears_collection.ladder", "arrears_collection.ladder", "monthly 1 03:00",
                    "The collection ladder: reminders, notices, lawyer's letters, suits, transfer watch"),
    ]


@hookimpl
def register_template_dirs():
    return [os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")]


@hookimpl
async def on_ownership_changed(tenant_id, unit_id, previous_owner_ids, new_owner_id, on_date):
    from plugins.arrears_collection import services

    await services.ownership_changed(tenant_id, unit_id, list(previous_owner_ids or []), new_owner_id, on_date)


@hookimpl
async def seed_demo(tenant_id, projects, staff, as_of):
    from plugins.arrears_collection import demo

    await demo.seed(tenant_id, projects, staff, as_of)


@hookimpl
async def import_opening_balances(tenant_id, project, balances):
    """Opening balances (期初欠费) from onboarding become unpaid bills, so the ladder collects them."""
    from plugins.arrears_collection import opening

    return await opening.import_opening_balances(tenant_id, project, balances)


@hookimpl
async def collect_personal_data(tenant_id, customer_id):
    from core import personal_data
    from plugins.arrears_collection import tables as t

    payments = personal_data.Holding(t.Payment, "customer_id")
    return await personal_data.collect(tenant_id, customer_id, [
        personal_data.Holding(t.Bill, "customer_id"), payments,
        personal_data.Holding(t.Allocation, "payment_id", parent=payments),
        personal_data.Holding(t.Case, "customer_id"), personal_data.Holding(t.Task, "customer_id"),
        personal_data.Holding(t.Watch, "customer_id")])


@hookimpl
async def erase_personal_data(tenant_id, customer_id, keep_records, placeholder):
    """Bills, payments and receipts are kept (accounting law); collectors' free-text notes are cleared.
    Refused while an arrears case is open: the debt is still being collected."""
    from core import TenantScope, conflict, personal_data
    from plugins.arrears_collection import tables as t

    if await TenantScope(tenant_id).exists(t.Case).where((t.Case.customer_id == customer_id) & (t.Case.status == "open")):
        raise conflict("The customer has an open arrears case; it must be cleared before the data is erased.")
    return await personal_data.erase_holdings(tenant_id, customer_id, [
        personal_data.Holding(t.Bill, "customer_id"), personal_data.Holding(t.Payment, "customer_id", erase={"note": ""}),
        personal_data.Holding(t.Case, "customer_id"), personal_data.Holding(t.Task, "customer_id", erase={"note": ""}),
        personal_data.Holding(t.Watch, "customer_id")], keep_records=keep_records, placeholder=placeholder)


def _yuan(fen: int) -> str:
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


@hookimpl
async def customer_file_sections(tenant_id, customer_id, principal):
    """The customer's bills (latest 24, with what is still owed) and payments with their receipts."""
    if not principal.can("arrears_collection.read"):
        return None
    from core import TenantScope
    from plugins.arrears_collection import tables as t

    scope = TenantScope(tenant_id)
    bills = await (scope.select(t.Bill, t.Bill.period, t.Bill.fee_item_id.name.as_alias("item"), t.Bill.amount_fen,
                                t.Bill.paid_fen, t.Bill.due_date)
                   .where(t.Bill.customer_id == customer_id).order_by(t.Bill.period_no, ascending=False).limit(24))
    owed = await (scope.select(t.Bill, t.Bill.amount_fen, t.Bill.paid_fen)
                  .where((t.Bill.customer_id == customer_id) & (t.Bill.paid_fen < t.Bill.amount_fen)))
    payments = await (scope.select(t.Payment, t.Payment.receipt_no, t.Payment.paid_on, t.Payment.amount_fen,
                                   t.Payment.method)
                      .where(t.Payment.customer_id == customer_id).order_by(t.Payment.id, ascending=False).limit(20))
    total_owed = sum(b["amount_fen"] - b["paid_fen"] for b in owed)
    return [
        {"title_zh": "账单与欠费", "title_en": "Bills and arrears", "link": "/portal/arrears-collection",
         "note": f"欠费合计 / owed in all: {_yuan(total_owed)} ({len(owed)})",
         "columns": [["账期", "Period"], ["收费项目", "Fee item"], ["应收", "Amount"], ["已收", "Paid"], ["到期日", "Due"]],
         "rows": [[b["period"], b["item"], _yuan(b["amount_fen"]), _yuan(b["paid_fen"]), str(b["due_date"])] for b in bills]},
        {"title_zh": "缴费记录", "title_en": "Payments",
         "columns": [["收据号", "Receipt"], ["日期", "Date"], ["金额", "Amount"], ["方式", "Method"]],
         "rows": [[p["receipt_no"], str(p["paid_on"]), _yuan(p["amount_fen"]), p["method"]] for p in payments]},
    ]
