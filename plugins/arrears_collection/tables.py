"""Tables of arrears collection: fee items, bills, payments with receipts, and the collection ladder.

Money is integer fen everywhere. Composite indexes lead with tenant_id and are created by the raw
migration step (`INDEXES` below is the list it creates).
"""
from __future__ import annotations

from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import tables as core_tables

Tenant, Project, Unit, Customer, User = (core_tables.Tenant, core_tables.Project, core_tables.Unit,
                                         core_tables.Customer, core_tables.User)


class FeeItem(Table, tablename="arrears_collection_fee_item"):
    """A published fee item of a project (收费项目): standard in fen on a basis, and the document it rests on."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    code = Varchar(length=50, null=False)
    name = Varchar(length=100, null=False)
    basis = Varchar(length=20, null=False)  # area_month | unit_month | metered | external
    standard_fen = BigInt(default=0)  # per m² per month | per unit per month | per metered unit
    unit_label = Varchar(length=20, default="")
    basis_text = Varchar(length=300, default="")  # the published basis (收费依据)
    unit_use = Varchar(length=20, default="")  # only units of this use ("" = every unit)
    source = Varchar(length=60, default="")  # the plugin whose charges use it (external items)
    is_active = Boolean(default=True)
    published_on = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Bill(Table, tablename="arrears_collection_bill"):
    """One fee item of one unit for one month, payable by the customer holding the unit (账单)."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    unit_id = ForeignKey(Unit, null=False)
    customer_id = ForeignKey(Customer, null=False)
    fee_item_id = ForeignKey(FeeItem, null=False)
    period = Varchar(length=7, null=False)  # YYYY-MM
    period_no = Integer(null=False)  # year * 12 + month - 1, for month arithmetic in SQL
    due_date = Date(null=False)
    quantity = BigInt(default=0)
    amount_fen = BigInt(null=False)
    paid_fen = BigInt(default=0)
    paid_on = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ReceiptCounter(Table, tablename="arrears_collection_receipt_counter"):
    """The last receipt number of a project, advanced in each payment's transaction (no gaps)."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    last_seq = Integer(default=0)


class Payment(Table, tablename="arrears_collection_payment"):
    """Money received from a customer, with its receipt number (缴费 / 收据)."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    customer_id = ForeignKey(Customer, null=False)
    amount_fen = BigInt(null=False)
    method = Varchar(length=20, null=False)  # cash | wechat | alipay | bank_card | transfer
    paid_on = Date(null=False)
    receipt_seq = Integer(null=False)
    receipt_no = Varchar(length=40, null=False)
    received_by = ForeignKey(User, null=True, default=None)
    note = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Allocation(Table, tablename="arrears_collection_allocation"):
    """The part of a payment that settles one bill (oldest bills first)."""

    tenant_id = ForeignKey(Tenant, null=False)
    payment_id = ForeignKey(Payment, null=False)
    bill_id = ForeignKey(Bill, null=False)
    amount_fen = BigInt(null=False)


class Case(Table, tablename="arrears_collection_case"):
    """One episode of arrears of a customer in a project, from the first overdue month until cleared."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    customer_id = ForeignKey(Customer, null=False)
    status = Varchar(length=10, default="open")  # open | closed
    opened_period = Varchar(length=7, null=False)
    opened_on = Date(null=False)
    closed_on = Date(null=True, default=None)
    closed_reason = Varchar(length=20, default="")  # cleared
    created_at = Timestamptz(default=TimestamptzNow())


class Task(Table, tablename="arrears_collection_task"):
    """A step of the collection ladder for a named staff member, with its due date and outcome."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    case_id = ForeignKey(Case, null=False)
    customer_id = ForeignKey(Customer, null=False)
    unit_id = ForeignKey(Unit, null=True, default=None)
    kind = Varchar(length=30, null=False)  # reminder | notice | legal_notice | lawyer_letter | sue | preservation | transfer_alert
    rung = Varchar(length=30, null=False)
    dedup_key = Varchar(length=20, null=False)
    period = Varchar(length=7, null=False)
    period_no = Integer(null=False)
    assignee_id = ForeignKey(User, null=False)
    due_date = Date(null=False)
    status = Varchar(length=12, default="open")  # open | done | cancelled
    months_overdue = Integer(default=0)
    owed_fen = BigInt(default=0)
    late_fee_fen = BigInt(default=0)
    delivery = Varchar(length=20, default="")  # phone | sms | visit | in_person | mail | express | in_writing
    outcome = Varchar(length=20, default="")
    promised_on = Date(null=True, default=None)
    tracking_no = Varchar(length=60, default="")
    signed = Boolean(null=True, default=None)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    done_at = Timestamptz(null=True, default=None)
    done_by = ForeignKey(User, null=True, default=None)


class Watch(Table, tablename="arrears_collection_watch"):
    """A unit whose customer is more than 3 months overdue: a sale or transfer alerts finance."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    case_id = ForeignKey(Case, null=False)
    unit_id = ForeignKey(Unit, null=False)
    customer_id = ForeignKey(Customer, null=False)
    since_period = Varchar(length=7, null=False)
    started_on = Date(null=False)
    ended_on = Date(null=True, default=None)
    alerted_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = (FeeItem, Bill, ReceiptCounter, Payment, Allocation, Case, Task, Watch)

# (name, table, columns, unique, where)
INDEXES: tuple[tuple[str, str, str, bool, str], ...] = (
    ("arrears_collection_fee_item_code", "arrears_collection_fee_item", "tenant_id, project_id, code", True, ""),
    ("arrears_collection_bill_key", "arrears_collection_bill", "tenant_id, unit_id, fee_item_id, period", True, ""),
    ("arrears_collection_bill_project", "arrears_collection_bill", "tenant_id, project_id, period_no", False, ""),
    ("arrears_collection_bill_customer", "arrears_collection_bill", "tenant_id, customer_id, project_id, period_no",
     False, ""),
    ("arrears_collection_bill_unpaid", "arrears_collection_bill", "tenant_id, project_id, customer_id, period_no",
     False, "paid_fen < amount_fen"),
    ("arrears_collection_receipt_counter_key", "arrears_collection_receipt_counter", "tenant_id, project_id", True, ""),
    ("arrears_collection_payment_receipt", "arrears_collection_payment", "tenant_id, project_id, receipt_seq", True, ""),
    ("arrears_collection_payment_customer", "arrears_collection_payment", "tenant_id, customer_id, id", False, ""),
    ("arrears_collection_allocation_payment", "arrears_collection_allocation", "tenant_id, payment_id", False, ""),
    ("arrears_collection_allocation_bill", "arrears_collection_allocation", "tenant_id, bill_id", False, ""),
    ("arrears_collection_case_open", "arrears_collection_case", "tenant_id, project_id, customer_id", True,
     "status = 'open'"),
    ("arrears_collection_case_customer", "arrears_collection_case", "tenant_id, customer_id, id", False, ""),
    ("arrears_collection_task_key", "arrears_collection_task", "tenant_id, case_id, kind, dedup_key", True, ""),
    ("arrears_collection_task_assignee", "arrears_collection_task", "tenant_id, assignee_id, status, due_date", False, ""),
    ("arrears_collection_task_project", "arrears_collection_task", "tenant_id, project_id, status, id", False, ""),
    ("arrears_collection_watch_key", "arrears_collection_watch", "tenant_id, case_id, unit_id", True, ""),
    ("arrears_collection_watch_unit", "arrears_collection_watch", "tenant_id, unit_id, ended_on", False, ""),
)
