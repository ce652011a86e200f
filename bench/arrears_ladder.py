"""Benchmark: the monthly collection ladder over 100,000 households with 24 months of bills (PostgreSQL).

Not a test. Builds a fresh database (`guanjia_bench_arrears`, or BENCH_DATABASE), one company with one
project of 100,000 held units, loads 23 months of bills in one statement and bills month 24 through
the real billing run, settles every bill except
those of 10 % of the households (arrears of 1 to 24 months, so every rung is populated, plus a few large
customers), then times:

* the ladder as of the 1st of month 24 (history: cases and first steps),
* the ladder as of the 1st of month 25 (the measured monthly run; goal ≤ 60 s),
* a re-run for month 25, which must write nothing (row counts and PostgreSQL's tuple counters unchanged).

Run: ``.venv/bin/python bench/arrears_ladder.py`` (PostgreSQL on 127.0.0.1:5432; set
BENCH_ADMIN_URL to another server, BENCH_HOUSEHOLDS to scale). Prints the figures and one RESULT line.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import date, datetime, timezone
from decimal import Decimal

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DATABASE", "guanjia_bench_arrears")
HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
MONTHS = 24
FIRST = "2024-01"
GOAL_SECONDS = 60.0

os.environ["DATABASE_URL"] = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


async def create_database() -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL)
    await conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    await conn.close()


def clock() -> float:
    return time.perf_counter()


async def main() -> dict:
    await create_database()
    from core import TenantScope, admin, fetch, tables
    from core.cli import migrate_all
    from core.db import start_pool
    from plugins.arrears_collection import services as svc

    await migrate_all(quiet=True)
    await start_pool()
    now = datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc)
    figures: dict[str, float | int | str] = {"households": HOUSEHOLDS, "months": MONTHS}

    t = clock()
    tenant = await admin.create_tenant("bench-arrears", "基准物业", plugins=["arrears_collection"])
    T = tenant["id"]
    user = await admin.create_user("bench-arrears-finance", "财务", "bench-password-1")
    project = await TenantScope(T).insert(tables.Project, code="BIG", name="基准小区", kind="residential",
                                          total_area=Decimal("10000000"))
    P = project["id"]
    await admin.add_membership(T, user["id"], "finance", [P])
    buildings = max(HOUSEHOLDS // 1000, 1)
    await fetch(f"INSERT INTO core_building (tenant_id, project_id, code, name, floors, created_at) "
                f"SELECT {T}, {P}, 'B' || g, g || '栋', 30, now() FROM generate_series(1, {buildings}) g")
    await fetch(f"""INSERT INTO core_unit (tenant_id, project_id, building_id, entrance, floor, room, area, use, status,
                    grid_id, created_at)
                    SELECT {T}, {P}, b.id, '1', (g / 10) % 30 + 1, 'R' || g,
                           CASE WHEN g % 20000 = 10 THEN 16000.00 ELSE 80 + (g % 7) * 10.5 END, 'residential', 'occupied',
                           NULL, now()
                    FROM generate_series(1, {HOUSEHOLDS}) g
                    JOIN core_building b ON b.tenant_id = {T} AND b.code = 'B' || ((g - 1) % {buildings} + 1)""")
    await fetch(f"INSERT INTO core_customer (tenant_id, kind, name, phone, id_number, email, birthday, greetings_opt_in, "
                f"note, created_at) SELECT {T}, 'person', '业主' || g, '', '', '', NULL, false, '', now() "
                f"FROM generate_series(1, {HOUSEHOLDS}) g")
    await fetch(f"""INSERT INTO core_occupancy (tenant_id, customer_id, unit_id, role, start_date, end_date, created_at)
                    SELECT {T}, c.id, u.id, 'owner', DATE '2020-01-01', NULL, now()
                    FROM (SELECT id, row_number() OVER (ORDER BY id) n FROM core_customer WHERE tenant_id = {T}) c
                    JOIN (SELECT id, row_number() OVER (ORDER BY id) n FROM core_unit WHERE tenant_id = {T}) u ON u.n = c.n""")
    await fetch("ANALYZE")
    finance = await admin.principal_of(T, user["id"])
    await svc.create_fee_item(finance, {"project_id": P, "code": "PROP", "name": "物业服务费", "basis": "area_month",
                                        "standard_fen": 235, "unit_label": "m²·月", "basis_text": "备案",
                                        "unit_use": "", "published_on": date(2020, 1, 1)})
    figures["setup_places_s"] = round(clock() - t, 2)

    # months 1-23 in one set-based statement (setup), month 24 through the real billing run (timed)
    t = clock()
    first_no = svc.period_no(FIRST)
    await fetch(f"""INSERT INTO arrears_collection_bill (tenant_id, project_id, unit_id, customer_id, fee_item_id, period,
                    period_no, due_date, quantity, amount_fen, paid_fen, paid_on, created_at)
                    SELECT {T}, {P}, o.unit_id, o.customer_id, f.id,
                           to_char(make_date(({first_no} + m) / 12, ({first_no} + m) % 12 + 1, 1), 'YYYY-MM'),
                           {first_no} + m,
                           (make_date(({first_no} + m) / 12, ({first_no} + m) % 12 + 1, 1) + interval '1 month'
                            - interval '1 day')::date,
                           0, (CAST(ROUND(u.area * 100) AS BIGINT) * f.standard_fen + 50) / 100, 0, NULL, now()
                    FROM core_occupancy o JOIN core_unit u ON u.id = o.unit_id
                    JOIN arrears_collection_fee_item f ON f.tenant_id = {T} AND f.project_id = {P}
                    CROSS JOIN generate_series(0, {MONTHS - 2}) m
                    WHERE o.tenant_id = {T}""")
    await fetch("ANALYZE arrears_collection_bill")
    figures["bulk_load_23_months_s"] = round(clock() - t, 2)
    t = clock()
    last_period = svc.period_from_no(first_no + MONTHS - 1)
    figures["billing_run_month_24_new_bills"] = await svc.generate_bills(T, project, last_period, now=now)
    figures["billing_run_month_24_s"] = round(clock() - t, 2)
    t = clock()
    figures["billing_rerun_month_24_new_bills"] = await svc.generate_bills(T, project, last_period, now=now)
    figures["billing_rerun_month_24_s"] = round(clock() - t, 2)
    figures["bills"] = (await fetch(f"SELECT COUNT(*) AS n FROM arrears_collection_bill WHERE tenant_id = {T}"))[0]["n"]
    check = await fetch(f"SELECT MIN(period) AS a, MAX(period) AS b, COUNT(DISTINCT period) AS n FROM arrears_collection_bill")
    assert check[0]["n"] == MONTHS and check[0]["a"] == FIRST and check[0]["b"] == last_period, check

    # settle every bill except those of every 10th household, whose arrears run 1 to 24 months
    t = clock()
    last_no = svc.period_no(FIRST) + MONTHS - 1
    await fetch(f"""UPDATE arrears_collection_bill b SET paid_fen = b.amount_fen, paid_on = b.due_date
                    FROM (SELECT id, CASE WHEN id % 10 = 0 THEN (id / 10) % {MONTHS} + 1 ELSE 0 END AS arrears
                          FROM core_unit WHERE tenant_id = {T}) u
                    WHERE b.tenant_id = {T} AND b.unit_id = u.id AND b.period_no <= {last_no} - u.arrears""")
    await fetch("VACUUM ANALYZE arrears_collection_bill")
    await fetch("ANALYZE")
    figures["settle_and_analyze_s"] = round(clock() - t, 2)
    unpaid = await fetch(f"SELECT COUNT(*) AS n, COUNT(DISTINCT customer_id) AS c FROM arrears_collection_bill "
                         f"WHERE tenant_id = {T} AND paid_fen < amount_fen")
    figures["unpaid_bills"], figures["customers_in_arrears"] = unpaid[0]["n"], unpaid[0]["c"]

    month_24 = svc.period_bounds(svc.period_from_no(last_no))[0]
    month_25 = svc.period_bounds(svc.period_from_no(last_no + 1))[0]
    t = clock()
    history = await svc.run_ladder(T, project, month_24, now=now)
    figures["ladder_month_24_s"] = round(clock() - t, 2)

    t = clock()
    monthly = await svc.run_ladder(T, project, month_25, now=now)
    figures["ladder_month_25_s"] = round(clock() - t, 2)

    counts_before = await table_counts()
    tuples_before = await tuple_counters()
    t = clock()
    rerun = await svc.run_ladder(T, project, month_25, now=now)
    figures["ladder_rerun_s"] = round(clock() - t, 2)
    counts_after = await table_counts()
    tuples_after = await tuple_counters()

    steps = await fetch(f"SELECT kind, rung, COUNT(*) AS n FROM arrears_collection_task WHERE tenant_id = {T} "
                        f"GROUP BY kind, rung ORDER BY kind, rung")
    figures["history_run"] = json.dumps(history)
    figures["monthly_run"] = json.dumps(monthly)
    figures["rerun"] = json.dumps(rerun)
    figures["rerun_rows_written"] = sum(counts_after.values()) - sum(counts_before.values())
    figures["rerun_tuples_written"] = tuples_after - tuples_before
    figures["tasks_by_kind"] = json.dumps({f"{s['kind']}/{s['rung']}": s["n"] for s in steps}, ensure_ascii=False)
    return figures


async def table_counts() -> dict[str, int]:
    from core import fetch

    out = {}
    for table in ("arrears_collection_case", "arrears_collection_task", "arrears_collection_watch",
                  "arrears_collection_bill"):
        out[table] = (await fetch(f"SELECT COUNT(*) AS n FROM {table}"))[0]["n"]
    return out


async def tuple_counters() -> int:
    """Rows inserted, updated or deleted in the plugin's tables, from PostgreSQL's statistics."""
    from core import fetch

    await asyncio.sleep(1.2)  # statistics are flushed at most once a second
    await fetch("SELECT pg_stat_clear_snapshot()")
    rows = await fetch("SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) AS n FROM pg_stat_user_tables "
                       "WHERE relname LIKE 'arrears_collection_%'")
    return int(rows[0]["n"])


if __name__ == "__main__":
    started = clock()
    result = asyncio.run(main())
    result["total_s"] = round(clock() - started, 1)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    ok = float(result["ladder_month_25_s"]) <= GOAL_SECONDS and result["rerun_rows_written"] == 0 \
        and result["rerun_tuples_written"] == 0
    print(f"RESULT arrears_ladder households={result['households']} bills={result['bills']} "
          f"ladder_s={result['ladder_month_25_s']} goal_s={GOAL_SECONDS:.0f} rerun_s={result['ladder_rerun_s']} "
          f"rerun_writes={result['rerun_tuples_written']} {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)
