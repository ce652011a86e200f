"""Hooks: the specs are documented, the test plugin implements and the kernel calls every one of them,
start-up validation names the plugin and the hook, and a disabled plugin is silent and its routes are 404."""
from __future__ import annotations

import inspect
import types
import uuid
from datetime import date

import pytest

from core import hookspecs
from core.plugins import PluginError, PluginRegistry, get_registry
from tests.conftest import PASSWORD, at, make_world
from tests.dummy_plugin import hooks as dummy_hooks
from tests.dummy_plugin.hooks import CALLS


def _specs() -> dict[str, object]:
    return {name: fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "guanjia_spec")}


def _calls(name: str, tenant_id: int | None = None) -> list[dict]:
    return [kw for n, kw in CALLS if n == name and (tenant_id is None or kw.get("tenant_id") == tenant_id)]


def _tenant_calls(tenant_id: int) -> list[str]:
    return [n for n, kw in CALLS if kw.get("tenant_id") == tenant_id]


# ---------------------------------------------------------------- the specs and the test plugin

def test_every_hookspec_documents_each_argument_and_firstresult_says_so():
    specs = _specs()
    assert len(specs) >= 17
    missing = []
    for name, fn in specs.items():
        doc = inspect.getdoc(fn) or ""
        if not doc.strip():
            missing.append(f"{name}: no docstring")
        for arg in inspect.signature(fn).parameters:
            if f":param {arg}:" not in doc:
                missing.append(f"{name}: no ':param {arg}:' line")
        if fn.guanjia_spec.get("firstresult") and "Stops at first non-None result" not in doc:
            missing.append(f"{name}: firstresult but its docstring does not say 'Stops at first non-None result'")
        if name.startswith(("register_", "resolve_")) and ":return:" not in doc:
            missing.append(f"{name}: no ':return:' line")
    assert not missing, "\n".join(missing)


def test_the_firstresult_hooks_are_the_resolve_hooks():
    assert {n for n, fn in _specs().items() if fn.guanjia_spec.get("firstresult")} == {
        n for n in _specs() if n.startswith("resolve_")}


def test_dummy_plugin_implements_every_hookspec():
    implemented = {n for n, fn in inspect.getmembers(dummy_hooks, inspect.isfunction) if hasattr(fn, "guanjia_impl")}
    assert set(_specs()) - implemented == set()
    assert set(_specs()) <= set(get_registry().hooks_of("dummy"))


