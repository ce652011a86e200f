"""HTTP handlers of the commercial buildings plugin: the JSON API, the portal pages and the public
confirmation link. Handlers are thin: they call `services` with the principal."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from core import Problem, get_registry, not_found, places, schemas, tables, utcnow

from plugins.commercial_buildings import services as svc
from plugins.commercial_buildings.schemas import (
    AfterHoursAcIn, ArrivalIn, AtIn, ChecklistIn, ContactIn, CustomerRef, PassOutIn, PickupIn, RejectIn, ReleaseIn,
    StoredItemIn, TickIn, VipVehicleIn, VisitorArriveIn, VisitorIn, VisitorPreRegisterIn, ZoneCreate, ZoneUpdate,
)

API = "/api/v1/commercial-buildings"
PORTAL = "/portal/commercial-buildings"


def _texts(data: dict[str, Any]) -> dict[str, Any]:
    return {k: schemas.clean_text(v) if isinstance(v, str) else v for k, v in data.items()}


class ZoneController(Controller):
    path = f"{API}/zones"
    tags = ["commercial_buildings"]

    @get("/kinds")
    async def kinds(self) -> list[dict[str, Any]]:
        """Zone kinds with their service profiles (seed 001), including those other plugins add."""
        return list(svc.zone_kinds().values())

    @get("/")
    async def list_zones(self, request: Request, project_id: int | None = None) -> list[dict[str, Any]]:
        return await svc.list_zones(request.user, project_id)

    @post("/")
    async def create_zone(self, request: Request, data: ZoneCreate) -> dict[str, Any]:
        return await svc.create_zone(request.user, _texts(data.set_fields()))

    @get("/{zone_id:int}")
    async def get_zone(self, request: Request, zone_id: int) -> dict[str, Any]:
        return await svc.get_zone(request.user, zone_id)

    @patch("/{zone_id:int}")
    async def update_zone(self, request: Request, zone_id: int, data: ZoneUpdate) -> dict[str, Any]:
        return await svc.update_zone(request.user, zone_id, _texts(data.set_fields()))

    @delete("/{zone_id:int}", status_code=204)
    async def delete_zone(self, request: Request, zone_id: int) -> None:
        await svc.delete_zone(request.user, zone_id)


class AfterHoursController(Controller):
    path = f"{API}/after-hours-ac"
    tags = ["commercial_buildings"]

    @post("/")
    async def request_ac(self, request: Request, data: AfterHoursAcIn) -> dict[str, Any]:
        """An office tenant's after-hours air-conditioning request (a ticket for the office zone's team)."""
        body = _texts(data.set_fields())
        body["date"] = data.date.isoformat()
        return await svc.request_after_hours_ac(request.user, body)


class VisitorController(Controller):
    path = f"{API}/visitors"
    tags = ["commercial_buildings"]

    @get("/")
    async def day_list(self, request: Request, project_id: int, day: date | None = None,
                       lobby_id: int | None = None) -> dict[str, Any]:
        """A lobby's visitors of a day (default today), with those still inside at close of day."""
        now = utcnow()
        return await svc.visitors_of_day(request.user, project_id, day or svc._local_day(now), lobby_id=lobby_id, now=now)

    @post("/")
    async def register(self, request: Request, data: VisitorIn) -> dict[str, Any]:
        return await svc.register_visitor(request.user, _texts(data.set_fields()))

    @post("/pre-register")
    async def pre_register(self, request: Request, data: VisitorPreRegisterIn) -> dict[str, Any]:
        return await svc.pre_register_visitor(request.user, _texts(data.set_fields()))

    @get("/{visitor_id:int}")
    async def get_visitor(self, request: Request, visitor_id: int) -> dict[str, Any]:
        return await svc.get_visitor(request.user, visitor_id)

    @post("/{visitor_id:int}/arrive", status_code=200)
    async def arrive(self, request: Request, visitor_id: int, data: VisitorArriveIn) -> dict[str, Any]:
        return await svc.visitor_arrives(request.user, visitor_id, data.set_fields())

    @post("/{visitor_id:int}/leave", status_code=200)
    async def leave(self, request: Request, visitor_id: int, data: AtIn) -> dict[str, Any]:
        return await svc.visitor_leaves(request.user, visitor_id, at=data.at)


