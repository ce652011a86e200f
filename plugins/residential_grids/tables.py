"""Tables of the residential grids plugin: butler assignments, gold-butler applications, the call/visit
register, prepared answers, parcels and their signatures, monthly evaluations and public requests.

Every table is tenant-owned; composite indexes lead with `tenant_id` (see `INDEXES`, created by the
plugin's migration).
"""
from __future__ import annotations

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import tables as core_tables


class Assignment(Table, tablename="residential_grids_assignment"):
    """Who held a grid when: one current holder per grid, one current grid per holder (ended_at null = current)."""

    tenant_id = ForeignKey(core_tables.Tenant, null=False)
    project_id = ForeignKey(core_tables.Project, null=False)
    grid_id = ForeignKey(core_tables.Grid, null=False)
    user_id = ForeignKey(core_tables.User, null=False)
    role = Varchar(length=20, default="butler")  # butler | team_lead
    started_at = Timestamptz(default=TimestamptzNow())
    ended_at = Timestamptz(null=True, default=None)
    assigned_by_id = ForeignKey(core_tables.User, null=True, default=None)
    note = Varchar(length=200, default="")


class GoldApplication(Table, tablename="residential_grids_gold_application"):
    """A butler's application for promotion to gold butler (金牌管家) and the supervisor's decision."""

    tenant_id = ForeignKey(core_tables.Tenant, null=False)
    project_id = ForeignKey(core_tables.Project, null=False)
    user_id = ForeignKey(core_tables.User, null=False)
    reason = Text(default="")
    status = Varchar(length=10, default="pending")  # pending | approved | rejected
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    decided_by_id = ForeignKey(core_tables.User, null=True, default=None)
    decision_reason = Text(default="")


