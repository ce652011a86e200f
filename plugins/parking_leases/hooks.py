"""Hook implementations of parking leases."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from core import MANAGERS, MenuItem, PeriodicJob, Permission, hookimpl


@hookimpl
def register_routes() -> list[Any]:
    from plugins.parking_leases.controllers import ROUTES

    return ROUTES


@hookimpl
def register_permissions() -> list[Any]:
    return [
        Permission("parking_leases.manage", "Publish the parking plan and fees; manage garages, spaces and leases",
                   tuple(MANAGERS)),
        Permission("parking_leases.handle", "Handle parking applications, offers, leases and renewals",
                   (*MANAGERS, "team_lead", "front_desk", "butler")),
        Permission("parking_leases.view", "See parking spaces, applications, leases and reports",
                   (*MANAGERS, "team_lead", "front_desk", "butler", "finance")),
    ]


@hookimpl
def register_menu_items() -> list[Any]:
    return [MenuItem("parking_leases", "车位租赁", "Parking leases", "/portal/parking-leases",
                     roles=(*MANAGERS, "team_lead", "front_desk", "butler", "finance"), order=40, plugin="parking_leases")]


@hookimpl
def register_periodic_jobs() -> list[Any]:
    return [
        PeriodicJob("parking_leases.offer_waiting", "parking_leases.offer_waiting", "every 15 minutes",
                    "Offer freed spaces to the waiting list with a deadline; lapse offers past it"),
        PeriodicJob("parking_leases.lease_sweep", "parking_leases.lease_sweep", "daily 01:00",
                    "Expire ended leases and send renewal reminders 30 and 7 days before the end"),
    ]


@hookimpl
def register_template_dirs() -> list[str]:
    return [str(Path(__file__).parent / "templates")]


@hookimpl
async def seed_demo(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: Any) -> None:
    from plugins.parking_leases.demo import seed

    await seed(tenant_id, projects, staff, as_of)


@hookimpl(optionalhook=True)
async def arrears_charges(tenant_id: int, project: dict[str, Any], period: str) -> list[dict[str, Any]]:
    """Lease fees billed through arrears collection when it is enabled (its hook; see its hookspecs.py)."""
    from plugins.parking_leases.services import arrears_charges as charges

    return await charges(tenant_id, project["id"], period)


@hookimpl
async def collect_personal_data(tenant_id: int, customer_id: int) -> dict[str, Any]:
    """Applications with their documents, waiting-list entries and offers, leases with plates and reminders, charges."""
    from core import personal_data as pd
    from plugins.parking_leases import tables as t

    application, lease = pd.Holding(t.Application, "customer_id"), pd.Holding(t.Lease, "customer_id")
    return await pd.collect(tenant_id, customer_id, [
        application, pd.Holding(t.Document, "application_id", parent=application),
        pd.Holding(t.WaitlistEntry, "customer_id"), pd.Holding(t.Offer, "application_id", parent=application),
        lease, pd.Holding(t.Plate, "lease_id", parent=lease), pd.Holding(t.Reminder, "lease_id", parent=lease),
        pd.Holding(t.Charge, "customer_id")])


@hookimpl
async def erase_personal_data(tenant_id: int, customer_id: int, keep_records: bool, placeholder: str) -> dict[str, int]:
    """Leases and charges are kept (contracts, money); plates, application notes and the uploaded documents
    (ID and vehicle licence copies) are cleared. Refused while a lease is active."""
    from core import TenantScope, conflict, personal_data as pd
    from plugins.parking_leases import tables as t

    if await TenantScope(tenant_id).exists(t.Lease).where((t.Lease.customer_id == customer_id) & (t.Lease.status == "active")):
        raise conflict("The customer has an active parking lease; end it before the data is erased.")
    application, lease = pd.Holding(t.Application, "customer_id", erase={"plates": [], "note": ""}), \
        pd.Holding(t.Lease, "customer_id")
    return await pd.erase_holdings(tenant_id, customer_id, [
        application, pd.Holding(t.Document, "application_id", parent=application, erase={"content": b"", "size_bytes": 0}),
        pd.Holding(t.WaitlistEntry, "customer_id"), lease, pd.Holding(t.Plate, "lease_id", parent=lease, erase={"plate": ""}),
        pd.Holding(t.Charge, "customer_id")], keep_records=keep_records, placeholder=placeholder)


@hookimpl
async def customer_file_sections(tenant_id: int, customer_id: int, principal: Any) -> list[dict[str, Any]] | None:
    """The customer's parking leases (latest 20) with space, term, fee and status."""
    if not principal.can("parking_leases.view"):
        return None
    from core import TenantScope
    from plugins.parking_leases import tables as t

    rows = await (TenantScope(tenant_id).select(
        t.Lease, t.Lease.space_id.number.as_alias("space"), t.Lease.space_id.zone.as_alias("zone"), t.Lease.term,
        t.Lease.fee_fen, t.Lease.start_date, t.Lease.end_date, t.Lease.status)
        .where(t.Lease.customer_id == customer_id).order_by(t.Lease.id, ascending=False).limit(20))
    status = {"active": "有效 / active", "expired": "到期 / expired", "terminated": "已终止 / terminated"}
    return [{"title_zh": "车位租赁", "title_en": "Parking leases", "link": "/portal/parking-leases",
             "columns": [["车位", "Space"], ["期限", "Term"], ["租金", "Fee"], ["起", "From"], ["止", "To"], ["状态", "Status"]],
             "rows": [[f"{r['zone']} {r['space']}".strip(), r["term"], f"¥{r['fee_fen'] // 100:,}.{r['fee_fen'] % 100:02d}",
                       str(r["start_date"]), str(r["end_date"]), status.get(r["status"], r["status"])] for r in rows]}]