class ContactController(Controller):
    path = f"{API}/authorised-contacts"
    tags = ["commercial_buildings"]

    @get("/")
    async def list_contacts(self, request: Request, unit_id: int) -> list[dict[str, Any]]:
        return await svc.list_contacts(request.user, unit_id)

    @post("/")
    async def add_contact(self, request: Request, data: ContactIn) -> dict[str, Any]:
        return await svc.add_contact(request.user, data.set_fields())

    @post("/{authorised_contact_id:int}/revoke", status_code=200)
    async def revoke(self, request: Request, authorised_contact_id: int) -> dict[str, Any]:
        return await svc.revoke_contact(request.user, authorised_contact_id)


class PassOutController(Controller):
    path = f"{API}/pass-outs"
    tags = ["commercial_buildings"]

    @get("/")
    async def list_pass_outs(self, request: Request, project_id: int | None = None,
                             status: str | None = Parameter(default=None, max_length=12)) -> list[dict[str, Any]]:
        return await svc.list_pass_outs(request.user, project_id=project_id, status=status)

    @post("/")
    async def request_pass_out(self, request: Request, data: PassOutIn) -> dict[str, Any]:
        body = _texts(data.set_fields())
        body["items"] = [_texts(i.set_fields()) for i in data.items]
        return await svc.request_pass_out(request.user, **body)

    @get("/by-code/{code:str}")
    async def by_code(self, request: Request, code: str) -> dict[str, Any]:
        """The guard scans or types the slip's code."""
        if len(code) > 16:
            raise not_found("pass out")
        return await svc.pass_out_by_code(request.user, code)

    @get("/{pass_out_id:int}")
    async def get_pass_out(self, request: Request, pass_out_id: int) -> dict[str, Any]:
        return await svc.get_pass_out(request.user, pass_out_id)

    @post("/{pass_out_id:int}/links")
    async def send_link(self, request: Request, pass_out_id: int, data: CustomerRef) -> dict[str, Any]:
        """Send a one-time confirmation link to the owner, renter or authorised contact (the token goes only to them)."""
        link = await svc.send_link(request.user, pass_out_id, data.customer_id)
        return {k: v for k, v in link.items() if k not in ("token", "url")}

    @post("/{pass_out_id:int}/confirm", status_code=200)
    async def confirm(self, request: Request, pass_out_id: int, data: CustomerRef) -> dict[str, Any]:
        """Record the confirmation the owner, renter or authorised contact gave in person."""
        return await svc.confirm_in_person(request.user, pass_out_id, data.customer_id)

    @post("/{pass_out_id:int}/reject", status_code=200)
    async def reject(self, request: Request, pass_out_id: int, data: RejectIn) -> dict[str, Any]:
        return await svc.reject_pass_out(request.user, pass_out_id, schemas.clean_text(data.reason))

    @post("/{pass_out_id:int}/release", status_code=200)
    async def release(self, request: Request, pass_out_id: int, data: ReleaseIn) -> dict[str, Any]:
        """Record what left: refused (409) unless the unit confirmed the pass-out."""
        items = [i.set_fields() for i in data.items] if data.items is not None else None
        return await svc.release_pass_out(request.user, pass_out_id, note=schemas.clean_text(data.note), items=items)


