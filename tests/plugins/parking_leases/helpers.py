"""Shared set-up for the parking leases tests: a published plan, a garage, customers of the project."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from core import TenantScope
from core import tables as ct
from plugins.parking_leases import services as svc

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DOCS = ["身份证", "房产证或租赁合同", "行驶证"]
PLAN = {
    "title": "和苑车位使用方案", "decision_ref": "HY-业主大会-2026-02号", "decision_date": "2026-03-15",
    "summary": "业主优先,其次租户。", "required_documents": DOCS,
    "process_steps": ["前台受理并核对资料", "分配车位并签约", "暂无车位的书面说明原因并登记轮候"],
    "fees": [
        {"space_type": "standard", "term": "monthly", "amount_fen": 30000, "deposit_fen": 50000},
        {"space_type": "standard", "term": "quarterly", "amount_fen": 87000, "deposit_fen": 50000},
        {"space_type": "standard", "term": "yearly", "amount_fen": 330000, "deposit_fen": 50000},
        {"space_type": "ev", "term": "monthly", "amount_fen": 45000, "deposit_fen": 80000},
        {"space_type": "ev", "term": "quarterly", "amount_fen": 130000, "deposit_fen": 80000},
    ],
}


def plan_data() -> dict[str, Any]:
    return {**PLAN, "decision_date": date.fromisoformat(PLAN["decision_date"]), "fees": [dict(f) for f in PLAN["fees"]]}


async def garage(world, *, standard: int = 3, ev: int = 1, code: str = "B3", now: datetime) -> dict[str, Any]:
    """A garage B3 with `standard` spaces B3-001… and `ev` spaces B3-EV01…, and the plan published."""
    manager = await world.principal("project_manager")
    g = await svc.create_garage(manager, {"project_id": world.project["id"], "code": code, "name": f"{code} 车库",
                                          "kind": "garage"})
    if standard:
        await svc.create_space_range(manager, g["id"], {"first": f"{code}-001", "last": f"{code}-{standard:03d}",
                                                        "zone": code, "space_type": "standard"})
    if ev:
        await svc.create_space_range(manager, g["id"], {"first": f"{code}-EV01", "last": f"{code}-EV{ev:02d}",
                                                        "zone": code, "space_type": "ev"})
    await svc.publish_plan(manager, world.project["id"], plan_data(), now=now)
    return g


async def customer(world, role: str, unit_index: int, name: str) -> int:
    """A new customer holding a unit of the project as owner or renter since 2020."""
    scope = TenantScope(world.tenant_id)
    c = await scope.insert(ct.Customer, name=name, phone="13912345678")
    await scope.insert(ct.Occupancy, customer_id=c["id"], unit_id=world.units[unit_index]["id"], role=role,
                       start_date=date(2020, 1, 1))
    return c["id"]


async def checked_application(world, customer_id: int, space_type: str, term: str, received: datetime, *,
                              plates: list[str] | None = None) -> dict[str, Any]:
    """An application received at `received`, documents attached and ticked 5 minutes later."""
    desk = await world.principal("front_desk")
    app = await svc.create_application(desk, {"project_id": world.project["id"], "customer_id": customer_id,
                                              "space_type": space_type, "term": term,
                                              "plates": plates or ["粤B12345"]}, now=received)
    for name in DOCS:
        await svc.add_document(desk, app["id"], name, f"{name}.png", "image/png", PNG, now=received + timedelta(minutes=2))
    return await svc.check_documents(desk, app["id"], {d: True for d in DOCS}, now=received + timedelta(minutes=5))


async def signed_lease(world, customer_id: int, space_type: str, term: str, received: datetime,
                       minutes: int = 15) -> dict[str, Any]:
    """The whole desk flow: received → checked → offered → signed after `minutes`."""
    desk = await world.principal("front_desk")
    app = await checked_application(world, customer_id, space_type, term, received)
    result = await svc.allocate(desk, app["id"], None, now=received + timedelta(minutes=6))
    assert result["outcome"] == "offered", result
    return await svc.sign_lease(desk, app["id"], {"start_date": svc.local_date(received)},
                                now=received + timedelta(minutes=minutes))
