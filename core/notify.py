"""Notifications: every message is a `Notification` row with channel, recipient, template, outcome and time.

In-app messages are delivered by being stored (the staff inbox of messages). Other channels are
plugins (`register_notification_channels`); a worker delivers them and records the outcome. A channel
that is not configured for the tenant (settings ``notifications.<channel>``) records
``not_configured`` at once: nothing is pretended to be sent. The idempotency key (unique per tenant)
means the same message to the same recipient on the same channel is recorded and sent once.

Outcomes: ``sent``, ``pending`` (waiting for the worker), ``sending``, ``failed``, ``not_configured``,
``no_address`` (the recipient has no address for this channel).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any, Iterable

from core.db import json_value
from core.errors import not_found
from core.plugins import get_registry
from core.tables import Customer, Membership, Notification, User
from core.tenancy import TenantScope

log = logging.getLogger("guanjia.notify")
ADDRESS_FIELD = {"email": "email", "sms": "phone"}
CHUNK = 300


class NotConfigured(RuntimeError):
    """The channel has no configuration (or no provider) for this tenant."""


def channels() -> dict[str, Any]:
    return {c.name: c for _, c in get_registry().collect("register_notification_channels")}


async def channel_settings(tenant_id: int, channel: str) -> dict[str, Any]:
    """The tenant's settings of a channel: tenant settings ``notifications.<channel>``."""
    from core.sla import tenant_settings_of

    return dict(((await tenant_settings_of(tenant_id)).get("notifications") or {}).get(channel) or {})


def _key(key: str, channel: str, user_id: int | None, customer_id: int | None) -> str:
    who = f"u{user_id}" if user_id else f"c{customer_id}"
    return f"{key}:{channel}:{who}"[:200]


async def _insert(rows: list[Notification]) -> list[dict[str, Any]]:
    """Insert rows, skipping those whose idempotency key is already recorded; returns the new ones."""
    new: list[dict[str, Any]] = []
    for i in range(0, len(rows), CHUNK):
        new += await Notification.insert(*rows[i:i + CHUNK]).on_conflict(action="DO NOTHING").returning(
            Notification.id, Notification.outcome)
    return new


async def _addresses(tenant_id: int, channel: str, user_ids: list[int], customer_id: int | None) -> dict[str, str]:
    field = ADDRESS_FIELD.get(channel)
    if field is None:
        return {}
    out: dict[str, str] = {}
    if user_ids:
        for r in await User.select(User.id, getattr(User, field)).where(User.id.is_in(user_ids)):
            out[f"u{r['id']}"] = r[field] or ""
    if customer_id is not None:
        c = await TenantScope(tenant_id).get_or_none(Customer, customer_id, Customer.id, getattr(Customer, field))
        if c is not None:
            out[f"c{customer_id}"] = c[field] or ""
    return out


async def send(tenant_id: int, *, template: str, subject: str, body: str = "", key: str,
               user_ids: Iterable[int] = (), customer_id: int | None = None, address: str = "",
               ticket_id: int | None = None, channel: str = "in_app") -> list[int]:
    """Record (and for in-app, deliver) one message per recipient; other channels go to the worker.

    `key` makes it idempotent: the same key for the same recipient and channel is never recorded or
    sent twice. `address` overrides the recipient's own (email address, phone). Returns the new ids.
    """
    known = channels()
    if channel not in known:
        raise ValueError(f"unknown notification channel {channel!r}; known: {', '.join(sorted(known))}")
    now = datetime.now(timezone.utc)
    users = [u for u in dict.fromkeys(user_ids) if u]
    recipients: list[tuple[int | None, int | None]] = [(u, None) for u in users]
    if customer_id is not None:
        recipients.append((None, customer_id))
    if not recipients:
        return []
    outcome, error, addresses = "sent", "", {}
    if channel != "in_app":
        settings = await channel_settings(tenant_id, channel)
        if not known[channel].configured(settings):
            outcome, error = "not_configured", f"channel {channel} is not configured for this company"
        else:
            outcome = "pending"
            if not address:
                addresses = await _addresses(tenant_id, channel, users, customer_id)
    rows = []
    for user_id, cust_id in recipients:
        to = address or addresses.get(f"u{user_id}" if user_id else f"c{cust_id}", "")
        row_outcome, row_error = outcome, error
        if outcome == "pending" and not to and channel in ADDRESS_FIELD:
            row_outcome, row_error = "no_address", f"the recipient has no {ADDRESS_FIELD[channel]} for {channel}"
        rows.append(Notification(tenant_id=tenant_id, channel=channel, recipient_user_id=user_id,
                                 recipient_customer_id=cust_id, address=to[:200], template=template[:80],
                                 subject=subject[:200], body=body, ticket_id=ticket_id,
                                 idempotency_key=_key(key, channel, user_id, cust_id), outcome=row_outcome,
                                 error=row_error, sent_at=now if row_outcome == "sent" else None))
    inserted = await _insert(rows)
    if channel != "in_app":
        import asyncio

        from core.jobs import enqueue

        pending = [r["id"] for r in inserted if r["outcome"] == "pending"]
        for i in range(0, len(pending), CHUNK):  # enqueued together: they reach Redis a pipeline at a time
            await asyncio.gather(*(enqueue("core.deliver_notification", tenant_id, n) for n in pending[i:i + CHUNK]))
    return [r["id"] for r in inserted]


