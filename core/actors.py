"""The kernel's actors: ticket follow-up, notification delivery and the periodic SLA sweep."""
from __future__ import annotations

from core.jobs import actor


@actor("core", "ticket_created", queue="tickets")
async def ticket_created(tenant_id: int, ticket_id: int) -> None:
    """Tell the responsible person and the executor about a new ticket (in-app)."""
    from core import notify
    from core.tables import Ticket
    from core.tenancy import TenantScope

    t = await TenantScope(tenant_id).get_or_none(Ticket, ticket_id, Ticket.id, Ticket.title, Ticket.description,
                                                 Ticket.responsible_id, Ticket.executor_id, Ticket.first_receiver_id)
    if t is None:
        return
    users = [u for u in (t["responsible_id"], t["executor_id"]) if u and u != t["first_receiver_id"]]
    await notify.send(tenant_id, template="ticket.assigned", subject=f"新工单 #{t['id']}: {t['title']}",
                      body=t["description"], key=f"ticket:{ticket_id}:assigned", user_ids=users, ticket_id=ticket_id)


@actor("core", "deliver_notification", queue="notifications")
async def deliver_notification(tenant_id: int, notification_id: int) -> str:
    """Send one recorded message through its channel (email, SMS, WeChat …) and record the outcome."""
    from core import notify

    return await notify.deliver(tenant_id, notification_id)


@actor("core", "sla_sweep", queue="periodic")
async def sla_sweep(as_of: str) -> dict:
    """Escalate tickets near breach or breached, as of a moment (idempotent). A date or a moment
    without a zone is read in Beijing time."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from core.sweep import sweep

    moment = datetime.fromisoformat(as_of)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return await sweep(moment)


@actor("core", "personal_data_retention", queue="retention")
async def personal_data_retention(as_of: str) -> dict:
    """Apply each company's retention periods to personal data, as of a moment (idempotent). A date or a
    moment without a zone is read in Beijing time."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from core.personal_data import apply_retention

    moment = datetime.fromisoformat(as_of)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return await apply_retention(moment)
