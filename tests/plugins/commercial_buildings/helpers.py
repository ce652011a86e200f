"""Small builders shared by the commercial buildings tests."""
from __future__ import annotations

from datetime import date
from typing import Any

from core import TenantScope, tables

API = "/api/v1/commercial-buildings"


async def zone(client, w, kind: str, floor_from: int, floor_to: int, lead: str = "supervisor",
               members: tuple[str, ...] = ()) -> dict[str, Any]:
    r = await client.post(f"{API}/zones", json={
        "project_id": w.project["id"], "building_id": w.building["id"], "kind": kind, "name": f"{kind} zone",
        "floor_from": floor_from, "floor_to": floor_to, "lead_id": w.staff[lead],
        "member_ids": [w.staff[m] for m in members]}, headers=w.headers("project_manager"))
    assert r.status_code == 201, r.text
    return r.json()


async def settings(client, w, **values: Any) -> None:
    r = await client.put("/api/v1/plugins/commercial_buildings", json={"enabled": True, "settings": values},
                         headers=w.headers("company_cs"))
    assert r.status_code == 200, r.text


async def person(w, name: str = "张三") -> dict[str, Any]:
    return await TenantScope(w.tenant_id).insert(tables.Customer, name=name, phone="13900000000")


async def renter(w, unit_index: int, name: str = "租户公司") -> dict[str, Any]:
    scope = TenantScope(w.tenant_id)
    c = await scope.insert(tables.Customer, name=name, kind="company")
    await scope.insert(tables.Occupancy, customer_id=c["id"], unit_id=w.units[unit_index]["id"], role="renter",
                       start_date=date(2024, 1, 1))
    return c
