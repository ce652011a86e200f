"""The staff portal through the Litestar test client: login, CSRF, the desk, the ticket page, the
inbox, the dashboard, languages and escaping."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from core.tables import Ticket
from core.tenancy import TenantScope
from tests.conftest import PASSWORD, at, make_world, utc
from tests.frontend.portal_helpers import csrf_of, portal_login, post_form


async def _ticket(world, role="front_desk", **fields):
    from core import tickets

    now = fields.pop("now", None)
    data = {"project_id": world.project["id"], "kind": "repair", "channel": "hotline", "title": "水龙头漏水",
            "unit_id": world.units[0]["id"], **fields}
    return await tickets.create_ticket(await world.principal(role), data, now=now)


# ---------------------------------------------------------------- login and sessions

async def test_portal_pages_redirect_to_login_without_a_session(client):
    for path in ("/portal", "/portal/desk", "/portal/tickets", "/portal/dashboard"):
        response = await client.get(path, follow_redirects=False)
        assert response.status_code in (302, 303), path
        assert response.headers["location"].startswith("/portal/login")


async def test_login_form_keeps_what_was_typed_and_names_the_field(client, world):
    page = await client.get("/portal/login")
    token = csrf_of(page.text)
    login = f"{world.tenant['slug']}-front_desk"
    response = await post_form(client, "/portal/login", token, login=login, password="wrong-secret",
                               tenant=world.tenant["slug"])
    assert response.status_code == 401
    assert f'value="{login}"' in response.text
    assert f'value="{world.tenant["slug"]}"' in response.text
    assert "wrong-secret" not in response.text  # a password is never echoed back
    assert 'class="field-error"' in response.text


async def test_session_cookie_is_httponly_lax_and_expires(client, world):
    page = await client.get("/portal/login")
    response = await post_form(client, "/portal/login", csrf_of(page.text), login=f"{world.tenant['slug']}-butler",
                               password=PASSWORD)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("gj_session="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "max-age=43200" in lowered


async def test_home_is_role_aware(client, world):
    expected = {"front_desk": "/portal/desk", "butler": "/portal/tickets?scope=grid",
                "supervisor": f"/portal/dashboard?project_id={world.project['id']}", "company_cs": "/portal/dashboard",
                "technician": "/portal/tickets?scope=mine"}
    for role, home in expected.items():
        client.cookies.clear()
        await portal_login(client, world, role)
        response = await client.get("/portal", follow_redirects=False)
        assert response.headers["location"] == home, role
        assert (await client.get(home)).status_code == 200, role


async def test_logout_revokes_the_session(client, world):
    token = await portal_login(client, world)
    assert (await post_form(client, "/portal/logout", token)).status_code == 303
    response = await client.get("/portal/desk", follow_redirects=False)
    assert response.headers["location"].startswith("/portal/login")


# ---------------------------------------------------------------- CSRF

async def test_csrf_refuses_forms_without_a_valid_token(client, world):
    await client.get("/portal/login")
    response = await client.post("/portal/login", data={"login": f"{world.tenant['slug']}-front_desk",
                                                        "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    token = await portal_login(client, world)
    scope = TenantScope(world.tenant_id)
    before = await scope.count(Ticket)
    for bad in ("", "forged.0000", token.split(".")[0] + ".deadbeef"):
        response = await client.post("/portal/desk", data={"_csrf": bad, "title": "x", "kind": "repair",
                                                           "channel": "hotline", "project_id": world.project["id"]},
                                     follow_redirects=False)
        assert response.status_code == 403, bad
    assert await scope.count(Ticket) == before  # nothing written


async def test_csrf_token_of_another_browser_is_refused(client, world):
    token = await portal_login(client, world)
    client.cookies.set("gj_csrf", "another-browser-nonce")
    response = await post_form(client, "/portal/desk", token, title="x", kind="repair", channel="hotline",
                               project_id=world.project["id"])
    assert response.status_code == 403


async def test_htmx_header_token_is_accepted_and_bearer_api_is_exempt(client, world):
    token = await portal_login(client, world)
    response = await client.post("/portal/desk", data={"title": "走廊灯不亮", "kind": "repair", "channel": "hotline",
                                                       "project_id": world.project["id"]},
                                 headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 303
    from core.auth import login

    bearer = (await login(f"{world.tenant['slug']}-front_desk", PASSWORD))["token"]
    client.cookies.clear()
    api = await client.post("/api/v1/tickets", json={"project_id": world.project["id"], "kind": "inquiry",
                                                     "channel": "hotline", "title": "API"},
                            headers={"Authorization": f"Bearer {bearer}"})
    assert api.status_code == 201, api.text


async def test_an_api_call_made_with_the_session_cookie_needs_the_csrf_header(client, world):
    """The portal's htmx calls reach the API with the session cookie: an unsafe one without the page's token
    (a forged cross-site request) is refused and writes nothing; with the header it goes through."""
    token = await portal_login(client, world)
    body = {"project_id": world.project["id"], "kind": "inquiry", "channel": "hotline", "title": "网页问询"}
    before = await TenantScope(world.tenant_id).count(Ticket)
    for headers in ({}, {"X-CSRF-Token": "forged.0000"}):
        refused = await client.post("/api/v1/tickets", json=body, headers=headers)
        assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "_csrf", refused.text
    assert await TenantScope(world.tenant_id).count(Ticket) == before
    assert (await client.get("/api/v1/tickets", params={"project_id": world.project["id"]})).status_code == 200
    accepted = await client.post("/api/v1/tickets", json=body, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 201, accepted.text


def test_every_unsafe_portal_route_is_guarded_against_csrf():
    from frontend.csrf import csrf_guard

    from core.app import create_app

    unguarded = []
    for route in create_app(embedded_worker=False).routes:
        for handler in getattr(route, "route_handlers", []):
            methods = set(getattr(handler, "http_methods", ())) - {"GET", "HEAD", "OPTIONS"}
            if methods and route.path.startswith("/portal") and not handler.opt.get("exclude_from_auth") \
                    and csrf_guard not in handler.resolve_guards():
                unguarded.append(f"{sorted(methods)} {route.path}")
    assert not unguarded, unguarded


# ---------------------------------------------------------------- the desk

async def test_desk_finds_the_customer_by_unit_or_phone(client, world):
    await portal_login(client, world)
    by_unit = await client.get("/portal/desk/customers", params={"q": "B1-101"})
    assert world.customers[0]["name"] in by_unit.text and world.customers[1]["name"] not in by_unit.text
    assert f'value="{world.customers[0]["id"]}:{world.units[0]["id"]}"' in by_unit.text
    by_phone = await client.get("/portal/desk/customers", params={"q": world.customers[1]["phone"][:11]})
    assert world.customers[1]["name"] in by_phone.text
    assert by_phone.headers["hx-trigger-after-settle"] == "desk-changed"
    nothing = await client.get("/portal/desk/customers", params={"q": "99999999"})
    assert 'type="radio"' not in nothing.text


async def test_desk_search_stays_inside_the_company(client, world, other_world):
    await portal_login(client, world)
    response = await client.get("/portal/desk/customers", params={"q": other_world.customers[0]["phone"]})
    assert other_world.customers[0]["name"] not in response.text


async def test_desk_shows_the_grid_butler_as_responsible_before_saving(client, world):
    await portal_login(client, world)
    pick = f"{world.customers[0]['id']}:{world.units[0]['id']}"
    preview = await client.get("/portal/desk/preview", params={"pick": pick, "kind": "repair",
                                                               "project_id": world.project["id"]})
    assert f'data-responsible="{world.staff["butler"]}"' in preview.text
    # with only the kernel enabled, a place outside every grid falls to the first receiver (the kernel's default)
    client.cookies.clear()
    kernel_only = await make_world(plugins=[], login=False)
    await portal_login(client, kernel_only)
    outside = await client.get("/portal/desk/preview", params={"kind": "repair", "project_id": kernel_only.project["id"],
                                                               "building_id": kernel_only.building["id"]})
    assert f'data-responsible="{kernel_only.staff["front_desk"]}"' in outside.text


async def test_desk_creates_a_ticket_for_the_picked_customer(client, world):
    token = await portal_login(client, world)
    pick = f"{world.customers[0]['id']}:{world.units[0]['id']}"
    response = await post_form(client, "/portal/desk", token, pick=pick, kind="repair", channel="walk_in",
                               priority="emergency", title="厨房漏水", description="水管爆裂",
                               project_id=world.other_project["id"])
    assert response.status_code == 303
    ticket_id = int(response.headers["location"].split("/")[-1].split("?")[0])
    row = await TenantScope(world.tenant_id).get(Ticket, ticket_id)
    assert (row["customer_id"], row["unit_id"], row["project_id"]) == (world.customers[0]["id"], world.units[0]["id"],
                                                                        world.project["id"])
    assert row["responsible_id"] == world.staff["butler"] and row["priority"] == "emergency"
    assert row["first_receiver_id"] == world.staff["front_desk"] and row["channel"] == "walk_in"
    page = await client.get(response.headers["location"])
    assert "厨房漏水" in page.text and 'data-status="received"' in page.text


async def test_desk_form_keeps_what_was_typed_and_shows_the_error_by_its_field(client, world):
    token = await portal_login(client, world)
    scope = TenantScope(world.tenant_id)
    before = await scope.count(Ticket)
    response = await post_form(client, "/portal/desk", token, kind="complaint", channel="wechat", title="",
                               description="楼上噪音 <b>很大</b>", place_note="3号门", project_id=world.project["id"])
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert 'data-field="title"' in response.text
    assert "楼上噪音 &lt;b&gt;很大&lt;/b&gt;" in response.text and 'value="3号门"' in response.text
    assert '<option value="wechat" selected>' in response.text and '<option value="complaint" selected>' in response.text
    # a kernel refusal (a project outside the desk's scope) comes back beside its field too
    response = await post_form(client, "/portal/desk", token, kind="repair", channel="hotline", title="门坏了",
                               project_id=world.other_project["id"], building_id=world.building["id"])
    assert response.status_code == 422 and 'data-field="project_id"' in response.text and 'value="门坏了"' in response.text
    assert await scope.count(Ticket) == before


# ---------------------------------------------------------------- escaping

async def test_script_in_a_ticket_title_is_never_rendered_as_html(client, world):
    await _ticket(world, title="<script>alert('x')</script>", description="<img src=x onerror=alert(1)>")
    await portal_login(client, world, "supervisor")
    inbox = await client.get("/portal/tickets", params={"scope": "project"})
    created = await TenantScope(world.tenant_id).select(Ticket, Ticket.id).first()
    page = await client.get(f"/portal/tickets/{created['id']}")
    for html in (inbox.text, page.text):
        assert "<script>alert(" not in html
        assert "&lt;script&gt;alert(" in html
    assert "<img src=x" not in page.text


# ---------------------------------------------------------------- the ticket page

async def test_transition_without_its_reason_is_refused_beside_the_reason_field(client, world):
    ticket = await _ticket(world)
    token = await portal_login(client, world)
    response = await post_form(client, f"/portal/tickets/{ticket['id']}/transitions", token, to="cancelled", reason="")
    assert response.status_code == 422 and 'data-field="reason"' in response.text
    assert (await TenantScope(world.tenant_id).get(Ticket, ticket["id"]))["status"] == "received"


async def test_repair_moves_to_closure_only_after_its_return_visit_seed_000(client, world):
    """000/004: a repair's return visit (回访) is recorded before the ticket may close."""
    ticket = await _ticket(world)
    token = await portal_login(client, world)
    url = f"/portal/tickets/{ticket['id']}/transitions"
    page = await client.get(f"/portal/tickets/{ticket['id']}")
    for to in ("dispatched", "in_progress", "resolved", "on_hold", "cancelled"):
        assert f'data-to="{to}"' in page.text
    assert (await post_form(client, url, token, to="dispatched", executor_id=world.staff["technician"])).status_code == 303
    assert (await post_form(client, url, token, to="in_progress")).status_code == 303
    assert (await post_form(client, url, token, to="resolved", reason="换了阀门")).status_code == 303
    refused = await post_form(client, url, token, to="closed")
    assert refused.status_code == 422 and 'data-field="to"' in refused.text
    assert (await post_form(client, url, token, to="visited", satisfaction=5, reason="业主满意")).status_code == 303
    assert (await post_form(client, url, token, to="closed")).status_code == 303
    row = await TenantScope(world.tenant_id).get(Ticket, ticket["id"])
    assert row["status"] == "closed" and row["satisfaction"] == 5 and row["executor_id"] == world.staff["technician"]
    page = await client.get(f"/portal/tickets/{ticket['id']}")
    assert page.text.count('data-kind="status"') == 5 and "业主满意" in page.text


