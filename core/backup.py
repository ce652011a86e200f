"""Backup and restore of one company (`guanjia backup SLUG`, `guanjia restore FILE`).

The file is gzip'd JSON lines. Line 1 is the header: format and version, the company, the engine it came
from, the kernel's and plugins' versions, the migrations applied per Piccolo app, the tables in
foreign-key order with their row counts. Every other line is one row, ``{"t": table, "r": {column: value}}``,
values encoded by column type (times in ISO 8601, decimals as text, bytes in base64, JSON as its text),
so a file written on SQLite restores into PostgreSQL and back.

What is in it: the tenant row, the staff users who are members of the company or named by its rows
(with their password hashes: a backup file is a secret), and every row with ``tenant_id`` = the company
of every tenant-owned table of the kernel and of every installed plugin (found in Piccolo's app
registry, so a new plugin's tables are included without a change here). Platform tables (job runs,
outbox) are not.

The export reads one consistent snapshot (PostgreSQL: REPEATABLE READ, read only). The restore goes into
a migrated database that does not hold the company: it refuses if the slug or the tenant id exists, if a
user id is taken by another login, if a table is unknown or the file names migrations the database has
not applied; it inserts every row in one transaction keeping primary keys, in foreign-key order, then
moves PostgreSQL's id sequences past the restored ids and checks the counts.
"""
from __future__ import annotations

import base64
import gzip
import json
import os
import tempfile
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import click

from piccolo.columns import (JSON, BigInt, Boolean, Bytea, Date, DoublePrecision, ForeignKey, Integer, Numeric, Real,
                             Serial, SmallInt, Time, Timestamp, Timestamptz)
from piccolo.table import Table

from core.errors import Problem, conflict, not_found

FORMAT = "guanjia-tenant-backup"
VERSION = 1
BATCH = 500
INSERT_BATCH = 200  # rows per INSERT: ≤ 200 × the widest table's columns stays under PostgreSQL's 32767 parameters


# ---------------------------------------------------------------- the tables, in foreign-key order

def backup_tables() -> list[type[Table]]:
    """The tenant, users, and every tenant-owned table of every app, parents before children."""
    from core.personal_data import app_tables, is_tenant_table
    from core.tables import Tenant, User

    tables: list[type[Table]] = [Tenant, User]
    for app_tables_ in app_tables().values():
        tables.extend(t for t in app_tables_ if is_tenant_table(t) and t not in tables)
    return _dependency_order(tables)


def _dependency_order(tables: list[type[Table]]) -> list[type[Table]]:
    """Topological order by foreign keys (stable: the registry's order among equals)."""
    by_name = {t._meta.tablename: t for t in tables}
    deps = {t._meta.tablename: {c._foreign_key_meta.resolved_references._meta.tablename
                                for c in t._meta.foreign_key_columns} & set(by_name) - {t._meta.tablename}
            for t in tables}
    ordered: list[type[Table]] = []
    done: set[str] = set()
    while len(ordered) < len(tables):
        ready = [t for t in tables if t._meta.tablename not in done and deps[t._meta.tablename] <= done]
        if not ready:
            left = sorted(set(by_name) - done)
            raise RuntimeError(f"foreign keys form a cycle among {left}; a backup cannot order them")
        for t in ready:
            ordered.append(t)
            done.add(t._meta.tablename)
    return ordered


# ---------------------------------------------------------------- values

def encode(column: Any, value: Any) -> Any:
    """A column's value as a JSON value (see the module doc)."""
    if value is None:
        return None
    if isinstance(column, JSON):
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if isinstance(column, Bytea):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(column, (Timestamptz, Timestamp, Date, Time)):
        return value.isoformat()
    if isinstance(column, Numeric):
        number = Decimal(str(value))
        digits = getattr(column, "digits", None)  # (precision, scale): SQLite hands back floats, PostgreSQL decimals
        return str(number.quantize(Decimal(1).scaleb(-digits[1])) if digits else number)
    if isinstance(column, Boolean):
        return bool(value)
    if isinstance(column, (Serial, ForeignKey, Integer, BigInt, SmallInt)):
        return int(value)
    if isinstance(column, (Real, DoublePrecision)):
        return float(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Decimal,)):
        return str(value)
    return value


def decode(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column, Bytea):
        return base64.b64decode(value)
    if isinstance(column, Timestamptz):
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if isinstance(column, Timestamp):
        return datetime.fromisoformat(value)
    if isinstance(column, Date):
        return date.fromisoformat(value)
    if isinstance(column, Time):
        return time.fromisoformat(value)
    if isinstance(column, Numeric):
        return Decimal(value)
    return value


def _encode_row(table: type[Table], row: dict[str, Any]) -> dict[str, Any]:
    return {c._meta.name: encode(c, row.get(c._meta.name)) for c in table._meta.columns}


# ---------------------------------------------------------------- reading the company

async def applied_migrations() -> dict[str, list[str]]:
    from core.db import fetch

    out: dict[str, list[str]] = {}
    for row in await fetch("SELECT app_name, name FROM migration ORDER BY app_name, name"):
        out.setdefault(row["app_name"], []).append(row["name"])
    return out


