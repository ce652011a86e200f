"""Helpers of the arrears collection tests: fee items, months of bills and ladder runs with explicit dates."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from plugins.arrears_collection import services as svc
from plugins.arrears_collection.tables import Case, Task, Watch

NOW = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)
API = "/api/v1/arrears-collection"
STANDARD_FEN = 235  # 2.35 yuan per m² per month: 100.50 m² → 23,617.5 fen → 23,618 fen (half up)
MONTHLY_FEN = 23618


async def fee_item(world: Any, *, standard_fen: int = STANDARD_FEN, code: str = "PROP", basis: str = "area_month",
                   project: dict | None = None) -> dict:
    finance = await world.principal("finance")
    return await svc.create_fee_item(finance, {
        "project_id": (project or world.project)["id"], "code": code, "name": "物业服务费", "basis": basis,
        "standard_fen": standard_fen, "unit_label": "m²·月", "basis_text": "物价局备案", "unit_use": "",
        "published_on": date(2020, 1, 1)})


async def bill_months(world: Any, first: str, count: int, *, unit_ids: list[int] | None = None) -> int:
    created = 0
    for i in range(count):
        period = svc.period_from_no(svc.period_no(first) + i)
        created += await svc.generate_bills(world.tenant_id, world.project, period, now=NOW, unit_ids=unit_ids)
    return created


async def ladder(world: Any, as_of: date) -> dict[str, int]:
    return await svc.run_ladder(world.tenant_id, world.project, as_of, now=NOW)


def month_start(first: str, months_later: int) -> date:
    return svc.period_bounds(svc.period_from_no(svc.period_no(first) + months_later))[0]


async def steps(world: Any, customer_id: int, kind: str | None = None, status: str | None = None) -> list[dict]:
    scope = (await world.principal("finance")).scope
    query = scope.select(Task).where(Task.customer_id == customer_id)
    if kind:
        query = query.where(Task.kind == kind)
    if status:
        query = query.where(Task.status == status)
    return await query.order_by(Task.id)


async def cases(world: Any, customer_id: int) -> list[dict]:
    scope = (await world.principal("finance")).scope
    return await scope.select(Case).where(Case.customer_id == customer_id).order_by(Case.id)


async def watches(world: Any, customer_id: int) -> list[dict]:
    scope = (await world.principal("finance")).scope
    return await scope.select(Watch).where(Watch.customer_id == customer_id).order_by(Watch.id)
