"""Test set-up: one fresh database per run (SQLite by default, PostgreSQL when DATABASE_URL is set),
migrated once; every test builds its own companies, so tests never see each other's rows."""
from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

_RUN = uuid.uuid4().hex[:8]
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
os.environ["GUANJIA_QUEUE_NAMESPACE"] = f"guanjia-test-{_RUN}"
if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    base, _, _ = os.environ["DATABASE_URL"].rpartition("/")
    os.environ["GUANJIA_TEST_ADMIN_URL"] = f"{base}/postgres"
    os.environ["DATABASE_URL"] = f"{base}/guanjia_test_{os.getpid()}"
else:
    os.environ["GUANJIA_SQLITE_PATH"] = os.path.join(tempfile.mkdtemp(prefix="guanjia-test-"), "test.sqlite3")

PASSWORD = "test-password-1"
_counter = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    from core.settings import get_settings

    get_settings.cache_clear()
    if os.environ.get("GUANJIA_TEST_ADMIN_URL"):
        asyncio.run(_create_pg_database())
    # argon2 at the lowest cost for test logins (the hash format is the same; production keeps the defaults)
    from argon2 import PasswordHasher

    from core import auth

    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    from core.plugins import get_registry, set_registry

    set_registry(None)
    registry = get_registry()
    from tests import dummy_plugin

    registry.add(dummy_plugin)
    registry.validate()
    registry.cache_seconds = 0.0
    from core.cli import migrate_all

    asyncio.run(migrate_all(quiet=True))


def pytest_unconfigure(config: pytest.Config) -> None:
    if os.environ.get("GUANJIA_TEST_ADMIN_URL") and os.environ.get("GUANJIA_KEEP_TEST_DB") != "1":
        asyncio.run(_drop_pg_database())


async def _create_pg_database() -> None:
    import asyncpg

    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    conn = await asyncpg.connect(os.environ["GUANJIA_TEST_ADMIN_URL"])
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()


async def _drop_pg_database() -> None:
    import asyncpg

    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    conn = await asyncpg.connect(os.environ["GUANJIA_TEST_ADMIN_URL"])
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


@pytest.fixture(autouse=True)
def _fresh_caches():
    from core import auth, sla

    sla.forget_tenant_settings()
    auth._cache.clear()
    auth.throttle._failures.clear()
    if os.environ.get("REDIS_URL"):  # the shared login-failure counts of this run's namespace
        import redis

        from core.settings import get_settings

        r = redis.Redis.from_url(os.environ["REDIS_URL"])
        keys = list(r.scan_iter(f"{get_settings().jobs.namespace}:login-failures:*"))
        if keys:
            r.delete(*keys)
        r.close()
    yield


@dataclass
class World:
    """A company with two projects, buildings, units, grids, customers and one staff member per role."""

    tenant: dict[str, Any]
    project: dict[str, Any]
    other_project: dict[str, Any]
    building: dict[str, Any]
    units: list[dict[str, Any]]
    grid: dict[str, Any]
    customers: list[dict[str, Any]]
    staff: dict[str, int]
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def tenant_id(self) -> int:
        return self.tenant["id"]

    def headers(self, role: str = "front_desk") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def principal(self, role: str = "front_desk"):
        from core.admin import principal_of

        return await principal_of(self.tenant_id, self.staff[role], role)


async def make_world(*, plugins: list[str] | None = None, kind: str = "residential", settings: dict | None = None,
                     login: bool = True) -> World:
    """Build a company. `plugins`: enabled plugins (default: every installed one except the test plugin)."""
    from core import admin, auth
    from core.plugins import get_registry
    from core.roles import ALL_ROLES
    from core.tables import Building, Customer, Grid, Occupancy, Project, Unit
    from core.tenancy import TenantScope

    n = next(_counter)
    slug = f"t{_RUN}-{n}"
    if plugins is None:
        plugins = [p for p in get_registry().metas if p not in ("core", "dummy")]
    tenant = await admin.create_tenant(slug, f"物业公司 {n}", plugins=plugins, settings=settings or {})
    scope = TenantScope(tenant["id"])
    project = await scope.insert(Project, code="P1", name="项目一", kind=kind, total_area=Decimal("100000"))
    other = await scope.insert(Project, code="P2", name="项目二", kind="commercial", total_area=Decimal("50000"))
    building = await scope.insert(Building, project_id=project["id"], code="B1", name="1栋", floors=10)
    staff: dict[str, int] = {}
    for role in ALL_ROLES:
        user = await admin.create_user(f"{slug}-{role}", f"{role} {n}", PASSWORD)
        await admin.add_membership(tenant["id"], user["id"], role, [] if role == "company_cs" else [project["id"]])
        staff[role] = user["id"]
    grid = await scope.insert(Grid, project_id=project["id"], code="G1", name="一号网格", responsible_id=staff["butler"])
    units = []
    for i in range(4):
        units.append(await scope.insert(Unit, project_id=project["id"], building_id=building["id"], entrance="1",
                                        floor=i + 1, room=f"{i + 1}01", area=Decimal("100.50"),
                                        grid_id=grid["id"] if i < 2 else None))
    customers = []
    for i in range(2):
        c = await scope.insert(Customer, name=f"业主{i}", phone=f"1380000{n:04d}{i}", id_number=f"44030019900101{n:03d}{i}")
        await scope.insert(Occupancy, customer_id=c["id"], unit_id=units[i]["id"], role="owner", start_date=date(2020, 1, 1))
        customers.append(c)
    world = World(tenant, project, other, building, units, grid, customers, staff)
    if login:
        for role in ALL_ROLES:
            world.tokens[role] = (await auth.login(f"{slug}-{role}", PASSWORD))["token"]
    return world


@pytest.fixture
async def world() -> World:
    return await make_world()


@pytest.fixture
async def other_world() -> World:
    return await make_world()


@pytest.fixture(scope="session")
def app():
    from core.app import create_app

    return create_app(embedded_worker=False)


@pytest.fixture
async def client(app):
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as c:
        yield c


def at(text: str) -> datetime:
    """An aware moment in Beijing time: at('2026-09-30 17:00')."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai"))


def utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc)