async def _user_ids(tenant_id: int, tables: list[type[Table]]) -> list[int]:
    """Members of the company and every user its rows name (one DISTINCT query per foreign key column)."""
    from core.tables import User
    from core.tenancy import TenantScope

    scope = TenantScope(tenant_id)
    ids: set[int] = set()
    for table in tables:
        if table._meta.tablename in ("core_tenant", "core_user"):
            continue
        for column in table._meta.foreign_key_columns:
            if column._foreign_key_meta.resolved_references is User:
                rows = await scope.select(table, column.as_alias("u")).where(column.is_not_null()).distinct()
                ids.update(int(r["u"]) for r in rows)
    return sorted(ids)


async def _rows(table: type[Table], tenant_id: int, user_ids: list[int]) -> AsyncIterator[list[dict[str, Any]]]:
    """The company's rows of a table in batches, by id (keyset)."""
    from core.tables import Tenant, User
    from core.tenancy import TenantScope

    pk = table._meta.primary_key
    if table is Tenant:
        yield await Tenant.select().where(Tenant.id == tenant_id)
        return
    if table is User:
        for i in range(0, len(user_ids), BATCH):
            yield await User.select().where(User.id.is_in(user_ids[i:i + BATCH])).order_by(User.id)
        return
    last = None
    while True:
        query = TenantScope(tenant_id).select(table)
        if last is not None:
            query = query.where(pk > last)
        batch = await query.order_by(pk).limit(BATCH)
        if not batch:
            return
        yield batch
        last = batch[-1][pk._meta.name]
        if len(batch) < BATCH:
            return


class _Snapshot:
    """One read-only consistent view of the database for the duration of the export."""

    async def __aenter__(self) -> "_Snapshot":
        from piccolo.engine.sqlite import SQLiteEngine, TransactionType

        from core.db import engine

        db = engine()
        self._txn = db.transaction(transaction_type=TransactionType.deferred) if isinstance(db, SQLiteEngine) \
            else db.transaction()
        await self._txn.__aenter__()
        if not isinstance(db, SQLiteEngine):
            from core.tables import Tenant

            await Tenant.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._txn.__aexit__(*exc)


