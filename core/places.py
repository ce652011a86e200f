"""Services for projects, buildings, units, grids, customers and occupancy (who holds which unit)."""
from __future__ import annotations

from datetime import date
from typing import Any

from core.db import transaction
from core.errors import Problem, conflict, invalid, not_found
from core.plugins import get_registry
from core.tables import Building, Customer, Grid, Membership, Occupancy, Project, Ticket, Unit
from core.tenancy import Principal


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else ("*" * len(phone))


def mask_id_number(value: str) -> str:
    return value[:4] + "*" * max(len(value) - 8, 0) + value[-4:] if len(value) > 8 else "*" * len(value)


def present_customer(principal: Principal, row: dict[str, Any]) -> dict[str, Any]:
    """A customer row as this staff member may see it: phone and ID masked unless the role needs them."""
    out = dict(row)
    if not principal.can("customer.view_phone"):
        out["phone"] = mask_phone(out.get("phone") or "")
    if not principal.can("customer.view_id_number"):
        out["id_number"] = mask_id_number(out.get("id_number") or "")
    return out


async def refuse_if_referenced(principal: Principal, table: Any, row_id: int, what: str,
                               handled: tuple[tuple[str, str], ...] = ()) -> None:
    """409 while rows of any table, the kernel's or a plugin's, still point at this row: their foreign keys
    cascade, so deleting it would delete them too (bills, leases, tickets …). `handled` names the
    (table, column) pairs the caller has checked (or clears) itself."""
    for column in table._meta.foreign_key_references:
        holder = column._meta.table
        if (holder._meta.tablename, column._meta.name) in handled:
            continue
        if "tenant_id" in {c._meta.name for c in holder._meta.columns}:
            found = await principal.scope.exists(holder).where(column == row_id)
        else:
            found = await holder.exists().where(column == row_id)
        if found:
            raise conflict(f"This {what} is still referred to by {holder._meta.tablename.replace('_', ' ')}; "
                           "it is kept (deleting it would delete those records too).",
                           referenced_by=holder._meta.tablename)


async def visible_project(principal: Principal, project_id: int) -> dict[str, Any]:
    project = await principal.scope.get(Project, project_id, what="project")
    if not principal.sees_project(project_id):
        raise not_found("project")
    return project


async def project_for_body(principal: Principal, project_id: int, field: str = "project_id") -> dict[str, Any]:
    project = await principal.scope.get_or_none(Project, project_id)
    if project is None or not principal.sees_project(project_id):
        raise invalid(field, "no such project")
    return project


async def unique_or_conflict(coro, what: str):
    try:
        return await coro
    except Exception as exc:  # noqa: BLE001
        text = str(exc).lower()
        if "unique" in text or "duplicate" in text:
            raise conflict(f"{what} already exists.") from exc
        raise


# ---------------------------------------------------------------- projects

