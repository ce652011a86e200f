"""The scoped helpers' precompiled statements answer exactly what the query builder answers, and stay
inside their tenant: `get_or_none`, `first`, `insert` and `insert_linked` on both databases."""
from __future__ import annotations

import pytest

from tests.conftest import at, make_world


async def test_get_or_none_equals_the_query_builder_and_never_crosses_tenants(world, other_world):
    from core.tables import Customer, Project, Unit
    from core.tenancy import TenantScope

    scope = TenantScope(world.tenant_id)
    for table, row_id in ((Project, world.project["id"]), (Unit, world.units[0]["id"]),
                          (Customer, world.customers[0]["id"])):
        built = await table.select().where((table.tenant_id == world.tenant_id) & (table.id == row_id)).first()
        assert await scope.get_or_none(table, row_id) == built
        assert await scope.get_or_none(table, row_id, table.id) == {"id": row_id}
        # the other company's scope does not find it, whatever the columns
        assert await TenantScope(other_world.tenant_id).get_or_none(table, row_id) is None
        assert await TenantScope(other_world.tenant_id).get_or_none(table, row_id, table.id) is None
    # a joined column goes through the query builder and still filters by tenant
    unit = await scope.get_or_none(Unit, world.units[0]["id"], Unit.id, Unit.building_id.code.as_alias("building"))
    assert unit == {"id": world.units[0]["id"], "building": "B1"}
    assert await TenantScope(other_world.tenant_id).get_or_none(
        Unit, world.units[0]["id"], Unit.id, Unit.building_id.code.as_alias("building")) is None


async def test_first_matches_equals_and_is_null_in_the_tenant_only(world, other_world):
    from core.tables import Unit
    from core.tenancy import TenantScope

    scope = TenantScope(world.tenant_id)
    # units 0 and 1 are in the grid, 2 and 3 are not (conftest)
    assert (await scope.first(Unit, Unit.id, grid_id=world.grid["id"]))["id"] == world.units[0]["id"]
    assert (await scope.first(Unit, Unit.id, grid_id=None))["id"] == world.units[2]["id"]
    assert (await scope.first(Unit, Unit.id, grid_id=None, room="401"))["id"] == world.units[3]["id"]
    assert await scope.first(Unit, grid_id=None, room="999") is None
    assert await TenantScope(other_world.tenant_id).first(Unit, grid_id=world.grid["id"]) is None
    with pytest.raises(TypeError):
        await scope.first(Unit, no_such_column=1)


async def test_insert_fills_defaults_and_returns_what_is_stored(world):
    from core.tables import Building, Ticket
    from core.tenancy import TenantScope

    scope = TenantScope(world.tenant_id)
    building = await scope.insert(Building, project_id=world.project["id"], code="B9", name="9栋")
    stored = await Building.select().where(Building.id == building["id"]).first()
    assert building == stored  # every column, defaults included, as the database has it
    ticket = await scope.insert(Ticket, project_id=world.project["id"], kind="inquiry", channel="hotline",
                                title="问询", status="received", data={"a": 1}, first_receiver_id=world.staff["front_desk"],
                                created_at=at("2026-10-08 09:00"), updated_at=at("2026-10-08 09:00"))
    assert ticket["tenant_id"] == world.tenant_id and ticket["data"] == {"a": 1}
    row = await scope.get(Ticket, ticket["id"])
    assert row["data"] in ({"a": 1}, '{"a": 1}', '{"a":1}') and row["priority"] == ticket["priority"]
    with pytest.raises(TypeError):
        await scope.insert(Building, project_id=world.project["id"], code="B8", name="8栋", colour="red")
    with pytest.raises(ValueError):  # a NOT NULL column without a default
        await scope.insert(Building, project_id=world.project["id"], code=None, name="8栋")


async def test_insert_linked_writes_both_rows_or_neither(world):
    from core.tables import Ticket, TicketEvent
    from core.tenancy import TenantScope

    scope = TenantScope(world.tenant_id)
    now = at("2026-10-08 09:00")
    values = {"project_id": world.project["id"], "kind": "inquiry", "channel": "hotline", "title": "问询",
              "status": "received", "created_at": now, "updated_at": now, "first_receiver_id": world.staff["front_desk"]}
    ticket, event = await scope.insert_linked(Ticket, values, TicketEvent,
                                              {"at": now, "kind": "created", "to_status": "received", "data": {}},
                                              link="ticket_id")
    assert event["ticket_id"] == ticket["id"] and event["tenant_id"] == world.tenant_id
    stored = await scope.select(TicketEvent).where(TicketEvent.ticket_id == ticket["id"])
    assert [e["id"] for e in stored] == [event["id"]]
    before = await scope.count(Ticket)
    with pytest.raises(Exception):  # the event's actor does not exist: the ticket is not kept either
        await scope.insert_linked(Ticket, values, TicketEvent,
                                  {"at": now, "kind": "created", "actor_id": 10 ** 9, "data": {}}, link="ticket_id")
    assert await scope.count(Ticket) == before


async def test_inbox_statement_keeps_the_butler_to_grid_and_own_tickets():
    """The hand-built inbox statement applies the same visibility as `Principal.sees_ticket`."""
    from core import tickets
    from core.tables import Ticket
    from core.tenancy import TenantScope

    w = await make_world()
    desk = await w.principal("front_desk")
    butler = await w.principal("butler")
    made = []
    for unit in w.units:
        made.append(await tickets.create_ticket(desk, {"project_id": w.project["id"], "kind": "repair",
                                                       "channel": "hotline", "title": "漏水", "unit_id": unit["id"]},
                                                now=at("2026-10-08 09:00")))
    listed = await tickets.list_tickets(butler, status="open", limit=100)
    seen = {t["id"] for t in listed["items"]}
    expected = {t["id"] for t in made if butler.sees_ticket(t)}
    assert seen == expected and expected  # the grid's units, not the others
    rows = await TenantScope(w.tenant_id).select(Ticket, Ticket.id).where(Ticket.project_id == w.project["id"])
    assert len(rows) == 4
    page = await tickets.list_tickets(desk, project_id=w.project["id"], limit=3)
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = await tickets.list_tickets(desk, project_id=w.project["id"], limit=3, cursor=page["next_cursor"])
    assert [t["id"] for t in page["items"] + rest["items"]] == sorted((t["id"] for t in made), reverse=True)
