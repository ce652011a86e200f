"""The kernel's tables.

Every tenant-owned table carries a non-null `tenant_id`, and every index and unique constraint on it
leads with `tenant_id` (see `TENANT_INDEXES`, created by the core migrations). Rows are reached only
through `core.tenancy` helpers, never by filtering by hand.
"""
from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from decimal import Decimal

from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Tenant(Table, tablename="core_tenant"):
    """A property company (物业公司): owns all of its data."""

    slug = Varchar(length=63, unique=True, null=False)
    name = Varchar(length=200, null=False)
    contact_name = Varchar(length=100, default="")
    contact_phone = Varchar(length=40, default="")
    settings = JSON(default="{}")
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="core_user"):
    """A staff login. Roles come from memberships, one per company and role."""

    login = Varchar(length=150, unique=True, null=False)
    name = Varchar(length=100, null=False)
    phone = Varchar(length=40, default="")
    email = Varchar(length=200, default="")
    password_hash = Text(default="")
    photo_url = Varchar(length=500, default="")
    locale = Varchar(length=10, default="zh-CN")
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    must_change_password = Boolean(default=False)  # an initial password (onboarding): changed at the first login


class Membership(Table, tablename="core_membership"):
    """User × tenant × role, with the projects it covers (`company_cs` covers every project; others only those listed)."""

    tenant_id = ForeignKey(Tenant, null=False)
    user_id = ForeignKey(User, null=False)
    role = Varchar(length=30, null=False)
    project_ids = JSON(default="[]")
    title = Varchar(length=100, default="")
    work_phone = Varchar(length=40, default="")
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table, tablename="core_api_token"):
    """A bearer token or portal session for one membership; revocable."""

    tenant_id = ForeignKey(Tenant, null=False)
    user_id = ForeignKey(User, null=False)
    membership_id = ForeignKey(Membership, null=False)
    token_hash = Varchar(length=64, null=False)
    kind = Varchar(length=10, default="api")  # api | session
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class Project(Table, tablename="core_project"):
    """One managed site (项目/管理处): residential estate, commercial complex or industrial park."""

    tenant_id = ForeignKey(Tenant, null=False)
    code = Varchar(length=50, null=False)
    name = Varchar(length=200, null=False)
    kind = Varchar(length=20, null=False)  # residential | commercial | industrial
    address = Varchar(length=300, default="")
    total_area = Numeric(digits=(14, 2), default=Decimal("0"))
    settings = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())


