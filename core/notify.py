"""Notifications: every message is a `Notification` row with channel, recipient, template, outcome and time.

In-app messages are delivered by being stored (the staff inbox of messages). Other channels are
plugins (`register_notification_channels`); a worker delivers them and records the outcome. A channel
that is not configured records ``not_configured``: nothing is pretended to be sent.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Iterable

from core.db import json_value
from core.tables import Membership, Notification, Project
from core.plugins import get_registry

log = logging.getLogger("guanjia.notify")


class NotConfigured(RuntimeError):
    """The channel has no configuration for this tenant."""


def channels() -> dict[str, Any]:
    return {c.name: c for _, c in get_registry().collect("register_notification_channels")}


async def send(tenant_id: int, *, template: str, subject: str, body: str = "", key: str,
               user_ids: Iterable[int] = (), customer_id: int | None = None, address: str = "",
               ticket_id: int | None = None, channel: str = "in_app") -> list[int]:
    """Record (and for in-app, deliver) one message per recipient. `key` makes it idempotent: the same
    key for the same recipient and channel is never sent twice. Returns the ids of new rows."""
    now = datetime.now(timezone.utc)
    rows = []
    recipients: list[tuple[int | None, int | None]] = [(u, None) for u in dict.fromkeys(user_ids) if u]
    if customer_id is not None:
        recipients.append((None, customer_id))
    for user_id, cust_id in recipients:
        who = f"u{user_id}" if user_id else f"c{cust_id}"
        rows.append(Notification(tenant_id=tenant_id, channel=channel, recipient_user_id=user_id,
                                 recipient_customer_id=cust_id, address=address, template=template,
                                 subject=subject[:200], body=body, ticket_id=ticket_id,
                                 idempotency_key=f"{key}:{channel}:{who}"[:200],
                                 outcome="sent" if channel == "in_app" else "pending",
                                 sent_at=now if channel == "in_app" else None))
    if not rows:
        return []
    inserted = await Notification.insert(*rows).on_conflict(action="DO NOTHING").returning(Notification.id)
    ids = [r["id"] for r in inserted]
    if channel != "in_app":
        from core.jobs import enqueue

        for nid in ids:
            await enqueue("core.deliver_notification", tenant_id, nid)
    return ids


async def deliver(tenant_id: int, notification_id: int) -> str:
    """Deliver one pending message through its channel and record the outcome."""
    from core.sla import tenant_settings_of

    row = await Notification.select().where((Notification.tenant_id == tenant_id) & (Notification.id == notification_id)).first()
    if row is None or row["outcome"] != "pending":
        return row["outcome"] if row else "missing"
    channel = channels().get(row["channel"])
    settings = ((await tenant_settings_of(tenant_id)).get("notifications") or {}).get(row["channel"], {})
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
        except Exception as exc:  # noqa: BLE001
            outcome, error = "failed", str(exc)[:1000]
    await Notification.update({Notification.outcome: outcome, Notification.error: error,
                               Notification.sent_at: datetime.now(timezone.utc)}).where(
        (Notification.tenant_id == tenant_id) & (Notification.id == notification_id))
    return outcome


async def staff_with_role(tenant_id: int, roles: Iterable[str], project_id: int | None = None) -> list[int]:
    """User ids of active staff holding one of `roles` for a project (company_cs holds every project)."""
    rows = await Membership.select(Membership.user_id, Membership.role, Membership.project_ids).where(
        (Membership.tenant_id == tenant_id) & Membership.role.is_in(list(roles)) & (Membership.is_active == True))  # noqa: E712
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
                   body=ticket.get("description", ""), key=f"ticket:{ticket['id']}:dispatched:{ticket.get('executor_id')}:{ticket.get('updated_at')}",
                   user_ids=[ticket["executor_id"]], ticket_id=ticket["id"])


async def major_complaint(tenant_id: int, ticket: dict[str, Any], project: dict[str, Any]) -> None:
    """Report a major or group complaint at once to the project manager and the company CS department."""
    users = await staff_with_role(tenant_id, ("project_manager", "company_cs"), project["id"])
    await send(tenant_id, template="ticket.major_complaint",
               subject=f"重大投诉/群诉 #{ticket['id']} ({project['name']}): {ticket['title']}",
               body=ticket.get("description", ""), key=f"ticket:{ticket['id']}:major", user_ids=users,
               ticket_id=ticket["id"])


async def inbox(tenant_id: int, user_id: int, *, unread_only: bool = False, limit: int = 50) -> list[dict[str, Any]]:
    query = Notification.select(Notification.id, Notification.template, Notification.subject, Notification.body,
                                Notification.ticket_id, Notification.created_at, Notification.read_at).where(
        (Notification.tenant_id == tenant_id) & (Notification.recipient_user_id == user_id)
        & (Notification.channel == "in_app"))
    if unread_only:
        query = query.where(Notification.read_at.is_null())
    return await query.order_by(Notification.id, ascending=False).limit(limit)
