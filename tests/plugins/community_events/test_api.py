"""The community events API and portal: plan → approval → publication → survey → sign-up → QR check-in,
the return visits and summary of a past event, bad input, and isolation (another company's rows are 404)."""
from __future__ import annotations

from core import TenantScope
from plugins.community_events import services as svc
from plugins.community_events.tables import Answer, Event
from tests.conftest import at
from tests.plugins.community_events.test_rules import participants, published

API = "/api/v1/community-events"
FUTURE = {"title": "社区健康义诊", "starts_at": "2099-10-10T09:00:00+08:00", "ends_at": "2099-10-10T11:30:00+08:00",
          "capacity": 1, "budget_fen": 200000, "plan": "测量血压血糖"}


async def test_publish_needs_approved_safety_measures_then_sign_up_and_qr_check_in_seed_001(client, world):
    pm, desk = world.headers("project_manager"), world.headers("front_desk")
    r = await client.post(f"{API}/events", json={**FUTURE, "project_id": world.project["id"]}, headers=desk)
    assert r.status_code == 403  # the front desk does not plan events
    r = await client.post(f"{API}/events", json={**FUTURE, "project_id": world.project["id"]}, headers=pm)
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    assert (await client.post(f"{API}/events/{eid}/publish", headers=pm)).status_code == 409
    r = await client.post(f"{API}/events/{eid}/approve", headers=pm)
    assert r.status_code == 422 and "safety_measures" in r.text
    r = await client.patch(f"{API}/events/{eid}", json={"safety_measures": "分时段入场；配急救箱"}, headers=pm)
    assert r.status_code == 200 and r.json()["status"] == "draft"
    assert (await client.post(f"{API}/events/{eid}/approve", headers=pm)).status_code == 200
    r = await client.post(f"{API}/events/{eid}/publish", headers=pm)
    assert r.status_code == 200 and r.json()["status"] == "published"
    r = await client.post(f"{API}/events/{eid}/survey", json={"questions": ["希望的活动时间？"]}, headers=desk)
    assert r.status_code == 200 and r.json()["sent_to"] == 2
    a, b = world.customers
    r = await client.post(f"{API}/events/{eid}/answers", json={"customer_id": a["id"], "answers": ["周六上午"]},
                          headers=desk)
    assert r.status_code == 201, r.text
    assert await TenantScope(world.tenant_id).count(Answer) == 1
    s1 = (await client.post(f"{API}/events/{eid}/signups", json={"customer_id": a["id"]}, headers=desk)).json()
    s2 = (await client.post(f"{API}/events/{eid}/signups", json={"customer_id": b["id"]}, headers=desk)).json()
    assert (s1["status"], s2["status"]) == ("confirmed", "waiting")
    r = await client.post(f"{API}/signups/{s1['id']}/cancel", headers=desk)
    assert r.json()["promoted_signup_id"] == s2["id"]
    qr = (await client.get(f"{API}/signups/{s2['id']}/qr", headers=desk)).json()
    svg = await client.get(f"{API}/signups/{s2['id']}/qr.svg", headers=desk)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    r = await client.post(qr["check_in"], json={"token": qr["token"]}, headers=desk)
    assert r.status_code == 200 and r.json()["checked_in_at"]
    signups = (await client.get(f"{API}/events/{eid}/signups", headers=desk)).json()
    assert [s["status"] for s in signups] == ["cancelled", "confirmed"]
    plan = (await client.get(f"{API}/projects/{world.project['id']}/plan?year=2099&as_of=2099-10-01T00:00:00%2B08:00",
                             headers=desk)).json()
    assert [q["status"] for q in plan["quarters"]] == ["missed", "missed", "missed", "ok"]
    page = await client.get(f"/portal/community-events/events/{eid}", headers=desk)
    assert page.status_code == 200 and "分时段入场" in page.text


