"""Arrears collection (欠费追缴): Fee items, bills, payments and receipts, the collection ladder, notices and lawyer's letters."""
from core import PluginMeta

plugin = PluginMeta(
    name="arrears_collection",
    version="0.1.0",
    title="Arrears collection",
    title_zh="欠费追缴",
    description="Fee items, bills, payments and receipts, the collection ladder, notices and lawyer's letters.",
    core_version=">=0.1,<1",
    settings={
        # the tenant's late-fee rule: a daily rate in ‱ of the overdue amount, or a monthly percentage
        "late_fee_daily_per_10k": 5,
        "late_fee_monthly_percent": 0,
        # seed 001: a large customer manages over 1.5 ‰ (15 ‱) of the project's total managed area
        "large_customer_area_per_10k": 15,
        "ordinary_legal_months": 6,
        "ordinary_sue_months": 18,
        "letter_interval_months": 6,
        "large_letter_after_months": 3,
        "large_sue_months": 6,
        "watch_after_months": 3,
        # days each step is given; the law firm named on letters; the staff member who answers for collection
        "due_days": {},
        "legal_adviser": "",
        "collector_user_id": None,
    },
    dependencies=(),
    project_kinds=None,
)
