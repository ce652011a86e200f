"""The audit log: append-only record of reads of customer files, exports, and changes to money, roles
and pass-outs (who, when, what, from where). Only `record` writes it; no route edits or deletes it."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from core.tables import AuditLog
from core.tenancy import Principal, TenantScope


async def record(principal: Principal | None, action: str, *, tenant_id: int | None = None, object_type: str = "",
                 object_id: int | None = None, address: str = "", data: dict[str, Any] | None = None) -> None:
    """Append one entry. `action` is dotted: ``customer.file_read``, ``export.xlsx``, ``payment.created`` …"""
    tid = tenant_id if tenant_id is not None else principal.tenant_id  # type: ignore[union-attr]
    await TenantScope(tid).insert(AuditLog, at=datetime.now(timezone.utc),
                                  user_id=principal.user_id if principal else None, action=action[:60],
                                  object_type=object_type[:60], object_id=object_id, address=address[:64],
                                  data=data or {})


async def entries(principal: Principal, *, action: str | None = None, before_id: int | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:
    """Newest first; for the company CS department only."""
    principal.require("audit.read")
    query = principal.scope.select(AuditLog, AuditLog.all_columns(), AuditLog.user_id.name.as_alias("user_name"))
    if action:
        query = query.where(AuditLog.action == action)
    if before_id is not None:
        query = query.where(AuditLog.id < before_id)
    return await query.order_by(AuditLog.id, ascending=False).limit(limit)
