"""Builders for the residential grids tests: estates of given sizes inside a test company."""
from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from tests.conftest import World

_n = itertools.count(1)


async def estate(world: World, layout: list[list[int]], *, vacant: int = 0) -> dict[str, Any]:
    """A residential project visible to every staff member of the world: `layout[b][e]` households in
    entrance e+1 of building b+1 (plus `vacant` vacant units per entrance, which are not households)."""
    from core.tables import Building, Membership, Project, Unit
    from core.tenancy import TenantScope

    scope = TenantScope(world.tenant_id)
    n = next(_n)
    project = await scope.insert(Project, code=f"E{n}", name=f"小区{n}", kind="residential")
    for m in await scope.select(Membership, Membership.id, Membership.project_ids, Membership.role):
        if m["role"] != "company_cs":
            await scope.update(Membership, {Membership.project_ids: [world.project["id"], project["id"]]}).where(
                Membership.id == m["id"])
    buildings = []
    for b, entrances in enumerate(layout, start=1):
        building = await scope.insert(Building, project_id=project["id"], code=str(b), name=f"{b}栋", floors=30)
        buildings.append(building)
        rows = []
        for e, households in enumerate(entrances, start=1):
            for i in range(households + vacant):
                rows.append({"project_id": project["id"], "building_id": building["id"], "entrance": str(e),
                             "floor": i // 4 + 1, "room": f"{i // 4 + 1}{i % 4 + 1:02d}", "area": Decimal("90"),
                             "use": "residential", "status": "vacant" if i >= households else "occupied"})
        await scope.insert_many(Unit, rows)
    return {"project": project, "buildings": buildings}


def grids_body(proposal: dict[str, Any]) -> list[dict[str, Any]]:
    """The proposal as the body that saves it."""
    return [{"code": g["code"], "name": g["name"],
             "entrances": [{"building_id": e["building_id"], "entrance": e["entrance"]} for e in g["entrances"]]}
            for g in proposal["grids"]]


async def gold(world: World, user_id: int, project_id: int) -> None:
    """Make a butler a gold butler through the application and the supervisor's approval."""
    from core.admin import principal_of
    from plugins.residential_grids import services as svc

    applicant = await principal_of(world.tenant_id, user_id)
    app = await svc.apply_gold(applicant, project_id, "优秀")
    await svc.decide_gold(await world.principal("supervisor"), app["id"], True, "同意")
