"""Hook implementations of the commercial buildings plugin."""
from __future__ import annotations

import os
from typing import Any

from core import FormField, MenuItem, PeriodicJob, Permission, TicketKind, hookimpl, MANAGERS, PROJECT_STAFF


@hookimpl
def register_ticket_kinds() -> list[TicketKind]:
    return [TicketKind(
        "commercial_buildings.after_hours_ac", "加班空调", "After-hours air conditioning",
        form_fields=(
            FormField("date", "日期", "Date", "date", required=True),
            FormField("start", "开始时间", "From (HH:MM)", "text", required=True),
            FormField("end", "结束时间", "Until (HH:MM)", "text", required=True),
            FormField("area", "区域", "Area / rooms", "text"),
        ))]


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("commercial_buildings.manage_zones", "Map floors to zones and set their teams", MANAGERS),
        Permission("commercial_buildings.lobby", "Lobby work: visitors, storage, pass-out requests, VIP vehicles, "
                   "move-in/move-out checklists", PROJECT_STAFF),
        Permission("commercial_buildings.release", "Let large items out on a confirmed pass-out", PROJECT_STAFF),
    ]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.commercial_buildings.controllers import ROUTES

    return list(ROUTES)


@hookimpl
def register_template_dirs() -> list[str]:
    return [os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    base = "/portal/commercial-buildings"
    return [
        MenuItem("commercial_buildings.zones", "楼宇分区", "Zones", base, order=40, plugin="commercial_buildings"),
        MenuItem("commercial_buildings.visitors", "来访登记", "Visitors", f"{base}/visitors", order=41,
                 plugin="commercial_buildings"),
        MenuItem("commercial_buildings.pass_outs", "放行条", "Pass-outs", f"{base}/pass-outs", order=42,
                 plugin="commercial_buildings"),
        MenuItem("commercial_buildings.storage", "物件存放", "Item storage", f"{base}/storage", order=43,
                 plugin="commercial_buildings"),
        MenuItem("commercial_buildings.vehicles", "贵宾车辆", "VIP vehicles", f"{base}/vehicles", order=44,
                 plugin="commercial_buildings"),
        MenuItem("commercial_buildings.checklists", "入驻/迁出", "Move-in / move-out", f"{base}/checklists", order=45,
                 plugin="commercial_buildings"),
    ]


@hookimpl
def register_periodic_jobs() -> list[PeriodicJob]:
    return [
        PeriodicJob("commercial_buildings.purge_visitor_ids", "commercial_buildings.purge_visitor_ids", "daily 02:30",
                    "Erase visitors' ID numbers older than the tenant's retention (default 90 days)."),
        PeriodicJob("commercial_buildings.flag_still_inside", "commercial_buildings.flag_still_inside", "daily 23:30",
                    "Flag visitors still inside after the lobby closed."),
        PeriodicJob("commercial_buildings.expire_pass_outs", "commercial_buildings.expire_pass_outs", "every 15 minutes",
                    "Pass-outs whose time window closed become expired."),
    ]


@hookimpl
async def resolve_responsible(tenant_id: int, project: dict[str, Any], ticket: dict[str, Any]) -> int | None:
    """A ticket in a unit of a commercial project goes to the lead of the zone its floor belongs to."""
    from plugins.commercial_buildings.services import responsible_for

    return await responsible_for(tenant_id, project, ticket)


@hookimpl
async def on_ticket_created(tenant_id: int, ticket: dict[str, Any]) -> None:
    from plugins.commercial_buildings.services import fill_ac_fee

    await fill_ac_fee(tenant_id, ticket)


@hookimpl
def resolve_release_gate(tenant_id: int) -> Any:
    from plugins.commercial_buildings.services import GATE

    return GATE


@hookimpl
async def seed_demo(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: Any) -> None:
    from plugins.commercial_buildings.demo import seed

    await seed(tenant_id, projects, staff, as_of)


@hookimpl
async def collect_personal_data(tenant_id: int, customer_id: int) -> dict[str, Any]:
    """Visits the customer hosted (without the visitors' ID numbers), authorisations, pass-outs confirmed,
    confirmation links, stored items, VIP vehicles with their arrivals, move-in/out checklists."""
    from core import personal_data as pd
    from plugins.commercial_buildings import tables as t

    vip = pd.Holding(t.VipVehicle, "customer_id")
    return await pd.collect(tenant_id, customer_id, [
        pd.Holding(t.Visitor, "host_customer_id", omit=("id_number", "id_type")),
        pd.Holding(t.AuthorisedContact, "authorised_by_id"), pd.Holding(t.AuthorisedContact, "contact_id"),
        pd.Holding(t.PassOut, "confirmed_by_customer_id"), pd.Holding(t.PassOutLink, "customer_id", omit=("token_hash",)),
        pd.Holding(t.StoredItem, "customer_id", omit=("code_hash",)), vip,
        pd.Holding(t.VehicleArrival, "vip_vehicle_id", parent=vip), pd.Holding(t.Checklist, "customer_id")])


@hookimpl
async def erase_personal_data(tenant_id: int, customer_id: int, keep_records: bool, placeholder: str) -> dict[str, int]:
    """Lobby and pass-out records are kept (security log); names on stored items and VIP vehicles become the
    placeholder, plates are replaced, VIP entries end and the customer's authorisations are revoked."""
    from core import TenantScope, personal_data as pd, utcnow
    from plugins.commercial_buildings import tables as t

    scope = TenantScope(tenant_id)
    await scope.update(t.AuthorisedContact, {t.AuthorisedContact.revoked_at: utcnow()}).where(
        ((t.AuthorisedContact.authorised_by_id == customer_id) | (t.AuthorisedContact.contact_id == customer_id))
        & t.AuthorisedContact.revoked_at.is_null())
    for vehicle in await scope.select(t.VipVehicle, t.VipVehicle.id).where(t.VipVehicle.customer_id == customer_id):
        await scope.update(t.VipVehicle, {t.VipVehicle.plate: f"已注销#{vehicle['id']}"}).where(t.VipVehicle.id == vehicle["id"])
    return await pd.erase_holdings(tenant_id, customer_id, [
        pd.Holding(t.Visitor, "host_customer_id"), pd.Holding(t.AuthorisedContact, "authorised_by_id", optional=True),
        pd.Holding(t.AuthorisedContact, "contact_id", optional=True), pd.Holding(t.PassOut, "confirmed_by_customer_id"),
        pd.Holding(t.PassOutLink, "customer_id"),
        pd.Holding(t.StoredItem, "customer_id", erase={"for_name": pd.PLACEHOLDER}),
        pd.Holding(t.VipVehicle, "customer_id", erase={"owner_name": pd.PLACEHOLDER, "note": "", "is_active": False}),
        pd.Holding(t.Checklist, "customer_id")], keep_records=keep_records, placeholder=placeholder)
