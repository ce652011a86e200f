"""What the kernel does after a ticket changes, beyond the plugin hooks: background work and notices.

Kept in one module so the ticket service stays about tickets; the job and notification layers
(`core.jobs`, `core.notify`) plug in here.
"""
from __future__ import annotations

from typing import Any


async def ticket_created(tenant_id: int, ticket: dict[str, Any], project: dict[str, Any]) -> None:
    from core import notify

    await notify.ticket_created(tenant_id, ticket, project)
    if ticket.get("is_major"):
        await major_complaint(tenant_id, ticket, project)


async def ticket_status_changed(tenant_id: int, ticket: dict[str, Any], from_status: str, to_status: str,
                                event: dict[str, Any]) -> None:
    from core import notify

    await notify.ticket_status_changed(tenant_id, ticket, from_status, to_status)


async def major_complaint(tenant_id: int, ticket: dict[str, Any], project: dict[str, Any]) -> None:
    """A major or group complaint is reported at once to the project manager and the company CS department."""
    from core import notify

    await notify.major_complaint(tenant_id, ticket, project)