async def test_bad_input_names_the_field_and_writes_nothing_seed_001(client, world):
    pm = world.headers("project_manager")
    r = await client.post(f"{API}/events", json={**FUTURE, "project_id": world.project["id"], "capacity": 0}, headers=pm)
    assert r.status_code in (400, 422) and "capacity" in r.text
    r = await client.post(f"{API}/events", json={**FUTURE, "project_id": world.project["id"],
                                                 "ends_at": "2099-10-10T08:00:00+08:00"}, headers=pm)
    assert r.status_code == 422 and "ends_at" in r.text
    assert await TenantScope(world.tenant_id).count(Event) == 0


async def test_past_event_return_visits_summary_and_photo_shown_seed_001(client, world):
    event = await published(world)
    await participants(world, event, 12)
    desk = world.headers("front_desk")
    visits = (await client.post(f"{API}/events/{event['id']}/return-visits", headers=desk)).json()
    assert len(visits) == 2  # 10 % of 12, rounded up
    for v, score in zip(visits, [5, 2]):
        r = await client.post(f"{API}/visits/{v['id']}", json={"score": score, "comment": "太吵" if score < 4 else ""},
                              headers=desk)
        assert r.status_code == 200
    sat = (await client.get(f"{API}/events/{event['id']}/satisfaction", headers=desk)).json()
    assert sat["satisfaction_pct"] == 50 and sat["flagged"] and sat["comments"][0]["comment"] == "太吵"
    r = await client.post(f"{API}/events/{event['id']}/summary", json={"cost_fen": 735000, "notes": "顺利"}, headers=desk)
    assert r.status_code == 200 and r.json()["participants"] == 12
    r = await client.post(f"{API}/events/{event['id']}/photos", files={"file": ("p.png", b"\x89PNG\r\n", "image/png")},
                          headers=desk)
    assert r.status_code == 201, r.text
    photo = await client.get(f"{API}/photos/{r.json()['id']}", headers=desk)
    assert photo.status_code == 200 and photo.content == b"\x89PNG\r\n"
    page = await client.get(f"/portal/community-events/events/{event['id']}", headers=desk)
    assert page.status_code == 200 and "7,350.00" in page.text and "太吵" in page.text


async def test_other_company_rows_are_404_seed_001(client, world, other_world):
    event = await published(other_world)
    await participants(other_world, event, 3)
    desk_other = await other_world.principal("front_desk")
    visits = await svc.draw_return_visits(desk_other, event["id"], at("2026-09-27 09:00"))
    signup = (await svc.list_signups(desk_other, event["id"]))[0]
    await svc.ensure_festival_tasks(other_world.tenant_id, at("2026-09-01 07:00"))
    headers = world.headers("project_manager")
    for url in (f"{API}/events/{event['id']}", f"{API}/events/{event['id']}/signups",
                f"{API}/signups/{signup['id']}/qr", f"{API}/projects/{other_world.project['id']}/tasks",
                f"/portal/community-events/events/{event['id']}"):
        assert (await client.get(url, headers=headers)).status_code == 404, url
    for url, body in ((f"{API}/events/{event['id']}/publish", None), (f"{API}/signups/{signup['id']}/cancel", None),
                      (f"{API}/visits/{visits[0]['id']}", {"score": 5})):
        assert (await client.post(url, json=body, headers=headers)).status_code == 404, url


async def test_dashboard_widget_and_portal_index_flag_the_quarter_seed_001(client, world):
    menu = (await client.get("/api/v1/plugins/menu", headers=world.headers("project_manager"))).json()
    assert "community_events.quarter" in [w["key"] for w in menu["dashboard_widgets"]]
    dash = await client.get("/portal/dashboard", headers=world.headers("project_manager"))
    assert dash.status_code == 200 and 'data-widget="community_events.quarter"' in dash.text
    assert "此卡片暂时无法显示" not in dash.text.split('data-widget="community_events.quarter"')[1][:300]
    page = await client.get("/portal/community-events?year=2026", headers=world.headers("project_manager"))
    assert page.status_code == 200 and "Q3" in page.text
