"""Per-company backup and restore (seed 004: electronic data backed up): `guanjia backup SLUG` writes one company
to one file; `guanjia restore FILE` loads it into an empty database, keeping ids, row for row."""
from __future__ import annotations

import asyncio
import gzip
import json
import os
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, at

REPO = Path(__file__).resolve().parents[2]
GUANJIA = str(Path(sys.executable).parent / "guanjia")


def _rows(path: Path) -> tuple[dict, dict[str, list[dict]]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        header = json.loads(f.readline())
        tables: dict[str, list[dict]] = {}
        for line in f:
            item = json.loads(line)
            tables.setdefault(item["t"], []).append(item["r"])
    return header, {name: sorted(rows, key=lambda r: r["id"]) for name, rows in tables.items()}


async def _guanjia(env: dict[str, str], *args: str, code: str | None = None) -> tuple[int, str]:
    command = [sys.executable, "-c", code] if code else [GUANJIA, *args]
    proc = await asyncio.create_subprocess_exec(*command, cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=600)
    return proc.returncode, out.decode()


@pytest.fixture
async def fresh_database(tmp_path):
    """The environment of a second, empty database: a SQLite file, or a PostgreSQL database made here."""
    env = {k: v for k, v in os.environ.items()}
    admin = os.environ.get("GUANJIA_TEST_ADMIN_URL")
    if not admin:
        env.pop("DATABASE_URL", None)
        env["GUANJIA_SQLITE_PATH"] = str(tmp_path / "restored.sqlite3")
        yield env
        return
    import asyncpg

    base, _, name = os.environ["DATABASE_URL"].rpartition("/")
    second = f"{name}_restore_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{second}"')
    await conn.close()
    env["DATABASE_URL"] = f"{base}/{second}"
    try:
        yield env
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{second}" WITH (FORCE)')
        await conn.close()


async def test_demo_company_backup_restores_row_for_row_into_an_empty_database_seed_004(tmp_path, fresh_database):
    from core.backup import backup_tables, backup_tenant
    from core.demo import ensure_demo
    from core.tables import AuditLog
    from core.tenancy import TenantScope

    slug = f"bk-{uuid.uuid4().hex[:8]}"
    demo = await ensure_demo(PASSWORD, buildings=1, tickets=12, slug=slug, as_of=at("2026-09-30 17:00"))
    tenant_id = demo["tenant"]["id"]
    first = tmp_path / "first.jsonl.gz"
    header = await backup_tenant(slug, first)
    assert header["tenant"] == {"id": tenant_id, "slug": slug, "name": demo["tenant"]["name"]}
    assert set(header["migrations"]) >= {"core", "residential_grids", "parking_leases", "arrears_collection"}
    names = [t._meta.tablename for t in backup_tables()]
    assert list(header["tables"]) == names and names[:2] == ["core_tenant", "core_user"]
    assert names.index("core_unit") > names.index("core_grid") > names.index("core_project")
    assert header["tables"]["core_tenant"] == 1 and header["tables"]["core_user"] == 8
    empty = sorted(n for n, c in header["tables"].items() if c == 0)
    assert all(header["tables"][t] > 0 for t in names if t.startswith(("residential_grids_", "parking_leases_",
                                                                         "community_events_", "commercial_buildings_",
                                                                         "arrears_collection_"))), empty
    audit = await TenantScope(tenant_id).select(AuditLog).where(AuditLog.action == "tenant.backup")
    data = json.loads(audit[0]["data"]) if isinstance(audit[0]["data"], str) else audit[0]["data"]
    assert len(audit) == 1 and data == {"file": "first.jsonl.gz", "rows": header["rows"], "tables": len(names)}

    env = fresh_database
    code, out = await _guanjia(env, "migrate")
    assert code == 0, out[-3000:]
    code, out = await _guanjia(env, "restore", str(first))
    assert code == 0, out[-3000:]
    assert f"company {slug} restored: {header['rows']} rows" in out
    second = tmp_path / "second.jsonl.gz"
    code, out = await _guanjia(env, "backup", slug, "-o", str(second))
    assert code == 0, out[-3000:]

    head_a, rows_a = _rows(first)
    head_b, rows_b = _rows(second)
    assert head_b["migrations"] == head_a["migrations"]
    for name in names:
        a, b = rows_a.get(name, []), rows_b.get(name, [])
        if name == "core_audit_log":  # the restored copy also records its restore
            assert [r["action"] for r in b[len(a):]] == ["tenant.restored"]
            b = b[:len(a)]
        assert len(a) == len(b) == head_a["tables"][name], name
        for ra, rb in zip(a, b):
            assert ra == rb, (name, ra["id"])
    assert head_b["tables"]["core_audit_log"] == head_a["tables"]["core_audit_log"] + 1

    # ids keep counting after the restored ones (PostgreSQL sequences moved past them)
    biggest = max(r["id"] for r in rows_a["core_customer"])
    code, out = await _guanjia(env, code=(
        "import asyncio, os\nos.environ.setdefault('PICCOLO_CONF', 'core.piccolo_conf')\n"
        "from core.tables import Customer\nfrom core.tenancy import TenantScope\n"
        f"async def go():\n    print('ID', (await TenantScope({tenant_id}).insert(Customer, name='新业户'))['id'])\n"
        "asyncio.run(go())\n"))
    assert code == 0, out[-3000:]
    assert int(out.split("ID", 1)[1].split()[0]) > biggest
    # a second restore into the same database is refused, and changes nothing
    code, out = await _guanjia(env, "restore", str(first))
    assert code != 0 and f"company {slug!r} already exists" in out


async def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    from core.backup import restore
    from core.errors import Problem

    bad = tmp_path / "bad.jsonl.gz"
    with gzip.open(bad, "wt") as f:
        f.write(json.dumps({"format": "something-else"}) + "\n")
    with pytest.raises(Problem) as caught:
        await restore(bad)
    assert caught.value.errors[0]["field"] == "file" and "not a Guanjia company backup" in caught.value.detail


async def test_backup_of_an_unknown_company_is_a_clear_error(tmp_path):
    code, out = await _guanjia(dict(os.environ), "backup", "no-such-company", "-o", str(tmp_path / "x.gz"))
    assert code == 1 and "No such company 'no-such-company'" in out
