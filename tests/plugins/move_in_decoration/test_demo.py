"""The demo company gets a move-in batch in progress, decoration applications in every state and moving
out through the release gate: a row in every table of the plugin (what the cross-tenant matrix needs)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from core import TenantScope
from core import tables as ct
from plugins.move_in_decoration import services as svc
from plugins.move_in_decoration.demo import seed
from plugins.move_in_decoration.tables import TABLES, Application, Household, MovingOut, Notice, Refund
from tests.conftest import at, make_world


async def test_seed_demo_fills_every_table_with_a_batch_in_progress_and_applications_in_every_state_seed_001():
    world = await make_world(plugins=["move_in_decoration", "commercial_buildings"], login=False)
    scope = TenantScope(world.tenant_id)
    building = await scope.insert(ct.Building, project_id=world.project["id"], code="9", name="9栋", floors=6)
    for i in range(20):
        unit = await scope.insert(ct.Unit, project_id=world.project["id"], building_id=building["id"], entrance="1",
                                  floor=i // 4 + 1, room=f"{i // 4 + 1}0{i % 4 + 1}", area=Decimal("96.20"))
        if i < 14:
            c = await scope.insert(ct.Customer, name=f"示范业主{i}", phone=f"1370000{i:04d}")
            await scope.insert(ct.Occupancy, customer_id=c["id"], unit_id=unit["id"], role="owner",
                               start_date=date(2021, 1, 1))
    as_of = at("2026-09-30 17:00")
    await seed(world.tenant_id, {"residential": world.project, "commercial": world.other_project}, world.staff, as_of)
    for table in TABLES:
        assert await scope.count(table) > 0, table._meta.tablename
    statuses = {r["status"] for r in await scope.select(Application, Application.status)}
    assert statuses == set(svc.APPLICATION_STATUSES)
    households = {r["status"] for r in await scope.select(Household, Household.status)}
    assert households == {"invited", "arrived", "at_desk", "done"}
    done = await scope.select(Household).where(Household.status == "done").order_by(Household.id)
    assert [h["waiting_seconds"] <= 15 * 60 and h["processing_seconds"] <= 30 * 60 for h in done] == [True, False]
    notice = await scope.select(Notice).first()
    assert notice["told_via"] == "phone" and notice["told_at"] <= notice["due_at"]
    refunds = await scope.select(Refund).order_by(Refund.id)
    assert [r["refunded_at"] is not None for r in refunds] == [False, True]
    assert {m["status"] for m in await scope.select(MovingOut, MovingOut.status)} == {"requested", "confirmed", "released"}
