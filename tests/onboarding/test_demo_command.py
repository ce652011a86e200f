"""`guanjia demo` imports the demo company from tenants/demo through the onboarding importer, lets the plugins
add their demo activity, and does nothing the second time."""
from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from pathlib import Path

from click.testing import CliRunner

DEMO = Path(__file__).resolve().parents[2] / "tenants" / "demo"


def _copy_of_demo(tmp_path: Path) -> tuple[Path, str]:
    """tenants/demo under a tmp tenants dir, with its own slug and logins (logins are global)."""
    slug = f"demo-{uuid.uuid4().hex[:6]}"
    folder = tmp_path / "tenants" / "demo"
    shutil.copytree(DEMO, folder)
    for f in ("staff.csv", "grids.csv"):
        (folder / f).write_text((folder / f).read_text(encoding="utf-8-sig").replace("demo-", f"{slug}-"), encoding="utf-8")
    (folder / "tenant.toml").write_text((folder / "tenant.toml").read_text(encoding="utf-8").replace(
        'slug = "demo"', f'slug = "{slug}"'), encoding="utf-8")
    return folder, slug


def test_demo_command_imports_tenants_demo_then_plugin_activity_once(tmp_path: Path, monkeypatch):
    from core.cli import main
    from core.settings import get_settings

    folder, slug = _copy_of_demo(tmp_path)
    monkeypatch.setenv("GUANJIA_TENANTS_DIR", str(tmp_path / "tenants"))
    monkeypatch.setenv("GUANJIA_DEMO_PASSWORD", "demo-pass-2026")
    get_settings.cache_clear()
    try:
        started = time.monotonic()
        first = CliRunner().invoke(main, ["demo", "--no-serve"])
        took = time.monotonic() - started
        assert first.exit_code == 0, first.output
        assert f"company '{slug}' (imported from tenants/demo" in first.output
        assert f"front_desk       {slug}-front-desk" in first.output
        assert took < 300, f"guanjia demo took {took:.0f} s"
        again = CliRunner().invoke(main, ["demo", "--no-serve"])
        assert again.exit_code == 0 and f"company '{slug}' (already there" in again.output
    finally:
        monkeypatch.delenv("GUANJIA_TENANTS_DIR")
        monkeypatch.delenv("GUANJIA_DEMO_PASSWORD")
        get_settings.cache_clear()
    asyncio.run(_check(slug))


async def _check(slug: str) -> None:
    from core.auth import login
    from core.db import close_pool
    from core.tables import Membership, Project, Tenant, Ticket, Unit
    from core.tenancy import TenantScope
    from plugins.arrears_collection.tables import Bill
    from plugins.parking_leases.tables import Lease

    try:
        tenant = await Tenant.select().where(Tenant.slug == slug).first()
        scope = TenantScope(tenant["id"])
        hy = await scope.select(Project).where(Project.code == "HY").first()
        assert await scope.count(Unit).where(Unit.project_id == hy["id"]) == 2016  # the folder's estate, not the built-in
        assert await scope.count(Membership) >= 24 and await scope.count(Ticket) >= 200
        assert await scope.count(Lease) > 0 and await scope.count(Bill) > 0  # the plugins' seed_demo ran
        session = await login(f"{slug}-butler", "demo-pass-2026")  # the demo password, no change asked
        assert session["role"] == "butler"
    finally:
        await close_pool()
