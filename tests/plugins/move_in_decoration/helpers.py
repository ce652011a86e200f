"""Shared set-up of the move-in and decoration tests: plugin settings, applications and deadlines' tickets."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from core import TenantScope, json_value
from core import tables as ct
from plugins.move_in_decoration import services as svc

API = "/api/v1/move-in-decoration"
PORTAL = "/portal/move-in-decoration"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def set_settings(world, **settings: Any) -> None:
    """The company's settings of the plugin (tenant level)."""
    from core import get_registry

    S = ct.PluginState
    scope = TenantScope(world.tenant_id)
    row = await scope.select(S).where((S.plugin == svc.PLUGIN) & S.project_id.is_null()).first()
    await scope.update(S, {S.settings: {**(json_value(row["settings"]) or {}), **settings}}
                       ).where(S.id == row["id"])
    get_registry().forget(world.tenant_id)


async def application(world, now: datetime, *, unit: int = 0, structural: bool = False, deposit_fen: int = 300000,
                      role: str = "front_desk") -> dict[str, Any]:
    """An application of the owner of `world.units[unit]` made at `now`."""
    p = await world.principal(role)
    return await svc.create_application(p, {
        "unit_id": world.units[unit]["id"], "customer_id": world.customers[unit]["id"],
        "contractor_company": "安居装饰", "contractor_manager": "赵工", "contractor_phone": "13600001234",
        "scope": "厨卫翻新", "structural_change": structural, "starts_on": date(2026, 10, 12),
        "ends_on": date(2026, 12, 31), "deposit_fen": deposit_fen,
        "workers": [{"name": "钱师傅", "id_number": "440301198001011234", "phone": "13700001111", "trade": "水电"}]},
        now=now)


async def ticket(world, ticket_id: int) -> dict[str, Any]:
    return await TenantScope(world.tenant_id).get(ct.Ticket, ticket_id)


async def escalations(world, ticket_id: int) -> list[str]:
    E = ct.TicketEvent
    rows = await TenantScope(world.tenant_id).select(E, E.reason).where(
        (E.ticket_id == ticket_id) & (E.kind == "escalation")).order_by(E.id)
    return [r["reason"] for r in rows]


async def sweep(world, moment: datetime) -> dict[str, int]:
    from core.sweep import sweep as run

    return await run(moment, tenant_ids=[world.tenant_id])
