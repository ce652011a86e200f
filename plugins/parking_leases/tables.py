"""Tables of the parking leases plugin (车位租赁). Every row belongs to a tenant; composite indexes,
each leading with tenant_id, are created by the plugin's raw migration step (see `INDEXES`)."""
from __future__ import annotations

from piccolo.columns import JSON, BigInt, Bytea, Date, ForeignKey, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import tables as core_tables

Tenant, Project, Customer, Unit, User = (core_tables.Tenant, core_tables.Project, core_tables.Customer,
                                         core_tables.Unit, core_tables.User)


class Garage(Table, tablename="parking_leases_garage"):
    """A garage or a surface lot of one project."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    code = Varchar(length=30, null=False)
    name = Varchar(length=100, null=False)
    kind = Varchar(length=10, default="garage")  # garage | surface
    created_at = Timestamptz(default=TimestamptzNow())


class Space(Table, tablename="parking_leases_space"):
    """A parking space (车位): zone or level, number, type and status."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    garage_id = ForeignKey(Garage, null=False)
    zone = Varchar(length=30, default="")
    number = Varchar(length=30, null=False)
    space_type = Varchar(length=20, default="standard")  # standard | small | accessible | ev | vip
    status = Varchar(length=20, default="free")  # free | leased | reserved | out_of_service
    note = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Plan(Table, tablename="parking_leases_plan"):
    """The parking plan of a project as decided by the owners' general meeting, published with its fees."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    title = Varchar(length=200, null=False)
    decision_ref = Varchar(length=100, null=False)
    decision_date = Date(null=False)
    summary = Text(default="")
    required_documents = JSON(default="[]")
    process_steps = JSON(default="[]")
    published_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Fee(Table, tablename="parking_leases_fee"):
    """The published fee of one space type for one term, in fen."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    plan_id = ForeignKey(Plan, null=False)
    space_type = Varchar(length=20, null=False)
    term = Varchar(length=10, null=False)  # monthly | quarterly | yearly
    amount_fen = Integer(null=False)
    deposit_fen = Integer(default=0)


class Application(Table, tablename="parking_leases_application"):
    """A customer's application for a space, from receipt at the desk to the signed lease."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    customer_id = ForeignKey(Customer, null=False)
    unit_id = ForeignKey(Unit, null=True, default=None)
    holder_role = Varchar(length=20, default="")
    priority = SmallInt(default=9)
    space_type = Varchar(length=20, null=False)
    term = Varchar(length=10, null=False)
    plates = JSON(default="[]")
    status = Varchar(length=20, default="received")
    checklist = JSON(default="{}")
    received_at = Timestamptz(null=False)
    checked_at = Timestamptz(null=True, default=None)
    waitlisted_at = Timestamptz(null=True, default=None)
    resumed_at = Timestamptz(null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    waited_seconds = Integer(default=0)
    handling_seconds = Integer(null=True, default=None)
    received_by = ForeignKey(User, null=True, default=None)
    handled_by = ForeignKey(User, null=True, default=None)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Document(Table, tablename="parking_leases_document"):
    """A file attached to an application for one required document (kept in the database)."""

    tenant_id = ForeignKey(Tenant, null=False)
    application_id = ForeignKey(Application, null=False)
    requirement = Varchar(length=100, null=False)
    filename = Varchar(length=200, null=False)
    content_type = Varchar(length=100, null=False)
    size_bytes = Integer(null=False)
    content = Bytea(null=False)
    uploaded_by = ForeignKey(User, null=True, default=None)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class WaitlistEntry(Table, tablename="parking_leases_waitlist"):
    """An applicant waiting for a space of a type that is full, with the reason given to them in writing."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    application_id = ForeignKey(Application, null=False)
    customer_id = ForeignKey(Customer, null=False)
    space_type = Varchar(length=20, null=False)
    priority = SmallInt(default=9)
    joined_at = Timestamptz(null=False)
    position_at_join = Integer(null=False)
    reason = Text(null=False)
    status = Varchar(length=20, default="waiting")  # waiting | offered | accepted | lapsed | declined | withdrawn
    left_at = Timestamptz(null=True, default=None)


