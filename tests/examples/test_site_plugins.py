"""Site-local plugins in tenants/<slug>/plugins/ load for that company only."""
from __future__ import annotations

import importlib
import sys
import uuid
from pathlib import Path

from core.onboarding.sites import load_site_plugins, site_piccolo_apps
from core.plugins import get_registry
from core.scaffold import scaffold
from core.tables import PluginState


async def test_site_plugin_answers_for_its_company_and_404_for_another(tmp_path: Path):
    from litestar.testing import AsyncTestClient

    from core.app import create_app
    from tests.conftest import make_world

    a, b = await make_world(plugins=[]), await make_world(plugins=[])
    name = f"site_notes_{uuid.uuid4().hex[:6]}"
    written = scaffold(name, tmp_path / "tenants" / a.tenant["slug"] / "plugins")
    assert site_piccolo_apps(tmp_path / "tenants") == [f"{name}.piccolo_app"]
    registry = get_registry()
    try:
        owners = await load_site_plugins(registry, tmp_path / "tenants")
        assert owners == {name: a.tenant["slug"]}
        for path in sorted(p for p in written if "/piccolo_migrations/" in p.as_posix() and p.name != "__init__.py"):
            await (await importlib.import_module(f"{name}.piccolo_migrations.{path.stem}").forwards()).run()
        states = await PluginState.select(PluginState.tenant_id).where(PluginState.plugin == name)
        assert [s["tenant_id"] for s in states] == [a.tenant_id]
        assert name in await registry.enabled(a.tenant_id) and name not in await registry.enabled(b.tenant_id)
        url = f"/api/v1/{name.replace('_', '-')}/entries"
        async with AsyncTestClient(app=create_app(embedded_worker=False), base_url="http://127.0.0.1") as client:
            ok = await client.post(url, headers=a.headers(), json={"project_id": a.project["id"], "title": "本项目"})
            assert ok.status_code == 201, ok.text
            assert (await client.get(url, headers=a.headers())).status_code == 200
            assert (await client.get(url, headers=b.headers())).status_code == 404
            assert (await client.get(f"{url}/{ok.json()['id']}", headers=b.headers())).status_code == 404
        # loading again changes nothing
        await PluginState.delete().where(PluginState.plugin == name)
        registry.pm.unregister(name=name)
        del registry.metas[name], registry.packages[name]
        await load_site_plugins(registry, tmp_path / "tenants")
        assert await PluginState.count().where(PluginState.plugin == name) == 1
    finally:
        if name in registry.metas:
            registry.pm.unregister(name=name)
            del registry.metas[name], registry.packages[name]
        sys.path.remove(str((tmp_path / "tenants" / a.tenant["slug"] / "plugins").resolve()))
        for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[mod]
