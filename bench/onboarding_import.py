"""Benchmark (not a test): onboard a company with 20,000 units and 30,000 customers, then re-run it.

    python bench/onboarding_import.py                 # a fresh SQLite database in a temp folder
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/guanjia_bench python bench/onboarding_import.py

Prints the time of the first import and of the idempotent re-run.
"""
from __future__ import annotations

import asyncio
import csv
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
if not os.environ.get("DATABASE_URL"):
    os.environ["GUANJIA_SQLITE_PATH"] = os.path.join(tempfile.mkdtemp(prefix="guanjia-bench-"), "bench.sqlite3")

UNITS, CUSTOMERS = 20_000, 30_000


def write(folder: Path, sheet: str, rows) -> None:
    from core.onboarding.sheets import SHEET_BY_NAME

    with open(folder / f"{sheet}.csv", "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow([c.header for c in SHEET_BY_NAME[sheet].columns])
        w.writerows(rows)


def generate(folder: Path, slug: str) -> None:
    rng = random.Random(7)
    folder.mkdir(parents=True)
    (folder / "tenant.toml").write_text(f'''[company]
slug = "{slug}"
name = "基准物业"
[[projects]]
code = "BIG"
name = "大型社区"
kind = "residential"
total_area = 2000000
''', encoding="utf-8")
    write(folder, "staff", [[f"{slug}-cs", "总监", "", "company_cs", "", ""]])
    buildings = 50
    write(folder, "buildings", [["BIG", str(b), f"{b}栋", "40"] for b in range(1, buildings + 1)])
    units = []
    for i in range(UNITS):
        b, rest = divmod(i, UNITS // buildings)
        entrance, rest = divmod(rest, 200)
        floor, room = divmod(rest, 5)
        units.append(["BIG", str(b + 1), str(entrance + 1), str(floor + 1), f"{floor + 1}{room + 1:02d}",
                      rng.choice(["89.50", "96.20", "118.60"]), "residential", "sold", ""])
    write(folder, "units", units)
    customers = []
    for i in range(CUSTOMERS):
        u = units[i % UNITS]
        customers.append([f"业主{i}", "person", f"13{i:09d}", "", "", "BIG", u[1], u[2], u[4],
                          "owner" if i < UNITS else "resident", "2020-01-01"])
    write(folder, "customers", customers)


async def main() -> None:
    from core.cli import migrate_all
    from core.onboarding import load_folder, onboard

    await migrate_all(quiet=True)
    slug = f"bench-{uuid.uuid4().hex[:6]}"
    folder = Path(tempfile.mkdtemp(prefix="guanjia-bench-data-")) / slug
    generate(folder, slug)
    for label in ("first import", "re-run"):
        started = time.perf_counter()
        report = await onboard(load_folder(folder), as_of=date(2026, 9, 30))
        elapsed = time.perf_counter() - started
        print(f"{label}: {elapsed:.1f} s  created={report.created} updated={report.updated}")


if __name__ == "__main__":
    asyncio.run(main())
