"""The schema is ready to be distributed by tenant: every tenant table has tenant_id, and every index
and unique constraint on it leads with tenant_id (the primary key `id` is where Piccolo stops: see docs/scaling.md)."""
from __future__ import annotations

from core import fetch, is_postgres

PLATFORM_TABLES = {"core_tenant", "core_user", "core_job_run", "core_outbox", "migration", "piccolo_user", "sessions"}


async def _tables() -> list[str]:
    if is_postgres():
        rows = await fetch("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'")
    else:
        rows = await fetch("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return sorted(r["name"] for r in rows)


async def _columns(table: str) -> list[str]:
    if is_postgres():
        rows = await fetch("SELECT column_name AS name FROM information_schema.columns WHERE table_name = {}", table)
    else:
        rows = await fetch(f"SELECT name FROM pragma_table_info('{table}')")
    return [r["name"] for r in rows]


async def _indexes(table: str) -> list[tuple[str, list[str]]]:
    """(index name, its columns in order), primary keys left out."""
    if is_postgres():
        rows = await fetch(
            "SELECT i.relname AS name, a.attname AS col, k.ord AS ord FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE t.relname = {} AND NOT x.indisprimary ORDER BY i.relname, k.ord", table)
    else:
        rows = []
        for idx in await fetch(f"SELECT name, origin FROM pragma_index_list('{table}')"):
            if idx["origin"] == "pk":
                continue
            for c in await fetch(f"SELECT name AS col, seqno AS ord FROM pragma_index_info('{idx['name']}')"):
                rows.append({"name": idx["name"], "col": c["col"], "ord": c["ord"]})
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["name"], []).append(r["col"])
    return list(out.items())


async def test_every_tenant_table_has_tenant_id_and_every_index_leads_with_it():
    problems = []
    tables = [t for t in await _tables() if t not in PLATFORM_TABLES]
    assert "core_ticket" in tables
    for table in tables:
        cols = await _columns(table)
        if "tenant_id" not in cols:
            problems.append(f"{table}: no tenant_id column")
            continue
        for name, idx_cols in await _indexes(table):
            if idx_cols[0] != "tenant_id":
                problems.append(f"{table}.{name}: leads with {idx_cols[0]}, not tenant_id")
    assert not problems, "\n".join(problems)
