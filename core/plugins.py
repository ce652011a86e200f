"""The one plugin manager: discovery, validation at start-up, per-tenant enablement, hook calls.

Plugins are packages registered in the entry-point group ``guanjia`` (built-ins too). A package
exports ``plugin = PluginMeta(...)`` in its ``__init__.py`` and implements hooks in ``hooks.py``.
The kernel's own defaults are a plugin named ``core``, registered with ``trylast``.
"""
from __future__ import annotations

import importlib
import inspect
import time
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Iterable

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from core import hookspecs
from core.contracts import PluginMeta

ENTRY_POINT_GROUP = "guanjia"
CORE_VERSION = "0.1.0"
hookimpl = pluggy.HookimplMarker("guanjia")


class PluginError(RuntimeError):
    """A plugin failed validation; the message names the plugin and the hook."""


def _entry_point_modules() -> list[tuple[str, str]]:
    return [(ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)]


def discover_piccolo_apps() -> list[str]:
    """Piccolo apps of the installed plugins and of the site-local ones (used by `core.piccolo_conf`)."""
    apps = []
    for _, value in _entry_point_modules():
        module = value.split(":")[0]
        if importlib.util.find_spec(f"{module}.piccolo_app") is not None:
            apps.append(f"{module}.piccolo_app")
    from core.onboarding.sites import site_piccolo_apps

    return apps + [a for a in site_piccolo_apps(tenants_dir()) if a not in apps]


def tenants_dir() -> str:
    """Where the companies' folders are (`GUANJIA_TENANTS_DIR`, default `tenants`): site-local plugins live there."""
    from core.settings import get_settings

    return get_settings().tenants_dir


