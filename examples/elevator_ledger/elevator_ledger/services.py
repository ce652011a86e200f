"""The rules of the elevator ledger.

Seed 000: 电梯台帐准确率100% — the ledger is accurate when, for the month, every elevator of the
project has its contractor's maintenance recorded and every fault recorded that month was passed to
the contractor and closed ("数据准确无遗漏"). Accuracy = accurate lines / expected lines.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from core import Principal, TenantScope, conflict, get_registry, invalid, not_found, schemas, tables
from elevator_ledger.tables import Elevator, Record


async def add_elevator(tenant_id: int, project_id: int, building_id: int, code: str, maker: str,
                       contractor: str) -> dict[str, Any]:
    scope = TenantScope(tenant_id)
    building = await scope.get_or_none(tables.Building, building_id)
    if building is None or building["project_id"] != project_id:
        raise invalid("building_id", "no such building")
    code = schemas.clean_text(code).strip()
    if await scope.exists(Elevator).where((Elevator.building_id == building_id) & (Elevator.code == code)):
        raise conflict(f"Elevator {code} is already in the ledger of this building.")
    return await scope.insert(Elevator, project_id=project_id, building_id=building_id, code=code,
                              maker=schemas.clean_text(maker), contractor=schemas.clean_text(contractor))


async def create_elevator(principal: Principal, data: Any) -> dict[str, Any]:
    principal.require("place.write")
    building = await principal.scope.get_or_none(tables.Building, data.building_id)
    if building is None or not principal.sees_project(building["project_id"]):
        raise invalid("building_id", "no such building")
    return await add_elevator(principal.tenant_id, building["project_id"], building["id"], data.code, data.maker,
                              data.contractor)


async def add_record(tenant_id: int, elevator_id: int, kind: str, occurred_on: date, description: str, *,
                     contractor_notified: bool, resolved_on: date | None) -> dict[str, Any]:
    if resolved_on is not None and resolved_on < occurred_on:
        raise invalid("resolved_on", "before the day it occurred")
    return await TenantScope(tenant_id).insert(Record, elevator_id=elevator_id, kind=kind, occurred_on=occurred_on,
                                               description=schemas.clean_text(description),
                                               contractor_notified=contractor_notified, resolved_on=resolved_on)


async def create_record(principal: Principal, data: Any) -> dict[str, Any]:
    principal.require("ticket.update")
    elevator = await principal.scope.get_or_none(Elevator, data.elevator_id)
    if elevator is None or not principal.sees_project(elevator["project_id"]):
        raise invalid("elevator_id", "no such elevator")
    return await add_record(principal.tenant_id, elevator["id"], data.kind, data.occurred_on, data.description,
                            contractor_notified=data.contractor_notified, resolved_on=data.resolved_on)


async def list_elevators(principal: Principal) -> list[dict[str, Any]]:
    query = principal.scope.select(Elevator).order_by(Elevator.id)
    clause = principal.project_filter(Elevator.project_id)
    return await (query.where(clause) if clause is not None else query)


async def get_elevator(principal: Principal, elevator_id: int) -> dict[str, Any]:
    row = await principal.scope.get(Elevator, elevator_id, what="elevator")
    if not principal.sees_project(row["project_id"]):
        raise not_found("elevator")
    row["records"] = await principal.scope.select(Record).where(Record.elevator_id == elevator_id).order_by(Record.occurred_on)
    return row


def _month_range(month: str) -> tuple[date, date]:
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise invalid("month", "YYYY-MM") from None
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


async def accuracy(tenant_id: int, project_id: int, month: str) -> dict[str, Any]:
    """The ledger's accuracy for one project and month (set-based counts)."""
    first, nxt = _month_range(month)
    scope = TenantScope(tenant_id)
    ids = [r["id"] for r in await scope.select(Elevator, Elevator.id).where(Elevator.project_id == project_id)]
    elevators = len(ids)
    in_month = Record.elevator_id.is_in(ids or [-1]) & (Record.occurred_on >= first) & (Record.occurred_on < nxt)
    maintained = await scope.select(Record, Record.elevator_id).where(in_month & (Record.kind == "maintenance")).distinct()
    faults = await scope.count(Record).where(in_month & (Record.kind == "fault"))
    closed = await scope.count(Record).where(in_month & (Record.kind == "fault") & (Record.contractor_notified == True)  # noqa: E712
                                             & Record.resolved_on.is_not_null() & (Record.resolved_on < nxt))
    expected = elevators + faults
    accurate = len(maintained) + closed
    percent = 100.0 if expected == 0 else round(accurate * 100.0 / expected, 1)
    target = float((await get_registry().settings(tenant_id, "elevator_ledger", project_id))["accuracy_target_percent"])
    return {"project_id": project_id, "month": month, "elevators": elevators, "maintained": len(maintained),
            "faults": faults, "faults_closed": closed, "accuracy_percent": percent, "target_percent": target,
            "meets_target": percent >= target}


async def project_accuracy(principal: Principal, project_id: int, month: str) -> dict[str, Any]:
    if not principal.sees_project(project_id) or not await principal.scope.exists(tables.Project).where(
            tables.Project.id == project_id):
        raise not_found("project")
    return await accuracy(principal.tenant_id, project_id, month)