async def test_every_hookspec_is_called_by_the_kernel(client):
    """Each hook of core/hookspecs.py is reached through the kernel's own code paths, with its arguments."""
    from core import notify, roles, scheduler, sla, tickets
    from core.app import create_app

    CALLS.clear()
    get_registry().forget_registrations()  # registrations are asked once per registry; ask again, to see the calls
    world = await make_world(plugins=["dummy"])
    tid = world.tenant_id

    # register_*: collected by the kernel
    app = create_app(embedded_worker=False)  # routes and template folders
    assert any(r.path == "/api/v1/dummy/tickets/{ticket_id:int}" for r in app.routes)
    from frontend.portal import template_config

    assert dummy_hooks.TEMPLATES in [str(d) for d in template_config().directory]
    assert tickets.ticket_kinds()["dummy.thing"][0] == "dummy"
    roles.forget_plugin_permissions()
    assert roles.roles_with("dummy.use") == ("front_desk",)
    assert scheduler.periodic_jobs()["dummy.tick"].schedule == "daily 03:00"
    assert "dummy_channel" in notify.channels()
    assert "dummy.policy" in sla.known_policies()
    menu = (await client.get("/api/v1/plugins/menu", headers=world.headers("front_desk"))).json()
    assert [m["key"] for m in menu["menu_items"] if m["plugin"] == "dummy"] == ["dummy"]
    assert [w["template"] for w in menu["dashboard_widgets"] if w["plugin"] == "dummy"] == ["dummy/widget.html"]

    # resolve_responsible / resolve_sla_policy / on_ticket_created: the dummy answers for its own kind only
    body = {"project_id": world.project["id"], "channel": "hotline", "title": "测试", "unit_id": world.units[0]["id"]}
    r = await client.post("/api/v1/tickets", json={**body, "kind": "dummy.thing"}, headers=world.headers())
    assert r.status_code == 201, r.text
    thing = r.json()
    assert thing["responsible_id"] == world.staff["front_desk"] and thing["sla_policy"] == "dummy.policy"
    r = await client.post("/api/v1/tickets", json={**body, "kind": "repair"}, headers=world.headers())
    repair = r.json()
    assert repair["responsible_id"] == world.staff["butler"]  # the dummy said None: the kernel's grid butler
    assert [c["kind"] for c in _calls("resolve_responsible", tid)] == ["dummy.thing", "repair"]
    assert [c["kind"] for c in _calls("resolve_sla_policy", tid)][:2] == ["dummy.thing", "repair"]
    assert [c["ticket_id"] for c in _calls("on_ticket_created", tid)] == [thing["id"], repair["id"]]

    # on_ticket_status_changed
    r = await client.post(f"/api/v1/tickets/{repair['id']}/transitions",
                          json={"to": "dispatched", "executor_id": world.staff["technician"]}, headers=world.headers())
    assert r.status_code == 200, r.text
    assert _calls("on_ticket_status_changed", tid) == [
        {"tenant_id": tid, "ticket_id": repair["id"], "from_status": "received", "to_status": "dispatched"}]

    # on_customer_moved_in / on_ownership_changed / on_customer_moved_out: a sale of an owned unit
    buyer = (await client.post("/api/v1/customers", json={"name": "新业主", "phone": "13912345678"},
                               headers=world.headers())).json()
    unit_id, seller = world.units[0]["id"], world.customers[0]["id"]
    r = await client.post(f"/api/v1/customers/{buyer['id']}/units",
                          json={"unit_id": unit_id, "role": "owner", "start_date": "2026-09-30"}, headers=world.headers())
    assert r.status_code == 201, r.text
    occupancy = r.json()
    assert _calls("on_customer_moved_out", tid) == [{"tenant_id": tid, "customer_id": seller, "unit_id": unit_id,
                                                     "role": "owner", "end_date": date(2026, 9, 30)}]
    assert _calls("on_customer_moved_in", tid) == [{"tenant_id": tid, "customer_id": buyer["id"], "unit_id": unit_id,
                                                    "role": "owner"}]
    assert _calls("on_ownership_changed", tid) == [{"tenant_id": tid, "unit_id": unit_id, "previous": [seller],
                                                    "new": buyer["id"]}]
    r = await client.post(f"/api/v1/customers/{buyer['id']}/units/{occupancy['id']}/end", json={"end_date": "2026-10-31"},
                          headers=world.headers())
    assert r.status_code == 200, r.text
    assert [c["customer_id"] for c in _calls("on_customer_moved_out", tid)] == [seller, buyer["id"]]

    # seed_demo: called by the demo seed for the new demo company
    from core.demo import ensure_demo

    demo = await ensure_demo(PASSWORD, buildings=1, tickets=0, slug=f"hk-{uuid.uuid4().hex[:8]}",
                             as_of=at("2026-09-30 17:00"), plugins=["dummy"])
    seeded = _calls("seed_demo", demo["tenant"]["id"])
    assert len(seeded) == 1 and seeded[0]["projects"] == ["commercial", "residential"]
    assert seeded[0]["as_of"] == at("2026-09-30 17:00") and "butler" in seeded[0]["roles"]

    # collect_personal_data / erase_personal_data: the export and the erasure of a customer call every installed plugin
    from core.tables import Customer
    from core.tenancy import TenantScope

    lone = await TenantScope(tid).insert(Customer, name="赵六", phone="13700000006")
    r = await client.get(f"/api/v1/customers/{lone['id']}/personal-data", headers=world.headers("company_cs"))
    assert r.status_code == 200 and r.json()["plugins"]["dummy"] == {"dummy_rows": []}
    assert _calls("collect_personal_data", tid) == [{"tenant_id": tid, "customer_id": lone["id"]}]
    r = await client.post(f"/api/v1/customers/{lone['id']}/erase", json={"reason": "业主申请注销"},
                          headers=world.headers("company_cs"))
    assert r.status_code == 200, r.text
    assert _calls("erase_personal_data", tid) == [{"tenant_id": tid, "customer_id": lone["id"], "keep_records": True,
                                                   "placeholder": f"已注销客户#{lone['id']}"}]

    # import_opening_balances: onboarding hands each project's opening balances to the plugins enabled for it
    import tempfile
    from pathlib import Path

    from core.onboarding import load_folder, onboard
    from tests.onboarding.helpers import company_folder, write_csv

    folder, slug = company_folder(Path(tempfile.mkdtemp(prefix="hk-onboard-")), units=2)
    toml = folder / "tenant.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('plugins = ["residential_grids"]', 'plugins = ["dummy"]', 1),
                    encoding="utf-8")
    write_csv(folder, "opening_balances", [["HY", "1", "1", "101", "", "", "物业服务费", "2026-06", "1,234.50", "", ""]])
    report = await onboard(load_folder(folder), as_of=date(2026, 9, 30))
    assert _calls("import_opening_balances", report.tenant_id) == [
        {"tenant_id": report.tenant_id, "project": "HY", "balances": [("2026-06", 123450, "物业服务费")]}]

    # customer_file_sections: the customer's file (API and portal page) shows each enabled plugin's sections
    r = await client.get(f"/api/v1/customers/{world.customers[0]['id']}/file", headers=world.headers("front_desk"))
    assert r.status_code == 200, r.text
    assert r.json()["sections"] == [{"title_zh": "测试插件", "title_en": "Test plugin", "columns": [["事项", "Item"]],
                                     "rows": [["一行"]]}]
    assert _calls("customer_file_sections", tid)[-1] == {"tenant_id": tid, "customer_id": world.customers[0]["id"],
                                                          "role": "front_desk"}

    assert set(_specs()) - {name for name, _ in CALLS} == set()


