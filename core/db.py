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

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

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


def json_value(value: Any) -> Any:
    """Decode a JSON column the way both engines hand it back (str on SQLite and asyncpg)."""
    if isinstance(value, (bytes, str)):
        return json.loads(value) if value else None
    return value
