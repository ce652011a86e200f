"""Site-local plugins: `tenants/<slug>/plugins/<name>/` is a plugin for company <slug> alone.

`core.get_registry()` registers each like an installed plugin (and `core.piccolo_conf` lists its Piccolo
app, so `guanjia migrate` creates its tables); `registry.enabled` counts it on for its own company only, so
for every other company its routes answer 404 and its hooks are not called. Onboarding that company also
writes its PluginState row (`enable_site_plugins`), so listings show where it is on.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any


def site_plugin_dirs(tenants_dir: str | Path) -> list[tuple[str, Path]]:
    """(company slug, plugin package folder) for every site-local plugin under `tenants_dir`."""
    root = Path(tenants_dir)
    found: list[tuple[str, Path]] = []
    if not root.is_dir():
        return found
    for company in sorted(p for p in root.glob("*/plugins") if p.is_dir()):
        for package in sorted(company.iterdir()):
            if (package / "__init__.py").is_file():
                found.append((company.parent.name, package))
    return found


def _importable(package: Path) -> None:
    folder = str(package.parent.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)


def register_site_plugins(registry: Any, tenants_dir: str | Path) -> dict[str, str]:
    """Import and register every site-local plugin; returns {plugin name: company slug} (also kept in
    `registry.site_owners`, which `registry.enabled` reads: the plugin is on for that company only)."""
    owners: dict[str, str] = {}
    for slug, package in site_plugin_dirs(tenants_dir):
        _importable(package)
        if package.name in registry.packages or any(p.__name__ == package.name for p in registry.packages.values()):
            continue  # registered already (the registry is built once per process)
        meta = registry.add(importlib.import_module(package.name), source=f"tenants/{slug}/plugins/{package.name}")
        owners[meta.name] = slug
    getattr(registry, "site_owners", {}).update(owners)
    return owners


def site_piccolo_apps(tenants_dir: str | Path) -> list[str]:
    """Piccolo apps of the site-local plugins (for the kernel's app registry, so `guanjia migrate` creates
    their tables); their folders are put on the import path."""
    apps = []
    for _, package in site_plugin_dirs(tenants_dir):
        if (package / "piccolo_app.py").is_file():
            _importable(package)
            apps.append(f"{package.name}.piccolo_app")
    return apps


async def enable_site_plugins(registry: Any, owners: dict[str, str]) -> dict[str, str]:
    """Enable each site-local plugin for its company (once it exists) and for no other company."""
    from core.tables import PluginState, Tenant
    from core.tenancy import TenantScope

    for plugin, slug in owners.items():
        tenant = await Tenant.select(Tenant.id).where(Tenant.slug == slug).first()
        others = PluginState.plugin == plugin
        if tenant is not None:
            others = others & (PluginState.tenant_id != tenant["id"])
        await PluginState.delete().where(others)  # a site-local plugin belongs to one company only
        if tenant is None:
            continue
        scope = TenantScope(tenant["id"])
        if not await scope.exists(PluginState).where((PluginState.plugin == plugin) & PluginState.project_id.is_null()):
            await scope.insert(PluginState, plugin=plugin, project_id=None, enabled=True, settings={})
        registry.forget(tenant["id"])
    registry.forget()
    return owners


async def load_site_plugins(registry: Any, tenants_dir: str | Path) -> dict[str, str]:
    """Register the site-local plugins under `tenants_dir` and enable each for its company only."""
    return await enable_site_plugins(registry, register_site_plugins(registry, tenants_dir))
