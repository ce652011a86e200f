"""tenants/demo/ is a valid company that `guanjia onboard tenants/demo` imports."""
from __future__ import annotations

import shutil
import uuid
from datetime import date
from pathlib import Path

from core.onboarding import load_folder, onboard, validate
from core.tables import Building, Customer, Membership, Project, Unit
from core.tenancy import TenantScope

DEMO = Path(__file__).resolve().parents[2] / "tenants" / "demo"


async def test_demo_company_files_are_valid_and_import_2000_homes_in_12_buildings(tmp_path: Path):
    slug = f"demo-{uuid.uuid4().hex[:6]}"
    folder = tmp_path / slug
    shutil.copytree(DEMO, folder)
    # logins are global: give this copy its own
    for f in ("staff.csv", "grids.csv"):
        (folder / f).write_text((folder / f).read_text(encoding="utf-8-sig").replace("demo-", f"{slug}-"), encoding="utf-8")
    (folder / "tenant.toml").write_text((folder / "tenant.toml").read_text(encoding="utf-8").replace(
        'slug = "demo"', f'slug = "{slug}"'), encoding="utf-8")
    bundle = load_folder(folder)
    assert await validate(bundle) == []
    report = await onboard(bundle, as_of=date(2026, 9, 30))
    scope = TenantScope(report.tenant_id)
    hy = await scope.select(Project).where(Project.code == "HY").first()
    zx = await scope.select(Project).where(Project.code == "ZX").first()
    assert await scope.count(Building).where(Building.project_id == hy["id"]) == 12
    assert await scope.count(Unit).where(Unit.project_id == hy["id"]) == 2016
    uses = {r["use"] for r in await scope.select(Unit, Unit.use).where(Unit.project_id == zx["id"]).distinct()}
    assert uses == {"office", "hotel", "retail", "other", "parking"}
    roles = {r["role"] for r in await scope.select(Membership, Membership.role).distinct()}
    assert len(roles) == 8
    assert await scope.count(Customer) > 1800
