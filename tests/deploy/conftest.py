"""Fixtures of the deployment tests: a PostgreSQL database and Redis namespace of their own."""
from __future__ import annotations

import asyncio
import os
import uuid

import pytest


@pytest.fixture
def own_database(tmp_path):
    """A fresh PostgreSQL database and Redis namespace for the processes, dropped afterwards."""
    import asyncpg

    name = f"guanjia_topology_{uuid.uuid4().hex[:8]}"
    admin = os.environ["GUANJIA_TEST_ADMIN_URL"]
    base = admin.rpartition("/")[0]

    async def ddl(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(ddl(f'CREATE DATABASE "{name}"'))
    extra = {"DATABASE_URL": f"{base}/{name}", "GUANJIA_QUEUE_NAMESPACE": name,
             "GUANJIA_DATA_DIR": str(tmp_path)}
    try:
        yield extra
    finally:
        asyncio.run(ddl(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        import redis

        r = redis.Redis.from_url(os.environ["REDIS_URL"])
        keys = list(r.scan_iter(f"{name}*"))
        if keys:
            r.delete(*keys)