class Building(Table, tablename="core_building"):
    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    code = Varchar(length=50, null=False)
    name = Varchar(length=200, default="")
    floors = SmallInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class Grid(Table, tablename="core_grid"):
    """A named set of units of one project with one responsible staff member."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    code = Varchar(length=50, null=False)
    name = Varchar(length=200, null=False)
    responsible_id = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Unit(Table, tablename="core_unit"):
    """A unit (房屋): building → entrance → floor → room, with its area and use."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    building_id = ForeignKey(Building, null=False)
    entrance = Varchar(length=20, default="")
    floor = SmallInt(default=0)
    room = Varchar(length=30, null=False)
    area = Numeric(digits=(10, 2), default=Decimal("0"))
    use = Varchar(length=20, default="residential")  # residential | office | retail | hotel | parking | other
    status = Varchar(length=20, default="sold")  # vacant | sold | occupied
    grid_id = ForeignKey(Grid, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Customer(Table, tablename="core_customer"):
    """A customer (业户): a person or a company; one household, one file."""

    tenant_id = ForeignKey(Tenant, null=False)
    kind = Varchar(length=10, default="person")  # person | company
    name = Varchar(length=200, null=False)
    phone = Varchar(length=40, default="")
    id_number = Varchar(length=40, default="")
    email = Varchar(length=200, default="")
    birthday = Date(null=True, default=None)
    greetings_opt_in = Boolean(default=False)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Occupancy(Table, tablename="core_occupancy"):
    """A customer's hold on a unit over time (owner, renter, company, resident)."""

    tenant_id = ForeignKey(Tenant, null=False)
    customer_id = ForeignKey(Customer, null=False)
    unit_id = ForeignKey(Unit, null=False)
    role = Varchar(length=20, null=False)  # owner | renter | company | resident
    start_date = Date(null=False)
    end_date = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Ticket(Table, tablename="core_ticket"):
    """One table for repairs, complaints, inquiries, suggestions and every plugin-registered kind."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    kind = Varchar(length=50, null=False)
    channel = Varchar(length=20, null=False)
    priority = Varchar(length=12, default="normal")  # emergency | normal
    status = Varchar(length=20, default="received")
    title = Varchar(length=200, null=False)
    description = Text(default="")
    unit_id = ForeignKey(Unit, null=True, default=None)
    building_id = ForeignKey(Building, null=True, default=None)
    grid_id = ForeignKey(Grid, null=True, default=None)
    place_note = Varchar(length=200, default="")
    customer_id = ForeignKey(Customer, null=True, default=None)
    contact_phone = Varchar(length=40, default="")
    first_receiver_id = ForeignKey(User, null=False)
    responsible_id = ForeignKey(User, null=True, default=None)
    executor_id = ForeignKey(User, null=True, default=None)
    # repair classification (public area / private unit; in / out of warranty)
    repair_area = Varchar(length=10, null=True, default=None)
    warranty = Varchar(length=10, null=True, default=None)
    complexity = Varchar(length=10, default="general")  # general | complex
    is_major = Boolean(default=False)  # major or group complaint (重大投诉/群诉)
    own_fault = Boolean(null=True, default=None)
    sla_policy = Varchar(length=80, default="")
    response_due_at = Timestamptz(null=True, default=None)
    resolution_due_at = Timestamptz(null=True, default=None)
    return_visit_due_at = Timestamptz(null=True, default=None)
    promised_at = Timestamptz(null=True, default=None)
    next_due_at = Timestamptz(null=True, default=None)
    escalation_level = SmallInt(default=0)
    responded_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    return_visited_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    held_at = Timestamptz(null=True, default=None)
    held_seconds = Integer(default=0)
    hold_from = Varchar(length=20, null=True, default=None)
    satisfaction = SmallInt(null=True, default=None)
    data = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TicketEvent(Table, tablename="core_ticket_event"):
    """The append-only timeline of a ticket: who did what, when and why."""

    tenant_id = ForeignKey(Tenant, null=False)
    ticket_id = ForeignKey(Ticket, null=False)
    at = Timestamptz(default=TimestamptzNow())
    actor_id = ForeignKey(User, null=True, default=None)
    kind = Varchar(length=30, null=False)
    from_status = Varchar(length=20, null=True, default=None)
    to_status = Varchar(length=20, null=True, default=None)
    reason = Text(default="")
    data = JSON(default="{}")


class TicketAttachment(Table, tablename="core_ticket_attachment"):
    """A photo or PDF attached to a ticket. The bytes (and an image's small JPEG thumbnail) live in the
    database: web processes are stateless replicas without a shared disk, and one backup holds everything."""

    tenant_id = ForeignKey(Tenant, null=False)
    ticket_id = ForeignKey(Ticket, null=False)
    filename = Varchar(length=200, null=False)
    content_type = Varchar(length=50, null=False)  # sniffed from the bytes: image/jpeg | image/png | image/webp | application/pdf
    size = Integer(null=False)
    sha256 = Varchar(length=64, null=False)
    uploaded_by = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    content = Bytea(null=False)
    thumbnail = Bytea(null=True, default=None)


class PluginState(Table, tablename="core_plugin_state"):
    """A plugin enabled or disabled for a tenant (project_id null) or one project, with its settings."""

    tenant_id = ForeignKey(Tenant, null=False)
    plugin = Varchar(length=60, null=False)
    project_id = ForeignKey(Project, null=True, default=None)
    enabled = Boolean(default=True)
    settings = JSON(default="{}")


class Notification(Table, tablename="core_notification"):
    """Every message sent or attempted: channel, recipient, template, outcome, time.

    In-app messages are read from this table (the staff inbox of messages).
    """

    tenant_id = ForeignKey(Tenant, null=False)
    channel = Varchar(length=30, null=False)
    recipient_user_id = ForeignKey(User, null=True, default=None)
    recipient_customer_id = ForeignKey(Customer, null=True, default=None)
    address = Varchar(length=200, default="")
    template = Varchar(length=80, null=False)
    subject = Varchar(length=200, default="")
    body = Text(default="")
    ticket_id = ForeignKey(Ticket, null=True, default=None)
    idempotency_key = Varchar(length=200, null=False)
    outcome = Varchar(length=20, default="pending")  # pending | sent | failed | not_configured
    error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    read_at = Timestamptz(null=True, default=None)


class JobRun(Table, tablename="core_job_run"):
    """One run of a periodic job for one `as_of` slot: the scheduler's lock and the run's record."""

    job = Varchar(length=120, null=False)
    slot = Varchar(length=40, null=False)
    status = Varchar(length=20, default="enqueued")  # enqueued | running | done | failed
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    result = JSON(default="{}")


class Outbox(Table, tablename="core_outbox"):
    """Jobs the web tier could not enqueue (broker away); a sweep sends them later."""

    actor_name = Varchar(length=150, null=False)
    queue_name = Varchar(length=150, null=False)
    args = JSON(default="[]")
    kwargs = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    last_error = Text(default="")


class AuditLog(Table, tablename="core_audit_log"):
    """Append-only record of reads of customer files, exports and changes to money, roles and pass-outs."""

    tenant_id = ForeignKey(Tenant, null=False)
    at = Timestamptz(default=TimestamptzNow())
    user_id = ForeignKey(User, null=True, default=None)
    action = Varchar(length=60, null=False)
    object_type = Varchar(length=60, default="")
    object_id = BigInt(null=True, default=None)
    address = Varchar(length=64, default="")
    data = JSON(default="{}")


TENANT_TABLES: tuple[type[Table], ...] = (
    Membership, ApiToken, Project, Building, Grid, Unit, Customer, Occupancy, Ticket, TicketEvent, PluginState, Notification,
    AuditLog, TicketAttachment,
)

# Indexes created by the core migrations. Each leads with tenant_id.
TENANT_INDEXES: tuple[tuple[str, str, str, bool], ...] = (
    # (name, table, columns, unique)
    ("core_membership_user", "core_membership", "tenant_id, user_id, role", True),
    ("core_api_token_hash", "core_api_token", "tenant_id, token_hash", True),
    ("core_project_code", "core_project", "tenant_id, code", True),
    ("core_building_code", "core_building", "tenant_id, project_id, code", True),
    ("core_grid_code", "core_grid", "tenant_id, project_id, code", True),
    ("core_grid_responsible", "core_grid", "tenant_id, responsible_id", False),
    ("core_unit_room", "core_unit", "tenant_id, building_id, entrance, room", True),
    ("core_unit_grid", "core_unit", "tenant_id, grid_id", False),
    ("core_unit_project", "core_unit", "tenant_id, project_id, id", False),
    ("core_customer_phone", "core_customer", "tenant_id, phone", False),
    ("core_customer_id_number", "core_customer", "tenant_id, id_number", False),
    ("core_occupancy_unit", "core_occupancy", "tenant_id, unit_id, end_date", False),
    ("core_occupancy_customer", "core_occupancy", "tenant_id, customer_id", False),
    ("core_ticket_inbox", "core_ticket", "tenant_id, project_id, status, id", False),
    ("core_ticket_project", "core_ticket", "tenant_id, project_id, id", False),
    ("core_ticket_responsible", "core_ticket", "tenant_id, responsible_id, status", False),
    ("core_ticket_executor", "core_ticket", "tenant_id, executor_id, status", False),
    ("core_ticket_grid", "core_ticket", "tenant_id, grid_id, status", False),
    ("core_ticket_customer", "core_ticket", "tenant_id, customer_id", False),
    ("core_ticket_due", "core_ticket", "tenant_id, next_due_at", False),
    ("core_ticket_created", "core_ticket", "tenant_id, created_at", False),
    ("core_ticket_resolved", "core_ticket", "tenant_id, resolved_at", False),
    ("core_ticket_event_ticket", "core_ticket_event", "tenant_id, ticket_id, id", False),
    ("core_plugin_state_key", "core_plugin_state", "tenant_id, plugin, project_id", False),
    ("core_notification_key", "core_notification", "tenant_id, idempotency_key", True),
    ("core_notification_inbox", "core_notification", "tenant_id, recipient_user_id, read_at, id", False),
    ("core_audit_log_at", "core_audit_log", "tenant_id, at, id", False),
    ("core_ticket_attachment_ticket", "core_ticket_attachment", "tenant_id, ticket_id, id", False),
)
# Platform tables (not tenant-owned): the scheduler's run records and the enqueue outbox.
PLATFORM_INDEXES: tuple[tuple[str, str, str, bool], ...] = (
    ("core_job_run_slot", "core_job_run", "job, slot", True),
    ("core_outbox_pending", "core_outbox", "sent_at, id", False),
)