async def test_satisfaction_outside_1_to_5_is_refused_beside_its_field(client, world):
    ticket = await _ticket(world, kind="inquiry", unit_id=None)
    token = await portal_login(client, world)
    url = f"/portal/tickets/{ticket['id']}/transitions"
    assert (await post_form(client, url, token, to="resolved")).status_code == 303
    response = await post_form(client, url, token, to="visited", satisfaction=9)
    assert response.status_code == 422 and 'data-field="satisfaction"' in response.text


async def test_ticket_of_another_company_is_not_found(client, world, other_world):
    theirs = await _ticket(other_world)
    token = await portal_login(client, world)
    assert (await client.get(f"/portal/tickets/{theirs['id']}")).status_code == 404
    response = await post_form(client, f"/portal/tickets/{theirs['id']}/transitions", token, to="in_progress")
    assert response.status_code == 404
    assert (await TenantScope(other_world.tenant_id).get(Ticket, theirs["id"]))["status"] == "received"


async def test_customer_file_outside_the_staff_scope_is_refused(client, world):
    await portal_login(client, world, "butler")
    mine = await client.get(f"/portal/customers/{world.customers[0]['id']}")
    assert mine.status_code == 200 and world.customers[0]["name"] in mine.text
    from core.tables import Occupancy

    await TenantScope(world.tenant_id).update(Occupancy, {Occupancy.unit_id: world.units[3]["id"]}).where(
        Occupancy.customer_id == world.customers[1]["id"])  # unit 401 is outside the butler's grid
    assert (await client.get(f"/portal/customers/{world.customers[1]['id']}")).status_code == 404