async def backup_tenant(slug: str, output: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Write one company to `output` (default ``backup-<slug>-<UTC time>.jsonl.gz``); returns the header."""
    from core import audit
    from core.db import is_postgres
    from core.plugins import CORE_VERSION, get_registry
    from core.tables import Tenant

    tenant = await Tenant.select(Tenant.id, Tenant.slug, Tenant.name).where(Tenant.slug == slug).first()
    if tenant is None:
        raise not_found(f"company {slug!r}")
    now = datetime.now(timezone.utc)
    path = Path(output or f"backup-{slug}-{now.strftime('%Y%m%dT%H%M%SZ')}.jsonl.gz")
    tables = backup_tables()
    counts: dict[str, int] = {}
    fd, body_name = tempfile.mkstemp(prefix="guanjia-backup-", suffix=".jsonl", dir=path.parent.resolve())
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as body:
            async with _Snapshot():
                migrations = await applied_migrations()
                user_ids = await _user_ids(tenant["id"], tables)
                for table in tables:
                    name = table._meta.tablename
                    counts[name] = 0
                    async for batch in _rows(table, tenant["id"], user_ids):
                        for row in batch:
                            body.write(json.dumps({"t": name, "r": _encode_row(table, row)}, ensure_ascii=False))
                            body.write("\n")
                        counts[name] += len(batch)
        registry = get_registry()
        header = {"format": FORMAT, "version": VERSION, "created_at": now.isoformat(),
                  "tenant": {"id": tenant["id"], "slug": tenant["slug"], "name": tenant["name"]},
                  "engine": "postgresql" if is_postgres() else "sqlite", "core_version": CORE_VERSION,
                  "plugins": {m.name: m.version for m in registry.metas.values()}, "migrations": migrations,
                  "tables": counts, "rows": sum(counts.values())}
        partial = path.with_name(path.name + ".partial")
        with gzip.open(partial, "wt", encoding="utf-8") as out, open(body_name, encoding="utf-8") as body:
            out.write(json.dumps(header, ensure_ascii=False) + "\n")
            for line in body:
                out.write(line)
        partial.replace(path)
    finally:
        Path(body_name).unlink(missing_ok=True)
    await audit.record(None, "tenant.backup", tenant_id=tenant["id"], object_type="tenant", object_id=tenant["id"],
                       data={"file": path.name, "rows": header["rows"], "tables": len(counts)})
    return {**header, "file": str(path)}


# ---------------------------------------------------------------- restoring

def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        try:
            header = json.loads(f.readline())
        except (OSError, ValueError) as exc:
            raise Problem(422, "Invalid input", f"{path}: not a backup file ({exc})", field="file") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise Problem(422, "Invalid input", f"{path}: not a Guanjia company backup", field="file")
    if header.get("version") != VERSION:
        raise Problem(422, "Invalid input", f"{path}: backup format version {header.get('version')} is not {VERSION}",
                      field="file")
    return header


def _lines(path: str | os.PathLike[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        f.readline()
        for line in f:
            if line.strip():
                item = json.loads(line)
                yield item["t"], item["r"]


async def _check_target(header: dict[str, Any], tables: dict[str, type[Table]], path: str) -> None:
    from core.tables import Tenant, User

    unknown = sorted(set(header["tables"]) - set(tables))
    if unknown:
        raise conflict(f"this installation has no table(s) {', '.join(unknown)}: install the same plugins first")
    applied = await applied_migrations()
    missing = [f"{app}:{m}" for app, names in header["migrations"].items() for m in names
               if m not in set(applied.get(app, []))]
    if missing:
        raise conflict(f"the database lacks migrations the backup was made with ({', '.join(missing[:5])}"
                       f"{' …' if len(missing) > 5 else ''}); run `guanjia migrate` with the same plugins first")
    t = header["tenant"]
    if await Tenant.exists().where(Tenant.slug == t["slug"]):
        raise conflict(f"company {t['slug']!r} already exists in this database; restore into an empty database")
    if await Tenant.exists().where(Tenant.id == t["id"]):
        raise conflict(f"tenant id {t['id']} is taken by another company; restore into an empty database")
    users = [r for name, r in _lines(path) if name == "core_user"]
    if users:
        ids = [u["id"] for u in users]
        taken = {r["id"]: r["login"] for r in await User.select(User.id, User.login).where(User.id.is_in(ids))}
        by_login = {r["login"]: r["id"] for r in await User.select(User.id, User.login).where(
            User.login.is_in([u["login"] for u in users]))}
        for u in users:
            if (u["id"] in taken and taken[u["id"]] != u["login"]) or by_login.get(u["login"], u["id"]) != u["id"]:
                raise conflict(f"user {u['login']!r} (id {u['id']}) clashes with another user in this database")


async def _reset_sequences(names: list[str]) -> None:
    from core.db import fetch, is_postgres

    if not is_postgres():
        return  # SQLite's INTEGER PRIMARY KEY continues after the largest id by itself
    for name in names:
        await fetch(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                    f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM \"{name}\"), 1))")


async def restore(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a backup file into this (migrated) database that does not hold the company; one transaction."""
    from core import audit
    from core.db import transaction
    from core.tables import User

    path = str(path)
    header = read_header(path)
    tables = {t._meta.tablename: t for t in backup_tables()}
    await _check_target(header, tables, path)
    existing_users = set()
    loaded: dict[str, int] = {}
    async with transaction():
        user_ids = [r["id"] for n, r in _lines(path) if n == "core_user"]
        if user_ids:
            existing_users = {r["id"] for r in await User.select(User.id).where(User.id.is_in(user_ids))}
        batch: list[Table] = []
        current: str | None = None

        async def flush() -> None:
            if batch:
                await tables[current].insert(*batch)  # type: ignore[index]
                batch.clear()

        for name, raw in _lines(path):
            if name != current:
                await flush()
                current = name
            table = tables[name]
            loaded[name] = loaded.get(name, 0) + 1
            if name == "core_user" and raw["id"] in existing_users:
                continue  # a staff member of another restored company: already here, same login
            columns = {c._meta.name: c for c in table._meta.columns}
            unknown = set(raw) - set(columns)
            if unknown:
                raise conflict(f"table {name} has no column(s) {sorted(unknown)} in this installation")
            batch.append(table(**{k: decode(columns[k], v) for k, v in raw.items()}))
            if len(batch) >= INSERT_BATCH:
                await flush()
        await flush()
        wrong = {n: (loaded.get(n, 0), c) for n, c in header["tables"].items() if loaded.get(n, 0) != c}
        if wrong:
            raise Problem(422, "Invalid input", f"{path}: row counts differ from the header: {wrong}", field="file")
        await _reset_sequences([n for n in loaded if loaded[n]])
        t = header["tenant"]
        await audit.record(None, "tenant.restored", tenant_id=t["id"], object_type="tenant", object_id=t["id"],
                           data={"file": Path(path).name, "rows": header["rows"], "made_at": header["created_at"]})
    return {"tenant": header["tenant"], "rows": sum(loaded.values()), "tables": loaded}


# ---------------------------------------------------------------- the commands (registered in core/cli.py)

@click.command("backup")
@click.argument("tenant_slug")
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="The file to write (default backup-<slug>-<UTC time>.jsonl.gz).")
def backup_command(tenant_slug: str, output: str | None) -> None:
    """Write one company's data (every tenant-owned table of the kernel and the plugins) to one file."""
    from core.cli import _run

    header = _run(backup_tenant(tenant_slug, output))
    click.echo(f"company {tenant_slug}: {header['rows']} rows of {sum(1 for n in header['tables'].values() if n)} "
               f"tables written to {header['file']}")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def restore_command(file: str) -> None:
    """Load a company's backup FILE into this database (migrated; the company must not exist in it)."""
    from core.cli import _run

    result = _run(restore(file))
    click.echo(f"company {result['tenant']['slug']} restored: {result['rows']} rows")