# ---------------------------------------------------------------- a disabled plugin

async def test_disabled_plugin_is_not_called_and_its_routes_404_until_enabled_per_project(client):
    world = await make_world(plugins=[])
    tid = world.tenant_id
    CALLS.clear()
    body = {"project_id": world.project["id"], "kind": "repair", "channel": "hotline", "title": "漏水",
            "unit_id": world.units[0]["id"]}
    ticket = (await client.post("/api/v1/tickets", json=body, headers=world.headers())).json()
    await client.post(f"/api/v1/tickets/{ticket['id']}/transitions",
                      json={"to": "dispatched", "executor_id": world.staff["technician"]}, headers=world.headers())
    buyer = (await client.post("/api/v1/customers", json={"name": "买家"}, headers=world.headers())).json()
    r = await client.post(f"/api/v1/customers/{buyer['id']}/units",
                          json={"unit_id": world.units[0]["id"], "role": "owner", "start_date": "2026-09-30"},
                          headers=world.headers())
    assert r.status_code == 201
    assert _tenant_calls(tid) == []  # not one hook of the disabled plugin ran for this company
    r = await client.get(f"/api/v1/dummy/tickets/{ticket['id']}", headers=world.headers())
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.post("/api/v1/tickets", json={**body, "kind": "dummy.thing"}, headers=world.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    menu = (await client.get("/api/v1/plugins/menu", headers=world.headers())).json()
    assert not [m for m in menu["menu_items"] if m["plugin"] == "dummy"]

    # only the company CS department may switch plugins
    r = await client.put("/api/v1/plugins/dummy", json={"enabled": True, "project_id": world.project["id"]},
                         headers=world.headers("front_desk"))
    assert r.status_code == 403
    r = await client.put("/api/v1/plugins/dummy", json={"enabled": True, "project_id": world.project["id"]},
                         headers=world.headers("company_cs"))
    assert r.status_code == 200, r.text
    plugins = (await client.get("/api/v1/plugins", headers=world.headers("company_cs"))).json()
    assert next(p for p in plugins if p["name"] == "dummy")["enabled"] is True
    r = await client.get(f"/api/v1/dummy/tickets/{ticket['id']}", headers=world.headers())
    assert r.status_code == 200 and r.json() == {"id": ticket["id"], "plugin": "dummy"}
    created = (await client.post("/api/v1/tickets", json=body, headers=world.headers())).json()
    assert [c["ticket_id"] for c in _calls("on_ticket_created", tid)] == [created["id"]]
    # the other project still has it off: no hook for its tickets
    other = await client.post("/api/v1/tickets", json={"project_id": world.other_project["id"], "kind": "inquiry",
                                                       "channel": "hotline", "title": "咨询"},
                              headers=world.headers("company_cs"))
    assert other.status_code == 201, other.text
    assert other.json()["id"] not in [c["ticket_id"] for c in _calls("on_ticket_created", tid)]
    assert not [c for c in _calls("resolve_responsible", tid) if c["kind"] == "inquiry"]

    r = await client.put("/api/v1/plugins/dummy", json={"enabled": False, "project_id": world.project["id"]},
                         headers=world.headers("company_cs"))
    assert r.status_code == 200
    assert (await client.get(f"/api/v1/dummy/tickets/{ticket['id']}", headers=world.headers())).status_code == 404


async def test_enabling_an_unknown_plugin_is_404(client, world):
    r = await client.put("/api/v1/plugins/nope", json={"enabled": True}, headers=world.headers("company_cs"))
    assert r.status_code == 404


# ---------------------------------------------------------------- validation at start-up

def _plugin(name: str, source: str = "", **meta) -> types.ModuleType:
    """A single-module plugin whose hooks are `source`."""
    from core import PluginMeta

    module = types.ModuleType(f"guanjia_test_plugin_{name}")
    exec("from core import hookimpl\n" + source, module.__dict__)  # noqa: S102 - the test's own source
    module.plugin = PluginMeta(name=name, version="1.0.0", **meta)
    return module


def _registry() -> PluginRegistry:
    registry = PluginRegistry()
    registry.add("core.defaults")
    return registry


def test_unknown_hook_name_fails_naming_plugin_and_hook():
    registry = _registry()
    registry.add(_plugin("typo_plugin", "@hookimpl\ndef on_ticket_exploded(tenant_id):\n    return None\n"))
    with pytest.raises(PluginError) as err:
        registry.validate()
    assert "typo_plugin" in str(err.value) and "on_ticket_exploded" in str(err.value)


def test_hookimpl_with_a_wrong_argument_name_fails_naming_plugin_and_hook():
    registry = _registry()
    with pytest.raises(PluginError) as err:
        registry.add(_plugin("bad_args", "@hookimpl\ndef on_ticket_created(tenant_id, tiket):\n    return None\n"))
    assert "bad_args" in str(err.value) and "on_ticket_created" in str(err.value) and "tiket" in str(err.value)


def test_hook_function_without_the_marker_fails_naming_plugin_and_hook():
    registry = _registry()
    with pytest.raises(PluginError) as err:
        registry.add(_plugin("forgetful", "def on_ticket_created(tenant_id, ticket):\n    return None\n"))
    assert "forgetful" in str(err.value) and "on_ticket_created" in str(err.value)


def test_duplicate_plugin_name_fails_naming_the_plugin():
    registry = _registry()
    registry.add(_plugin("twin", "@hookimpl\ndef register_menu_items():\n    return []\n"))
    with pytest.raises(PluginError) as err:
        registry.add(_plugin("twin", "@hookimpl\ndef register_routes():\n    return []\n"))
    assert "twin" in str(err.value) and "duplicate" in str(err.value)


def test_core_version_range_not_satisfied_fails_naming_plugin_and_range():
    registry = _registry()
    with pytest.raises(PluginError) as err:
        registry.add(_plugin("futuristic", "@hookimpl\ndef register_routes():\n    return []\n", core_version=">=2,<3"))
    assert "futuristic" in str(err.value) and ">=2,<3" in str(err.value)
    with pytest.raises(PluginError) as err:
        registry.add(_plugin("garbled", core_version="version two"))
    assert "garbled" in str(err.value)
    assert "futuristic" not in registry.metas and "garbled" not in registry.metas


def test_missing_dependency_fails_naming_plugin_and_dependency():
    registry = _registry()
    registry.add(_plugin("needy", "@hookimpl\ndef register_routes():\n    return []\n", dependencies=("absent_plugin",)))
    with pytest.raises(PluginError) as err:
        registry.validate()
    assert "needy" in str(err.value) and "absent_plugin" in str(err.value)


def test_a_valid_plugin_passes_and_lists_its_hooks():
    registry = _registry()
    registry.add(_plugin("fine", "@hookimpl\ndef on_ticket_created(ticket):\n    return None\n"
                                 "@hookimpl\ndef register_routes():\n    return []\n"))
    registry.validate()
    assert registry.hooks_of("fine") == ["on_ticket_created", "register_routes"]


def test_installed_plugins_pass_validation():
    """Every plugin of the entry-point group loads and validates (what start-up does)."""
    registry = _registry()
    registry.load_entry_points()
    registry.validate()
    assert set(registry.metas) >= {"core", "residential_grids", "commercial_buildings", "parking_leases",
                                   "community_events", "arrears_collection", "move_in_decoration"}
