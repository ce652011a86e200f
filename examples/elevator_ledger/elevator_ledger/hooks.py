"""Hooks of the elevator ledger."""
from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from core import MenuItem, hookimpl


@hookimpl
def register_routes() -> list[Any]:
    from elevator_ledger.controllers import ROUTES

    return ROUTES


@hookimpl
def register_template_dirs() -> list[str]:
    return [os.path.join(os.path.dirname(__file__), "templates")]


@hookimpl
def register_menu_items() -> list[Any]:
    return [MenuItem(key="elevator_ledger", label_zh="电梯台帐", label_en="Elevator ledger", href="/portal/elevator-ledger",
                     order=80)]


@hookimpl
async def seed_demo(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: Any) -> None:
    from core import TenantScope, tables
    from elevator_ledger import services

    scope = TenantScope(tenant_id)
    for project in projects.values():
        building = await scope.select(tables.Building).where(tables.Building.project_id == project["id"]).first()
        if building is None:
            continue
        elevator = await services.add_elevator(tenant_id, project["id"], building["id"], "E1", "通力 KONE", "维保公司")
        day = as_of.date() if hasattr(as_of, "date") else as_of
        await services.add_record(tenant_id, elevator["id"], "maintenance", day - timedelta(days=3), "半月保养",
                                  contractor_notified=True, resolved_on=day - timedelta(days=3))