class PluginRegistry:
    """Every plugin known to this process, and which of them each tenant has enabled."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("guanjia")
        self.pm.add_hookspecs(hookspecs)
        self.metas: dict[str, PluginMeta] = {}
        self.packages: dict[str, ModuleType] = {}
        self._enabled_cache: dict[int, tuple[float, list[dict[str, Any]]]] = {}
        self._collected: dict[str, tuple[tuple[Any, ...], tuple[tuple[str, Any], ...]]] = {}
        self._enabled_sets: dict[tuple[int, int | None], tuple[list[dict[str, Any]], frozenset[str]]] = {}
        self.cache_seconds = 5.0
        self.site_owners: dict[str, str] = {}  # site-local plugin → the slug of the one company it is for
        self._site_ids: dict[str, tuple[float, int | None]] = {}

    # ------------------------------------------------------------ loading
    def add(self, package: ModuleType | str, *, source: str = "") -> PluginMeta:
        """Register a plugin package (module or dotted name)."""
        if isinstance(package, str):
            try:
                package = importlib.import_module(package)
            except Exception as exc:  # noqa: BLE001
                raise PluginError(f"plugin {source or package}: cannot be imported: {exc}") from exc
        meta = getattr(package, "plugin", None)
        if not isinstance(meta, PluginMeta):
            raise PluginError(f"plugin {source or package.__name__}: its package must export `plugin = PluginMeta(...)`")
        if meta.name in self.metas:
            raise PluginError(f"plugin {meta.name}: duplicate name (from {package.__name__} and "
                              f"{self.packages[meta.name].__name__})")
        try:
            spec = SpecifierSet(meta.core_version)
        except InvalidSpecifier as exc:
            raise PluginError(f"plugin {meta.name}: core_version {meta.core_version!r} is not a version range") from exc
        if Version(CORE_VERSION) not in spec:
            raise PluginError(f"plugin {meta.name}: needs core {meta.core_version}, this is core {CORE_VERSION}")
        if hasattr(package, "__path__") and importlib.util.find_spec(f"{package.__name__}.hookspecs") is not None:
            # a plugin may offer hooks of its own to the plugins that depend on it
            self.pm.add_hookspecs(importlib.import_module(f"{package.__name__}.hookspecs"))
        hooks = getattr(package, "hooks", None)
        if hooks is None and hasattr(package, "__path__") and \
                importlib.util.find_spec(f"{package.__name__}.hooks") is not None:
            hooks = importlib.import_module(f"{package.__name__}.hooks")
        if hooks is None and not hasattr(package, "__path__"):
            hooks = package  # a single-module plugin keeps its hooks beside its metadata
        if hooks is not None:
            self._register_hooks(meta.name, hooks)
        self.metas[meta.name] = meta
        self.packages[meta.name] = package
        return meta

    def _register_hooks(self, name: str, hooks: ModuleType | object) -> None:
        try:
            self.pm.register(hooks, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {name}: {exc}") from exc
        for attr in dir(hooks):
            fn = getattr(hooks, attr)
            if callable(fn) and attr.startswith(("register_", "on_", "resolve_", "seed_")) and \
                    not hasattr(fn, "guanjia_impl") and inspect.isfunction(fn) and fn.__module__ == getattr(hooks, "__name__", ""):
                raise PluginError(f"plugin {name}: {attr} looks like a hook but is not marked @hookimpl")

    def load_entry_points(self) -> None:
        for ep_name, value in _entry_point_modules():
            module = value.split(":")[0]
            if ep_name in self.metas:
                continue
            self.add(module, source=ep_name)

    def validate(self) -> None:
        """Fail loudly: unknown hook names, missing dependencies."""
        for name, impls in self._impls_without_spec():
            raise PluginError(f"plugin {name}: implements unknown hook {impls!r}; see core/hookspecs.py for the hooks there are")
        for meta in self.metas.values():
            for dep in meta.dependencies:
                if dep not in self.metas:
                    raise PluginError(f"plugin {meta.name}: depends on plugin {dep!r}, which is not installed")

    def _impls_without_spec(self) -> Iterable[tuple[str, str]]:
        for hook_name in dir(self.pm.hook):
            if hook_name.startswith("_"):
                continue
            caller = getattr(self.pm.hook, hook_name)
            if isinstance(caller, pluggy.HookCaller) and caller.spec is None:
                for impl in caller.get_hookimpls():
                    if not impl.optionalhook:  # hooks offered by an optional plugin may be absent
                        yield impl.plugin_name, hook_name

    # ------------------------------------------------------------ introspection
    def hooks_of(self, name: str) -> list[str]:
        plugin = self.pm.get_plugin(name)
        if plugin is None:
            return []
        return sorted(c.name for c in (self.pm.get_hookcallers(plugin) or []))

    def collect(self, hook_name: str) -> list[tuple[str, Any]]:
        """Results of a ``register_*`` hook as (plugin name, item), in registration order. Registrations are
        declarations: each implementation is asked once, again only when the implementations change."""
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        known = self._collected.get(hook_name)
        if known is not None and len(known[0]) == len(impls) and all(a is b for a, b in zip(known[0], impls)):
            return list(known[1])
        out: list[tuple[str, Any]] = []
        for impl in reversed(impls):
            result = impl.function()
            for item in result or []:
                out.append((impl.plugin_name, item))
        if hook_name.startswith("register_"):
            self._collected[hook_name] = (tuple(impls), tuple(out))
        return out

    def forget_registrations(self) -> None:
        """Ask every ``register_*`` implementation again on the next `collect`."""
        self._collected.clear()

    async def collect_enabled(self, hook_name: str, *, tenant_id: int, project_id: int | None = None) -> list[tuple[str, Any]]:
        """Like `collect`, keeping only the plugins enabled for this tenant (or project): menus, widgets."""
        enabled = await self.enabled(tenant_id, project_id)
        return [(name, item) for name, item in self.collect(hook_name) if name in enabled]

    # ------------------------------------------------------------ enablement
    async def _states(self, tenant_id: int) -> list[dict[str, Any]]:
        from core.tables import PluginState

        now = time.monotonic()
        hit = self._enabled_cache.get(tenant_id)
        if hit and hit[0] > now:
            return hit[1]
        if hit:  # expired: the others keep the old states while this call reads them (no stampede)
            self._enabled_cache[tenant_id] = (now + self.cache_seconds, hit[1])
        rows = await PluginState.select().where(PluginState.tenant_id == tenant_id)
        self._enabled_cache[tenant_id] = (now + self.cache_seconds, rows)
        return rows

    def forget(self, tenant_id: int | None = None) -> None:
        if tenant_id is None:
            self._enabled_cache.clear()
            self._enabled_sets.clear()
        else:
            self._enabled_cache.pop(tenant_id, None)
            for key in [k for k in self._enabled_sets if k[0] == tenant_id]:
                self._enabled_sets.pop(key, None)

    async def _site_tenant_id(self, slug: str) -> int | None:
        """The id of the company a site-local plugin belongs to (None until that company exists)."""
        from core.tables import Tenant

        now = time.monotonic()
        hit = self._site_ids.get(slug)
        if hit and (hit[1] is not None or hit[0] > now):
            return hit[1]
        row = await Tenant.select(Tenant.id).where(Tenant.slug == slug).first()
        self._site_ids[slug] = (now + self.cache_seconds, row["id"] if row else None)
        return row["id"] if row else None

    async def enabled(self, tenant_id: int, project_id: int | None = None) -> frozenset[str]:
        """Plugins enabled for a tenant (any project counts) or, with `project_id`, for that project.

        A site-local plugin is on for its own company unless switched off there, and never for another.
        The answer is kept as long as the tenant's plugin states are (a few seconds; `forget` drops both)."""
        states = await self._states(tenant_id)
        known = self._enabled_sets.get((tenant_id, project_id))
        if known is not None and known[0] is states:
            return known[1]
        names = await self._enabled_of(states, tenant_id, project_id)
        if len(self._enabled_sets) > 20000:
            self._enabled_sets.clear()
        self._enabled_sets[(tenant_id, project_id)] = (states, names)
        return names

    async def _enabled_of(self, states: list[dict[str, Any]], tenant_id: int, project_id: int | None) -> frozenset[str]:
        tenant_level = {s["plugin"]: s["enabled"] for s in states if s["project_id"] is None}
        own_site = {n for n, slug in self.site_owners.items() if await self._site_tenant_id(slug) == tenant_id}
        names = {"core"}
        for name in self.metas:
            if name == "core" or (name in self.site_owners and name not in own_site):
                continue
            default = name in own_site
            if project_id is None:
                if tenant_level.get(name, default) or any(s["plugin"] == name and s["enabled"] for s in states):
                    names.add(name)
            else:
                project_level = [s["enabled"] for s in states if s["plugin"] == name and s["project_id"] == project_id]
                on = project_level[0] if project_level else tenant_level.get(name, default)
                if on:
                    names.add(name)
        # a plugin whose dependency is off is off too
        for name in list(names):
            if any(dep not in names for dep in self.metas.get(name, PluginMeta(name, "0")).dependencies):
                names.discard(name)
        return frozenset(names)

    async def settings(self, tenant_id: int, plugin: str, project_id: int | None = None) -> dict[str, Any]:
        """A plugin's settings: defaults ← tenant ← project."""
        from core.db import json_value

        merged = dict(self.metas[plugin].settings) if plugin in self.metas else {}
        states = await self._states(tenant_id)
        levels = [None] if project_id is None else [None, project_id]
        for level in levels:
            for s in states:
                if s["plugin"] == plugin and s["project_id"] == level:
                    merged.update(json_value(s["settings"]) or {})
        return merged

    # ------------------------------------------------------------ calling
    def _impls(self, hook_name: str, enabled: frozenset[str]) -> list[pluggy.HookImpl]:
        caller = getattr(self.pm.hook, hook_name)
        return [i for i in reversed(caller.get_hookimpls()) if i.plugin_name in enabled]

    async def call(self, hook_name: str, *, tenant_id: int, project_id: int | None = None, **kwargs: Any) -> list[Any]:
        """Call every enabled implementation of a hook; awaits awaitables; returns the non-None results."""
        enabled = await self.enabled(tenant_id, project_id)
        kwargs["tenant_id"] = tenant_id
        results = []
        for impl in self._impls(hook_name, enabled):
            value = impl.function(**{a: kwargs[a] for a in impl.argnames if a in kwargs})
            if inspect.isawaitable(value):
                value = await value
            if value is not None:
                results.append(value)
        return results

    async def first(self, hook_name: str, *, tenant_id: int, project_id: int | None = None, **kwargs: Any) -> Any:
        """Call a ``resolve_*`` hook: the first non-None answer of the enabled implementations."""
        enabled = await self.enabled(tenant_id, project_id)
        kwargs["tenant_id"] = tenant_id
        for impl in self._impls(hook_name, enabled):
            value = impl.function(**{a: kwargs[a] for a in impl.argnames if a in kwargs})
            if inspect.isawaitable(value):
                value = await value
            if value is not None:
                return value
        return None


_registry: PluginRegistry | None = None


def get_registry() -> PluginRegistry:
    """The process-wide registry: the kernel's defaults plus every entry-point plugin, validated."""
    global _registry
    if _registry is None:
        registry = PluginRegistry()
        registry.add("core.defaults")
        registry.load_entry_points()
        from core.onboarding.sites import register_site_plugins

        register_site_plugins(registry, tenants_dir())  # tenants/<slug>/plugins/<name>: for that company only
        registry.validate()
        _registry = registry
    return _registry


def set_registry(registry: PluginRegistry | None) -> None:
    """Replace the process-wide registry (tests add their own plugins this way)."""
    global _registry
    _registry = registry
    from core.roles import forget_plugin_permissions

    forget_plugin_permissions()