class Offer(Table, tablename="parking_leases_offer"):
    """A space offered to an applicant, with a deadline to accept."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    application_id = ForeignKey(Application, null=False)
    waitlist_id = ForeignKey(WaitlistEntry, null=True, default=None)
    space_id = ForeignKey(Space, null=False)
    offered_at = Timestamptz(null=False)
    deadline_at = Timestamptz(null=False)
    status = Varchar(length=20, default="open")  # open | accepted | declined | expired
    decided_at = Timestamptz(null=True, default=None)


class Lease(Table, tablename="parking_leases_lease"):
    """A signed lease of one space: term, fee, deposit, dates; one active lease per space."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    space_id = ForeignKey(Space, null=False)
    customer_id = ForeignKey(Customer, null=False)
    application_id = ForeignKey(Application, null=True, default=None)
    term = Varchar(length=10, null=False)
    fee_fen = Integer(null=False)
    deposit_fen = Integer(default=0)
    start_date = Date(null=False)
    end_date = Date(null=False)
    status = Varchar(length=20, default="active")  # active | expired | terminated
    signed_at = Timestamptz(null=False)
    signed_by = ForeignKey(User, null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    termination_reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Plate(Table, tablename="parking_leases_plate"):
    """A vehicle plate listed on a lease (a lease may list more than one)."""

    tenant_id = ForeignKey(Tenant, null=False)
    lease_id = ForeignKey(Lease, null=False)
    plate = Varchar(length=20, null=False)


class Reminder(Table, tablename="parking_leases_reminder"):
    """A renewal reminder sent for a lease's end date (30 or 7 days before); never twice."""

    tenant_id = ForeignKey(Tenant, null=False)
    lease_id = ForeignKey(Lease, null=False)
    end_date = Date(null=False)
    days_before = SmallInt(null=False)
    sent_at = Timestamptz(null=False)


class Charge(Table, tablename="parking_leases_charge"):
    """A fee or deposit billed for a lease term (handed to the arrears plugin when it is enabled)."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    lease_id = ForeignKey(Lease, null=False)
    customer_id = ForeignKey(Customer, null=False)
    kind = Varchar(length=10, null=False)  # fee | deposit
    month = Varchar(length=7, null=False)  # YYYY-MM of the period's start
    period_start = Date(null=False)
    period_end = Date(null=False)
    amount_fen = BigInt(null=False)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES: tuple[type[Table], ...] = (Garage, Space, Plan, Fee, Application, Document, WaitlistEntry, Offer, Lease, Plate,
                                   Reminder, Charge)

# (name, table, columns, unique, where) — each leads with tenant_id.
INDEXES: tuple[tuple[str, str, str, bool, str], ...] = (
    ("parking_leases_garage_code", "parking_leases_garage", "tenant_id, project_id, code", True, ""),
    ("parking_leases_space_number", "parking_leases_space", "tenant_id, garage_id, number", True, ""),
    ("parking_leases_space_free", "parking_leases_space", "tenant_id, project_id, space_type, status", False, ""),
    ("parking_leases_plan_project", "parking_leases_plan", "tenant_id, project_id", True, ""),
    ("parking_leases_fee_key", "parking_leases_fee", "tenant_id, plan_id, space_type, term", True, ""),
    ("parking_leases_application_project", "parking_leases_application", "tenant_id, project_id, status, id", False, ""),
    ("parking_leases_application_customer", "parking_leases_application", "tenant_id, customer_id", False, ""),
    ("parking_leases_document_application", "parking_leases_document", "tenant_id, application_id", False, ""),
    ("parking_leases_waitlist_application", "parking_leases_waitlist", "tenant_id, application_id", True, ""),
    ("parking_leases_waitlist_queue", "parking_leases_waitlist",
     "tenant_id, project_id, space_type, status, priority, joined_at", False, ""),
    ("parking_leases_offer_open_space", "parking_leases_offer", "tenant_id, space_id", True, "status = 'open'"),
    ("parking_leases_offer_due", "parking_leases_offer", "tenant_id, status, deadline_at", False, ""),
    ("parking_leases_lease_active_space", "parking_leases_lease", "tenant_id, space_id", True, "status = 'active'"),
    ("parking_leases_lease_end", "parking_leases_lease", "tenant_id, status, end_date", False, ""),
    ("parking_leases_lease_customer", "parking_leases_lease", "tenant_id, customer_id", False, ""),
    ("parking_leases_plate_lease", "parking_leases_plate", "tenant_id, lease_id", False, ""),
    ("parking_leases_plate_plate", "parking_leases_plate", "tenant_id, plate", False, ""),
    ("parking_leases_reminder_key", "parking_leases_reminder", "tenant_id, lease_id, end_date, days_before", True, ""),
    ("parking_leases_charge_key", "parking_leases_charge", "tenant_id, lease_id, kind, period_start", True, ""),
    ("parking_leases_charge_month", "parking_leases_charge", "tenant_id, project_id, month", False, ""),
)
