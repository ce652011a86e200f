"""`guanjia onboard …` on the terminal."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from core.onboarding.cli import onboard
from tests.onboarding.helpers import company_folder, write_csv


def test_onboard_command_reports_every_bad_row_then_imports_after_the_fix(tmp_path: Path):
    folder, slug = company_folder(tmp_path, units=4)
    write_csv(folder, "units", [["HY", "1", "1", "1", "101", "abc", "", "", ""],
                                ["HY", "7", "1", "1", "102", "80", "", "", ""]])
    runner = CliRunner()
    bad = runner.invoke(onboard, [str(folder), "--as-of", "2026-09-30"])
    assert bad.exit_code == 1
    assert "units.csv line 2: area: area not a number: 'abc'" in bad.output
    assert "units.csv line 3: building: unknown building '7'" in bad.output
    assert "nothing was imported" in bad.output
    write_csv(folder, "units", [["HY", "1", "1", "1", "101", "80", "", "", ""],
                                ["HY", "2", "1", "1", "102", "80", "", "", ""],
                                ["HY", "1", "1", "1", "201", "80", "", "", ""],
                                ["HY", "2", "1", "1", "202", "80", "", "", ""]])
    write_csv(folder, "customers", [["甲", "", "13900000001", "", "", "HY", "1", "1", "101", "owner", ""]])
    ok = runner.invoke(onboard, ["run", str(folder), "--as-of", "2026-09-30"])
    assert ok.exit_code == 0, ok.output
    assert "units: 4 created, 0 updated" in ok.output
    again = runner.invoke(onboard, [str(folder), "--as-of", "2026-09-30"])
    assert "units: 0 created, 0 updated" in again.output and "customers: 0 created" in again.output


def test_onboard_template_writes_files(tmp_path: Path):
    result = CliRunner().invoke(onboard, ["template", str(tmp_path / "t"), "--format", "csv"])
    assert result.exit_code == 0
    header = (tmp_path / "t" / "units.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("项目 project,楼栋 building,单元 entrance")
