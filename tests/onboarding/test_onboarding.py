"""Onboarding a company from tenants/<slug>/: validate everything, import all or nothing, re-run updates."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from core.onboarding import OnboardingInvalid, load_folder, onboard, validate, write_templates
from core.onboarding.files import export_project
from core.tables import Building, Customer, Grid, Membership, Occupancy, PluginState, Project, Tenant, Unit
from core.tenancy import TenantScope
from tests.onboarding.helpers import company_folder, new_slug, write_csv

AS_OF = date(2026, 9, 30)


async def _counts(tenant_id: int) -> dict[str, int]:
    scope = TenantScope(tenant_id)
    return {t.__name__: await scope.count(t) for t in (Project, Building, Grid, Unit, Customer, Occupancy, Membership,
                                                        PluginState)}


async def _tenant(slug: str) -> dict | None:
    return await Tenant.select().where(Tenant.slug == slug).first()


async def test_onboard_imports_company_projects_staff_units_and_customers(tmp_path: Path):
    folder, slug = company_folder(tmp_path, units=8)
    report = await onboard(load_folder(folder), as_of=AS_OF)
    counts = await _counts(report.tenant_id)
    assert counts == {"Project": 1, "Building": 2, "Grid": 1, "Unit": 8, "Customer": 8, "Occupancy": 8, "Membership": 3,
                      "PluginState": 1}
    tenant = await _tenant(slug)
    assert tenant["contact_phone"] == "0755-88886666"
    scope = TenantScope(report.tenant_id)
    unit = await scope.select(Unit).where(Unit.room == "101").first()
    assert float(unit["area"]) == 89.5 and unit["grid_id"] is not None
    grid = await scope.select(Grid).first()
    assert grid["responsible_id"] is not None


async def test_rerun_updates_by_natural_keys_and_creates_no_duplicates(tmp_path: Path):
    folder, slug = company_folder(tmp_path, units=8)
    first = await onboard(load_folder(folder), as_of=AS_OF)
    before = await _counts(first.tenant_id)
    # change one unit's area and one customer's name (same ID number), then re-run
    rows = list(csv.reader(open(folder / "units.csv", encoding="utf-8-sig")))
    rows[1][5] = "120.00"
    write_csv(folder, "units", rows[1:])
    crow = list(csv.reader(open(folder / "customers.csv", encoding="utf-8-sig")))
    crow[1][0] = "张新名"
    write_csv(folder, "customers", crow[1:])
    second = await onboard(load_folder(folder), as_of=AS_OF)
    assert second.tenant_id == first.tenant_id
    assert await _counts(first.tenant_id) == before
    assert second.created.get("units", 0) == 0 and second.updated["units"] == 1
    assert second.created.get("customers", 0) == 0 and second.updated["customers"] == 1
    scope = TenantScope(first.tenant_id)
    assert float((await scope.select(Unit).where(Unit.room == rows[1][4]).where(Unit.area > 100).first())["area"]) == 120.0
    assert await scope.count(Customer).where(Customer.name == "张新名") == 1
    third = await onboard(load_folder(folder), as_of=AS_OF)
    assert sum(third.created.values()) == 0 and third.updated.get("units", 0) == 0


BAD_UNITS = [
    ["HY", "1", "1", "1", "101", "89.50", "residential", "sold", ""],
    ["HY", "1", "1", "1", "101", "90.00", "residential", "sold", ""],      # line 3: duplicate room
    ["HY", "9", "1", "1", "101", "89.50", "residential", "sold", ""],      # line 4: unknown building
    ["HY", "2", "1", "1", "102", "八十九", "residential", "sold", ""],      # line 5: area not a number
    ["XX", "1", "1", "1", "103", "89.50", "residential", "sold", ""],      # line 6: unknown project
    ["HY", "2", "1", "1", "104", "89.50", "castle", "sold", "G9"],         # line 7: use unknown, unknown grid
]


async def _errors_of(tmp_path: Path, sheet: str, rows: list[list[str]]) -> list:
    folder, _ = company_folder(tmp_path)
    write_csv(folder, sheet, rows)
    return await validate(load_folder(folder))


def _has(errors, file: str, line: int, text: str) -> bool:
    return any(e.file == file and e.line == line and text in e.reason for e in errors)


async def test_every_bad_unit_row_is_reported_with_file_line_and_reason(tmp_path: Path):
    errors = await _errors_of(tmp_path, "units", BAD_UNITS)
    assert _has(errors, "units.csv", 3, "duplicate room")
    assert _has(errors, "units.csv", 4, "unknown building")
    assert _has(errors, "units.csv", 5, "area not a number")
    assert _has(errors, "units.csv", 6, "unknown project")
    assert _has(errors, "units.csv", 7, "use unknown")
    assert _has(errors, "units.csv", 7, "unknown grid")
    assert not any(e.line == 2 and e.file == "units.csv" for e in errors)


async def test_bad_staff_rows_report_role_unknown_phone_malformed_and_unknown_project(tmp_path: Path):
    errors = await _errors_of(tmp_path, "staff", [
        ["x-1", "甲", "13800000001", "janitor", "", ""],            # line 2
        ["x-2", "乙", "12345", "butler", "HY", ""],                  # line 3
        ["x-3", "丙", "13800000003", "butler", "ZZ", ""],            # line 4
        ["", "丁", "13800000004", "butler", "HY", ""],               # line 5
    ])
    assert _has(errors, "staff.csv", 2, "role unknown")
    assert _has(errors, "staff.csv", 3, "phone malformed")
    assert _has(errors, "staff.csv", 4, "unknown project")
    assert any(e.file == "staff.csv" and e.line == 5 and e.column == "login" and e.reason == "required" for e in errors)
    # grids.csv names a butler login that the replaced staff file no longer has
    assert any(e.file == "grids.csv" and "unknown staff login" in e.reason for e in errors)


async def test_bad_customer_rows_are_reported(tmp_path: Path):
    errors = await _errors_of(tmp_path, "customers", [
        ["甲", "person", "1390000", "", "", "HY", "1", "1", "101", "owner", ""],           # 2 phone malformed
        ["乙", "person", "", "", "", "HY", "1", "1", "101", "owner", ""],                  # 3 needs id or phone
        ["丙", "person", "13900000003", "", "", "HY", "1", "1", "999", "owner", ""],       # 4 unknown room
        ["丁", "person", "13900000004", "", "", "HY", "1", "1", "101", "landlord", ""],    # 5 relation unknown
        ["戊", "person", "13900000005", "", "", "HY", "1", "1", "101", "owner", "昨天"],   # 6 date malformed
        ["戊", "person", "13900000005", "", "", "HY", "1", "1", "101", "owner", ""],       # 7 duplicate
        ["己", "person", "13900000005", "", "", "HY", "1", "1", "102", "owner", ""],       # 8 other name
    ])
    assert _has(errors, "customers.csv", 2, "phone malformed")
    assert _has(errors, "customers.csv", 3, "ID number or a phone")
    assert _has(errors, "customers.csv", 4, "unknown room")
    assert _has(errors, "customers.csv", 5, "relation unknown")
    assert _has(errors, "customers.csv", 6, "date malformed")
    assert _has(errors, "customers.csv", 7, "duplicate customer")
    assert _has(errors, "customers.csv", 8, "another name")


async def test_bad_tenant_toml_is_reported(tmp_path: Path):
    folder, _ = company_folder(tmp_path)
    text = (folder / "tenant.toml").read_text(encoding="utf-8")
    text = text.replace('kind = "residential"', 'kind = "castle"').replace('total_area = 186000', 'total_area = "lots"')
    text = text.replace('plugins = ["residential_grids"]', 'plugins = ["no_such_plugin"]')
    (folder / "tenant.toml").write_text(text, encoding="utf-8")
    reasons = {(e.column, e.reason.split(":")[0]) for e in await validate(load_folder(folder))}
    assert ("projects[0].kind", "kind must be one of residential, commercial, industrial") in reasons
    assert ("projects[0].total_area", "total area not a number") in reasons
    assert ("company.plugins", "unknown plugin 'no_such_plugin'") in reasons


async def test_one_bad_row_imports_nothing(tmp_path: Path):
    folder, slug = company_folder(tmp_path, units=8)
    rows = list(csv.reader(open(folder / "units.csv", encoding="utf-8-sig")))[1:]
    rows[-1][5] = "abc"
    write_csv(folder, "units", rows)
    with pytest.raises(OnboardingInvalid) as exc:
        await onboard(load_folder(folder), as_of=AS_OF)
    assert [(e.file, e.line) for e in exc.value.errors] == [("units.csv", 9)]
    assert await _tenant(slug) is None


async def test_failure_mid_import_rolls_back_everything(tmp_path: Path, monkeypatch):
    folder, slug = company_folder(tmp_path, units=8)
    first = await onboard(load_folder(folder), as_of=AS_OF)
    before = await _counts(first.tenant_id)
    from core.onboarding import service

    async def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    rows = list(csv.reader(open(folder / "units.csv", encoding="utf-8-sig")))[1:]
    rows.append(["HY", "2", "1", "9", "901", "70.00", "residential", "vacant", ""])
    write_csv(folder, "units", rows)
    monkeypatch.setattr(service, "_import_customers", broken)
    with pytest.raises(RuntimeError):
        await onboard(load_folder(folder), as_of=AS_OF)
    assert await _counts(first.tenant_id) == before


async def test_templates_are_xlsx_with_chinese_and_english_headers_and_import(tmp_path: Path):
    from openpyxl import load_workbook

    folder = tmp_path / "tpl"
    written = write_templates(folder)
    assert {p.name for p in written} >= {"tenant.toml", "units.xlsx", "customers.xlsx", "staff.xlsx"}
    ws = load_workbook(folder / "units.xlsx").active
    assert [c.value for c in ws[1]][:2] == ["项目 project", "楼栋 building"]
    slug = new_slug()
    text = (folder / "tenant.toml").read_text(encoding="utf-8").replace('slug = "example"', f'slug = "{slug}"')
    (folder / "tenant.toml").write_text(text, encoding="utf-8")
    for f in ("staff.xlsx", "grids.xlsx"):  # logins are global: make them this company's
        wb = load_workbook(folder / f)
        for row in wb.active.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("hy-"):
                    cell.value = f"{slug}-{cell.value}"
        wb.save(folder / f)
    report = await onboard(load_folder(folder), as_of=AS_OF)
    assert report.created["units"] == 2 and report.created["customers"] == 1


async def test_xlsx_errors_name_the_sheet(tmp_path: Path):
    from openpyxl import Workbook

    folder, _ = company_folder(tmp_path)
    (folder / "units.csv").unlink()
    wb = Workbook()
    ws = wb.active
    ws.title = "units"
    ws.append(["项目 project", "楼栋 building", "单元 entrance", "楼层 floor", "房号 room", "面积 area"])
    ws.append(["HY", "1", "1", 1, "101", "n/a"])
    wb.save(folder / "units.xlsx")
    errors = await validate(load_folder(folder))
    assert any(e.file == "units.xlsx" and e.sheet == "units" and e.line == 2 and "area not a number" in e.reason
               for e in errors)


async def test_export_round_trips_without_changes(tmp_path: Path):
    folder, slug = company_folder(tmp_path, units=8)
    report = await onboard(load_folder(folder), as_of=AS_OF)
    out = tmp_path / "export"
    await export_project(report.tenant_id, "HY", out)
    (out / "tenant.toml").write_text((folder / "tenant.toml").read_text(encoding="utf-8"), encoding="utf-8")
    again = await onboard(load_folder(out), as_of=AS_OF)
    assert sum(again.created.values()) == 0
    assert again.updated.get("units", 0) == 0 and again.updated.get("customers", 0) == 0


async def test_plugin_settings_fall_back_tenant_then_project_and_listing_keeps_stored_settings(tmp_path: Path):
    from core.plugins import get_registry

    folder, slug = company_folder(tmp_path, units=2)
    text = (folder / "tenant.toml").read_text(encoding="utf-8")
    text = text.replace("[settings.residential_grids]\n", "[settings.residential_grids]\nparcel_days = 5\n")
    text += "\n[projects.settings.residential_grids]\nparcel_days = 9\n"
    (folder / "tenant.toml").write_text(text, encoding="utf-8")
    report = await onboard(load_folder(folder), as_of=AS_OF)
    scope = TenantScope(report.tenant_id)
    hy = await scope.select(Project).where(Project.code == "HY").first()
    registry = get_registry()
    registry.forget(report.tenant_id)
    assert (await registry.settings(report.tenant_id, "residential_grids"))["parcel_days"] == 5
    assert (await registry.settings(report.tenant_id, "residential_grids", hy["id"]))["parcel_days"] == 9
    # a file that only lists the plugin enables it and keeps the stored settings
    text = text.replace("parcel_days = 5\n", "").replace("[settings.residential_grids]\n", "")
    text = text.replace("\n[projects.settings.residential_grids]\nparcel_days = 9\n", "")
    (folder / "tenant.toml").write_text(text, encoding="utf-8")
    await onboard(load_folder(folder), as_of=AS_OF)
    registry.forget(report.tenant_id)
    assert (await registry.settings(report.tenant_id, "residential_grids", hy["id"]))["parcel_days"] == 9
