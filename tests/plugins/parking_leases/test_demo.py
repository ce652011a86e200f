"""The demo company gets a garage with leases, a waiting list and a space that frees up: a row in every
table of the plugin (the same `seed_demo` hook `guanjia demo` calls)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from core import TenantScope, get_registry
from core import tables as ct
from plugins.parking_leases import services as svc
from plugins.parking_leases.tables import TABLES, Application, Lease, Offer, Reminder, WaitlistEntry
from tests.conftest import at, make_world


async def _households(scope: TenantScope, project_id: int, n: int) -> None:
    building = await scope.insert(ct.Building, project_id=project_id, code=f"D{project_id}", name="示范楼", floors=6)
    for i in range(n):
        unit = await scope.insert(ct.Unit, project_id=project_id, building_id=building["id"], room=f"{i + 1:02d}01",
                                  floor=i + 1, area=Decimal("90.00"))
        c = await scope.insert(ct.Customer, name=f"示范业主{i}", phone=f"1370000{i:04d}")
        await scope.insert(ct.Occupancy, customer_id=c["id"], unit_id=unit["id"], role="owner" if i % 3 else "renter",
                           start_date=date(2021, 1, 1))


async def test_seed_demo_gives_every_table_rows_and_a_freed_space_offered_seed_001():
    world = await make_world(plugins=["parking_leases"], login=False)
    scope = TenantScope(world.tenant_id)
    for project in (world.project, world.other_project):
        await _households(scope, project["id"], 12)
    as_of = at("2026-11-20 10:00")
    projects = {"residential": world.project, "commercial": world.other_project}
    await get_registry().call("seed_demo", tenant_id=world.tenant_id, projects=projects, staff=world.staff, as_of=as_of)
    for table in TABLES:
        assert await scope.count(table) > 0, table._meta.tablename
    for project in projects.values():
        assert await scope.count(WaitlistEntry).where((WaitlistEntry.project_id == project["id"])
                                                      & (WaitlistEntry.status == "waiting")) > 0
    offers = await scope.select(Offer).where((Offer.status == "open") & Offer.waitlist_id.is_not_null())
    assert len(offers) == 2 and all(o["deadline_at"] == as_of + timedelta(days=3) for o in offers)
    assert await scope.count(Lease).where(Lease.status == "terminated") == 2  # the spaces that freed up
    assert await scope.count(Lease).where(Lease.status == "expired") == 2
    assert await scope.count(Reminder).where(Reminder.days_before == 30) > 0
    signed = await scope.select(Application, Application.handling_seconds).where(Application.status == "signed")
    assert any(r["handling_seconds"] <= 20 * 60 for r in signed) and any(r["handling_seconds"] > 20 * 60 for r in signed)
    # the periodic jobs have nothing left to do at that moment
    assert await svc.offer_waiting(world.tenant_id, as_of) == {"expired": 0, "offered": 0}
    assert await svc.lease_sweep(world.tenant_id, as_of) == {"expired": 0, "reminders": 0}