# ---------------------------------------------------------------- the inbox

async def test_inbox_pages_by_keyset_and_colours_due_times(client, world):
    from core.tables import Ticket as T

    for i in range(27):
        await _ticket(world, title=f"工单 {i}", unit_id=None)
    scope = TenantScope(world.tenant_id)
    newest = (await scope.select(T, T.id).order_by(T.id, ascending=False).first())["id"]
    await scope.update(T, {T.escalation_level: 2}).where(T.id == newest)
    await portal_login(client, world, "supervisor")
    first = await client.get("/portal/tickets", params={"scope": "project"})
    assert first.text.count('<tr class="due-') == 25 and 'class="due-breached' in first.text
    next_link = first.text.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = await client.get(next_link)
    assert second.text.count('<tr class="due-') == 2 and 'rel="next"' not in second.text


async def test_inbox_scopes_mine_grid_project(client, world):
    in_grid = await _ticket(world, role="supervisor", title="网格内")
    outside = await _ticket(world, role="supervisor", title="网格外", unit_id=world.units[3]["id"])
    await portal_login(client, world, "butler")
    grid = await client.get("/portal/tickets")  # a butler's default is its grid
    assert "网格内" in grid.text and "网格外" not in grid.text
    client.cookies.clear()
    await portal_login(client, world, "front_desk")
    mine = await client.get("/portal/tickets", params={"scope": "mine"})
    assert "网格内" not in mine.text
    project = await client.get("/portal/tickets", params={"scope": "project", "kind": "repair"})
    assert "网格内" in project.text and "网格外" in project.text
    assert in_grid["id"] != outside["id"]


