"""The demo company gets a past event with return visits and an upcoming one with sign-ups: a row in every
table of the plugin (the same `seed_demo` hook `guanjia demo` calls)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from core import TenantScope, get_registry
from core import tables as ct
from plugins.community_events.tables import TABLES, Event, Signup, Visit
from tests.conftest import at, make_world


async def test_seed_demo_past_event_with_return_visits_and_upcoming_with_signups_seed_001():
    world = await make_world(plugins=["community_events"], login=False)
    scope = TenantScope(world.tenant_id)
    building = await scope.insert(ct.Building, project_id=world.project["id"], code="D1", name="示范楼", floors=6)
    for i in range(14):
        unit = await scope.insert(ct.Unit, project_id=world.project["id"], building_id=building["id"],
                                  room=f"{i + 1:02d}01", floor=i % 6 + 1, area=Decimal("90.00"))
        c = await scope.insert(ct.Customer, name=f"示范业主{i}", phone=f"1370000{i:04d}")
        await scope.insert(ct.Occupancy, customer_id=c["id"], unit_id=unit["id"], role="owner", start_date=date(2021, 1, 1))
    as_of = at("2026-11-20 10:00")
    await get_registry().call("seed_demo", tenant_id=world.tenant_id,
                              projects={"residential": world.project, "commercial": world.other_project},
                              staff=world.staff, as_of=as_of)
    for table in TABLES:
        assert await scope.count(table) > 0, table._meta.tablename
    past = await scope.select(Event).where(Event.status == "finished").first()
    upcoming = await scope.select(Event).where(Event.status == "published").first()
    assert past["ends_at"] < as_of < upcoming["starts_at"]
    assert await scope.count(Visit).where((Visit.event_id == past["id"]) & (Visit.status == "done")) == 2  # 16 → 2
    assert await scope.count(Signup).where((Signup.event_id == upcoming["id"]) & (Signup.status == "waiting")) > 0
