"""Front desk: the call/visit register with promised replies, prepared answers, and parcels with signatures
(seeds 000 and 001)."""
from __future__ import annotations

import base64

from tests.conftest import at
from plugins.residential_grids.demo import signature_png

API = "/api/v1/residential-grids"


async def test_unanswered_question_needs_a_promised_reply_time_and_is_flagged_when_overdue_seed_000(world, client):
    pid = world.project["id"]
    h = world.headers("front_desk")
    base = {"channel": "call", "subject": "泳池何时开放?", "unit_id": world.units[0]["id"], "at": "2026-09-07T09:00:00+08:00"}
    r = await client.post(f"{API}/projects/{pid}/register", json=base, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "promised_reply_at"
    r = await client.post(f"{API}/projects/{pid}/register", json={**base, "promised_reply_at": "2026-09-07T08:00:00+08:00"},
                          headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "promised_reply_at"
    r = await client.post(f"{API}/projects/{pid}/register", json={**base, "promised_reply_at": "2026-09-08T12:00:00+08:00"},
                          headers=h)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["customer_id"] == world.customers[0]["id"]  # found by the unit
    due = f"{API}/projects/{pid}/register?overdue=true&as_of="
    assert (await client.get(due + "2026-09-08T11:59:00%2B08:00", headers=h)).json() == []
    listed = (await client.get(due + "2026-09-08T12:01:00%2B08:00", headers=h)).json()
    assert [x["id"] for x in listed] == [entry["id"]] and listed[0]["is_overdue"]
    # the periodic job flags it once and tells the staff member who logged it
    from plugins.residential_grids.actors import register_overdue

    assert (await register_overdue.fn("2026-09-08T12:30:00+08:00"))["flagged"] >= 1
    assert (await register_overdue.fn("2026-09-08T12:45:00+08:00"))["flagged"] == 0
    from core.tables import Notification
    from core.tenancy import TenantScope

    scope = TenantScope(world.tenant_id)
    assert await scope.count(Notification).where(
        (Notification.template == "residential_grids.reply_overdue") & (Notification.recipient_user_id == world.staff["front_desk"])) == 1
    r = await client.post(f"{API}/register/{entry['id']}/reply", json={"answer": "下周一开放", "at": "2026-09-08T14:00:00+08:00"},
                          headers=h)
    assert r.status_code == 200
    assert (await client.get(due + "2026-09-09T12:00:00%2B08:00", headers=h)).json() == []
    assert (await client.post(f"{API}/register/{entry['id']}/reply", json={"answer": "again"}, headers=h)).status_code == 409


async def test_register_entry_links_the_ticket_it_created(world, client):
    pid = world.project["id"]
    r = await client.post(f"{API}/projects/{pid}/register", headers=world.headers("front_desk"), json={
        "channel": "visit", "subject": "卫生间漏水", "unit_id": world.units[1]["id"], "ticket_kind": "repair",
        "at": "2026-09-07T10:00:00+08:00"})
    assert r.status_code == 201, r.text
    entry = r.json()
    ticket = (await client.get(f"/api/v1/tickets/{entry['ticket_id']}", headers=world.headers("front_desk"))).json()
    assert ticket["kind"] == "repair" and ticket["channel"] == "walk_in" and ticket["unit_id"] == world.units[1]["id"]


async def test_inquiry_closed_at_once_with_a_prepared_answer_seed_001(world, client):
    pid = world.project["id"]
    h = world.headers("supervisor")
    for q, a, k in (("物业费怎么缴纳?", "前台、公众号或银行代扣。", "缴费"), ("快递代收时间?", "每天 8:00–20:00。", "快递 包裹")):
        assert (await client.post(f"{API}/projects/{pid}/prepared-answers", json={"question": q, "answer": a, "keywords": k},
                                  headers=h)).status_code == 201
    found = (await client.get(f"{API}/projects/{pid}/prepared-answers?q=包裹", headers=world.headers("front_desk"))).json()
    assert [f["question"] for f in found] == ["快递代收时间?"]
    # a call answered at once: the inquiry ticket is created and closed at once
    r = await client.post(f"{API}/projects/{pid}/register", headers=world.headers("front_desk"), json={
        "channel": "call", "subject": "快递什么时候能取?", "phone": world.customers[1]["phone"], "ticket_kind": "inquiry",
        "prepared_answer_id": found[0]["id"]})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["answer"] == "每天 8:00–20:00。" and entry["answered_at"] and entry["customer_id"] == world.customers[1]["id"]
    ticket = (await client.get(f"/api/v1/tickets/{entry['ticket_id']}", headers=h)).json()
    assert ticket["status"] == "closed"
    # an open inquiry closed with a prepared answer
    from core import tickets

    desk = await world.principal("front_desk")
    t = await tickets.create_ticket(desk, {"project_id": pid, "kind": "inquiry", "channel": "hotline", "title": "缴费?"})
    r = await client.post(f"{API}/tickets/{t['id']}/close-with-answer", json={"prepared_answer_id": found[0]["id"]},
                          headers=world.headers("front_desk"))
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert (await client.get(f"{API}/prepared-answers/{found[0]['id']}", headers=h)).json()["use_count"] == 2
    complaint = await tickets.create_ticket(desk, {"project_id": pid, "kind": "complaint", "channel": "hotline", "title": "噪音"})
    r = await client.post(f"{API}/tickets/{complaint['id']}/close-with-answer", json={"prepared_answer_id": found[0]["id"]},
                          headers=world.headers("front_desk"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ticket_id"


async def _parcel(client, world, n: int = 1, received: str = "2026-09-07T10:00:00+08:00", unit: int = 0):
    r = await client.post(f"{API}/projects/{world.project['id']}/parcels", headers=world.headers("front_desk"), json={
        "unit_id": world.units[unit]["id"], "carrier": "顺丰", "tracking_no": f"SF{n:06d}", "received_at": received})
    assert r.status_code == 201, r.text
    return r.json()


async def test_parcel_released_only_with_a_signature_seed_000(world, client):
    h = world.headers("front_desk")
    parcel = await _parcel(client, world)
    url = f"{API}/parcels/{parcel['id']}/release"
    owner = world.customers[0]["id"]
    for signature, why in (("", "required"), ("data:image/jpeg;base64,AAAA", "PNG data URL"),
                           ("data:image/png;base64,bm90IGEgcG5n", "not a PNG"),
                           ("data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 210_000).decode(), "too large")):
        r = await client.post(url, json={"picker": "household", "customer_id": owner, "signature": signature}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "signature" and why in r.json()["detail"]
    assert (await client.get(f"{API}/parcels/{parcel['id']}", headers=h)).json()["status"] == "waiting"
    # only the household or a named delegate
    r = await client.post(url, json={"picker": "household", "customer_id": world.customers[1]["id"], "signature": signature_png()},
                          headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer_id"
    r = await client.post(url, json={"picker": "delegate", "name": "王阿姨", "signature": signature_png()}, headers=h)
    assert r.status_code == 422
    assert (await client.post(f"{API}/parcels/{parcel['id']}/delegate", json={"name": "王阿姨"}, headers=h)).status_code == 200
    r = await client.post(url, json={"picker": "delegate", "name": "李阿姨", "signature": signature_png()}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    r = await client.post(url, json={"picker": "delegate", "name": "王阿姨", "signature": signature_png(),
                                     "at": "2026-09-07T18:00:00+08:00"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "released" and r.json()["released_by_id"] == world.staff["front_desk"]
    assert (await client.post(url, json={"picker": "household", "customer_id": owner, "signature": signature_png()},
                              headers=h)).status_code == 409
    r = await client.get(f"{API}/parcels/{parcel['id']}/signature.png", headers=h)
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG") and r.headers["x-signed-at"].startswith("2026-09-07T10:00")
    # the household itself
    second = await _parcel(client, world, n=2)
    r = await client.post(f"{API}/parcels/{second['id']}/release",
                          json={"picker": "household", "customer_id": owner, "signature": signature_png()}, headers=h)
    assert r.status_code == 200 and r.json()["picker_name"] == world.customers[0]["name"]


async def test_parcels_daily_list_is_sorted_by_building_and_the_household_is_notified_seed_000(world, client):
    from core.tables import Building, Notification, Unit
    from core.tenancy import TenantScope

    scope = TenantScope(world.tenant_id)
    b10 = await scope.insert(Building, project_id=world.project["id"], code="10", name="10栋")
    b2 = await scope.insert(Building, project_id=world.project["id"], code="2", name="2栋")
    u10 = await scope.insert(Unit, project_id=world.project["id"], building_id=b10["id"], entrance="1", room="101")
    u2 = await scope.insert(Unit, project_id=world.project["id"], building_id=b2["id"], entrance="1", room="101")
    world.units += [u10, u2]
    await _parcel(client, world, n=1, unit=4)
    await _parcel(client, world, n=2, unit=5)
    await _parcel(client, world, n=3, unit=0)
    await _parcel(client, world, n=4, unit=1, received="2026-09-05T10:00:00+08:00")  # still waiting from before
    r = await client.get(f"{API}/projects/{world.project['id']}/parcels/daily?day=2026-09-07", headers=world.headers("front_desk"))
    listing = r.json()
    assert [b["building_code"] for b in listing["buildings"]] == ["2", "10", "B1"]
    assert listing["count"] == 4 and listing["waiting"] == 4
    sms = await scope.select(Notification).where(Notification.template == "residential_grids.parcel_arrived")
    assert len(sms) == 2 and {n["recipient_customer_id"] for n in sms} == {world.customers[0]["id"], world.customers[1]["id"]}
    assert all(n["channel"] == "sms" for n in sms)
    r = await client.post(f"{API}/projects/{world.project['id']}/parcels", headers=world.headers("front_desk"), json={
        "unit_id": world.units[0]["id"], "carrier": "顺丰", "tracking_no": "SF000003"})
    assert r.status_code == 409


async def test_unclaimed_parcels_remind_daily_and_are_flagged_after_3_days_idempotently_seed_000(world, client):
    from core.tables import Notification
    from core.tenancy import TenantScope
    from plugins.residential_grids.actors import parcel_reminders

    parcel = await _parcel(client, world, received="2026-09-07T10:00:00+08:00")
    scope = TenantScope(world.tenant_id)
    h = world.headers("front_desk")
    await parcel_reminders.fn("2026-09-08T09:00:00+08:00")
    await parcel_reminders.fn("2026-09-08T09:05:00+08:00")  # same day: nothing more
    reminders = scope.count(Notification).where(Notification.template == "residential_grids.parcel_reminder")
    assert await reminders == 1
    await parcel_reminders.fn("2026-09-10T09:00:00+08:00")  # 2 days 23 hours: reminded, not flagged
    got = (await client.get(f"{API}/parcels/{parcel['id']}", headers=h)).json()
    assert got["flagged_at"] is None and got["reminders"] == 2
    await parcel_reminders.fn("2026-09-10T10:00:00+08:00")  # 3 days: flagged
    got = (await client.get(f"{API}/parcels/{parcel['id']}", headers=h)).json()
    assert got["flagged_at"].startswith("2026-09-10T02:00") and got["reminders"] == 2
    await parcel_reminders.fn("2026-09-10T11:00:00+08:00")  # idempotent
    assert (await client.get(f"{API}/parcels/{parcel['id']}", headers=h)).json()["flagged_at"] == got["flagged_at"]
    told = await scope.select(Notification, Notification.recipient_user_id).where(
        Notification.template == "residential_grids.parcels_unclaimed")
    assert sorted(n["recipient_user_id"] for n in told) == sorted([world.staff["front_desk"], world.staff["team_lead"]])
    # the number of days is a plugin setting
    from core.tables import PluginState
    from core.plugins import get_registry

    await scope.update(PluginState, {PluginState.settings: {"unclaimed_flag_days": 1}}).where(
        PluginState.plugin == "residential_grids")
    get_registry().forget(world.tenant_id)
    late = await _parcel(client, world, n=9, received="2026-09-10T08:00:00+08:00")
    await parcel_reminders.fn("2026-09-11T08:30:00+08:00")
    assert (await client.get(f"{API}/parcels/{late['id']}", headers=h)).json()["flagged_at"] is not None


async def test_portal_front_desk_and_parcel_pages_render(world, client):
    await _parcel(client, world)
    h = world.headers("front_desk")
    r = await client.get("/portal/residential-grids/front-desk", headers=h)
    assert r.status_code == 200 and "来电来访登记表" in r.text
    r = await client.get("/portal/residential-grids/parcels?day=2026-09-07", headers=h)
    assert r.status_code == 200 and "SF000001" in r.text and "<canvas" in r.text