async def send_in_app_many(messages: Iterable[dict[str, Any]]) -> int:
    """Record many in-app messages in bulk (the sweep's notices). Each message: ``tenant_id``,
    ``user_id``, ``template``, ``subject``, ``key`` and optional ``body``, ``ticket_id``. Returns how
    many were new (a key already recorded is skipped)."""
    now = datetime.now(timezone.utc)
    rows = [{"tenant_id": m["tenant_id"], "channel": "in_app", "recipient_user_id": m["user_id"],
             "recipient_customer_id": None, "address": "", "template": m["template"][:80],
             "subject": m["subject"][:200], "body": m.get("body", ""), "ticket_id": m.get("ticket_id"),
             "idempotency_key": _key(m["key"], "in_app", m["user_id"], None), "outcome": "sent", "error": "",
             "created_at": now, "sent_at": now, "read_at": None} for m in messages]
    return await bulk_insert("core_notification", NOTIFICATION_COLUMNS, rows, skip_conflicts=True)


NOTIFICATION_COLUMNS = {
    "tenant_id": "integer", "channel": "varchar", "recipient_user_id": "integer", "recipient_customer_id": "integer",
    "address": "varchar", "template": "varchar", "subject": "varchar", "body": "text", "ticket_id": "integer",
    "idempotency_key": "varchar", "outcome": "varchar", "error": "text", "created_at": "timestamptz",
    "sent_at": "timestamptz", "read_at": "timestamptz",
}
BULK_CHUNK = 5000


def _bulk_value(value: Any, postgres: bool) -> Any:
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc)
        return value.isoformat() if postgres else str(value)  # SQLite: the text form Piccolo stores
    return value


async def bulk_insert(table: str, columns: dict[str, str], rows: list[dict[str, Any]], *,
                      skip_conflicts: bool = False) -> int:
    """Insert many rows with one set-based statement per chunk: the rows travel as one JSON array that
    the database reads as a table (`json_to_recordset` / `json_each`). `columns` maps each column to
    its PostgreSQL type. Returns how many rows were inserted."""
    from core.db import fetch, is_postgres

    if not rows:
        return 0
    postgres = is_postgres()
    names = ", ".join(columns)
    if postgres:
        spec = ", ".join(f"{n} {t}" for n, t in columns.items())
        sql = f"INSERT INTO {table} ({names}) SELECT {names} FROM json_to_recordset({{}}::json) AS x({spec})"
    else:
        picks = ", ".join(f"json_extract(value, '$.{n}')" for n in columns)
        sql = f"INSERT INTO {table} ({names}) SELECT {picks} FROM json_each({{}}) WHERE true"
    sql += (" ON CONFLICT DO NOTHING" if skip_conflicts else "") + " RETURNING id"
    inserted = 0
    for i in range(0, len(rows), BULK_CHUNK):
        payload = json.dumps([{n: _bulk_value(r.get(n), postgres) for n in columns} for r in rows[i:i + BULK_CHUNK]],
                             ensure_ascii=False)
        inserted += len(await fetch(sql, payload))
    return inserted


async def deliver(tenant_id: int, notification_id: int) -> str:
    """Deliver one pending message through its channel and record the outcome (claimed first, so a
    redelivered job never sends twice)."""
    from core.db import query

    scope = TenantScope(tenant_id)
    claimed = await query(_CLAIM, tenant_id, notification_id)
    if not claimed:
        row = await scope.get_or_none(Notification, notification_id, Notification.outcome)
        return row["outcome"] if row else "missing"
    row = claimed[0]
    channel = channels().get(row["channel"])
    settings = await channel_settings(tenant_id, row["channel"])
    outcome, error = "sent", ""
    if channel is None or not channel.configured(settings):
        outcome, error = "not_configured", f"channel {row['channel']} is not configured for this company"
    else:
        try:
            result = channel.send(tenant_id=tenant_id, recipient=row["address"], subject=row["subject"],
                                  body=row["body"], settings=settings)
            if hasattr(result, "__await__"):
                result = await result
            outcome = result or "sent"
        except NotConfigured as exc:
            outcome, error = "not_configured", str(exc)
        except Exception as exc:  # noqa: BLE001 - recorded on the message
            log.warning("notification %s via %s failed: %s", notification_id, row["channel"], exc)
            outcome, error = "failed", f"{type(exc).__name__}: {exc}"[:1000]
    await query(_RECORD, outcome, error, datetime.now(timezone.utc), tenant_id, notification_id)
    return outcome


