"""The desk's portal forms of parking leases: posted with the test client (session cookie + CSRF field), then
the database is checked; a bad form comes back with what was typed and the message beside its field."""
from __future__ import annotations

import re

from core import TenantScope
from plugins.parking_leases.tables import Application, Charge, Document, Garage, Lease, Offer, Plate, Space, WaitlistEntry
from tests.conftest import at
from tests.frontend.portal_helpers import portal_login, post_form
from tests.plugins.parking_leases.helpers import DOCS, PNG, garage, signed_lease

BASE = "/portal/parking-leases"


def field_error(html: str, field: str) -> str:
    found = re.search(rf'data-field="{re.escape(field)}"[^>]*>([^<]*)<', html)
    assert found, f"no error shown beside {field}"
    return found.group(1)


async def _application(client, token, world, **fields):
    data = {"customer_q": world.customers[0]["phone"], "space_type": "standard", "term": "yearly",
            "plates": "粤B12345", **fields}
    return await post_form(client, f"{BASE}/projects/{world.project['id']}/applications", token, **data)


async def _attach_all(client, token, app_id):
    for name in DOCS:
        r = await client.post(f"{BASE}/applications/{app_id}/documents", data={"_csrf": token, "requirement": name},
                              files={"file": (f"{name}.png", PNG, "image/png")}, follow_redirects=False)
        assert r.status_code == 303, r.text


async def test_desk_receives_checks_allocates_and_signs_from_the_portal_seed_001(client, world):
    await garage(world, standard=2, ev=0, now=at("2026-10-01 08:00"))
    token = await portal_login(client, world, "front_desk")
    page = await client.get(f"{BASE}/projects/{world.project['id']}")
    assert page.status_code == 200 and 'name="customer_q"' in page.text and 'name="_csrf"' in page.text
    r = await _application(client, token, world)
    assert r.status_code == 303, r.text
    app_id = int(r.headers["location"].rsplit("/", 1)[1])
    scope = TenantScope(world.tenant_id)
    app = await scope.get(Application, app_id)
    assert (app["customer_id"], app["space_type"], app["term"], app["status"]) == (
        world.customers[0]["id"], "standard", "yearly", "received")
    await _attach_all(client, token, app_id)
    assert await scope.count(Document).where(Document.application_id == app_id) == 3
    r = await client.post(f"{BASE}/applications/{app_id}/checklist", data={"_csrf": token, "doc": DOCS},
                          follow_redirects=False)
    assert r.status_code == 303, r.text
    assert (await scope.get(Application, app_id))["status"] == "checked"
    page = await client.get(f"{BASE}/applications/{app_id}")
    assert "B3-001" in page.text and 'action="/portal/parking-leases/applications/%d/allocate' % app_id in page.text
    space = await scope.select(Space).where(Space.number == "B3-002").first()
    r = await post_form(client, f"{BASE}/applications/{app_id}/allocate", token, space_id=space["id"])
    assert r.status_code == 303 and r.headers["location"].endswith("#sign")
    offer = await scope.select(Offer).where(Offer.application_id == app_id).first()
    assert offer["space_id"] == space["id"] and (await scope.get(Space, space["id"]))["status"] == "reserved"
    r = await post_form(client, f"{BASE}/offers/{offer['id']}/accept", token)
    assert r.status_code == 303
    assert (await scope.get(Offer, offer["id"]))["status"] == "accepted"
    page = await client.get(f"{BASE}/applications/{app_id}")
    assert "3,300.00" in page.text and 'value="500.00"' in page.text  # the published yearly fee and deposit
    r = await post_form(client, f"{BASE}/applications/{app_id}/sign", token, start_date="2026-11-01", deposit="600.00",
                        plates="粤B12345, 粤b-54321")
    assert r.status_code == 303, r.text
    lease = await scope.select(Lease).where(Lease.application_id == app_id).first()
    assert (lease["start_date"].isoformat(), lease["end_date"].isoformat()) == ("2026-11-01", "2027-10-31")
    assert (lease["fee_fen"], lease["deposit_fen"], lease["status"]) == (330000, 60000, "active")
    plates = await scope.select(Plate, Plate.plate).where(Plate.lease_id == lease["id"]).order_by(Plate.id)
    assert [p["plate"] for p in plates] == ["粤B12345", "粤B54321"]
    assert (await scope.get(Space, space["id"]))["status"] == "leased"
    assert r.headers["location"] == f"{BASE}/leases/{lease['id']}?signed=1"
    page = await client.get(r.headers["location"])
    assert page.status_code == 200 and "600.00" in page.text and "粤B54321" in page.text


