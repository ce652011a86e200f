"""Jobs of arrears collection: the monthly billing and the monthly collection ladder (both take `as_of`,
both idempotent), fanned out per tenant so several workers share the month."""
from __future__ import annotations

from core import actor, enqueue, fetch

PLUGIN = "arrears_collection"


async def _tenants() -> list[int]:
    rows = await fetch("SELECT DISTINCT tenant_id FROM core_plugin_state WHERE plugin = {} AND enabled = {} "
                       "ORDER BY tenant_id", PLUGIN, True)
    return [int(r["tenant_id"]) for r in rows]


@actor(PLUGIN, "bill_month", queue="periodic")
async def bill_month(as_of: str) -> dict:
    """Bill the month of `as_of` (Beijing time) for every tenant with the plugin enabled."""
    tenants = await _tenants()
    for tenant_id in tenants:
        await enqueue(f"{PLUGIN}.bill_tenant", tenant_id, as_of)
    return {"as_of": as_of, "tenants": len(tenants)}


@actor(PLUGIN, "bill_tenant", queue="billing")
async def bill_tenant(tenant_id: int, as_of: str) -> dict:
    """Bill one tenant's projects for the month of `as_of`."""
    from core import utcnow
    from plugins.arrears_collection import services

    period = services.period_of(services.local_date(as_of))
    return {"period": period, "created": await services.bill_tenant(tenant_id, period, now=utcnow())}


@actor(PLUGIN, "ladder", queue="periodic")
async def ladder(as_of: str) -> dict:
    """Run the collection ladder as of `as_of` for every tenant with the plugin enabled."""
    tenants = await _tenants()
    for tenant_id in tenants:
        await enqueue(f"{PLUGIN}.ladder_tenant", tenant_id, as_of)
    return {"as_of": as_of, "tenants": len(tenants)}


@actor(PLUGIN, "ladder_tenant", queue="ladder")
async def ladder_tenant(tenant_id: int, as_of: str) -> dict:
    """The collection ladder of one tenant's projects as of a day (a re-run for the same month creates nothing)."""
    from core import utcnow
    from plugins.arrears_collection import services

    day = services.local_date(as_of)
    return {"as_of": day.isoformat(), "projects": await services.run_ladder_for_tenant(tenant_id, day, now=utcnow())}