# one message's delivery: claimed first (so a redelivered job never sends twice), its outcome written after
_CLAIM = ('UPDATE "core_notification" SET "outcome" = \'sending\' WHERE "tenant_id" = {} AND "id" = {} '
          'AND "outcome" = \'pending\' RETURNING "channel", "address", "subject", "body"')
_RECORD = ('UPDATE "core_notification" SET "outcome" = {}, "error" = {}, "sent_at" = {} '
           'WHERE "tenant_id" = {} AND "id" = {} RETURNING "id"')


async def staff_with_role(tenant_id: int, roles: Iterable[str], project_id: int | None = None) -> list[int]:
    """User ids of active staff holding one of `roles` for a project (company_cs holds every project)."""
    rows = await TenantScope(tenant_id).select(Membership, Membership.user_id, Membership.role, Membership.project_ids).where(
        Membership.role.is_in(list(roles)) & (Membership.is_active == True))  # noqa: E712
    out = []
    for r in rows:
        projects = json_value(r["project_ids"]) or []
        if r["role"] == "company_cs" or project_id is None or project_id in projects:
            out.append(r["user_id"])
    return list(dict.fromkeys(out))


async def ticket_created(tenant_id: int, ticket: dict[str, Any], project: dict[str, Any]) -> None:
    from core.jobs import enqueue

    await enqueue("core.ticket_created", tenant_id, ticket["id"])


async def ticket_status_changed(tenant_id: int, ticket: dict[str, Any], from_status: str, to_status: str) -> None:
    if to_status == "dispatched" and ticket.get("executor_id"):
        await send(tenant_id, template="ticket.dispatched", subject=f"派工单 #{ticket['id']}: {ticket['title']}",
                   body=ticket.get("description", ""),
                   key=f"ticket:{ticket['id']}:dispatched:{ticket.get('executor_id')}:{ticket.get('updated_at')}",
                   user_ids=[ticket["executor_id"]], ticket_id=ticket["id"])


async def major_complaint(tenant_id: int, ticket: dict[str, Any], project: dict[str, Any]) -> None:
    """Report a major or group complaint at once to the project manager and the company CS department."""
    users = await staff_with_role(tenant_id, ("project_manager", "company_cs"), project["id"])
    await send(tenant_id, template="ticket.major_complaint",
               subject=f"重大投诉/群诉 #{ticket['id']} ({project['name']}): {ticket['title']}",
               body=ticket.get("description", ""), key=f"ticket:{ticket['id']}:major", user_ids=users,
               ticket_id=ticket["id"])


INBOX_COLUMNS = (Notification.id, Notification.template, Notification.subject, Notification.body,
                 Notification.ticket_id, Notification.created_at, Notification.read_at)


def _inbox_query(tenant_id: int, user_id: int, *columns: Any):
    return TenantScope(tenant_id).select(Notification, *columns).where(
        (Notification.recipient_user_id == user_id) & (Notification.channel == "in_app"))


async def inbox(tenant_id: int, user_id: int, *, unread: bool | None = None, before_id: int | None = None,
                limit: int = 50) -> list[dict[str, Any]]:
    """A staff member's in-app messages, newest first (`unread`: True only unread, False only read)."""
    query = _inbox_query(tenant_id, user_id, *INBOX_COLUMNS)
    if unread is True:
        query = query.where(Notification.read_at.is_null())
    elif unread is False:
        query = query.where(Notification.read_at.is_not_null())
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    return await query.order_by(Notification.id, ascending=False).limit(limit)


async def unread_count(tenant_id: int, user_id: int) -> int:
    return await TenantScope(tenant_id).count(Notification).where(
        (Notification.recipient_user_id == user_id) & (Notification.channel == "in_app")
        & Notification.read_at.is_null())


async def mark_read(tenant_id: int, user_id: int, notification_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Mark one of the user's in-app messages read (keeps the first reading time); 404 when not theirs."""
    now = now or datetime.now(timezone.utc)
    row = await _inbox_query(tenant_id, user_id, *INBOX_COLUMNS).where(Notification.id == notification_id).first()
    if row is None:
        raise not_found("notification")
    if row["read_at"] is None:
        await TenantScope(tenant_id).update(Notification, {Notification.read_at: now}).where(
            (Notification.id == notification_id) & Notification.read_at.is_null())
        row = await _inbox_query(tenant_id, user_id, *INBOX_COLUMNS).where(Notification.id == notification_id).first()
    return row
