"""Tickets through the API: creation, the state machine, first receiver, return-visit gate, problem details."""
from __future__ import annotations

import pytest

from core.workflow import STATUSES, TRANSITIONS, allowed_from


async def _create(client, world, role="front_desk", **body):
    payload = {"project_id": world.project["id"], "kind": "repair", "channel": "hotline", "title": "厨房漏水",
               "unit_id": world.units[0]["id"], "customer_id": world.customers[0]["id"]}
    payload.update(body)
    r = await client.post("/api/v1/tickets", json=payload, headers=world.headers(role))
    assert r.status_code == 201, r.text
    return r.json()


async def _move(client, world, ticket_id, to, role="front_desk", **body):
    return await client.post(f"/api/v1/tickets/{ticket_id}/transitions", json={"to": to, **body},
                             headers=world.headers(role))


async def test_create_ticket_sets_first_receiver_responsible_and_event(client, world):
    t = await _create(client, world)
    assert t["status"] == "received"
    assert t["first_receiver_id"] == world.staff["front_desk"]
    assert t["responsible_id"] == world.staff["butler"]  # the unit's grid's butler
    assert t["repair_area"] == "private" and t["grid_id"] == world.grid["id"]
    events = (await client.get(f"/api/v1/tickets/{t['id']}/events", headers=world.headers())).json()
    assert [e["kind"] for e in events] == ["created"]


async def test_full_repair_flow_to_closure_with_return_visit(client, world):
    t = await _create(client, world)
    assert (await _move(client, world, t["id"], "dispatched", executor_id=world.staff["technician"])).status_code == 200
    assert (await _move(client, world, t["id"], "in_progress", role="technician")).status_code == 200
    assert (await _move(client, world, t["id"], "resolved", role="technician")).status_code == 200
    r = await _move(client, world, t["id"], "closed")
    assert r.status_code == 409 and r.json()["title"] == "Return visit required"
    assert (await _move(client, world, t["id"], "visited", satisfaction=5)).status_code == 200
    r = await _move(client, world, t["id"], "closed")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    events = (await client.get(f"/api/v1/tickets/{t['id']}/events", headers=world.headers())).json()
    assert [e["to_status"] for e in events] == ["received", "dispatched", "in_progress", "resolved", "visited", "closed"]


async def test_first_receiver_never_changes(client, world):
    t = await _create(client, world)
    r = await client.patch(f"/api/v1/tickets/{t['id']}", json={"first_receiver_id": world.staff["butler"]},
                           headers=world.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "first_receiver_id"
    await _move(client, world, t["id"], "dispatched", role="supervisor", executor_id=world.staff["technician"])
    await _move(client, world, t["id"], "resolved", role="technician")
    got = (await client.get(f"/api/v1/tickets/{t['id']}", headers=world.headers("supervisor"))).json()
    assert got["first_receiver_id"] == world.staff["front_desk"]


async def test_inquiry_closes_without_return_visit(client, world):
    t = await _create(client, world, kind="inquiry", title="物业费怎么交")
    assert (await _move(client, world, t["id"], "resolved")).status_code == 200
    assert (await _move(client, world, t["id"], "closed")).status_code == 200


async def test_complaint_cannot_close_before_return_visit_seed_000_004(client, world):
    t = await _create(client, world, kind="complaint", title="噪音")
    await _move(client, world, t["id"], "resolved")
    r = await _move(client, world, t["id"], "closed")
    assert r.status_code == 409
    assert r.json()["allowed"] == ["visited"]


async def test_illegal_transition_is_409_naming_allowed(client, world):
    t = await _create(client, world)
    r = await _move(client, world, t["id"], "visited")
    assert r.status_code == 409
    body = r.json()
    assert body["allowed"] == list(TRANSITIONS["received"])
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("to", ["on_hold", "cancelled"])
async def test_transition_needing_reason_refused_without_one(client, world, to):
    t = await _create(client, world)
    r = await _move(client, world, t["id"], to)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    assert (await _move(client, world, t["id"], to, reason="等配件")).status_code == 200


async def test_on_hold_resumes_to_previous_status_and_pauses_resolution_clock(world):
    from datetime import timedelta

    from core import tickets
    from tests.conftest import at

    desk = await world.principal("front_desk")
    t = await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": "repair", "channel": "hotline",
                                           "title": "换锁", "unit_id": world.units[0]["id"]}, now=at("2026-11-02 09:00"))
    due = t["resolution_due_at"]
    await tickets.transition(desk, t["id"], "dispatched", executor_id=world.staff["technician"], now=at("2026-11-02 09:10"))
    await tickets.transition(desk, t["id"], "on_hold", reason="等配件", now=at("2026-11-02 10:00"))
    resumed = await tickets.transition(desk, t["id"], "dispatched", now=at("2026-11-02 16:00"))
    assert resumed["status"] == "dispatched"
    assert resumed["resolution_due_at"] == due + timedelta(hours=6)
    assert resumed["held_seconds"] == 6 * 3600


def _paths():
    """Every (from, to) pair of statuses, legal or not."""
    return [(a, b) for a in STATUSES for b in STATUSES if a != b]


