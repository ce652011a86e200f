"""Onboarding's opening balances (期初欠费, handed to arrears collection through the kernel hook
`import_opening_balances`) and the staff's initial passwords (changed at the first login)."""
from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from core import Problem
from core.auth import login, verify_password
from core.onboarding import load_folder, onboard, validate
from core.onboarding.cli import onboard as onboard_command
from core.tables import Occupancy, Tenant, Unit, User
from core.tenancy import TenantScope
from tests.onboarding.helpers import INITIAL_PASSWORD, company_folder, write_csv

AS_OF = date(2026, 9, 30)


def with_arrears(folder: Path) -> None:
    toml = folder / "tenant.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'plugins = ["residential_grids"]', 'plugins = ["residential_grids", "arrears_collection"]', 1), encoding="utf-8")


async def _unit_and_owner(tenant_id: int, building: str, room: str) -> tuple[int, int]:
    scope = TenantScope(tenant_id)
    unit = await scope.select(Unit).where((Unit.building_id.code == building) & (Unit.room == room)).first()
    occ = await scope.select(Occupancy).where(Occupancy.unit_id == unit["id"]).first()
    return unit["id"], occ["customer_id"]


async def test_opening_balances_become_arrears_of_the_unit_and_its_owner_seed_000(tmp_path: Path):
    from plugins.arrears_collection import services as arrears
    from plugins.arrears_collection.tables import Bill

    folder, slug = company_folder(tmp_path, units=4)
    with_arrears(folder)
    # units: 1-1-101, 2-1-102, 1-1-103, 2-1-104; customers 业主0..3 with phones 139000000{0..3}
    write_csv(folder, "opening_balances", [
        ["HY", "1", "1", "101", "", "", "物业服务费", "2026-06", "1,234.50", "", "2026年6月物业费"],
        ["HY", "1", "1", "101", "", "", "物业服务费", "2026-07", "1234.50", "", ""],
        ["HY", "2", "1", "102", "", "13900000001", "车位管理费", "2026-08", "300", "2026-08-15", ""],
    ])
    report = await onboard(load_folder(folder), as_of=AS_OF)
    assert report.created["opening_balances"] == 3
    tenant_id = report.tenant_id
    scope = TenantScope(tenant_id)
    unit_a, owner_a = await _unit_and_owner(tenant_id, "1", "101")
    unit_b, owner_b = await _unit_and_owner(tenant_id, "2", "102")
    bills = await scope.select(Bill).order_by(Bill.period)
    assert [(b["unit_id"], b["customer_id"], b["period"], b["amount_fen"], b["paid_fen"], b["due_date"].isoformat())
            for b in bills] == [(unit_a, owner_a, "2026-06", 123450, 0, "2026-06-30"),
                                (unit_a, owner_a, "2026-07", 123450, 0, "2026-07-31"),
                                (unit_b, owner_b, "2026-08", 30000, 0, "2026-08-15")]
    # the arrears plugin sees them: 2 months overdue for the owner of 1-1-101 at the end of September
    cs = await User.select(User.id).where(User.login == f"{slug}-cs").first()
    from core.admin import principal_of

    owed = await arrears.ageing(await principal_of(tenant_id, cs["id"]), as_of=AS_OF, customer_id=owner_a)
    assert [(i["owed_fen"], i["bills"]) for i in owed["items"]] == [(246900, 2)]
    # a re-import writes nothing new; a changed unpaid amount is updated
    again = await onboard(load_folder(folder), as_of=AS_OF)
    assert again.created.get("opening_balances", 0) == 0 and again.updated.get("opening_balances", 0) == 0
    write_csv(folder, "opening_balances", [["HY", "2", "1", "102", "", "13900000001", "车位管理费", "2026-08", "350", "2026-08-15", ""]])
    third = await onboard(load_folder(folder), as_of=AS_OF)
    assert third.updated["opening_balances"] == 1
    assert await scope.count(Bill) == 3
    assert (await scope.select(Bill, Bill.amount_fen).where(Bill.unit_id == unit_b).first())["amount_fen"] == 35000


async def test_bad_opening_balance_rows_are_reported_and_need_the_arrears_plugin_seed_000(tmp_path: Path):
    folder, slug = company_folder(tmp_path, units=2)
    write_csv(folder, "opening_balances", [
        ["HY", "1", "1", "101", "", "", "物业服务费", "2026-06", "100", "", ""],
        ["HY", "9", "1", "101", "", "", "物业服务费", "2026-06", "100", "", ""],
        ["HY", "1", "1", "101", "", "13700000000", "物业服务费", "2026-13", "-5", "2026-02-30", ""],
        ["HY", "1", "1", "101", "", "", "物业服务费", "2026-06", "1.005", "", ""],
    ])
    errors = await validate(load_folder(folder))
    found = {(e.line, e.column, e.reason) for e in errors if e.file == "opening_balances.csv"}
    assert any(line == 2 and column == "project" and reason.startswith("opening balances need") and
               "arrears_collection" in reason and reason.endswith("enabled for project HY") for line, column, reason in found)
    assert (3, "room", "unknown room 9-1-101") in found
    assert (4, "phone", "no customer with this phone") in found
    assert (4, "period", "month malformed: '2026-13' (YYYY-MM)") in found
    assert any(line == 4 and column == "amount" for line, column, _ in found)
    assert (4, "due_date", "date malformed: '2026-02-30' (YYYY-MM-DD)") in found
    assert (5, "period", "duplicate balance for this room, fee and month") in found
    assert any(line == 5 and column == "amount" for line, column, _ in found)
    assert await Tenant.select().where(Tenant.slug == slug).first() is None


