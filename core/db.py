"""Database engines and the few helpers every service uses.

The engine is chosen by `DATABASE_URL`: PostgreSQL for a real deployment, SQLite for the embedded
default. The PostgreSQL engine keeps one connection pool per event loop, so the web app, the
in-process worker and tests can share one engine object without handing a pool across loops.
"""
from __future__ import annotations

import asyncio
import json
import weakref
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

from asyncpg.exceptions import InternalClientError
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

from core.settings import get_settings


class PooledPostgresEngine(PostgresEngine):
    """A PostgresEngine whose pool belongs to the running event loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pools: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]" = weakref.WeakKeyDictionary()
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def pool(self) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._pools.get(loop)

    @pool.setter
    def pool(self, value: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if value is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = value


def make_engine() -> SQLiteEngine | PostgresEngine:
    settings = get_settings().db
    if settings.is_postgres:
        return PooledPostgresEngine(config={"dsn": settings.url}, extensions=())
    path = Path(settings.sqlite_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(path), timeout=30)


def engine() -> SQLiteEngine | PostgresEngine:
    from core.tables import Tenant

    return Tenant._meta.db


def is_postgres() -> bool:
    return engine().engine_type == "postgres"


@asynccontextmanager
async def transaction() -> AsyncIterator[Any]:
    """One database transaction; nested calls join the outer one."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate) as txn:
            yield txn
    else:
        async with db.transaction() as txn:
            yield txn


async def _no_reset(conn: Any) -> None:
    """Connections come back clean (no advisory locks, LISTEN or session SET are used): skip asyncpg's reset round trip."""


async def start_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is None:
        s = get_settings().db
        await db.start_connection_pool(min_size=s.pool_min, max_size=s.pool_max, reset=_no_reset)


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        await db.close_connection_pool()


async def ping() -> bool:
    """True when the database answers a trivial query."""
    try:
        from core.tables import Tenant

        await Tenant.raw("SELECT 1")
        return True
    except Exception:
        return False


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run portable SQL with `{}` placeholders (Piccolo's raw style) and return rows as dicts."""
    from core.tables import Tenant

    return await Tenant.raw(sql, *args)


_compiled: dict[str, str] = {}


def _postgres_sql(template: str, nargs: int) -> str:
    """`template` with `{}` placeholders as PostgreSQL's `$1 … $n`, compiled once per template."""
    sql = _compiled.get(template)
    if sql is None:
        sql = QueryString(template, *([None] * nargs)).compile_string(engine_type="postgres")[0]
        if len(_compiled) < 4096:
            _compiled[template] = sql
    return sql


async def query(template: str, *args: Any) -> list[dict[str, Any]]:
    """Run one statement of the hot paths; placeholders and rows as `fetch`, with less work per call.

    On PostgreSQL the statement goes straight to asyncpg, on the current transaction's connection or a
    pooled one, so each connection prepares it once (asyncpg's statement cache) and no query object is
    built per call. On SQLite it runs as `fetch` does. Templates must be constant strings: values go in
    `args`, never into the text."""
    db = engine()
    if not isinstance(db, PostgresEngine):
        return await db.run_querystring(QueryString(template, *args))
    sql = _postgres_sql(template, len(args))
    txn = db.current_transaction.get()
    if txn is not None:
        rows = await txn.connection.fetch(sql, *args)
    elif (pool := db.pool) is not None:
        async with pool.acquire() as conn:
            try:
                rows = await conn.fetch(sql, *args)
            except InternalClientError:
                # the server ended the session under it (restart, failover, terminate): never reuse it
                conn.terminate()
                raise
    else:
        conn = await db.get_new_connection()
        try:
            rows = await conn.fetch(sql, *args)
        finally:
            await conn.close()
    return [dict(r) for r in rows]


def json_value(value: Any) -> Any:
    """Decode a JSON column the way both engines hand it back (str on SQLite and asyncpg)."""
    if isinstance(value, (bytes, str)):
        return json.loads(value) if value else None
    return value