async def create_project(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    principal.require("project.write")
    return await unique_or_conflict(principal.scope.insert(Project, **data), f"A project with code {data['code']!r}")


async def update_project(principal: Principal, project_id: int, data: dict[str, Any]) -> dict[str, Any]:
    project = await visible_project(principal, project_id)
    principal.require("place.write")
    if data:
        await principal.scope.update(Project, {getattr(Project, k): v for k, v in data.items()}).where(Project.id == project_id)
    return {**project, **data}


async def delete_project(principal: Principal, project_id: int) -> None:
    await visible_project(principal, project_id)
    principal.require("project.write")
    if await principal.scope.exists(Building).where(Building.project_id == project_id) or \
            await principal.scope.exists(Ticket).where(Ticket.project_id == project_id):
        raise conflict("The project still has buildings or tickets; remove them first.")
    await refuse_if_referenced(principal, Project, project_id, "project", handled=(
        ("core_building", "project_id"), ("core_ticket", "project_id"), ("core_plugin_state", "project_id")))
    await principal.scope.delete(Project).where(Project.id == project_id)


# ---------------------------------------------------------------- buildings

async def get_building(principal: Principal, building_id: int) -> dict[str, Any]:
    building = await principal.scope.get(Building, building_id, what="building")
    if not principal.sees_project(building["project_id"]):
        raise not_found("building")
    return building


async def create_building(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    principal.require("place.write")
    await project_for_body(principal, data["project_id"])
    return await unique_or_conflict(principal.scope.insert(Building, **data), f"Building {data['code']!r}")


async def update_building(principal: Principal, building_id: int, data: dict[str, Any]) -> dict[str, Any]:
    building = await get_building(principal, building_id)
    principal.require("place.write")
    if data:
        await principal.scope.update(Building, {getattr(Building, k): v for k, v in data.items()}).where(Building.id == building_id)
    return {**building, **data}


async def delete_building(principal: Principal, building_id: int) -> None:
    await get_building(principal, building_id)
    principal.require("place.write")
    if await principal.scope.exists(Unit).where(Unit.building_id == building_id):
        raise conflict("The building still has units; remove them first.")
    await refuse_if_referenced(principal, Building, building_id, "building", handled=(("core_unit", "building_id"),))
    await principal.scope.delete(Building).where(Building.id == building_id)


# ---------------------------------------------------------------- units

async def get_unit(principal: Principal, unit_id: int) -> dict[str, Any]:
    unit = await principal.scope.get(Unit, unit_id, what="unit")
    if not principal.sees_unit(unit):
        raise not_found("unit")
    return unit


async def _grid_in_project(principal: Principal, grid_id: int | None, project_id: int) -> None:
    if grid_id is None:
        return
    grid = await principal.scope.get_or_none(Grid, grid_id)
    if grid is None or grid["project_id"] != project_id:
        raise invalid("grid_id", "no such grid in this project")


async def create_unit(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    principal.require("place.write")
    building = await principal.scope.get_or_none(Building, data["building_id"])
    if building is None or not principal.sees_project(building["project_id"]):
        raise invalid("building_id", "no such building")
    await _grid_in_project(principal, data.get("grid_id"), building["project_id"])
    return await unique_or_conflict(principal.scope.insert(Unit, project_id=building["project_id"], **data),
                                    f"Room {data['room']!r} in this building and entrance")


async def update_unit(principal: Principal, unit_id: int, data: dict[str, Any]) -> dict[str, Any]:
    unit = await get_unit(principal, unit_id)
    principal.require("place.write")
    if "grid_id" in data:
        await _grid_in_project(principal, data["grid_id"], unit["project_id"])
    if data:
        await principal.scope.update(Unit, {getattr(Unit, k): v for k, v in data.items()}).where(Unit.id == unit_id)
    return {**unit, **data}


async def delete_unit(principal: Principal, unit_id: int) -> None:
    await get_unit(principal, unit_id)
    principal.require("place.write")
    if await principal.scope.exists(Ticket).where(Ticket.unit_id == unit_id) or \
            await principal.scope.exists(Occupancy).where(Occupancy.unit_id == unit_id):
        raise conflict("The unit has tickets or customers; it cannot be deleted.")
    await refuse_if_referenced(principal, Unit, unit_id, "unit",
                               handled=(("core_ticket", "unit_id"), ("core_occupancy", "unit_id")))
    await principal.scope.delete(Unit).where(Unit.id == unit_id)


# ---------------------------------------------------------------- grids

async def get_grid(principal: Principal, grid_id: int) -> dict[str, Any]:
    grid = await principal.scope.get(Grid, grid_id, what="grid")
    if not principal.sees_project(grid["project_id"]):
        raise not_found("grid")
    if principal.role == "butler" and grid_id not in principal.grid_ids:
        raise not_found("grid")
    return grid


async def _check_responsible(principal: Principal, user_id: int | None) -> None:
    if user_id is None:
        return
    ok = await principal.scope.exists(Membership).where((Membership.user_id == user_id) & (Membership.is_active == True))  # noqa: E712
    if not ok:
        raise invalid("responsible_id", "no such staff member in this company")


async def _assign_units(principal: Principal, grid: dict[str, Any], unit_ids: list[int]) -> None:
    if not unit_ids:
        await principal.scope.update(Unit, {Unit.grid_id: None}).where(Unit.grid_id == grid["id"])
        return
    found = await principal.scope.select(Unit, Unit.id).where(
        Unit.id.is_in(list(unit_ids)) & (Unit.project_id == grid["project_id"]))
    missing = sorted(set(unit_ids) - {r["id"] for r in found})
    if missing:
        raise invalid("unit_ids", f"no such unit in this project: {missing[:10]}")
    await principal.scope.update(Unit, {Unit.grid_id: None}).where(
        (Unit.grid_id == grid["id"]) & Unit.id.not_in(list(unit_ids)))
    await principal.scope.update(Unit, {Unit.grid_id: grid["id"]}).where(Unit.id.is_in(list(unit_ids)))


async def create_grid(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    principal.require("grid.write")
    await project_for_body(principal, data["project_id"])
    await _check_responsible(principal, data.get("responsible_id"))
    unit_ids = data.pop("unit_ids", [])
    async with transaction():
        grid = await unique_or_conflict(principal.scope.insert(Grid, **data), f"Grid {data['code']!r}")
        await _assign_units(principal, grid, unit_ids)
    return grid


async def update_grid(principal: Principal, grid_id: int, data: dict[str, Any]) -> dict[str, Any]:
    grid = await get_grid(principal, grid_id)
    principal.require("grid.write")
    if "responsible_id" in data:
        await _check_responsible(principal, data["responsible_id"])
    unit_ids = data.pop("unit_ids", None)
    async with transaction():
        if data:
            await principal.scope.update(Grid, {getattr(Grid, k): v for k, v in data.items()}).where(Grid.id == grid_id)
        if unit_ids is not None:
            await _assign_units(principal, grid, unit_ids)
    return {**grid, **data}


async def delete_grid(principal: Principal, grid_id: int) -> None:
    await get_grid(principal, grid_id)
    principal.require("grid.write")
    await refuse_if_referenced(principal, Grid, grid_id, "grid",
                               handled=(("core_unit", "grid_id"), ("core_ticket", "grid_id")))
    async with transaction():
        await principal.scope.update(Unit, {Unit.grid_id: None}).where(Unit.grid_id == grid_id)
        await principal.scope.update(Ticket, {Ticket.grid_id: None}).where(Ticket.grid_id == grid_id)
        await principal.scope.delete(Grid).where(Grid.id == grid_id)


# ---------------------------------------------------------------- customers

async def get_customer(principal: Principal, customer_id: int) -> dict[str, Any]:
    """A customer this staff member may see: it must hold (or have held) a unit in a visible project/grid."""
    customer = await principal.scope.get(Customer, customer_id, what="customer")
    if principal.sees_all_projects() and principal.role not in ("butler", "technician"):
        return customer
    units = await principal.scope.select(Occupancy, Occupancy.unit_id.project_id.as_alias("project_id"),
                                         Occupancy.unit_id.grid_id.as_alias("grid_id")).where(
        Occupancy.customer_id == customer_id)
    if principal.role == "technician":
        seen = await principal.scope.exists(Ticket).where((Ticket.customer_id == customer_id) & (
            (Ticket.executor_id == principal.user_id) | (Ticket.first_receiver_id == principal.user_id)))
        if seen:
            return customer
        raise not_found("customer")
    if not units:
        if principal.can("customer.write"):
            return customer  # a new customer not yet linked to a unit
        raise not_found("customer")
    if any(principal.sees_unit({"project_id": u["project_id"], "grid_id": u["grid_id"]}) for u in units):
        return customer
    raise not_found("customer")


async def move_in(principal: Principal, customer_id: int, unit_id: int, role: str, start_date: date) -> dict[str, Any]:
    """Link a customer to a unit from a date; an owner's arrival ends the previous owners' hold (a transfer)."""
    await get_customer(principal, customer_id)
    principal.require("customer.write")
    unit = await principal.scope.get_or_none(Unit, unit_id)
    if unit is None or not principal.sees_unit(unit):
        raise invalid("unit_id", "no such unit")
    previous_owners: list[int] = []
    async with transaction():
        if role == "owner":
            current = await principal.scope.select(Occupancy, Occupancy.id, Occupancy.customer_id).where(
                (Occupancy.unit_id == unit_id) & (Occupancy.role == "owner") & Occupancy.end_date.is_null()
                & (Occupancy.customer_id != customer_id))
            previous_owners = [r["customer_id"] for r in current]
            if current:
                await principal.scope.update(Occupancy, {Occupancy.end_date: start_date}).where(
                    Occupancy.id.is_in([r["id"] for r in current]))
        row = await principal.scope.insert(Occupancy, customer_id=customer_id, unit_id=unit_id, role=role,
                                           start_date=start_date)
        if unit["status"] == "vacant":
            await principal.scope.update(Unit, {Unit.status: "occupied"}).where(Unit.id == unit_id)
    registry = get_registry()
    for old in previous_owners:
        await registry.call("on_customer_moved_out", tenant_id=principal.tenant_id, project_id=unit["project_id"],
                            customer_id=old, unit_id=unit_id, role="owner", end_date=start_date)
    await registry.call("on_customer_moved_in", tenant_id=principal.tenant_id, project_id=unit["project_id"],
                        customer_id=customer_id, unit_id=unit_id, role=role, start_date=start_date)
    if previous_owners:
        await registry.call("on_ownership_changed", tenant_id=principal.tenant_id, project_id=unit["project_id"],
                            unit_id=unit_id, previous_owner_ids=previous_owners, new_owner_id=customer_id,
                            on_date=start_date)
    return row


async def move_out(principal: Principal, customer_id: int, occupancy_id: int, end_date: date) -> dict[str, Any]:
    await get_customer(principal, customer_id)
    occ = await principal.scope.get(Occupancy, occupancy_id, what="occupancy")
    if occ["customer_id"] != customer_id:
        raise not_found("occupancy")
    principal.require("customer.write")
    if occ["end_date"] is not None:
        raise conflict("This hold on the unit has already ended.")
    if end_date < occ["start_date"]:
        raise invalid("end_date", "is before the start date")
    await principal.scope.update(Occupancy, {Occupancy.end_date: end_date}).where(Occupancy.id == occupancy_id)
    unit = await principal.scope.get(Unit, occ["unit_id"])
    await get_registry().call("on_customer_moved_out", tenant_id=principal.tenant_id, project_id=unit["project_id"],
                              customer_id=customer_id, unit_id=occ["unit_id"], role=occ["role"], end_date=end_date)
    return {**occ, "end_date": end_date}


async def customer_file(principal: Principal, customer_id: int, *, address: str = "") -> dict[str, Any]:
    """One household, one file: the customer, its units over time, and its tickets. Every read is audited."""
    customer = await get_customer(principal, customer_id)
    from core import audit

    await audit.record(principal, "customer.file_read", object_type="customer", object_id=customer_id, address=address)
    units = await (principal.scope.select(
        Occupancy, Occupancy.all_columns(), Occupancy.unit_id.room.as_alias("room"),
        Occupancy.unit_id.entrance.as_alias("entrance"), Occupancy.unit_id.building_id.code.as_alias("building"),
        Occupancy.unit_id.project_id.as_alias("project_id"), Occupancy.unit_id.project_id.name.as_alias("project_name"))
        .where(Occupancy.customer_id == customer_id).order_by(Occupancy.start_date))
    tickets = await (principal.scope.select(Ticket, Ticket.id, Ticket.kind, Ticket.status, Ticket.title, Ticket.created_at,
                                            Ticket.project_id)
                     .where(Ticket.customer_id == customer_id).order_by(Ticket.id, ascending=False).limit(200))
    from core.plugins import get_registry

    sections = []
    for found in await get_registry().call("customer_file_sections", tenant_id=principal.tenant_id,
                                           customer_id=customer_id, principal=principal):
        sections.extend(s for s in found if isinstance(s, dict) and s.get("rows") is not None)
    return {"customer": present_customer(principal, customer), "units": units, "tickets": tickets, "sections": sections}