@pytest.mark.parametrize("frm,to", _paths())
def test_state_machine_every_pair(frm, to):
    from core.errors import Problem
    from core.workflow import check_transition

    allowed = allowed_from(frm, "dispatched")
    try:
        check_transition(frm, to, reason="r", hold_from="dispatched", requires_return_visit=False)
        ok = True
    except Problem as exc:
        ok = False
        assert exc.status == 409 and exc.extra["allowed"] == list(allowed)
    assert ok == (to in allowed)


async def test_every_legal_transition_through_api(client, world):
    """Walk each legal edge of the machine from a fresh ticket put into its source status."""
    from core import tickets

    desk = await world.principal("front_desk")
    paths = {
        "received": [], "dispatched": [("dispatched", {"executor_id": world.staff["technician"]})],
        "in_progress": [("in_progress", {})], "resolved": [("resolved", {})],
        "visited": [("resolved", {}), ("visited", {"satisfaction": 4})],
        "closed": [("resolved", {}), ("visited", {"satisfaction": 4}), ("closed", {})],
        "reopened": [("resolved", {}), ("reopened", {"reason": "又漏了"})],
    }
    for frm, targets in TRANSITIONS.items():
        if frm not in paths:
            continue
        for to in targets:
            t = await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": "suggestion",
                                                   "channel": "hotline", "title": f"{frm}->{to}",
                                                   "unit_id": world.units[0]["id"]})
            for step, extra in paths[frm]:
                await tickets.transition(desk, t["id"], step, reason=extra.get("reason", ""),
                                         executor_id=extra.get("executor_id"), satisfaction=extra.get("satisfaction"))
            body = {"reason": "原因"}
            if to == "dispatched":
                body["executor_id"] = world.staff["technician"]
            r = await _move(client, world, t["id"], to, **body)
            assert r.status_code == 200, (frm, to, r.text)
            assert r.json()["status"] == to


async def test_problem_details_on_bad_input(client, world):
    base = {"project_id": world.project["id"], "kind": "repair", "channel": "hotline", "title": "x"}
    cases = [
        ({**base, "project_id": "one"}, "project_id"),
        ({**base, "surprise": 1}, "surprise"),
        ({**base, "title": "长" * 201}, "title"),
        ({**base, "unit_id": 10**9}, "unit_id"),
        ({**base, "channel": "fax"}, "channel"),
        ({**base, "kind": "nonsense"}, "kind"),
    ]
    for body, field in cases:
        r = await client.post("/api/v1/tickets", json=body, headers=world.headers())
        assert r.status_code in (400, 422), (field, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["field"] == field, r.text


async def test_unit_of_another_project_is_refused_and_nothing_written(client, world):
    from core.tables import Building, Ticket, Unit
    from core.tenancy import TenantScope

    scope = TenantScope(world.tenant_id)
    b2 = await scope.insert(Building, project_id=world.other_project["id"], code="X", name="X")
    u2 = await scope.insert(Unit, project_id=world.other_project["id"], building_id=b2["id"], room="101")
    before = await scope.count(Ticket)
    r = await client.post("/api/v1/tickets", json={"project_id": world.project["id"], "kind": "repair",
                                                   "channel": "hotline", "title": "x", "unit_id": u2["id"]},
                          headers=world.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit_id"
    assert await scope.count(Ticket) == before


async def test_inbox_keyset_paging_and_filters(client, world):
    ids = [(await _create(client, world, title=f"t{i}"))["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "project_id": world.project["id"], "status": "open"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/tickets", params=params, headers=world.headers())).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True)
    r = await client.get("/api/v1/tickets", params={"status": "bogus"}, headers=world.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"


async def test_butler_sees_only_its_grid_and_technician_only_its_tickets(client, world):
    in_grid = await _create(client, world, unit_id=world.units[0]["id"])
    outside = await _create(client, world, unit_id=world.units[3]["id"])
    butler_ids = {t["id"] for t in (await client.get("/api/v1/tickets", headers=world.headers("butler"))).json()["items"]}
    assert in_grid["id"] in butler_ids and outside["id"] not in butler_ids
    r = await client.get(f"/api/v1/tickets/{outside['id']}", headers=world.headers("butler"))
    assert r.status_code == 404
    assert (await client.get(f"/api/v1/tickets/{in_grid['id']}", headers=world.headers("technician"))).status_code == 404
    await _move(client, world, in_grid["id"], "dispatched", executor_id=world.staff["technician"])
    assert (await client.get(f"/api/v1/tickets/{in_grid['id']}", headers=world.headers("technician"))).status_code == 200


async def test_ticket_and_event_data_are_json_objects_in_the_api(client, world):
    body = {"project_id": world.project["id"], "kind": "repair", "channel": "hotline", "title": "漏水",
            "unit_id": world.units[0]["id"], "data": {"category": "plumbing"}}
    created = await client.post("/api/v1/tickets", json=body, headers=world.headers())
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    got = (await client.get(f"/api/v1/tickets/{tid}", headers=world.headers())).json()
    assert got["data"] == created.json()["data"] == {"category": "plumbing"}
    events = (await client.get(f"/api/v1/tickets/{tid}/events", headers=world.headers())).json()
    assert events[0]["data"]["channel"] == "hotline"