async def test_staff_get_an_initial_password_and_must_change_it_at_first_login_seed_000(tmp_path: Path):
    folder, slug = company_folder(tmp_path, units=2, password="")
    write_csv(folder, "staff", [[f"{slug}-cs", "周总监", "13800000001", "company_cs", "", "总监", "Chushi-2026!"],
                                [f"{slug}-pm", "陈经理", "13800000002", "project_manager", "HY", "经理", ""],
                                [f"{slug}-butler", "王管家", "13800000003", "butler", "HY", "管家", ""]])
    report = await onboard(load_folder(folder), as_of=AS_OF)
    assert sorted(report.passwords) == [f"{slug}-butler", f"{slug}-pm"]  # generated ones, to hand over once
    assert all(len(p) == 12 for p in report.passwords.values())
    users = {u["login"]: u for u in await User.select().where(User.login.like(f"{slug}-%"))}
    assert all(u["must_change_password"] for u in users.values())
    assert verify_password(users[f"{slug}-pm"]["password_hash"], report.passwords[f"{slug}-pm"])
    # the initial password alone gets no token; a new one (at least 8 characters, not the same) does
    with pytest.raises(Problem) as refused:
        await login(f"{slug}-cs", "Chushi-2026!")
    assert refused.value.status == 403 and refused.value.errors[0]["field"] == "new_password"
    for bad in ("short", "Chushi-2026!"):
        with pytest.raises(Problem) as weak:
            await login(f"{slug}-cs", "Chushi-2026!", new_password=bad)
        assert weak.value.status == 422 and weak.value.errors[0]["field"] == "new_password"
    ok = await login(f"{slug}-cs", "Chushi-2026!", new_password="Xin-mima-2026")
    assert ok["token"] and ok["tenant"] == slug
    assert not (await User.select(User.must_change_password).where(User.login == f"{slug}-cs").first())["must_change_password"]
    assert (await login(f"{slug}-cs", "Xin-mima-2026"))["token"]
    with pytest.raises(Problem) as old:
        await login(f"{slug}-cs", "Chushi-2026!")
    assert old.value.status == 401
    # a re-import neither resets passwords nor hands out new ones
    again = await onboard(load_folder(folder), as_of=AS_OF)
    assert again.passwords == {}
    assert (await login(f"{slug}-cs", "Xin-mima-2026"))["token"]


async def test_bad_initial_password_in_the_sheet_is_reported(tmp_path: Path):
    folder, slug = company_folder(tmp_path, units=2, password="kurz")
    errors = await validate(load_folder(folder))
    assert [(e.file, e.line, e.column) for e in errors] == [("staff.csv", 2, "password"), ("staff.csv", 3, "password"),
                                                            ("staff.csv", 4, "password")]


async def test_first_portal_login_asks_for_a_new_password_seed_000(tmp_path: Path, client):
    from tests.frontend.portal_helpers import csrf_of

    folder, slug = company_folder(tmp_path, units=2)
    await onboard(load_folder(folder), as_of=AS_OF)
    token = csrf_of((await client.get("/portal/login")).text)
    form = {"_csrf": token, "login": f"{slug}-butler", "password": INITIAL_PASSWORD}
    first = await client.post("/portal/login", data=form, follow_redirects=False)
    assert first.status_code == 403 and 'name="new_password"' in first.text and 'name="new_password2"' in first.text
    assert f'value="{slug}-butler"' in first.text and INITIAL_PASSWORD not in first.text
    differ = await client.post("/portal/login", data={**form, "new_password": "Xin-mima-2026", "new_password2": "Xin-mima-2027"},
                               follow_redirects=False)
    assert differ.status_code == 422 and 'data-field="new_password2"' in differ.text
    done = await client.post("/portal/login", data={**form, "new_password": "Xin-mima-2026", "new_password2": "Xin-mima-2026"},
                             follow_redirects=False)
    assert done.status_code == 303
    client.cookies.clear()  # an API client: no session cookie
    api = await client.post("/api/v1/auth/login", json={"login": f"{slug}-pm", "password": INITIAL_PASSWORD})
    assert api.status_code == 403 and api.json()["errors"][0]["field"] == "new_password"
    api = await client.post("/api/v1/auth/login", json={"login": f"{slug}-pm", "password": INITIAL_PASSWORD,
                                                        "new_password": "Xin-mima-2026"})
    assert api.status_code == 200 and api.json()["token"]


def test_cli_writes_generated_passwords_to_a_file_only_its_owner_reads(tmp_path: Path):
    folder, slug = company_folder(tmp_path, units=2, password="")
    out = tmp_path / "secrets" / "passwords.csv"
    out.parent.mkdir()
    result = CliRunner().invoke(onboard_command, [str(folder), "--as-of", "2026-09-30", "--passwords-file", str(out)])
    assert result.exit_code == 0, result.output
    assert f"3 initial password(s) written to {out}" in result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "login,initial_password" and len(lines) == 4
    assert lines[1].split(",")[1] not in result.output  # the passwords are in the file only

