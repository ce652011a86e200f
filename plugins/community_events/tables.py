"""Tables of the community events plugin (社区活动). Every row belongs to a tenant; composite indexes,
each leading with tenant_id, are created by the plugin's raw migration step (see `INDEXES`)."""
from __future__ import annotations

from piccolo.columns import JSON, BigInt, Bytea, Date, ForeignKey, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import tables as core_tables

Tenant, Project, Customer, User = core_tables.Tenant, core_tables.Project, core_tables.Customer, core_tables.User


class Event(Table, tablename="community_events_event"):
    """A themed community event of a project: its plan (budget, safety measures), approval and publication."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    title = Varchar(length=200, null=False)
    theme = Varchar(length=100, default="")
    location = Varchar(length=200, default="")
    starts_at = Timestamptz(null=False)
    ends_at = Timestamptz(null=False)
    capacity = Integer(null=False)
    budget_fen = BigInt(default=0)
    plan = Text(default="")
    safety_measures = Text(default="")
    status = Varchar(length=20, default="draft")  # draft | approved | published | finished | cancelled
    approved_by = ForeignKey(User, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    survey_questions = JSON(default="[]")
    survey_sent_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Answer(Table, tablename="community_events_answer"):
    """One customer's answers to the pre-event survey."""

    tenant_id = ForeignKey(Tenant, null=False)
    event_id = ForeignKey(Event, null=False)
    customer_id = ForeignKey(Customer, null=False)
    answers = JSON(default="[]")
    created_at = Timestamptz(default=TimestamptzNow())


class Signup(Table, tablename="community_events_signup"):
    """A customer's sign-up: confirmed within capacity, otherwise on the waiting list; a token for the QR code."""

    tenant_id = ForeignKey(Tenant, null=False)
    event_id = ForeignKey(Event, null=False)
    customer_id = ForeignKey(Customer, null=False)
    status = Varchar(length=20, default="confirmed")  # confirmed | waiting | cancelled
    token = Varchar(length=40, null=False)
    party_size = SmallInt(default=1)
    signed_up_at = Timestamptz(null=False)
    cancelled_at = Timestamptz(null=True, default=None)
    checked_in_at = Timestamptz(null=True, default=None)
    checked_in_by = ForeignKey(User, null=True, default=None)


class Visit(Table, tablename="community_events_visit"):
    """A return visit to a sampled participant: who called, the satisfaction score (1–5) and comments."""

    tenant_id = ForeignKey(Tenant, null=False)
    event_id = ForeignKey(Event, null=False)
    signup_id = ForeignKey(Signup, null=False)
    customer_id = ForeignKey(Customer, null=False)
    status = Varchar(length=20, default="pending")  # pending | done
    score = SmallInt(null=True, default=None)
    comment = Text(default="")
    visited_by = ForeignKey(User, null=True, default=None)
    visited_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Summary(Table, tablename="community_events_summary"):
    """The event's summary: participants, satisfaction, cost against budget."""

    tenant_id = ForeignKey(Tenant, null=False)
    event_id = ForeignKey(Event, null=False)
    participants = Integer(default=0)
    satisfaction_pct = Integer(null=True, default=None)
    cost_fen = BigInt(default=0)
    budget_fen = BigInt(default=0)
    notes = Text(default="")
    created_by = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Photo(Table, tablename="community_events_photo"):
    """A photo of the event attached to its summary."""

    tenant_id = ForeignKey(Tenant, null=False)
    event_id = ForeignKey(Event, null=False)
    filename = Varchar(length=200, default="")
    content_type = Varchar(length=100, default="")
    size = Integer(default=0)
    content = Bytea(default=b"")
    created_at = Timestamptz(default=TimestamptzNow())


class Task(Table, tablename="community_events_task"):
    """A festival decoration task of a project, due the day before the festival."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    festival = Varchar(length=30, null=False)  # spring_festival | mid_autumn | new_year | national_day
    festival_date = Date(null=False)
    due_date = Date(null=False)
    status = Varchar(length=20, default="open")  # open | done
    created_at = Timestamptz(default=TimestamptzNow())


class Greeting(Table, tablename="community_events_greeting"):
    """A birthday or festival greeting sent to a customer; the occasion is unique per customer."""

    tenant_id = ForeignKey(Tenant, null=False)
    customer_id = ForeignKey(Customer, null=False)
    occasion = Varchar(length=40, null=False)  # birthday:2026 | mid_autumn:2026 …
    channel = Varchar(length=20, default="sms")
    sent_on = Date(null=False)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES: tuple[type[Table], ...] = (Event, Answer, Signup, Visit, Summary, Photo, Task, Greeting)

# (name, table, columns, unique, where) — each leads with tenant_id.
INDEXES: tuple[tuple[str, str, str, bool, str], ...] = (
    ("community_events_event_project", "community_events_event", "tenant_id, project_id, starts_at", False, ""),
    ("community_events_answer_key", "community_events_answer", "tenant_id, event_id, customer_id", True, ""),
    ("community_events_signup_key", "community_events_signup", "tenant_id, event_id, customer_id", True, ""),
    ("community_events_signup_token", "community_events_signup", "tenant_id, token", True, ""),
    ("community_events_signup_queue", "community_events_signup", "tenant_id, event_id, status, signed_up_at", False, ""),
    ("community_events_visit_key", "community_events_visit", "tenant_id, event_id, signup_id", True, ""),
    ("community_events_summary_event", "community_events_summary", "tenant_id, event_id", True, ""),
    ("community_events_photo_event", "community_events_photo", "tenant_id, event_id", False, ""),
    ("community_events_task_key", "community_events_task", "tenant_id, project_id, festival, festival_date", True, ""),
    ("community_events_greeting_key", "community_events_greeting", "tenant_id, customer_id, occasion", True, ""),
)