class StorageController(Controller):
    path = f"{API}/stored-items"
    tags = ["commercial_buildings"]

    @get("/")
    async def list_items(self, request: Request, project_id: int, waiting_only: bool = False) -> list[dict[str, Any]]:
        return await svc.list_stored_items(request.user, project_id, waiting_only=waiting_only)

    @post("/")
    async def deposit(self, request: Request, data: StoredItemIn) -> dict[str, Any]:
        """Take an item in; the pickup code is in this answer only."""
        return await svc.deposit_item(request.user, _texts(data.set_fields()))

    @get("/{stored_item_id:int}")
    async def get_item(self, request: Request, stored_item_id: int) -> dict[str, Any]:
        return await svc.get_stored_item(request.user, stored_item_id)

    @post("/{stored_item_id:int}/pickup", status_code=200)
    async def pickup(self, request: Request, stored_item_id: int, data: PickupIn) -> dict[str, Any]:
        return await svc.pick_up_item(request.user, stored_item_id, data.code, schemas.clean_text(data.picked_up_by_name))


class VehicleController(Controller):
    path = f"{API}"
    tags = ["commercial_buildings"]

    @get("/vip-vehicles")
    async def list_vip(self, request: Request, project_id: int) -> list[dict[str, Any]]:
        return await svc.list_vip_vehicles(request.user, project_id)

    @post("/vip-vehicles")
    async def add_vip(self, request: Request, data: VipVehicleIn) -> dict[str, Any]:
        return await svc.add_vip_vehicle(request.user, _texts(data.set_fields()))

    @delete("/vip-vehicles/{vip_vehicle_id:int}", status_code=204)
    async def remove_vip(self, request: Request, vip_vehicle_id: int) -> None:
        await svc.remove_vip_vehicle(request.user, vip_vehicle_id)

    @get("/vehicle-arrivals")
    async def list_arrivals(self, request: Request, project_id: int) -> list[dict[str, Any]]:
        return await svc.list_arrivals(request.user, project_id)

    @post("/vehicle-arrivals")
    async def arrival(self, request: Request, data: ArrivalIn) -> dict[str, Any]:
        """A VIP vehicle entered the garage; the garage team is told at once."""
        return await svc.vehicle_arrives(request.user, data.project_id, data.plate, at=data.at)


class ChecklistController(Controller):
    path = f"{API}/checklists"
    tags = ["commercial_buildings"]

    @get("/")
    async def list_checklists(self, request: Request, project_id: int,
                              start: datetime = Parameter(query="from"),
                              end: datetime = Parameter(query="to")) -> list[dict[str, Any]]:
        return await svc.list_checklists(request.user, project_id, svc._aware(start, "from"), svc._aware(end, "to"))

    @get("/report")
    async def report(self, request: Request, project_id: int, start: datetime = Parameter(query="from"),
                     end: datetime = Parameter(query="to")) -> dict[str, Any]:
        """Waiting ≤ 15 minutes and processing ≤ 30 minutes, measured and reported (seed 001)."""
        return await svc.checklist_report(request.user, project_id, start, end)

    @post("/")
    async def create(self, request: Request, data: ChecklistIn) -> dict[str, Any]:
        return await svc.create_checklist(request.user, _texts(data.set_fields()))

    @get("/{checklist_id:int}")
    async def get_checklist(self, request: Request, checklist_id: int) -> dict[str, Any]:
        return await svc.get_checklist(request.user, checklist_id)

    @post("/{checklist_id:int}/start", status_code=200)
    async def start(self, request: Request, checklist_id: int, data: AtIn) -> dict[str, Any]:
        return await svc.start_checklist(request.user, checklist_id, at=data.at)

    @put("/{checklist_id:int}/items")
    async def tick(self, request: Request, checklist_id: int, data: TickIn) -> dict[str, Any]:
        return await svc.tick_items(request.user, checklist_id, data.done)

    @post("/{checklist_id:int}/finish", status_code=200)
    async def finish(self, request: Request, checklist_id: int, data: AtIn) -> dict[str, Any]:
        return await svc.finish_checklist(request.user, checklist_id, at=data.at)


# ---------------------------------------------------------------- public one-time link

