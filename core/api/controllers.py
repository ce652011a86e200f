"""The kernel's JSON API under /api/v1. Handlers are thin: they call services with the principal."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import Parameter

from core import places, tickets
from core.api.schemas import (
    BuildingCreate, BuildingUpdate, CommentIn, CustomerCreate, CustomerUpdate, GridCreate, GridUpdate, LoginIn, MoveIn,
    MoveOut, PluginStateIn, ProjectCreate, ProjectUpdate, TicketCreate, TicketUpdate, TransitionIn, UnitCreate,
    UnitUpdate, clean_text,
)
from core.auth import login, revoke
from core.errors import invalid
from core.plugins import get_registry
from core.tables import Building, Customer, Grid, Occupancy, PluginState, Project, Unit
from core.tenancy import Principal

Limit = Parameter(ge=1, le=100, default=25)


def _page(rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": tickets.encode_cursor(rows[-1]["id"]) if more and rows else None}


def _keyset(query: Any, table: Any, cursor: str | None, limit: int) -> Any:
    after = tickets.decode_cursor(cursor)
    if after is not None:
        query = query.where(table.id > after)
    return query.order_by(table.id).limit(limit + 1)


def _json_data(row: dict[str, Any]) -> dict[str, Any]:
    """JSON columns come back from the database as text; the API answers them as JSON."""
    from core.db import json_value

    if isinstance(row.get("data"), (str, bytes)):
        row["data"] = json_value(row["data"])
    return row


def _texts(data: dict[str, Any]) -> dict[str, Any]:
    return {k: clean_text(v) if isinstance(v, str) else v for k, v in data.items()}


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", exclude_from_auth=True, status_code=200)
    async def login(self, request: Request, data: LoginIn) -> dict[str, Any]:
        """Exchange a login and password for a bearer token scoped to one company."""
        address = request.client.host if request.client else ""
        return await login(data.login, data.password, data.tenant, data.role, address=address,
                           new_password=data.new_password)

    @post("/logout", status_code=200)
    async def logout(self, request: Request) -> dict[str, Any]:
        principal: Principal = request.user
        if principal.token_id:
            await revoke(principal.tenant_id, principal.token_id)
        return {"ok": True}

    @get("/me")
    async def me(self, request: Request) -> dict[str, Any]:
        p: Principal = request.user
        return {"user_id": p.user_id, "tenant_id": p.tenant_id, "role": p.role, "name": p.name, "login": p.login,
                "project_ids": p.project_ids, "grid_ids": list(p.grid_ids)}


class ProjectController(Controller):
    path = "/api/v1/projects"
    tags = ["places"]

    @get("/")
    async def list_projects(self, request: Request, cursor: str | None = None, limit: int = Limit) -> dict[str, Any]:
        p: Principal = request.user
        query = p.scope.select(Project)
        clause = p.project_filter(Project.id)
        if clause is not None:
            query = query.where(clause)
        return _page(await _keyset(query, Project, cursor, limit), limit)

    @post("/")
    async def create_project(self, request: Request, data: ProjectCreate) -> dict[str, Any]:
        return await places.create_project(request.user, _texts(data.set_fields()))

    @get("/{project_id:int}")
    async def get_project(self, request: Request, project_id: int) -> dict[str, Any]:
        return await places.visible_project(request.user, project_id)

    @patch("/{project_id:int}")
    async def update_project(self, request: Request, project_id: int, data: ProjectUpdate) -> dict[str, Any]:
        return await places.update_project(request.user, project_id, _texts(data.set_fields()))

    @delete("/{project_id:int}", status_code=204)
    async def delete_project(self, request: Request, project_id: int) -> None:
        await places.delete_project(request.user, project_id)


class BuildingController(Controller):
    path = "/api/v1/buildings"
    tags = ["places"]

    @get("/")
    async def list_buildings(self, request: Request, project_id: int | None = None, cursor: str | None = None,
                             limit: int = Limit) -> dict[str, Any]:
        p: Principal = request.user
        query = p.scope.select(Building)
        clause = p.project_filter(Building.project_id)
        if clause is not None:
            query = query.where(clause)
        if project_id is not None:
            query = query.where(Building.project_id == project_id)
        return _page(await _keyset(query, Building, cursor, limit), limit)

    @post("/")
    async def create_building(self, request: Request, data: BuildingCreate) -> dict[str, Any]:
        return await places.create_building(request.user, _texts(data.set_fields()))

    @get("/{building_id:int}")
    async def get_building(self, request: Request, building_id: int) -> dict[str, Any]:
        return await places.get_building(request.user, building_id)

    @patch("/{building_id:int}")
    async def update_building(self, request: Request, building_id: int, data: BuildingUpdate) -> dict[str, Any]:
        return await places.update_building(request.user, building_id, _texts(data.set_fields()))

    @delete("/{building_id:int}", status_code=204)
    async def delete_building(self, request: Request, building_id: int) -> None:
        await places.delete_building(request.user, building_id)


class UnitController(Controller):
    path = "/api/v1/units"
    tags = ["places"]

    @get("/")
    async def list_units(self, request: Request, project_id: int | None = None, building_id: int | None = None,
                         grid_id: int | None = None, room: str | None = Parameter(default=None, max_length=30),
                         cursor: str | None = None, limit: int = Limit) -> dict[str, Any]:
        p: Principal = request.user
        query = p.scope.select(Unit, Unit.all_columns(), Unit.building_id.code.as_alias("building_code"))
        clause = p.project_filter(Unit.project_id)
        if clause is not None:
            query = query.where(clause)
        if p.role == "butler":
            query = query.where(Unit.grid_id.is_in(list(p.grid_ids) or [-1]))
        for col, value in ((Unit.project_id, project_id), (Unit.building_id, building_id), (Unit.grid_id, grid_id),
                           (Unit.room, room)):
            if value is not None:
                query = query.where(col == value)
        return _page(await _keyset(query, Unit, cursor, limit), limit)

    @post("/")
    async def create_unit(self, request: Request, data: UnitCreate) -> dict[str, Any]:
        return await places.create_unit(request.user, _texts(data.set_fields()))

    @get("/{unit_id:int}")
    async def get_unit(self, request: Request, unit_id: int) -> dict[str, Any]:
        return await places.get_unit(request.user, unit_id)

    @patch("/{unit_id:int}")
    async def update_unit(self, request: Request, unit_id: int, data: UnitUpdate) -> dict[str, Any]:
        return await places.update_unit(request.user, unit_id, data.set_fields())

    @delete("/{unit_id:int}", status_code=204)
    async def delete_unit(self, request: Request, unit_id: int) -> None:
        await places.delete_unit(request.user, unit_id)


class GridController(Controller):
    path = "/api/v1/grids"
    tags = ["grids"]

    @get("/")
    async def list_grids(self, request: Request, project_id: int | None = None, cursor: str | None = None,
                         limit: int = Limit) -> dict[str, Any]:
        p: Principal = request.user
        query = p.scope.select(Grid, Grid.all_columns(), Grid.responsible_id.name.as_alias("responsible_name"))
        clause = p.project_filter(Grid.project_id)
        if clause is not None:
            query = query.where(clause)
        if p.role == "butler":
            query = query.where(Grid.id.is_in(list(p.grid_ids) or [-1]))
        if project_id is not None:
            query = query.where(Grid.project_id == project_id)
        return _page(await _keyset(query, Grid, cursor, limit), limit)

    @post("/")
    async def create_grid(self, request: Request, data: GridCreate) -> dict[str, Any]:
        return await places.create_grid(request.user, _texts(data.set_fields()))

    @get("/{grid_id:int}")
    async def get_grid(self, request: Request, grid_id: int) -> dict[str, Any]:
        grid = await places.get_grid(request.user, grid_id)
        p: Principal = request.user
        grid["households"] = await p.scope.count(Unit).where(
            (Unit.grid_id == grid_id) & Unit.status.is_in(["sold", "occupied"]) & (Unit.use == "residential"))
        return grid

    @patch("/{grid_id:int}")
    async def update_grid(self, request: Request, grid_id: int, data: GridUpdate) -> dict[str, Any]:
        return await places.update_grid(request.user, grid_id, _texts(data.set_fields()))

    @delete("/{grid_id:int}", status_code=204)
    async def delete_grid(self, request: Request, grid_id: int) -> None:
        await places.delete_grid(request.user, grid_id)


class CustomerController(Controller):
    path = "/api/v1/customers"
    tags = ["customers"]

    @get("/")
    async def list_customers(self, request: Request, q: str | None = Parameter(default=None, max_length=50),
                             project_id: int | None = None, unit_id: int | None = None, cursor: str | None = None,
                             limit: int = Limit) -> dict[str, Any]:
        """Customers holding units in visible projects; `q` matches name or phone prefix."""
        p: Principal = request.user
        query = p.scope.select(Occupancy, Occupancy.customer_id.all_columns(),
                               Occupancy.unit_id.as_alias("unit_id"), Occupancy.role.as_alias("unit_role"),
                               Occupancy.unit_id.room.as_alias("room"),
                               Occupancy.unit_id.building_id.code.as_alias("building")).where(Occupancy.end_date.is_null())
        clause = p.project_filter(Occupancy.unit_id.project_id)
        if clause is not None:
            query = query.where(clause)
        if p.role == "butler":
            query = query.where(Occupancy.unit_id.grid_id.is_in(list(p.grid_ids) or [-1]))
        if p.role == "technician":
            query = query.where(Occupancy.id == -1)
        if project_id is not None:
            query = query.where(Occupancy.unit_id.project_id == project_id)
        if unit_id is not None:
            query = query.where(Occupancy.unit_id == unit_id)
        if q:
            query = query.where(Occupancy.customer_id.name.like(f"{q}%") | Occupancy.customer_id.phone.like(f"{q}%"))
        after = tickets.decode_cursor(cursor)
        if after is not None:
            query = query.where(Occupancy.id > after)
        rows = await query.columns(Occupancy.id.as_alias("occupancy_id")).order_by(Occupancy.id).limit(limit + 1)
        items = []
        for r in rows[:limit]:
            r = {k.replace("customer_id.", ""): v for k, v in r.items()}
            items.append(places.present_customer(p, r))
        more = len(rows) > limit
        return {"items": items, "next_cursor": tickets.encode_cursor(rows[limit - 1]["occupancy_id"]) if more else None}

    @post("/")
    async def create_customer(self, request: Request, data: CustomerCreate) -> dict[str, Any]:
        p: Principal = request.user
        p.require("customer.write")
        return places.present_customer(p, await p.scope.insert(Customer, **_texts(data.set_fields())))

    @get("/{customer_id:int}")
    async def get_customer(self, request: Request, customer_id: int) -> dict[str, Any]:
        return places.present_customer(request.user, await places.get_customer(request.user, customer_id))

    @get("/{customer_id:int}/file")
    async def customer_file(self, request: Request, customer_id: int) -> dict[str, Any]:
        """One household, one file: the customer, its units over time and its tickets."""
        return await places.customer_file(request.user, customer_id,
                                          address=request.client.host if request.client else "")

    @patch("/{customer_id:int}")
    async def update_customer(self, request: Request, customer_id: int, data: CustomerUpdate) -> dict[str, Any]:
        p: Principal = request.user
        customer = await places.get_customer(p, customer_id)
        p.require("customer.write")
        changes = _texts(data.set_fields())
        if changes:
            await p.scope.update(Customer, {getattr(Customer, k): v for k, v in changes.items()}).where(Customer.id == customer_id)
        return places.present_customer(p, {**customer, **changes})

    @delete("/{customer_id:int}", status_code=204)
    async def delete_customer(self, request: Request, customer_id: int) -> None:
        p: Principal = request.user
        await places.get_customer(p, customer_id)
        p.require("place.write")
        if await p.scope.exists(Occupancy).where(Occupancy.customer_id == customer_id):
            from core.errors import conflict
            raise conflict("The customer holds or held units; end those first (the file is kept).")
        await places.refuse_if_referenced(p, Customer, customer_id, "customer",
                                          handled=(("core_occupancy", "customer_id"),))
        await p.scope.delete(Customer).where(Customer.id == customer_id)

    @post("/{customer_id:int}/units")
    async def move_in(self, request: Request, customer_id: int, data: MoveIn) -> dict[str, Any]:
        """The customer starts to hold a unit (moved in, bought, rented)."""
        return await places.move_in(request.user, customer_id, data.unit_id, data.role, data.start_date)

    @post("/{customer_id:int}/units/{occupancy_id:int}/end", status_code=200)
    async def move_out(self, request: Request, customer_id: int, occupancy_id: int, data: MoveOut) -> dict[str, Any]:
        return await places.move_out(request.user, customer_id, occupancy_id, data.end_date)


class TicketController(Controller):
    path = "/api/v1/tickets"
    tags = ["tickets"]

    @get("/")
    async def list_tickets(self, request: Request, project_id: int | None = None, grid_id: int | None = None,
                           status: str | None = Parameter(default=None, max_length=200),
                           kind: str | None = Parameter(default=None, max_length=50),
                           responsible_id: int | None = None, executor_id: int | None = None,
                           customer_id: int | None = None, unit_id: int | None = None,
                           due_before: datetime | None = None, mine: bool = False, cursor: str | None = None,
                           limit: int = Limit) -> dict[str, Any]:
        """The inbox, newest first; page with `next_cursor`."""
        return await tickets.list_tickets(request.user, project_id=project_id, grid_id=grid_id, status=status, kind=kind,
                                          responsible_id=responsible_id, executor_id=executor_id,
                                          customer_id=customer_id, unit_id=unit_id, due_before=due_before, mine=mine,
                                          cursor=cursor, limit=limit)

    @post("/")
    async def create_ticket(self, request: Request, data: TicketCreate) -> dict[str, Any]:
        body = _texts(data.set_fields())
        if body.get("received_at") is not None:
            if body["received_at"].tzinfo is None:
                raise invalid("received_at", "needs a time zone offset")
            if body["received_at"] > tickets.utcnow() + timedelta(minutes=5):
                raise invalid("received_at", "is in the future")
        return _json_data(await tickets.create_ticket(request.user, body))

    @get("/{ticket_id:int}")
    async def get_ticket(self, request: Request, ticket_id: int) -> dict[str, Any]:
        ticket = await tickets.get_ticket(request.user, ticket_id)
        from core.workflow import allowed_from

        ticket["allowed"] = list(allowed_from(ticket["status"], ticket["hold_from"]))
        return _json_data(ticket)

    @patch("/{ticket_id:int}")
    async def update_ticket(self, request: Request, ticket_id: int, data: TicketUpdate) -> dict[str, Any]:
        return _json_data(await tickets.update_ticket(request.user, ticket_id, _texts(data.set_fields())))

    @post("/{ticket_id:int}/transitions", status_code=200)
    async def transition(self, request: Request, ticket_id: int, data: TransitionIn) -> dict[str, Any]:
        """Move the ticket: received → dispatched → in_progress → resolved → visited → closed (and back)."""
        return _json_data(await tickets.transition(request.user, ticket_id, data.to, reason=clean_text(data.reason),
                                                   executor_id=data.executor_id, satisfaction=data.satisfaction,
                                                   promised_at=data.promised_at, own_fault=data.own_fault, now=data.at))

    @get("/{ticket_id:int}/events")
    async def events(self, request: Request, ticket_id: int) -> list[dict[str, Any]]:
        return [_json_data(e) for e in await tickets.events(request.user, ticket_id)]

    @post("/{ticket_id:int}/comments")
    async def comment(self, request: Request, ticket_id: int, data: CommentIn) -> dict[str, Any]:
        return await tickets.add_comment(request.user, ticket_id, clean_text(data.text))


class PluginController(Controller):
    path = "/api/v1/plugins"
    tags = ["plugins"]

    @get("/")
    async def list_plugins(self, request: Request) -> list[dict[str, Any]]:
        p: Principal = request.user
        registry = get_registry()
        enabled = await registry.enabled(p.tenant_id)
        return [{"name": m.name, "version": m.version, "title": m.title, "title_zh": m.title_zh,
                 "enabled": m.name in enabled, "hooks": registry.hooks_of(m.name)} for m in registry.metas.values()]

    @get("/menu")
    async def menu(self, request: Request) -> dict[str, Any]:
        """Menu entries and dashboard cards of the plugins enabled for this company, for this role."""
        p: Principal = request.user
        registry = get_registry()
        items = [{"key": m.key, "label_zh": m.label_zh, "label_en": m.label_en, "href": m.href, "order": m.order,
                  "plugin": m.plugin or name}
                 for name, m in await registry.collect_enabled("register_menu_items", tenant_id=p.tenant_id)
                 if not m.roles or p.role in m.roles]
        widgets = [{"key": w.key, "title_zh": w.title_zh, "title_en": w.title_en, "template": w.template,
                    "order": w.order, "plugin": name}
                   for name, w in await registry.collect_enabled("register_dashboard_widgets", tenant_id=p.tenant_id)
                   if not w.roles or p.role in w.roles]
        return {"menu_items": sorted(items, key=lambda i: (i["order"], i["key"])),
                "dashboard_widgets": sorted(widgets, key=lambda w: (w["order"], w["key"]))}

    @put("/{name:str}")
    async def set_plugin(self, request: Request, name: str, data: PluginStateIn) -> dict[str, Any]:
        """Enable or disable a plugin for the company or for one project, with its settings."""
        p: Principal = request.user
        p.require("plugin.manage")
        registry = get_registry()
        if name not in registry.metas or name == "core":
            from core.errors import not_found
            raise not_found("plugin")
        if data.project_id is not None:
            await places.project_for_body(p, data.project_id)
        query = p.scope.select(PluginState).where(PluginState.plugin == name)
        query = query.where(PluginState.project_id.is_null() if data.project_id is None
                            else PluginState.project_id == data.project_id)
        existing = await query.first()
        if existing:
            await p.scope.update(PluginState, {PluginState.enabled: data.enabled, PluginState.settings: data.settings}).where(
                PluginState.id == existing["id"])
        else:
            await p.scope.insert(PluginState, plugin=name, project_id=data.project_id, enabled=data.enabled,
                                 settings=data.settings)
        registry.forget(p.tenant_id)
        return {"name": name, "enabled": data.enabled, "project_id": data.project_id}


KERNEL_CONTROLLERS = [AuthController, ProjectController, BuildingController, UnitController, GridController,
                      CustomerController, TicketController, PluginController]
