"""The lobby's portal forms as a browser sends them: a session cookie and the page's CSRF field."""
from __future__ import annotations

from tests.frontend.portal_helpers import csrf_of, portal_login, post_form

API = "/api/v1/commercial-buildings"


async def test_visitor_form_posted_from_a_portal_session_registers_and_without_the_field_is_refused(client, cworld):
    pid = cworld.project["id"]
    await portal_login(client, cworld, "front_desk")
    page = await client.get(f"/portal/commercial-buildings/visitors?project_id={pid}")
    token = csrf_of(page.text)
    form = {"project_id": pid, "name": "会话访客", "host_customer_id": cworld.customers[0]["id"], "purpose": "送货",
            "id_type": "id_card", "id_number": "440301199001018888"}
    refused = await client.post("/portal/commercial-buildings/visitors", data={k: str(v) for k, v in form.items()},
                                follow_redirects=False)
    assert refused.status_code == 403
    r = await post_form(client, "/portal/commercial-buildings/visitors", token, **form)
    assert r.status_code in (302, 303) and "%E2%9C%93" in r.headers["location"], r.text
    listing = (await client.get(f"{API}/visitors", params={"project_id": pid}, headers=cworld.headers())).json()
    assert [v["name"] for v in listing["items"]] == ["会话访客"]


async def test_printable_slip_carries_a_qr_code_of_its_page_seed_001(client, cworld):
    from core import qr_svg
    from tests.plugins.commercial_buildings.helpers import renter

    await renter(cworld, 0)
    body = {"unit_id": cworld.units[0]["id"], "carrier_name": "搬运工", "carrier_phone": "13800000000",
            "window_start": "2026-10-01T09:00:00+08:00", "window_end": "2026-10-01T12:00:00+08:00",
            "items": [{"description": "文件柜", "quantity": 2}]}
    r = await client.post(f"{API}/pass-outs", json=body, headers=cworld.headers())
    assert r.status_code == 201, r.text
    p = r.json()
    page = await client.get(f"/portal/commercial-buildings/pass-outs/{p['id']}", headers=cworld.headers())
    assert page.status_code == 200
    expected = qr_svg(f"http://127.0.0.1/portal/commercial-buildings/pass-outs/{p['id']}")
    assert expected in page.text and p["code"] in page.text