async def _public_tenant(tenant_slug: str) -> dict[str, Any]:
    tenant = await tables.Tenant.select().where(tables.Tenant.slug == tenant_slug).first()
    if tenant is None or not tenant["is_active"] or svc.PLUGIN not in await get_registry().enabled(tenant["id"]):
        raise not_found("page")
    return tenant


class PublicConfirmController(Controller):
    """The one-time confirmation link sent to the owner, renter or authorised contact (no login)."""

    path = "/public/{tenant_slug:str}/commercial-buildings/pass-outs/confirm/{token:str}"
    include_in_schema = False

    @get("/", exclude_from_auth=True)
    async def page(self, tenant_slug: str, token: str) -> Template:
        """The items and two buttons. Opening the link spends nothing."""
        tenant = await _public_tenant(tenant_slug)
        try:
            _, pass_out = await svc.link_target(tenant["id"], token)
            error, status = "", 200
        except Problem as exc:
            if exc.status == 404:
                raise
            pass_out, error, status = None, exc.detail, exc.status
        return Template("commercial_buildings/public_confirm.html",
                        context={"me": None, "tenant": tenant, "p": pass_out, "error": error, "done": None},
                        status_code=200 if not error else status)

    @post("/", exclude_from_auth=True, status_code=200)
    async def answer(self, tenant_slug: str, token: str, request: Request) -> Any:
        """The customer confirms or rejects; the link works once."""
        tenant = await _public_tenant(tenant_slug)
        form = await request.form()
        decision = str(form.get("decision", ""))[:10]
        wants_json = "json" in request.headers.get("accept", "")
        try:
            done = await svc.confirm_by_token(tenant["id"], token, decision=decision)
        except Problem as exc:
            if wants_json or exc.status == 404:
                raise
            return Template("commercial_buildings/public_confirm.html",
                            context={"me": None, "tenant": tenant, "p": None, "error": exc.detail, "done": None},
                            status_code=exc.status)
        if wants_json:
            return Response(content={"id": done["id"], "status": done["status"]}, status_code=200)
        return Template("commercial_buildings/public_confirm.html",
                        context={"me": None, "tenant": tenant, "p": None, "error": "", "done": done["status"]})


# ---------------------------------------------------------------- portal pages

Form = Body(media_type=RequestEncodingType.URL_ENCODED)


async def _commercial_projects(request: Request) -> list[dict[str, Any]]:
    p = request.user
    query = p.scope.select(tables.Project, tables.Project.id, tables.Project.name).where(tables.Project.kind == "commercial")
    clause = p.project_filter(tables.Project.id)
    if clause is not None:
        query = query.where(clause)
    return await query.order_by(tables.Project.id)


async def _pick_project(request: Request, project_id: int | None) -> tuple[list[dict[str, Any]], int | None]:
    projects = await _commercial_projects(request)
    if project_id is None:
        return projects, projects[0]["id"] if projects else None
    if project_id not in {p["id"] for p in projects}:
        raise not_found("project")
    return projects, project_id


def _page(name: str, request: Request, **context: Any) -> Template:
    return Template(f"commercial_buildings/{name}.html", context={"me": request.user, "msg": request.query_params.get("msg", ""),
                                                                  **context})


def _back(url: str, msg: str = "") -> Redirect:
    from urllib.parse import quote

    sep = "&" if "?" in url else "?"
    return Redirect(f"{url}{sep}msg={quote(msg)}" if msg else url)