class PreparedAnswer(Table, tablename="residential_grids_prepared_answer"):
    """A prepared answer (答客问) of one project, searchable by the front desk."""

    tenant_id = ForeignKey(core_tables.Tenant, null=False)
    project_id = ForeignKey(core_tables.Project, null=False)
    question = Varchar(length=300, null=False)
    answer = Text(default="")
    keywords = Varchar(length=300, default="")
    is_active = Boolean(default=True)
    use_count = Integer(default=0)
    created_by_id = ForeignKey(core_tables.User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class RegisterEntry(Table, tablename="residential_grids_register_entry"):
    """One line of the call/visit register (来电来访登记表)."""

    tenant_id = ForeignKey(core_tables.Tenant, null=False)
    project_id = ForeignKey(core_tables.Project, null=False)
    channel = Varchar(length=10, default="call")  # call | visit
    at = Timestamptz(default=TimestamptzNow())
    staff_id = ForeignKey(core_tables.User, null=False)
    unit_id = ForeignKey(core_tables.Unit, null=True, default=None)
    customer_id = ForeignKey(core_tables.Customer, null=True, default=None)
    phone = Varchar(length=40, default="")
    caller_name = Varchar(length=100, default="")
    subject = Varchar(length=200, null=False)
    content = Text(default="")
    answer = Text(default="")
    prepared_answer_id = ForeignKey(PreparedAnswer, null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    promised_reply_at = Timestamptz(null=True, default=None)
    overdue_at = Timestamptz(null=True, default=None)
    ticket_id = ForeignKey(core_tables.Ticket, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Parcel(Table, tablename="residential_grids_parcel"):
    """A parcel (快递) held at the front desk until the household or its named delegate signs for it."""

    tenant_id = ForeignKey(core_tables.Tenant, null=False)
    project_id = ForeignKey(core_tables.Project, null=False)
    building_id = ForeignKey(core_tables.Building, null=False)
    unit_id = ForeignKey(core_tables.Unit, null=False)
    carrier = Varchar(length=50, null=False)
    tracking_no = Varchar(length=80, null=False)
    recipient_name = Varchar(length=100, default="")
    received_at = Timestamptz(default=TimestamptzNow())
    received_by_id = ForeignKey(core_tables.User, null=False)
    status = Varchar(length=10, default="waiting")  # waiting | released
    delegate_name = Varchar(length=100, default="")
    delegate_phone = Varchar(length=40, default="")
    released_at = Timestamptz(null=True, default=None)
    released_by_id = ForeignKey(core_tables.User, null=True, default=None)
    picker_kind = Varchar(length=10, default="")  # household | delegate
    picker_name = Varchar(length=100, default="")
    picker_customer_id = ForeignKey(core_tables.Customer, null=True, default=None)
    reminded_on = Date(null=True, default=None)
    reminders = SmallInt(default=0)
    flagged_at = Timestamptz(null=True, default=None)


class Signature(Table, tablename="residential_grids_signature"):
    """The signature captured at a parcel's release: a PNG, with who signed, when, and the staff member."""

    tenant_id = ForeignKey(core_tables.Tenant, null=False)
    parcel_id = ForeignKey(Parcel, null=False)
    image = Text(null=False)  # a data:image/png;base64 URL
    size_bytes = Integer(default=0)
    width = SmallInt(default=0)
    height = SmallInt(default=0)
    signer_name = Varchar(length=100, default="")
    signed_at = Timestamptz(default=TimestamptzNow())
    staff_id = ForeignKey(core_tables.User, null=False)


class Evaluation(Table, tablename="residential_grids_evaluation"):
    """A butler's monthly evaluation (月度考评): figures computed from tickets, then the supervisor's score."""

    tenant_id = ForeignKey(core_tables.Tenant, null=False)
    project_id = ForeignKey(core_tables.Project, null=False)
    user_id = ForeignKey(core_tables.User, null=False)
    grid_id = ForeignKey(core_tables.Grid, null=True, default=None)
    month = Varchar(length=7, null=False)  # YYYY-MM
    as_of = Timestamptz(default=TimestamptzNow())
    households = Integer(default=0)
    tickets_total = Integer(default=0)
    tickets_by_kind = JSON(default="{}")
    inquiries = Integer(default=0)
    inquiries_immediate = Integer(default=0)
    visits_due = Integer(default=0)
    visits_done = Integer(default=0)
    complaints_resolved = Integer(default=0)
    complaint_visits_in_time = Integer(default=0)
    own_fault_complaints = Integer(default=0)
    due_tickets = Integer(default=0)
    on_time_tickets = Integer(default=0)
    score = SmallInt(null=True, default=None)
    comment = Text(default="")
    evaluated_by_id = ForeignKey(core_tables.User, null=True, default=None)
    evaluated_at = Timestamptz(null=True, default=None)
    computed_at = Timestamptz(default=TimestamptzNow())


class PublicRequest(Table, tablename="residential_grids_public_request"):
    """A request filed from a grid's public board: the ticket it created and the address it came from."""

    tenant_id = ForeignKey(core_tables.Tenant, null=False)
    grid_id = ForeignKey(core_tables.Grid, null=False)
    address = Varchar(length=64, default="")
    kind = Varchar(length=20, default="inquiry")
    ticket_id = ForeignKey(core_tables.Ticket, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = (Assignment, GoldApplication, PreparedAnswer, RegisterEntry, Parcel, Signature, Evaluation, PublicRequest)

# (name, table, columns, unique, where) — created by the migration; each leads with tenant_id.
INDEXES: tuple[tuple[str, str, str, bool, str], ...] = (
    ("rg_assignment_grid", "residential_grids_assignment", "tenant_id, grid_id, started_at", False, ""),
    ("rg_assignment_current_grid", "residential_grids_assignment", "tenant_id, grid_id", True, "ended_at IS NULL"),
    ("rg_assignment_current_user", "residential_grids_assignment", "tenant_id, user_id", True, "ended_at IS NULL"),
    ("rg_assignment_project", "residential_grids_assignment", "tenant_id, project_id, started_at", False, ""),
    ("rg_gold_user", "residential_grids_gold_application", "tenant_id, user_id, status", False, ""),
    ("rg_gold_project", "residential_grids_gold_application", "tenant_id, project_id, id", False, ""),
    ("rg_answer_project", "residential_grids_prepared_answer", "tenant_id, project_id, is_active", False, ""),
    ("rg_register_project", "residential_grids_register_entry", "tenant_id, project_id, at", False, ""),
    ("rg_register_promised", "residential_grids_register_entry", "tenant_id, promised_reply_at", False, ""),
    ("rg_register_ticket", "residential_grids_register_entry", "tenant_id, ticket_id", False, ""),
    ("rg_parcel_tracking", "residential_grids_parcel", "tenant_id, project_id, carrier, tracking_no", True, ""),
    ("rg_parcel_waiting", "residential_grids_parcel", "tenant_id, status, received_at", False, ""),
    ("rg_parcel_project", "residential_grids_parcel", "tenant_id, project_id, received_at", False, ""),
    ("rg_parcel_unit", "residential_grids_parcel", "tenant_id, unit_id", False, ""),
    ("rg_signature_parcel", "residential_grids_signature", "tenant_id, parcel_id", True, ""),
    ("rg_evaluation_month", "residential_grids_evaluation", "tenant_id, project_id, user_id, month", True, ""),
    ("rg_public_request_address", "residential_grids_public_request", "tenant_id, address, created_at", False, ""),
    ("rg_public_request_grid", "residential_grids_public_request", "tenant_id, grid_id", False, ""),
)
