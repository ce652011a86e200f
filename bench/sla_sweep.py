"""Benchmark of the SLA sweep on PostgreSQL: 1,000,000 tickets over 1,000 tenants, 1 % due.

Run it (not a test; it drops and rebuilds its own database, `guanjia_bench` by default):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/guanjia .venv/bin/python bench/sla_sweep.py

It loads the data with INSERT … SELECT generate_series, runs the real sweep (`core.sweep.sweep`) for
one `as_of`, runs it again (idempotent: writes nothing), prints the EXPLAIN (ANALYZE, BUFFERS) plan of
the due query, and beside it ceilings measured in the same run: the raw due query alone through
asyncpg, a count on the (tenant_id, next_due_at) index, and a count of every ticket (what a scan of
all tickets costs). Results go to bench/results/sla_sweep-<time>.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
AS_OF = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
# due tickets are spread over the four levels: minutes relative to as_of
DUE_OFFSETS = {"near_breach": 30, "breached": -120, "project_manager": -30 * 60, "company_cs": -80 * 60}
COUNT_DUE = "SELECT count(*) FROM core_ticket WHERE tenant_id = ANY($1) AND next_due_at <= $2"


def numbered(sql: str) -> str:
    """Piccolo's `{}` placeholders → asyncpg's $1, $2, …"""
    counter = iter(range(1, 10_000))
    return re.sub(r"\{\}", lambda _: f"${next(counter)}", sql)


async def rebuild_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()


LOAD = [
    ("tenants", """INSERT INTO core_tenant (slug, name, contact_name, contact_phone, settings, is_active, created_at)
        SELECT 'bench-' || n, '物业公司 ' || n, '', '', '{}', true, now() FROM generate_series(1, $1) n"""),
    ("projects", """INSERT INTO core_project (tenant_id, code, name, kind, address, total_area, settings, created_at)
        SELECT id, 'P1', '项目一', 'residential', '', 100000, '{}', now() FROM core_tenant"""),
    ("users", """INSERT INTO core_user (login, name, phone, email, password_hash, photo_url, locale, is_active, created_at)
        SELECT t.slug || '-' || r.role, r.role || ' ' || t.id, '', '', '', '', 'zh-CN', true, now()
        FROM core_tenant t CROSS JOIN (VALUES ('front_desk'), ('butler'), ('supervisor'), ('project_manager'),
                                              ('company_cs')) r(role)"""),
    ("memberships", """INSERT INTO core_membership (tenant_id, user_id, role, project_ids, title, work_phone, is_active, created_at)
        SELECT t.id, u.id, split_part(u.login, '-', 3), CASE WHEN u.login LIKE '%-company_cs' THEN '[]'
               ELSE '[' || p.id || ']' END::json, '', '', true, now()
        FROM core_tenant t JOIN core_project p ON p.tenant_id = t.id
        JOIN core_user u ON 'bench-' || split_part(u.login, '-', 2) = t.slug"""),
    ("map", """CREATE UNLOGGED TABLE bench_map AS
        SELECT row_number() OVER (ORDER BY t.id) - 1 AS n, t.id AS tenant_id, p.id AS project_id,
               fd.id AS front_desk, b.id AS butler
        FROM core_tenant t JOIN core_project p ON p.tenant_id = t.id
        JOIN core_user fd ON fd.login = t.slug || '-front_desk' JOIN core_user b ON b.login = t.slug || '-butler'"""),
    # ticket g belongs to tenant g % tenants; every 100th ticket is due (spread over the four levels);
    # of the rest, 3 in 5 are open with a deadline days away and 2 in 5 are closed (no running clock)
    ("tickets", """INSERT INTO core_ticket (tenant_id, project_id, kind, channel, priority, status, title, description,
            place_note, contact_phone, first_receiver_id, responsible_id, complexity, is_major, sla_policy,
            resolution_due_at, next_due_at, escalation_level, held_seconds, data, created_at, updated_at, closed_at)
        SELECT m.tenant_id, m.project_id, 'repair', 'hotline', 'normal',
               CASE WHEN g % 100 <> 0 AND g % 5 < 2 THEN 'closed' ELSE 'received' END,
               '报修 ' || g, '', '', '', m.front_desk, m.butler, 'general', false, 'repair.general', d.due,
               CASE WHEN g % 100 <> 0 AND g % 5 < 2 THEN NULL ELSE d.due END, 0, 0, '{}',
               d.due - interval '24 hours', d.due - interval '24 hours',
               CASE WHEN g % 100 <> 0 AND g % 5 < 2 THEN d.due - interval '20 hours' END
        FROM generate_series(0, $1 - 1) g
        JOIN bench_map m ON m.n = g % $2
        CROSS JOIN LATERAL (SELECT CASE WHEN g % 100 = 0 THEN $3::timestamptz + make_interval(
                    mins => (ARRAY[$4, $5, $6, $7]::int[])[1 + (g / 100) % 4])
               ELSE $3::timestamptz + make_interval(hours => 48 + (g % 240)) END AS due) d"""),
]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--database", default="guanjia_bench")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server, e.g. postgresql://postgres@127.0.0.1:5432/guanjia")
    base = url.rsplit("/", 1)[0]
    bench_url = f"{base}/{args.database}"
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
    os.environ.pop("REDIS_URL", None)  # the sweep writes in-app notices only; no broker needed

    import asyncpg

    from core.settings import get_settings

    get_settings.cache_clear()
    out: dict = {"started_at": datetime.now(timezone.utc).isoformat(), "database": args.database,
                 "tenants": args.tenants, "tickets": args.tickets, "as_of": AS_OF.isoformat(),
                 "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}}
    t0 = time.perf_counter()
    await rebuild_database(f"{base}/postgres", args.database)
    from core.cli import migrate_all

    await migrate_all(quiet=True)
    out["migrate_s"] = round(time.perf_counter() - t0, 2)

    conn = await asyncpg.connect(bench_url)
    out["postgres"] = await conn.fetchval("SHOW server_version")
    # load without the ticket table's secondary indexes, then build them (as a restore would)
    indexes = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'core_ticket' "
                               "AND indexname <> 'core_ticket_pkey'")
    load: dict[str, float] = {}
    for name in (i["indexname"] for i in indexes):
        await conn.execute(f'DROP INDEX "{name}"')
    for step, sql in LOAD:
        t = time.perf_counter()
        if step == "tenants":
            await conn.execute(sql, args.tenants)
        elif step == "tickets":
            await conn.execute(sql, args.tickets, args.tenants, AS_OF, *DUE_OFFSETS.values())
        else:
            await conn.execute(sql)
        load[step] = round(time.perf_counter() - t, 2)
        print(f"loaded {step} in {load[step]} s", flush=True)
    t = time.perf_counter()
    for i in indexes:
        await conn.execute(i["indexdef"])
    load["ticket_indexes"] = round(time.perf_counter() - t, 2)
    await conn.execute("DROP TABLE bench_map")
    await conn.execute("VACUUM ANALYZE")
    out["load_s"] = load
    out["rows"] = {
        "tickets": await conn.fetchval("SELECT count(*) FROM core_ticket"),
        "due": await conn.fetchval("SELECT count(*) FROM core_ticket WHERE next_due_at <= $1::timestamptz + interval '60 minutes'", AS_OF),
        "open": await conn.fetchval("SELECT count(*) FROM core_ticket WHERE next_due_at IS NOT NULL"),
    }
    print(f"rows: {out['rows']}", flush=True)

    from core.sweep import TENANT_BATCH, due_query_args, due_query_sql, sweep, thresholds

    tenant_ids = [r["id"] for r in await conn.fetch("SELECT id FROM core_tenant ORDER BY id")]
    batches = [tenant_ids[i:i + TENANT_BATCH] for i in range(0, len(tenant_ids), TENANT_BATCH)]
    as_of = AS_OF.astimezone(timezone.utc)

    def q(batch: list[int]) -> tuple[str, list]:
        return numbered(due_query_sql(len(batch))), due_query_args(batch, as_of)

    # the plan of the due query (first batch of tenants), before the sweep changes anything
    sql, params = q(batches[0])
    plan = [r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params)]
    out["explain_due_query_first_batch"] = plan

    # ceilings measured now: the raw due query alone, a count on the index, a count of every ticket
    async def timed(fn) -> tuple[float, object]:
        t = time.perf_counter()
        value = await fn()
        return round((time.perf_counter() - t) * 1000, 1), value

    near = as_of + timedelta(minutes=thresholds(None)[0])

    async def raw_due():
        n = 0
        for b in batches:
            sql, params = q(b)
            n += len(await conn.fetch(sql, *params))
        return n

    async def index_count():
        n = 0
        for b in batches:
            n += await conn.fetchval(COUNT_DUE, b, near)
        return n

    async def all_tickets():
        return await conn.fetchval("SELECT count(*) FROM core_ticket")

    await raw_due()  # warm the cache the same way for every measurement
    ceilings = {}
    for name, fn in (("raw_due_query_ms", raw_due), ("index_count_ms", index_count), ("count_all_tickets_ms", all_tickets)):
        ms, value = await timed(fn)
        ceilings[name] = ms
        ceilings[name.replace("_ms", "_rows")] = value
    out["ceilings"] = ceilings
    out["index_count_plan"] = [r[0] for r in await conn.fetch("EXPLAIN " + COUNT_DUE, batches[0], near)]

    from core.db import close_pool, start_pool

    await start_pool()
    t = time.perf_counter()
    first = await sweep(AS_OF)
    out["sweep_first_s"] = round(time.perf_counter() - t, 3)
    out["sweep_first"] = first
    t = time.perf_counter()
    second = await sweep(AS_OF)
    out["sweep_again_s"] = round(time.perf_counter() - t, 3)
    out["sweep_again"] = second
    await close_pool()
    out["escalation_events"] = await conn.fetchval("SELECT count(*) FROM core_ticket_event WHERE kind = 'escalation'")
    out["sla_notifications"] = await conn.fetchval("SELECT count(*) FROM core_notification WHERE template LIKE 'sla.%'")
    await conn.close()

    print("\nEXPLAIN (ANALYZE, BUFFERS) of the due query, first batch of", len(batches[0]), "tenants:")
    print("\n".join("  " + line for line in plan))
    print(f"\nsweep (all {len(tenant_ids)} tenants, {len(batches)} batches): {out['sweep_first_s']} s  {first}")
    print(f"sweep again, same as_of (idempotent): {out['sweep_again_s']} s  {second}")
    print(f"ceilings in this run: raw due query alone {ceilings['raw_due_query_ms']} ms ({ceilings['raw_due_query_rows']} rows), "
          f"count on the due index {ceilings['index_count_ms']} ms ({ceilings['index_count_rows']} rows), "
          f"count of every ticket {ceilings['count_all_tickets_ms']} ms ({ceilings['count_all_tickets_rows']} rows)")
    print(f"escalation events written: {out['escalation_events']}, SLA notices: {out['sla_notifications']}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"sla_sweep-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    print(f"\nwritten {path}")


if __name__ == "__main__":
    asyncio.run(main())
