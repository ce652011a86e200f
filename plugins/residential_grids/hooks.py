"""Hook implementations of the residential grids plugin."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from core import MANAGERS, PROJECT_STAFF, MenuItem, PeriodicJob, Permission, hookimpl


@hookimpl
def register_routes() -> list[Any]:
    from plugins.residential_grids.controllers import ROUTES

    return list(ROUTES)


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("residential_grids.divide", "Divide a residential project into grids", MANAGERS),
        Permission("residential_grids.assign", "Assign butlers to grids and export the role configuration", MANAGERS),
        Permission("residential_grids.front_desk", "Keep the call/visit register and the parcels", PROJECT_STAFF),
        Permission("residential_grids.answers", "Write prepared answers (答客问)", (*MANAGERS, "team_lead")),
        Permission("residential_grids.evaluate", "Evaluate butlers monthly and decide gold-butler applications",
                   MANAGERS),
        Permission("residential_grids.gold_apply", "Apply for promotion to gold butler", ("butler", "team_lead")),
    ]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [
        MenuItem("residential_grids.grids", "网格管家", "Grids", "/portal/residential-grids", order=30),
        MenuItem("residential_grids.front_desk", "来电来访", "Calls & visits", "/portal/residential-grids/front-desk",
                 order=31),
        MenuItem("residential_grids.parcels", "快递", "Parcels", "/portal/residential-grids/parcels", order=32),
        MenuItem("residential_grids.evaluations", "月度考评", "Evaluations", "/portal/residential-grids/evaluations",
                 order=33),
    ]


@hookimpl
def register_periodic_jobs() -> list[PeriodicJob]:
    return [
        PeriodicJob("residential_grids.parcel_reminders", "residential_grids.parcel_reminders", "daily 09:00",
                    "Remind households of waiting parcels; flag parcels unclaimed after N days."),
        PeriodicJob("residential_grids.register_overdue", "residential_grids.register_overdue", "every 15 minutes",
                    "Flag questions whose promised reply time has passed without a reply."),
        PeriodicJob("residential_grids.monthly_evaluations", "residential_grids.monthly_evaluations", "monthly 1 03:00",
                    "Compute last month's butler evaluations."),
    ]


@hookimpl
def register_template_dirs() -> list[str]:
    return [str(Path(__file__).parent / "templates")]


@hookimpl
async def resolve_responsible(tenant_id: int, project: dict[str, Any], ticket: dict[str, Any],
                              grid: dict[str, Any] | None) -> int | None:
    """In a residential project: the grid's butler; public areas: the building's grid, else the team lead."""
    from plugins.residential_grids.services import responsible_for

    return await responsible_for(tenant_id, project, ticket, grid)


@hookimpl
async def seed_demo(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: Any) -> None:
    from plugins.residential_grids.demo import seed

    if projects.get("residential"):
        await seed(tenant_id, projects["residential"], staff, as_of)


@hookimpl
async def collect_personal_data(tenant_id: int, customer_id: int) -> dict[str, Any]:
    """Lines of the call/visit register, parcels the customer signed for, with the signatures."""
    from core import personal_data as pd
    from plugins.residential_grids import tables as t

    parcels = pd.Holding(t.Parcel, "picker_customer_id")
    return await pd.collect(tenant_id, customer_id, [
        pd.Holding(t.RegisterEntry, "customer_id"), parcels, pd.Holding(t.Signature, "parcel_id", parent=parcels)])


@hookimpl
async def erase_personal_data(tenant_id: int, customer_id: int, keep_records: bool, placeholder: str) -> dict[str, int]:
    """Register lines and parcel releases are kept (service records); the caller's phone and name, the
    picker's and delegate's names and phones and the signature image are cleared."""
    from core import personal_data as pd
    from plugins.residential_grids import tables as t

    parcels = pd.Holding(t.Parcel, "picker_customer_id", erase={"picker_name": pd.PLACEHOLDER, "delegate_name": "",
                                                                "delegate_phone": ""})
    return await pd.erase_holdings(tenant_id, customer_id, [
        pd.Holding(t.RegisterEntry, "customer_id", erase={"phone": "", "caller_name": pd.PLACEHOLDER}), parcels,
        pd.Holding(t.Signature, "parcel_id", parent=parcels, erase={"image": "", "size_bytes": 0,
                                                                    "signer_name": pd.PLACEHOLDER})],
        keep_records=keep_records, placeholder=placeholder)
