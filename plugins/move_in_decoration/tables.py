"""Tables of the move-in and decoration plugin (入伙与装修, seed 001). Every row belongs to a tenant;
composite indexes, each leading with tenant_id, are created by the plugin's raw migration step (`INDEXES`).

Deadlines are not kept here as clocks of their own: each review, problem notice, acceptance, deposit
refund and violation correction points at a kernel ticket (`ticket_id`) whose due time the SLA engine
computes and whose breach the kernel's sweep escalates.
"""
from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, Bytea, Date, ForeignKey, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import tables as core_tables

Tenant, Project, Unit, Customer, User = (core_tables.Tenant, core_tables.Project, core_tables.Unit,
                                         core_tables.Customer, core_tables.User)
Ticket, Notification, Occupancy = core_tables.Ticket, core_tables.Notification, core_tables.Occupancy


# ---------------------------------------------------------------- move-in (入伙)

class Batch(Table, tablename="move_in_decoration_batch"):
    """A move-in batch of one project: the units handed over together, over a period."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    code = Varchar(length=30, null=False)
    name = Varchar(length=200, null=False)
    starts_on = Date(null=False)
    ends_on = Date(null=False)
    status = Varchar(length=20, default="open")  # open | closed
    created_by = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Template(Table, tablename="move_in_decoration_template"):
    """A document template of a batch (notice, residents' guide, decoration rules, payment notice)."""

    tenant_id = ForeignKey(Tenant, null=False)
    batch_id = ForeignKey(Batch, null=False)
    kind = Varchar(length=30, null=False)
    title = Varchar(length=200, null=False)
    body = Text(default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class Slot(Table, tablename="move_in_decoration_slot"):
    """An appointment slot at the move-in desk, for a number of households."""

    tenant_id = ForeignKey(Tenant, null=False)
    batch_id = ForeignKey(Batch, null=False)
    starts_at = Timestamptz(null=False)
    ends_at = Timestamptz(null=False)
    capacity = SmallInt(default=1)


class Household(Table, tablename="move_in_decoration_household"):
    """One unit of a batch and the customer taking it: appointment, desk times, handover and inspection."""

    tenant_id = ForeignKey(Tenant, null=False)
    batch_id = ForeignKey(Batch, null=False)
    project_id = ForeignKey(Project, null=False)
    unit_id = ForeignKey(Unit, null=False)
    customer_id = ForeignKey(Customer, null=False)
    slot_id = ForeignKey(Slot, null=True, default=None)
    status = Varchar(length=20, default="invited")  # invited | arrived | at_desk | done
    fees = JSON(default="[]")  # [{"item", "amount_fen"}] shown at the desk and in the payment notice
    fees_total_fen = BigInt(default=0)
    delivered_at = Timestamptz(null=True, default=None)
    delivered_via = Varchar(length=20, default="")
    arrived_at = Timestamptz(null=True, default=None)
    desk_started_at = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    local_day = Date(null=True, default=None)  # the Beijing day of arrival, for the daily report
    waiting_seconds = Integer(null=True, default=None)  # arrival → desk start (target ≤ 15 minutes)
    processing_seconds = Integer(null=True, default=None)  # desk start → done (target ≤ 30 minutes)
    documents_checked = JSON(default="{}")
    verified_at = Timestamptz(null=True, default=None)
    keys_handed = SmallInt(null=True, default=None)
    cards_handed = SmallInt(null=True, default=None)
    handed_over_at = Timestamptz(null=True, default=None)
    inspected_at = Timestamptz(null=True, default=None)
    defects = SmallInt(default=0)
    move_in_date = Date(null=True, default=None)
    occupancy_id = ForeignKey(Occupancy, null=True, default=None)
    handled_by = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Document(Table, tablename="move_in_decoration_document"):
    """A document generated for one household from its batch's template."""

    tenant_id = ForeignKey(Tenant, null=False)
    household_id = ForeignKey(Household, null=False)
    kind = Varchar(length=30, null=False)
    title = Varchar(length=200, null=False)
    body = Text(default="")
    generated_at = Timestamptz(default=TimestamptzNow())


class InspectionItem(Table, tablename="move_in_decoration_inspection_item"):
    """One point of the unit's inspection at handover; a defect becomes an in-warranty repair ticket."""

    tenant_id = ForeignKey(Tenant, null=False)
    household_id = ForeignKey(Household, null=False)
    location = Varchar(length=100, null=False)
    description = Text(default="")
    defect = Boolean(default=False)
    ticket_id = ForeignKey(Ticket, null=True, default=None)
    recorded_by = ForeignKey(User, null=True, default=None)
    recorded_at = Timestamptz(default=TimestamptzNow())


# ---------------------------------------------------------------- decoration (装修)

class Application(Table, tablename="move_in_decoration_application"):
    """A decoration application for a unit: contractor, scope, drawings, period and deposit."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    unit_id = ForeignKey(Unit, null=False)
    customer_id = ForeignKey(Customer, null=False)
    contractor_company = Varchar(length=200, null=False)
    contractor_manager = Varchar(length=100, null=False)
    contractor_phone = Varchar(length=40, default="")
    scope = Text(default="")
    structural_change = Boolean(default=False)
    starts_on = Date(null=False)
    ends_on = Date(null=False)
    deposit_fen = BigInt(default=0)
    status = Varchar(length=30, default="submitted")
    submitted_at = Timestamptz(null=False)
    structural_reviewed_at = Timestamptz(null=True, default=None)
    structural_reviewed_by = ForeignKey(User, null=True, default=None)
    structural_note = Text(default="")
    approved_at = Timestamptz(null=True, default=None)
    reject_reason = Text(default="")
    created_by = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Worker(Table, tablename="move_in_decoration_worker"):
    """A worker of the contractor; the ID number is masked for roles that do not need it."""

    tenant_id = ForeignKey(Tenant, null=False)
    application_id = ForeignKey(Application, null=False)
    name = Varchar(length=100, null=False)
    id_number = Varchar(length=40, null=False)
    phone = Varchar(length=40, default="")
    trade = Varchar(length=50, default="")


class Patrol(Table, tablename="move_in_decoration_patrol"):
    """A patrol inspection of the works, with photos; violations found are recorded."""

    tenant_id = ForeignKey(Tenant, null=False)
    application_id = ForeignKey(Application, null=False)
    at = Timestamptz(null=False)
    inspector_id = ForeignKey(User, null=True, default=None)
    result = Varchar(length=20, default="ok")  # ok | violation
    note = Text(default="")


class Attachment(Table, tablename="move_in_decoration_attachment"):
    """A file: a drawing of an application or a photo of a patrol, checked and kept in the database like the
    kernel's ticket attachments (`core.attachments`)."""

    tenant_id = ForeignKey(Tenant, null=False)
    application_id = ForeignKey(Application, null=False)
    patrol_id = ForeignKey(Patrol, null=True, default=None)
    kind = Varchar(length=20, null=False)  # drawing | patrol_photo
    label = Varchar(length=100, default="")
    filename = Varchar(length=200, null=False)
    content_type = Varchar(length=100, null=False)
    size_bytes = Integer(null=False)
    content = Bytea(null=False)
    thumbnail = Bytea(null=True, default=None)  # a small JPEG of a photo, made at upload
    uploaded_by = ForeignKey(User, null=True, default=None)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class Review(Table, tablename="move_in_decoration_review"):
    """One round of review of an application (each submission opens one), due in 3 working days."""

    tenant_id = ForeignKey(Tenant, null=False)
    application_id = ForeignKey(Application, null=False)
    round = SmallInt(default=1)
    submitted_at = Timestamptz(null=False)
    due_at = Timestamptz(null=True, default=None)
    ticket_id = ForeignKey(Ticket, null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    reviewer_id = ForeignKey(User, null=True, default=None)
    outcome = Varchar(length=20, default="")  # "" (pending) | approved | problems | rejected
    note = Text(default="")


class Notice(Table, tablename="move_in_decoration_notice"):
    """Problems found, told to the applicant by the end of the day they were found."""

    tenant_id = ForeignKey(Tenant, null=False)
    application_id = ForeignKey(Application, null=False)
    review_id = ForeignKey(Review, null=True, default=None)
    found_at = Timestamptz(null=False)
    due_at = Timestamptz(null=True, default=None)
    ticket_id = ForeignKey(Ticket, null=True, default=None)
    notification_id = ForeignKey(Notification, null=True, default=None)
    channel = Varchar(length=20, default="")
    outcome = Varchar(length=20, default="")
    told_at = Timestamptz(null=True, default=None)
    told_via = Varchar(length=20, default="")  # the channel, phone or in_person
    told_by = ForeignKey(User, null=True, default=None)
    note = Text(default="")


class ReviewProblem(Table, tablename="move_in_decoration_problem"):
    """One problem of a notice, addressed when the applicant resubmits."""

    tenant_id = ForeignKey(Tenant, null=False)
    application_id = ForeignKey(Application, null=False)
    notice_id = ForeignKey(Notice, null=False)
    description = Text(null=False)
    addressed_at = Timestamptz(null=True, default=None)


class Permit(Table, tablename="move_in_decoration_permit"):
    """The decoration permit issued on approval, with its rules, work hours and quiet hours."""

    tenant_id = ForeignKey(Tenant, null=False)
    application_id = ForeignKey(Application, null=False)
    project_id = ForeignKey(Project, null=False)
    number = Varchar(length=40, null=False)
    issued_at = Timestamptz(null=False)
    issued_by = ForeignKey(User, null=True, default=None)
    valid_from = Date(null=False)
    valid_to = Date(null=False)
    work_hours = JSON(default="[]")  # [["08:00", "12:00"], ...]
    quiet_hours = JSON(default="[]")
    works_on_rest_days = Boolean(default=True)
    rules = JSON(default="[]")


class Violation(Table, tablename="move_in_decoration_violation"):
    """A violation found on patrol, tracked until its correction is verified."""

    tenant_id = ForeignKey(Tenant, null=False)
    application_id = ForeignKey(Application, null=False)
    patrol_id = ForeignKey(Patrol, null=False)
    description = Text(null=False)
    found_at = Timestamptz(null=False)
    correct_by = Timestamptz(null=True, default=None)
    ticket_id = ForeignKey(Ticket, null=True, default=None)
    status = Varchar(length=20, default="open")  # open | corrected
    corrected_at = Timestamptz(null=True, default=None)
    verified_by = ForeignKey(User, null=True, default=None)
    note = Text(default="")


class Acceptance(Table, tablename="move_in_decoration_acceptance"):
    """An acceptance inspection requested by the applicant, organised within 3 working days."""

    tenant_id = ForeignKey(Tenant, null=False)
    application_id = ForeignKey(Application, null=False)
    round = SmallInt(default=1)
    requested_at = Timestamptz(null=False)
    due_at = Timestamptz(null=True, default=None)
    ticket_id = ForeignKey(Ticket, null=True, default=None)
    inspected_at = Timestamptz(null=True, default=None)
    inspector_id = ForeignKey(User, null=True, default=None)
    outcome = Varchar(length=20, default="")  # "" (pending) | passed | failed
    fixes = JSON(default="[]")  # what must be fixed before the re-inspection
    reinspect_on = Date(null=True, default=None)
    note = Text(default="")


class Refund(Table, tablename="move_in_decoration_refund"):
    """The deposit refund after acceptance passed: a finance task due within 1 day."""

    tenant_id = ForeignKey(Tenant, null=False)
    application_id = ForeignKey(Application, null=False)
    acceptance_id = ForeignKey(Acceptance, null=False)
    amount_fen = BigInt(null=False)
    due_at = Timestamptz(null=True, default=None)
    ticket_id = ForeignKey(Ticket, null=True, default=None)
    assignee_id = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(null=False)
    refunded_at = Timestamptz(null=True, default=None)
    refunded_by = ForeignKey(User, null=True, default=None)
    method = Varchar(length=20, default="")
    reference = Varchar(length=100, default="")


class HoursReport(Table, tablename="move_in_decoration_hours_report"):
    """Work outside the permit's hours, reported from the permit page as a complaint ticket."""

    tenant_id = ForeignKey(Tenant, null=False)
    permit_id = ForeignKey(Permit, null=False)
    application_id = ForeignKey(Application, null=False)
    observed_at = Timestamptz(null=False)
    description = Text(default="")
    ticket_id = ForeignKey(Ticket, null=False)
    reported_by = ForeignKey(User, null=True, default=None)
    reported_at = Timestamptz(null=False)


# ---------------------------------------------------------------- moving large items out (搬出放行)

class MovingOut(Table, tablename="move_in_decoration_moving_out"):
    """Large items leaving a residential unit: released through the release gate only after the owner confirms."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    unit_id = ForeignKey(Unit, null=False)
    pass_out_id = BigInt(null=False)  # the gate's pass-out (offered by another plugin through a hook)
    code = Varchar(length=16, default="")
    status = Varchar(length=20, default="requested")  # requested | confirmed | released | rejected | expired
    items = JSON(default="[]")
    carrier_name = Varchar(length=100, default="")
    window_start = Timestamptz(null=False)
    window_end = Timestamptz(null=False)
    requested_by = ForeignKey(User, null=True, default=None)
    requested_at = Timestamptz(null=False)
    confirmed_by_customer_id = ForeignKey(Customer, null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    released_at = Timestamptz(null=True, default=None)
    released_by = ForeignKey(User, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


TABLES: tuple[type[Table], ...] = (
    Batch, Template, Slot, Household, Document, InspectionItem, Application, Worker, Patrol, Attachment, Review, Notice,
    ReviewProblem, Permit, Violation, Acceptance, Refund, HoursReport, MovingOut,
)

# (name, table, columns, unique, where) — each leads with tenant_id.
INDEXES: tuple[tuple[str, str, str, bool, str], ...] = (
    ("move_in_decoration_batch_code", "move_in_decoration_batch", "tenant_id, project_id, code", True, ""),
    ("move_in_decoration_template_kind", "move_in_decoration_template", "tenant_id, batch_id, kind", True, ""),
    ("move_in_decoration_slot_batch", "move_in_decoration_slot", "tenant_id, batch_id, starts_at", False, ""),
    ("move_in_decoration_household_unit", "move_in_decoration_household", "tenant_id, batch_id, unit_id", True, ""),
    ("move_in_decoration_household_day", "move_in_decoration_household", "tenant_id, batch_id, local_day", False, ""),
    ("move_in_decoration_household_slot", "move_in_decoration_household", "tenant_id, slot_id", False, ""),
    ("move_in_decoration_household_project", "move_in_decoration_household", "tenant_id, project_id, local_day", False, ""),
    ("move_in_decoration_document_kind", "move_in_decoration_document", "tenant_id, household_id, kind", True, ""),
    ("move_in_decoration_inspection_household", "move_in_decoration_inspection_item", "tenant_id, household_id", False, ""),
    ("move_in_decoration_application_project", "move_in_decoration_application", "tenant_id, project_id, status, id",
     False, ""),
    ("move_in_decoration_application_unit", "move_in_decoration_application", "tenant_id, unit_id", False, ""),
    ("move_in_decoration_worker_application", "move_in_decoration_worker", "tenant_id, application_id", False, ""),
    ("move_in_decoration_attachment_application", "move_in_decoration_attachment", "tenant_id, application_id, kind",
     False, ""),
    ("move_in_decoration_attachment_patrol", "move_in_decoration_attachment", "tenant_id, patrol_id", False, ""),
    ("move_in_decoration_review_round", "move_in_decoration_review", "tenant_id, application_id, round", True, ""),
    ("move_in_decoration_notice_application", "move_in_decoration_notice", "tenant_id, application_id", False, ""),
    ("move_in_decoration_notice_untold", "move_in_decoration_notice", "tenant_id, told_at, notification_id", False, ""),
    ("move_in_decoration_problem_notice", "move_in_decoration_problem", "tenant_id, notice_id", False, ""),
    ("move_in_decoration_problem_application", "move_in_decoration_problem", "tenant_id, application_id", False, ""),
    ("move_in_decoration_permit_application", "move_in_decoration_permit", "tenant_id, application_id", True, ""),
    ("move_in_decoration_permit_number", "move_in_decoration_permit", "tenant_id, number", True, ""),
    ("move_in_decoration_patrol_application", "move_in_decoration_patrol", "tenant_id, application_id, at", False, ""),
    ("move_in_decoration_violation_application", "move_in_decoration_violation", "tenant_id, application_id, status",
     False, ""),
    ("move_in_decoration_violation_patrol", "move_in_decoration_violation", "tenant_id, patrol_id", False, ""),
    ("move_in_decoration_acceptance_round", "move_in_decoration_acceptance", "tenant_id, application_id, round", True, ""),
    ("move_in_decoration_refund_acceptance", "move_in_decoration_refund", "tenant_id, acceptance_id", True, ""),
    ("move_in_decoration_refund_open", "move_in_decoration_refund", "tenant_id, refunded_at, due_at", False, ""),
    ("move_in_decoration_hours_report_permit", "move_in_decoration_hours_report", "tenant_id, permit_id", False, ""),
    ("move_in_decoration_moving_out_project", "move_in_decoration_moving_out", "tenant_id, project_id, id", False, ""),
    ("move_in_decoration_moving_out_pass_out", "move_in_decoration_moving_out", "tenant_id, pass_out_id", True, ""),
)