def test_due_colours_follow_next_due_and_escalation():
    from frontend.services import due_class

    now = datetime(2026, 9, 30, 9, 0, tzinfo=timezone.utc)
    assert due_class({"status": "received", "next_due_at": now + timedelta(hours=5), "escalation_level": 0}, now) == "ok"
    assert due_class({"status": "received", "next_due_at": now + timedelta(hours=1), "escalation_level": 0}, now) == "near"
    assert due_class({"status": "received", "next_due_at": now + timedelta(hours=5), "escalation_level": 1}, now) == "near"
    assert due_class({"status": "dispatched", "next_due_at": now - timedelta(minutes=1), "escalation_level": 0}, now) == "breached"
    assert due_class({"status": "in_progress", "next_due_at": now + timedelta(hours=5), "escalation_level": 2}, now) == "breached"
    assert due_class({"status": "closed", "next_due_at": None, "escalation_level": 2}, now) == "done"


# ---------------------------------------------------------------- dashboard, menu, banner

async def test_dashboard_counts_by_kind_and_status_and_breaches_per_project(client, world):
    t1 = await _ticket(world)
    await _ticket(world, kind="complaint", unit_id=None)
    await _ticket(world, kind="complaint", unit_id=None)
    scope = TenantScope(world.tenant_id)
    await scope.update(Ticket, {Ticket.escalation_level: 2}).where(Ticket.id == t1["id"])
    await portal_login(client, world, "company_cs")
    page = await client.get("/portal/dashboard")
    html = page.text
    row = html.split('<tr data-kind="complaint">')[1].split("</tr>")[0]
    assert '<td data-status="received">2</td>' in row and '<td data-status="open">2</td>' in row
    sla = html.split(f'<tr data-project="{world.project["id"]}">')[1].split("</tr>")[0]
    assert '<td>3</td>' in sla and '<td class="breached">1</td>' in sla
    assert '<b data-figure="open">3</b>' in html and '<b data-figure="breached">1</b>' in html
    assert 'data-chart="kind-status"' in html


