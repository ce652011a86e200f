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
