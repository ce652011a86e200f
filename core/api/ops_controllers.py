"""API for the staff's in-app messages (the inbox of notifications)."""
from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from core import notify
from core.tenancy import Principal


def _cursor(cursor: str | None) -> int | None:
    from core.tickets import decode_cursor

    return decode_cursor(cursor)


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]

    @get("/")
    async def list_notifications(
        self, request: Request, unread: bool | None = None, cursor: str | None = None,
        limit: int = Parameter(ge=1, le=100, default=25),
    ) -> dict[str, Any]:
        """My in-app messages, newest first. `unread=true` only unread ones, `unread=false` only read ones."""
        from core.tickets import encode_cursor

        p: Principal = request.user
        rows = await notify.inbox(p.tenant_id, p.user_id, unread=unread, before_id=_cursor(cursor), limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": rows, "next_cursor": encode_cursor(rows[-1]["id"]) if more and rows else None,
                "unread_count": await notify.unread_count(p.tenant_id, p.user_id)}

    @post("/{notification_id:int}/read", status_code=200)
    async def mark_read(self, request: Request, notification_id: int) -> dict[str, Any]:
        """Mark one of my messages read; another person's or another company's message is a 404."""
        p: Principal = request.user
        return await notify.mark_read(p.tenant_id, p.user_id, notification_id)


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]

    @get("/")
    async def list_audit(self, request: Request, action: str | None = Parameter(default=None, max_length=60),
                         cursor: str | None = None, limit: int = Parameter(ge=1, le=100, default=50)) -> dict[str, Any]:
        """The company's audit log, newest first (company CS department only). It cannot be edited through any route."""
        from core import audit
        from core.tickets import encode_cursor

        rows = await audit.entries(request.user, action=action, before_id=_cursor(cursor), limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": rows, "next_cursor": encode_cursor(rows[-1]["id"]) if more and rows else None}


OPS_CONTROLLERS: list = [NotificationController, AuditController]