def _int(form: dict[str, Any], name: str) -> int | None:
    value = str(form.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise Problem(422, "Invalid input", f"{name}: a number", field=name)
    return int(value)


def _text(form: dict[str, Any], name: str, limit: int = 200) -> str:
    return schemas.clean_text(str(form.get(name) or ""))[:limit].strip()


def _local_dt(form: dict[str, Any], name: str) -> datetime | None:
    value = str(form.get(name) or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Problem(422, "Invalid input", f"{name}: a date and time", field=name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=svc.TZ)


async def _act(url: str, ok: str, action) -> Redirect:
    try:
        await action()
    except Problem as exc:
        return _back(url, f"✗ {exc.detail}")
    return _back(url, ok)


class PortalController(Controller):
    """Portal pages of the plugin: zones, the lobby's visitors, pass-outs, storage, VIP vehicles, checklists."""

    path = PORTAL
    include_in_schema = False

    @get("/")
    async def portal_zones(self, request: Request, project_id: int | None = None) -> Template:
        """Zones of the commercial projects, their service profiles and teams."""
        projects, pid = await _pick_project(request, project_id)
        zones = await svc.list_zones(request.user, pid) if pid else []
        users = await request.user.scope.select(tables.Membership, tables.Membership.user_id,
                                                tables.Membership.user_id.name.as_alias("name"))
        names = {u["user_id"]: u["name"] for u in users}
        return _page("zones", request, projects=projects, project_id=pid, zones=zones, names=names,
                     kinds=list(svc.zone_kinds().values()))


    @get("/visitors")
    async def portal_visitors(self, request: Request, project_id: int | None = None, day: date | None = None,
                              lobby_id: int | None = None) -> Template:
        """Today's visitor list per lobby, with a quick registration form."""
        projects, pid = await _pick_project(request, project_id)
        now = utcnow()
        day = day or svc._local_day(now)
        listing = await svc.visitors_of_day(request.user, pid, day, lobby_id=lobby_id, now=now) if pid else {"items": []}
        lobbies = [z for z in (await svc.list_zones(request.user, pid) if pid else []) if z["kind"] == "lobby"]
        return _page("visitors", request, projects=projects, project_id=pid, day=day, listing=listing, lobbies=lobbies,
                     lobby_id=lobby_id)


    @post("/visitors")
    async def portal_register_visitor(self, request: Request, data: dict[str, Any] = Form) -> Redirect:
        pid = _int(data, "project_id")
        url = f"{PORTAL}/visitors?project_id={pid or ''}"

        async def run() -> None:
            body = {"project_id": pid, "name": _text(data, "name", 100), "host_customer_id": _int(data, "host_customer_id"),
                    "purpose": _text(data, "purpose"), "id_type": _text(data, "id_type", 20) or "id_card",
                    "id_number": _text(data, "id_number", 40), "lobby_id": _int(data, "lobby_id")}
            if not body["name"]:
                raise Problem(422, "Invalid input", "name: is required", field="name")
            if body["host_customer_id"] is None or pid is None:
                raise Problem(422, "Invalid input", "host_customer_id: is required", field="host_customer_id")
            expected = _local_dt(data, "expected_at")
            if expected:
                await svc.pre_register_visitor(request.user, {**body, "expected_at": expected})
            else:
                await svc.register_visitor(request.user, body)

        return await _act(url, "✓ 已登记 Registered", run)


    @post("/visitors/{visitor_id:int}/{action:str}")
    async def portal_visitor_action(self, request: Request, visitor_id: int, action: str) -> Redirect:
        visitor = await svc.get_visitor(request.user, visitor_id)
        url = f"{PORTAL}/visitors?project_id={visitor['project_id']}"
        if action == "leave":
            return await _act(url, "✓ 已离开 Left", lambda: svc.visitor_leaves(request.user, visitor_id))
        if action == "arrive":
            return await _act(url, "✓ 已到达 Arrived", lambda: svc.visitor_arrives(request.user, visitor_id, {}))
        raise not_found("action")


    @get("/pass-outs")
    async def portal_pass_outs(self, request: Request, project_id: int | None = None, status: str | None = None) -> Template:
        projects, pid = await _pick_project(request, project_id)
        rows = await svc.list_pass_outs(request.user, project_id=pid, status=status or None) if pid else []
        return _page("pass_outs", request, projects=projects, project_id=pid, rows=rows, status=status or "")


    @post("/pass-outs")
    async def portal_request_pass_out(self, request: Request, data: dict[str, Any] = Form) -> Redirect:
        pid = _int(data, "project_id")
        url = f"{PORTAL}/pass-outs?project_id={pid or ''}"

        async def run() -> None:
            items = []
            for line in _text(data, "items", 5000).splitlines():
                desc, _, qty = line.partition("*")
                if desc.strip():
                    items.append({"description": desc.strip()[:200], "quantity": int(qty) if qty.strip().isdigit() else 1})
            start, end = _local_dt(data, "window_start"), _local_dt(data, "window_end")
            if _int(data, "unit_id") is None or not start or not end or not _text(data, "carrier_name"):
                raise Problem(422, "Invalid input", "unit_id, carrier_name and the time window are required", field="unit_id")
            await svc.request_pass_out(request.user, unit_id=_int(data, "unit_id"), items=items,
                                       carrier_name=_text(data, "carrier_name", 100),
                                       carrier_phone=_text(data, "carrier_phone", 40), window_start=start, window_end=end)

        return await _act(url, "✓ 已申请 Requested", run)


    @get("/pass-outs/{pass_out_id:int}")
    async def portal_pass_out(self, request: Request, pass_out_id: int) -> Template:
        """A pass-out with its printable slip, confirmation and release."""
        p = await svc.get_pass_out(request.user, pass_out_id)
        may = await svc.who_may_confirm(request.user.tenant_id, p["unit_id"])
        people = await request.user.scope.select(tables.Customer, tables.Customer.id, tables.Customer.name).where(
            tables.Customer.id.is_in(may or [-1]))
        from markupsafe import Markup

        from core import qr_svg

        scan_url = f"{str(request.base_url).rstrip('/')}/portal/commercial-buildings/pass-outs/{p['id']}"
        return _page("pass_out", request, p=p, people=people, scan_url=scan_url, qr=Markup(qr_svg(scan_url)))


    @post("/pass-outs/{pass_out_id:int}/{action:str}")
    async def portal_pass_out_action(self, request: Request, pass_out_id: int, action: str,
                                     data: dict[str, Any] = Form) -> Redirect:
        url = f"{PORTAL}/pass-outs/{pass_out_id}"
        p = request.user
        actions = {
            "confirm": ("✓ 已确认 Confirmed", lambda: svc.confirm_in_person(p, pass_out_id, _int(data, "customer_id") or 0)),
            "link": ("✓ 链接已发送 Link sent", lambda: svc.send_link(p, pass_out_id, _int(data, "customer_id") or 0)),
            "reject": ("✓ 已拒绝 Rejected", lambda: svc.reject_pass_out(p, pass_out_id, _text(data, "reason", 500) or "拒绝")),
            "release": ("✓ 已放行 Released", lambda: svc.release_pass_out(p, pass_out_id, note=_text(data, "note", 1000))),
        }
        if action not in actions:
            raise not_found("action")
        await svc.get_pass_out(p, pass_out_id)
        ok, run = actions[action]
        return await _act(url, ok, run)


    @get("/storage")
    async def portal_storage(self, request: Request, project_id: int | None = None) -> Template:
        projects, pid = await _pick_project(request, project_id)
        rows = await svc.list_stored_items(request.user, pid) if pid else []
        return _page("storage", request, projects=projects, project_id=pid, rows=rows)


    @post("/storage")
    async def portal_deposit(self, request: Request, data: dict[str, Any] = Form) -> Redirect:
        pid = _int(data, "project_id")
        url = f"{PORTAL}/storage?project_id={pid or ''}"
        try:
            if not _text(data, "description") or not _text(data, "depositor_name") or pid is None:
                raise Problem(422, "Invalid input", "description and depositor_name are required", field="description")
            row = await svc.deposit_item(request.user, {
                "project_id": pid, "description": _text(data, "description"), "depositor_name": _text(data, "depositor_name", 100),
                "depositor_phone": _text(data, "depositor_phone", 40), "for_name": _text(data, "for_name", 100),
                "pieces": _int(data, "pieces") or 1})
        except Problem as exc:
            return _back(url, f"✗ {exc.detail}")
        return _back(url, f"✓ 取件码 Pickup code {row['pickup_code']} (#{row['id']})")


    @post("/storage/{stored_item_id:int}/pickup")
    async def portal_pickup(self, request: Request, stored_item_id: int, data: dict[str, Any] = Form) -> Redirect:
        item = await svc.get_stored_item(request.user, stored_item_id)
        url = f"{PORTAL}/storage?project_id={item['project_id']}"
        return await _act(url, "✓ 已交付 Handed over", lambda: svc.pick_up_item(
            request.user, stored_item_id, _text(data, "code", 12), _text(data, "picked_up_by_name", 100) or "-"))


    @get("/vehicles")
    async def portal_vehicles(self, request: Request, project_id: int | None = None) -> Template:
        projects, pid = await _pick_project(request, project_id)
        vips = await svc.list_vip_vehicles(request.user, pid) if pid else []
        arrivals = await svc.list_arrivals(request.user, pid, 30) if pid else []
        return _page("vehicles", request, projects=projects, project_id=pid, vips=vips, arrivals=arrivals)


    @post("/vehicles/{action:str}")
    async def portal_vehicle_action(self, request: Request, action: str, data: dict[str, Any] = Form) -> Redirect:
        pid = _int(data, "project_id") or 0
        url = f"{PORTAL}/vehicles?project_id={pid}"
        if action == "arrival":
            return await _act(url, "✓ 已通知车库 Garage told", lambda: svc.vehicle_arrives(request.user, pid, _text(data, "plate", 20)))
        if action == "add":
            return await _act(url, "✓ 已加入 Added", lambda: svc.add_vip_vehicle(request.user, {
                "project_id": pid, "plate": _text(data, "plate", 20), "owner_name": _text(data, "owner_name", 100),
                "note": _text(data, "note")}))
        raise not_found("action")


    @get("/checklists")
    async def portal_checklists(self, request: Request, project_id: int | None = None, day: date | None = None) -> Template:
        """Move-in/move-out desk: who is waiting, who is being served, and the 15/30-minute report of the month."""
        projects, pid = await _pick_project(request, project_id)
        now = utcnow()
        day = day or svc._local_day(now)
        month_start = svc._day_bounds(day.replace(day=1))[0]
        month_end = svc._day_bounds((day.replace(day=1) + timedelta(days=32)).replace(day=1))[0]
        rows = await svc.list_checklists(request.user, pid, month_start, month_end) if pid else []
        report = await svc.checklist_report(request.user, pid, month_start, month_end) if pid else None
        return _page("checklists", request, projects=projects, project_id=pid, rows=rows, report=report, day=day)


    @post("/checklists/{checklist_id:int}/{action:str}")
    async def portal_checklist_action(self, request: Request, checklist_id: int, action: str) -> Redirect:
        row = await svc.get_checklist(request.user, checklist_id)
        url = f"{PORTAL}/checklists?project_id={row['project_id']}"
        p = request.user
        if action == "start":
            return await _act(url, "✓ 开始办理 Started", lambda: svc.start_checklist(p, checklist_id))
        if action == "tick-all":
            return await _act(url, "✓ 已勾选 Ticked", lambda: svc.tick_items(p, checklist_id, {i["name"]: True for i in row["items"]}))
        if action == "finish":
            return await _act(url, "✓ 已完成 Finished", lambda: svc.finish_checklist(p, checklist_id))
        raise not_found("action")


ROUTES = [
    ZoneController, AfterHoursController, VisitorController, ContactController, PassOutController, StorageController,
    VehicleController, ChecklistController, PublicConfirmController, PortalController,
]
