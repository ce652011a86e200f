"""The portal's attachments on the ticket page, the monthly report pages with their charts and exports,
and the dashboard's charts over time (Litestar test client, logged in through the form)."""
from __future__ import annotations

import io

import pytest

from core import tickets
from tests.conftest import at, make_world
from tests.frontend.portal_helpers import portal_login


def _png(color=(200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (400, 300), color).save(out, "PNG")
    return out.getvalue()


async def _repair(world, **fields):
    desk = await world.principal("front_desk")
    return await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": "repair", "channel": "hotline",
                                              "title": "水管漏水", "unit_id": world.units[0]["id"], **fields})


async def _upload(client, token, ticket_id, name, content):
    return await client.post(f"/portal/tickets/{ticket_id}/attachments", data={"_csrf": token},
                             files={"file": (name, content, "image/png")}, follow_redirects=False)


async def test_photo_uploaded_on_the_ticket_page_shows_as_a_thumbnail(client, world):
    ticket = await _repair(world)
    token = await portal_login(client, world, "butler")
    response = await _upload(client, token, ticket["id"], "现场.png", _png())
    assert response.status_code == 303 and response.headers["location"].endswith("#attachments")
    page = await client.get(f"/portal/tickets/{ticket['id']}")
    assert "现场.png" in page.text and 'data-type="image/png"' in page.text
    assert 'data-kind="attachment"' in page.text  # on the timeline
    thumb = page.text.split('<img src="', 1)[1].split('"', 1)[0]
    assert thumb.endswith("/thumbnail")
    got = await client.get(thumb)  # the session cookie is enough to fetch it
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"


async def test_refused_file_is_explained_beside_the_field(client, world):
    ticket = await _repair(world)
    token = await portal_login(client, world, "front_desk")
    response = await _upload(client, token, ticket["id"], "note.png", b"just text, not a picture")
    assert response.status_code == 422
    assert 'class="field-error" data-field="file">' in response.text
    assert "JPEG, PNG or WebP" in response.text


async def test_upload_without_csrf_token_is_refused(client, world):
    ticket = await _repair(world)
    await portal_login(client, world, "front_desk")
    response = await client.post(f"/portal/tickets/{ticket['id']}/attachments",
                                 files={"file": ("a.png", _png(), "image/png")}, follow_redirects=False)
    assert response.status_code == 403


async def test_other_company_ticket_page_and_upload_are_404(client, world, other_world):
    ticket = await _repair(world)
    token = await portal_login(client, other_world, "company_cs")
    assert (await client.get(f"/portal/tickets/{ticket['id']}")).status_code == 404
    assert (await _upload(client, token, ticket["id"], "x.png", _png((1, 1, 1)))).status_code == 404


@pytest.fixture
async def october(world):
    desk = await world.principal("front_desk")
    cs = await world.principal("company_cs")
    for day, category in (("2026-10-02 09:00", "给排水"), ("2026-10-03 10:00", "电梯")):
        t = await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": "repair", "channel": "hotline",
                                               "title": "报修", "unit_id": world.units[0]["id"], "warranty": "in",
                                               "data": {"category": category}}, now=at(day))
        await tickets.transition(cs, t["id"], "resolved", now=at(day) + __import__("datetime").timedelta(hours=2))
    return world


async def test_monthly_report_page_has_charts_tables_and_export_links(client, october):
    world = october
    await portal_login(client, world, "supervisor")
    for kind, title in (("repairs", "每月维修分类汇总"), ("calls", "来电来访月度分析"), ("cs", "客服月报")):
        page = await client.get(f"/portal/reports/monthly/{kind}", params={"month": "2026-10",
                                                                           "project_id": world.project["id"]})
        assert page.status_code == 200, page.text[:500]
        assert title in page.text and 'data-chart="' in page.text and 'data-export="xlsx"' in page.text
    page = await client.get("/portal/reports/monthly/repairs", params={"month": "2026-10"})
    assert '<b data-figure="received">2</b>' in page.text
    assert "给排水" in page.text and "电梯" in page.text
    export = await client.get("/api/v1/reports/monthly/repairs", params={"month": "2026-10", "format": "xlsx"})
    assert export.status_code == 200 and export.content[:2] == b"PK"


async def test_monthly_report_page_keeps_a_bad_month_and_names_the_field(client, world):
    await portal_login(client, world, "company_cs")
    page = await client.get("/portal/reports/monthly/cs", params={"month": "2026-13"})
    assert page.status_code == 422
    assert 'data-field="month"' in page.text and 'value="2026-13"' in page.text


async def test_monthly_reports_are_for_managers_and_their_projects(client, world, other_world):
    await portal_login(client, world, "front_desk")
    assert (await client.get("/portal/reports/monthly/cs")).status_code == 403
    menu = await client.get("/portal/desk")
    assert 'data-key="reports"' not in menu.text
    client.cookies.clear()
    await portal_login(client, world, "supervisor")
    assert 'data-key="reports"' in (await client.get("/portal/dashboard")).text
    page = await client.get("/portal/reports/monthly/cs", params={"project_id": other_world.project["id"]})
    assert page.status_code == 404
    assert (await client.get("/portal/reports/monthly/weather")).status_code == 404


async def test_dashboard_draws_charts_over_time(client, world):
    await _repair(world)
    await portal_login(client, world, "company_cs")
    page = await client.get("/portal/dashboard")
    for chart in ("trend-flow", "trend-breaches", "trend-satisfaction"):
        assert f'data-chart="{chart}"' in page.text
    daily = await client.get("/portal/dashboard", params={"trend": "day"})
    assert '<option value="day" selected>' in daily.text