async def test_bad_forms_keep_what_was_typed_and_name_the_field_seed_001(client, world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    token = await portal_login(client, world, "front_desk")
    scope = TenantScope(world.tenant_id)
    r = await _application(client, token, world, customer_q="没有这个人", note="下午再来")
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert field_error(r.text, "customer_q") == "no customer of this project matches"
    assert 'value="没有这个人"' in r.text and 'value="下午再来"' in r.text
    assert '<option value="yearly" selected>' in r.text
    r = await _application(client, token, world, plates="粤B12345, ABC")
    assert r.status_code == 422 and "is not a vehicle plate" in field_error(r.text, "plates")
    assert 'value="粤B12345, ABC"' in r.text
    # two customers match a name: both offered to pick; picking one receives the application
    r = await _application(client, token, world, customer_q="业主")
    assert r.status_code == 422 and field_error(r.text, "customer_q") == "2 customers match; pick one"
    assert r.text.count('name="customer_id"') == 2
    assert await scope.count(Application) == 0
    r = await _application(client, token, world, customer_q="业主", customer_id=world.customers[1]["id"])
    assert r.status_code == 303
    app_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert (await scope.get(Application, app_id))["customer_id"] == world.customers[1]["id"]
    # a box ticked without its file; a file of the wrong type
    r = await client.post(f"{BASE}/applications/{app_id}/checklist", data={"_csrf": token, "doc": [DOCS[0]]},
                          follow_redirects=False)
    assert r.status_code == 422 and field_error(r.text, f"items.{DOCS[0]}") == "no file is attached for it"
    assert (await scope.get(Application, app_id))["status"] == "received"
    r = await client.post(f"{BASE}/applications/{app_id}/documents", data={"_csrf": token, "requirement": DOCS[1]},
                          files={"file": ("a.txt", b"hello", "text/plain")}, follow_redirects=False)
    assert r.status_code == 422 and "is not accepted" in field_error(r.text, "file")
    assert f'<option value="{DOCS[1]}" selected>' in r.text
    await _attach_all(client, token, app_id)
    await client.post(f"{BASE}/applications/{app_id}/checklist", data={"_csrf": token, "doc": DOCS})
    await post_form(client, f"{BASE}/applications/{app_id}/allocate", token)
    r = await post_form(client, f"{BASE}/applications/{app_id}/sign", token, start_date="2026-13-01", deposit="12.345",
                        plates="粤B12345")
    assert r.status_code == 422 and field_error(r.text, "start_date") == "is not a date (YYYY-MM-DD)"
    assert 'value="2026-13-01"' in r.text and 'value="12.345"' in r.text
    r = await post_form(client, f"{BASE}/applications/{app_id}/sign", token, start_date="2026-11-01", deposit="12.345")
    assert r.status_code == 422 and field_error(r.text, "deposit") == "has more than 2 decimals"
    assert await scope.count(Lease) == 0


async def test_no_free_space_shows_the_waiting_list_letter_seed_001(client, world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    await signed_lease(world, world.customers[0]["id"], "standard", "monthly", at("2026-10-08 09:00"))
    token = await portal_login(client, world, "front_desk")
    r = await _application(client, token, world, customer_q=world.customers[1]["phone"], term="monthly")
    app_id = int(r.headers["location"].rsplit("/", 1)[1])
    await _attach_all(client, token, app_id)
    await client.post(f"{BASE}/applications/{app_id}/checklist", data={"_csrf": token, "doc": DOCS})
    page = await client.get(f"{BASE}/applications/{app_id}")
    assert "登记轮候 Put on the waiting list" in page.text
    r = await post_form(client, f"{BASE}/applications/{app_id}/allocate", token)
    assert r.status_code == 303
    entry = await TenantScope(world.tenant_id).select(WaitlistEntry).where(WaitlistEntry.application_id == app_id).first()
    assert r.headers["location"] == f"{BASE}/waitlist/{entry['id']}"
    letter = await client.get(r.headers["location"])
    assert letter.status_code == 200
    assert "共1个" in letter.text and "已租1个" in letter.text and "第1位" in letter.text and "3天内确认" in letter.text
    assert (await TenantScope(world.tenant_id).get(Application, app_id))["status"] == "waiting"


async def test_declined_offer_frees_the_space_and_keeps_the_reason_seed_001(client, world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    token = await portal_login(client, world, "front_desk")
    r = await _application(client, token, world)
    app_id = int(r.headers["location"].rsplit("/", 1)[1])
    await _attach_all(client, token, app_id)
    await client.post(f"{BASE}/applications/{app_id}/checklist", data={"_csrf": token, "doc": DOCS})
    await post_form(client, f"{BASE}/applications/{app_id}/allocate", token)
    scope = TenantScope(world.tenant_id)
    offer = await scope.select(Offer).where(Offer.application_id == app_id).first()
    r = await post_form(client, f"{BASE}/offers/{offer['id']}/decline", token, reason="位置太远")
    assert r.status_code == 303
    assert (await scope.get(Offer, offer["id"]))["status"] == "declined"
    assert (await scope.get(Space, offer["space_id"]))["status"] == "free"
    app = await scope.get(Application, app_id)
    assert (app["status"], app["note"]) == ("declined", "位置太远")
    r = await post_form(client, f"{BASE}/offers/{offer['id']}/accept", token)  # too late: shown on the page
    assert r.status_code == 409 and "The offer is declined." in r.text


async def test_renew_by_one_term_and_terminate_with_reason_from_the_portal_seed_001(client, world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    lease = await signed_lease(world, world.customers[0]["id"], "standard", "monthly", at("2026-10-08 09:00"))
    assert lease["end_date"].isoformat() == "2026-11-07"
    token = await portal_login(client, world, "front_desk")
    page = await client.get(f"{BASE}/leases/{lease['id']}")
    assert page.status_code == 200 and 'action="/portal/parking-leases/leases/%d/renew"' % lease["id"] in page.text
    r = await post_form(client, f"{BASE}/leases/{lease['id']}/renew", token, term="quarterly")
    assert r.status_code == 303
    scope = TenantScope(world.tenant_id)
    renewed = await scope.get(Lease, lease["id"])
    assert (renewed["term"], renewed["end_date"].isoformat(), renewed["fee_fen"]) == ("quarterly", "2027-02-07", 87000)
    charges = await scope.select(Charge).where((Charge.lease_id == lease["id"]) & (Charge.kind == "fee")).order_by(Charge.id)
    assert [(c["period_start"].isoformat(), c["amount_fen"]) for c in charges][-1] == ("2026-11-08", 87000)
    r = await post_form(client, f"{BASE}/leases/{lease['id']}/terminate", token, reason="", end_date="2026-12-31")
    assert r.status_code == 422 and field_error(r.text, "reason") == "a termination needs a reason"
    assert 'value="2026-12-31"' in r.text
    r = await post_form(client, f"{BASE}/leases/{lease['id']}/terminate", token, reason="车辆已出售", end_date="2026-12-31")
    assert r.status_code == 303
    ended = await scope.get(Lease, lease["id"])
    assert (ended["status"], ended["termination_reason"], ended["end_date"].isoformat()) == (
        "terminated", "车辆已出售", "2026-12-31")
    assert (await scope.get(Space, ended["space_id"]))["status"] == "free"


async def test_bulk_create_spaces_from_a_range_all_or_nothing_seed_001(client, world):
    await garage(world, standard=0, ev=0, now=at("2026-10-01 08:00"))
    scope = TenantScope(world.tenant_id)
    g = await scope.select(Garage).first()
    url = f"{BASE}/projects/{world.project['id']}/spaces"
    token = await portal_login(client, world, "front_desk")
    r = await post_form(client, url, token, garage_id=g["id"], first="B5-001", last="B5-020", space_type="standard")
    assert r.status_code == 403 and await scope.count(Space) == 0  # the desk does not create spaces
    token = await portal_login(client, world, "project_manager")
    r = await post_form(client, url, token, garage_id=g["id"], first="B5-001", last="B5-020", zone="B5", space_type="ev")
    assert r.status_code == 303, r.text
    rows = await scope.select(Space, Space.number, Space.space_type, Space.zone).where(Space.garage_id == g["id"]).order_by(Space.number)
    assert len(rows) == 20 and rows[0] == {"number": "B5-001", "space_type": "ev", "zone": "B5"}
    assert rows[-1]["number"] == "B5-020"
    r = await post_form(client, url, token, garage_id=g["id"], first="B5-015", last="B5-030", space_type="ev")
    assert r.status_code == 409 and "nothing was created" in r.text and 'value="B5-030"' in r.text
    r = await post_form(client, url, token, garage_id=g["id"], first="B5-031", last="B6-040", space_type="ev")
    assert r.status_code == 422 and "same prefix" in field_error(r.text, "last")
    assert await scope.count(Space) == 20
    r = await post_form(client, f"{BASE}/projects/{world.project['id']}/garages", token, code="S1", name="地面停车场",
                        kind="surface")
    assert r.status_code == 303
    assert (await scope.select(Garage).where(Garage.code == "S1").first())["kind"] == "surface"


async def test_portal_forms_refuse_a_missing_csrf_token_and_another_company_seed_001(client, world, other_world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    lease = await signed_lease(world, world.customers[0]["id"], "standard", "monthly", at("2026-10-08 09:00"))
    await portal_login(client, world, "front_desk")
    r = await client.post(f"{BASE}/leases/{lease['id']}/terminate", data={"reason": "x"}, follow_redirects=False)
    assert r.status_code == 403
    await portal_login(client, other_world, "front_desk")
    page = await client.get("/portal/login")
    from tests.frontend.portal_helpers import csrf_of

    token = csrf_of(page.text)
    for url in (f"{BASE}/leases/{lease['id']}/terminate", f"{BASE}/leases/{lease['id']}/renew",
                f"{BASE}/applications/{lease['application_id']}/allocate",
                f"{BASE}/projects/{world.project['id']}/applications"):
        r = await post_form(client, url, token, reason="x")
        assert r.status_code == 404, url
    assert (await TenantScope(world.tenant_id).get(Lease, lease["id"]))["status"] == "active"
