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


async def test_site_plugin_is_wired_into_the_registry_migrations_and_hooks_for_its_company_only(tmp_path: Path,
                                                                                               monkeypatch):
    """GUANJIA_TENANTS_DIR/<slug>/plugins/<name>: `core.get_registry()` loads it, `core.piccolo_conf` lists its app
    (`guanjia migrate` creates its table), its routes answer its company only and its hooks run for it only."""
    import os
    import subprocess

    from litestar.testing import AsyncTestClient

    from core.app import create_app
    from core.onboarding import load_upload, validate
    from core.plugins import set_registry
    from core.settings import get_settings
    from core.tickets import create_ticket
    from tests.conftest import make_world

    root = Path(__file__).resolve().parents[2]
    a, b = await make_world(plugins=[]), await make_world(plugins=[])
    name = f"site_w_{uuid.uuid4().hex[:6]}"
    tenants = tmp_path / "tenants"
    scaffold(name, tenants / a.tenant["slug"] / "plugins")
    hooks = tenants / a.tenant["slug"] / "plugins" / name / "hooks.py"
    hooks.write_text(hooks.read_text(encoding="utf-8") + "\n\nCALLED: list[int] = []\n\n\n@hookimpl\n"
                     "def on_ticket_created(tenant_id, ticket):\n    CALLED.append(tenant_id)\n", encoding="utf-8")
    env = {**os.environ, "GUANJIA_TENANTS_DIR": str(tenants)}
    listed = subprocess.run([sys.executable, "-c", "import core.piccolo_conf as c; print(c.APP_REGISTRY.apps)"],
                            env=env, cwd=root, capture_output=True, text=True, timeout=120)
    assert f"'{name}.piccolo_app'" in listed.stdout, listed.stderr
    migrated = subprocess.run([sys.executable, "-c", "from core.cli import main; main()", "migrate"], env=env, cwd=root,
                              capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-2000:]

    old = get_registry()
    monkeypatch.setenv("GUANJIA_TENANTS_DIR", str(tenants))
    get_settings.cache_clear()
    set_registry(None)
    try:
        registry = get_registry()
        registry.cache_seconds = 0.0
        assert registry.site_owners == {name: a.tenant["slug"]}
        assert name in await registry.enabled(a.tenant_id) and name not in await registry.enabled(b.tenant_id)
        assert name not in await registry.enabled(b.tenant_id, b.project["id"])
        url = f"/api/v1/{name.replace('_', '-')}/entries"
        async with AsyncTestClient(app=create_app(embedded_worker=False), base_url="http://127.0.0.1") as client:
            ok = await client.post(url, headers=a.headers(), json={"project_id": a.project["id"], "title": "本公司"})
            assert ok.status_code == 201, ok.text
            assert (await client.get(url, headers=a.headers())).status_code == 200
            assert (await client.get(url, headers=b.headers())).status_code == 404
            assert (await client.get(f"{url}/{ok.json()['id']}", headers=b.headers())).status_code == 404
        for world in (a, b):
            await create_ticket(await world.principal("front_desk"), {
                "project_id": world.project["id"], "kind": "inquiry", "title": "停车月卡办理", "channel": "hotline"})
        assert importlib.import_module(f"{name}.hooks").CALLED == [a.tenant_id]
        # another company's tenant.toml cannot switch it on
        bundle = load_upload(f'[company]\nslug = "{b.tenant["slug"]}"\nname = "乙"\nplugins = ["{name}"]\n', {})
        assert any("site-local plugin of company" in e.reason for e in await validate(bundle))
    finally:
        set_registry(old)
        monkeypatch.delenv("GUANJIA_TENANTS_DIR")
        get_settings.cache_clear()
        folder = str((tenants / a.tenant["slug"] / "plugins").resolve())
        if folder in sys.path:
            sys.path.remove(folder)
        for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[mod]