async def test_menu_shows_plugins_enabled_for_the_tenant_only(client):
    with_dummy = await make_world(plugins=["dummy"])
    await portal_login(client, with_dummy, "front_desk")
    assert 'data-key="dummy"' in (await client.get("/portal/desk")).text
    assert 'data-widget="dummy"' in (await client.get("/portal/dashboard")).text
    client.cookies.clear()
    without = await make_world(plugins=[])
    await portal_login(client, without, "front_desk")
    assert 'data-key="dummy"' not in (await client.get("/portal/desk")).text
    assert 'data-key="dummy"' not in (await client.get("/portal/menu")).text
    assert 'data-widget="dummy"' not in (await client.get("/portal/dashboard")).text


def test_calendar_banner_when_the_coming_year_has_no_statutory_data():
    from core.calendar import statutory_year_coverage
    from core.tenancy import Principal
    from frontend.services import calendar_banner

    first, last = statutory_year_coverage()
    cs = Principal(user_id=1, tenant_id=1, membership_id=1, role="company_cs")
    desk = Principal(user_id=2, tenant_id=1, membership_id=2, role="front_desk")
    assert calendar_banner(cs, date(last - 1, 6, 1)) is None
    assert str(last + 1) in calendar_banner(cs, date(last, 12, 1))
    assert calendar_banner(desk, date(last, 12, 1)) is None


async def test_banner_shows_for_company_cs_not_for_the_desk(client, world, monkeypatch):
    from core.calendar import statutory_year_coverage
    from frontend import services

    _, last = statutory_year_coverage()
    monkeypatch.setattr(services, "today_in_china", lambda now=None: date(last, 12, 1))
    await portal_login(client, world, "company_cs")
    assert 'class="banner"' in (await client.get("/portal/dashboard")).text
    client.cookies.clear()
    await portal_login(client, world, "front_desk")
    assert 'class="banner"' not in (await client.get("/portal/desk")).text


# ---------------------------------------------------------------- language

async def test_language_switch_sticks_in_a_cookie(client, world):
    token = await portal_login(client, world)
    zh = await client.get("/portal/desk")
    assert '<html lang="zh-CN">' in zh.text and "保存工单" in zh.text
    response = await post_form(client, "/portal/lang", token, lang="en", next="/portal/desk")
    assert response.status_code == 303 and response.headers["location"] == "/portal/desk"
    en = await client.get("/portal/desk")
    assert '<html lang="en">' in en.text and "Save ticket" in en.text and "保存工单" not in en.text
    assert "Repair" in en.text  # labels from the kernel follow the language too
    response = await post_form(client, "/portal/lang", token, lang="zh-CN", next="https://evil.example/")
    assert response.headers["location"] == "/portal"
    assert "保存工单" in (await client.get("/portal/desk")).text


async def test_language_can_be_chosen_before_logging_in(client):
    page = await client.get("/portal/login")
    await post_form(client, "/portal/lang", csrf_of(page.text), lang="en", next="/portal/login")
    assert "Password" in (await client.get("/portal/login")).text


async def test_static_assets_are_served_with_their_licences(client):
    for path in ("/static/vendor/htmx-2.0.11/htmx.min.js", "/static/vendor/htmx-2.0.11/LICENSE",
                 "/static/vendor/echarts-6.1.0/echarts.common.min.js", "/static/vendor/echarts-6.1.0/LICENSE",
                 "/static/portal.js", "/static/portal.css"):
        assert (await client.get(path)).status_code == 200, path


def test_received_at_helper_is_beijing_time():
    assert utc(at("2026-09-30 17:00")).hour == 9


async def test_dashboard_kpis_are_the_kernels_for_the_month_seed_000(world):
    """000/004: return visits of repairs are 100 %; the dashboard shows the month's rate from core.kpi."""
    from core import tickets
    from frontend.services import kpi_figures, month_of

    desk = await world.principal("front_desk")
    ticket = await _ticket(world, now=at("2026-09-10 10:00"))
    await tickets.transition(desk, ticket["id"], "resolved", now=at("2026-09-10 15:00"))
    other = await _ticket(world, now=at("2026-09-11 10:00"))
    await tickets.transition(desk, other["id"], "resolved", now=at("2026-09-11 12:00"))
    await tickets.transition(desk, other["id"], "visited", satisfaction=5, now=at("2026-09-12 09:00"))
    figures = {f["name"]: f for f in await kpi_figures(await world.principal("supervisor"), None, at("2026-09-20 12:00"))}
    assert figures["return_visit"]["value"] == "50%" and figures["return_visit"]["detail"] == "1/2"
    assert figures["return_visit"]["met"] is False
    assert await kpi_figures(desk, None, at("2026-09-20 12:00")) == []  # KPIs are for managers
    start, end = month_of(utc(at("2026-09-30 23:30")))
    assert (start, end) == (at("2026-09-01 00:00"), at("2026-10-01 00:00"))
