"""Onboarding from the portal: upload, see every bad row in a table, fix, re-upload; export a project."""
from __future__ import annotations

import io
import zipfile

import pytest


@pytest.fixture
async def portal_client():
    from litestar.testing import AsyncTestClient

    from core.app import create_app

    app = create_app(embedded_worker=False)  # the onboarding pages are part of the app
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as c:
        yield c


UNITS_HEAD = "项目 project,楼栋 building,单元 entrance,楼层 floor,房号 room,面积 area\n"


async def test_portal_upload_shows_row_errors_then_imports_after_fix(portal_client, world):
    h = world.headers("company_cs")
    bad = UNITS_HEAD + "P1,B1,2,1,101,abc\nP1,B9,2,1,102,80\n"
    r = await portal_client.post("/portal/onboarding", headers=h, files=[("files", ("units.csv", bad.encode(), "text/csv"))])
    assert r.status_code == 422
    assert 'id="row-errors"' in r.text and "area not a number" in r.text and "unknown building" in r.text
    from core.tables import Unit
    from core.tenancy import TenantScope

    assert await TenantScope(world.tenant_id).count(Unit) == 4
    good = UNITS_HEAD + "P1,B1,2,1,101,80\nP1,B1,2,1,102,80\n"
    r = await portal_client.post("/portal/onboarding", headers=h, files=[("files", ("units.csv", good.encode(), "text/csv"))])
    assert r.status_code == 200, r.text
    assert 'id="import-report"' in r.text
    assert await TenantScope(world.tenant_id).count(Unit) == 6
    r = await portal_client.post("/portal/onboarding", headers=h, files=[("files", ("units.csv", good.encode(), "text/csv"))])
    assert await TenantScope(world.tenant_id).count(Unit) == 6


async def test_portal_onboarding_is_for_the_company_cs_only(portal_client, world):
    assert (await portal_client.get("/portal/onboarding", headers=world.headers("butler"))).status_code == 403
    assert (await portal_client.get("/portal/onboarding", headers=world.headers("company_cs"))).status_code == 200


async def test_portal_export_is_the_onboarding_layout_and_404_for_another_company(portal_client, world, other_world):
    from openpyxl import load_workbook

    r = await portal_client.get(f"/portal/onboarding/projects/{world.project['id']}/export", headers=world.headers("company_cs"))
    assert r.status_code == 200
    z = zipfile.ZipFile(io.BytesIO(r.content))
    assert {"tenant.toml", "units.xlsx", "customers.xlsx", "staff.xlsx", "buildings.xlsx", "grids.xlsx"} <= set(z.namelist())
    ws = load_workbook(io.BytesIO(z.read("units.xlsx"))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:2] == ("项目 project", "楼栋 building") and len(rows) == 5
    other = await portal_client.get(f"/portal/onboarding/projects/{world.project['id']}/export",
                                    headers=other_world.headers("company_cs"))
    assert other.status_code == 404
