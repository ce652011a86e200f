"""Writing small onboarding folders for tests."""
from __future__ import annotations

import csv
import itertools
import uuid
from pathlib import Path

from core.onboarding.sheets import SHEET_BY_NAME

_n = itertools.count(1)


def new_slug() -> str:
    return f"ob-{uuid.uuid4().hex[:8]}-{next(_n)}"


def write_csv(folder: Path, sheet: str, rows: list[list[str]]) -> None:
    spec = SHEET_BY_NAME[sheet]
    with open(folder / f"{sheet}.csv", "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow([c.header for c in spec.columns])
        w.writerows(rows)


INITIAL_PASSWORD = "chushi-mima-2026"


def company_folder(tmp: Path, slug: str | None = None, *, units: int = 8,
                   password: str = INITIAL_PASSWORD) -> tuple[Path, str]:
    """A small valid company: one estate, 2 buildings, a grid, staff, `units` units and a customer per unit.
    Staff get `password` as their initial password ("" = let onboarding generate one)."""
    slug = slug or new_slug()
    folder = tmp / slug
    folder.mkdir(parents=True)
    (folder / "tenant.toml").write_text(f'''
[company]
slug = "{slug}"
name = "测试物业 {slug}"
contact_name = "周总监"
contact_phone = "0755-88886666"
plugins = ["residential_grids"]
[company.service_hours]
opens = "08:00"
closes = "20:00"
[settings.residential_grids]
[[projects]]
code = "HY"
name = "和苑小区"
kind = "residential"
address = "深圳市南山区和苑路1号"
total_area = 186000
plugins = []
''', encoding="utf-8")
    write_csv(folder, "staff", [[f"{slug}-cs", "周总监", "13800000001", "company_cs", "", "总监", password],
                                [f"{slug}-pm", "陈经理", "13800000002", "project_manager", "HY", "经理", password],
                                [f"{slug}-butler", "王管家", "13800000003", "butler", "HY", "管家", password]])
    write_csv(folder, "buildings", [["HY", "1", "1栋", "18"], ["HY", "2", "2栋", "18"]])
    write_csv(folder, "grids", [["HY", "G1", "一号网格", f"{slug}-butler"]])
    unit_rows, customer_rows = [], []
    for i in range(units):
        b = "1" if i % 2 == 0 else "2"
        room = f"{i // 4 + 1}{i % 4 + 1:02d}"
        unit_rows.append(["HY", b, "1", str(i // 4 + 1), room, "89.50", "residential", "occupied", "G1"])
        customer_rows.append([f"业主{i}", "person", f"139{i:08d}", f"4403011990010{i:04d}X"[:18], "", "HY", b, "1", room,
                              "owner", "2020-01-01"])
    write_csv(folder, "units", unit_rows)
    write_csv(folder, "customers", customer_rows)
    return folder, slug
