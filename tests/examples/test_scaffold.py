"""`guanjia plugin new NAME` writes a plugin that passes its own test at once."""
from __future__ import annotations

import importlib
import inspect
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.plugins import get_registry


def _forget(name: str) -> None:
    registry = get_registry()
    if name in registry.metas:
        registry.pm.unregister(name=name)
        del registry.metas[name], registry.packages[name]
    for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[mod]


async def test_scaffolded_plugin_passes_its_own_tests(tmp_path: Path):
    from core.scaffold import scaffold

    name = f"site_log_{uuid.uuid4().hex[:6]}"
    written = scaffold(name, tmp_path)
    rel = {p.relative_to(tmp_path).as_posix() for p in written}
    for part in ("__init__.py", "hooks.py", "tables.py", "piccolo_app.py", "controllers.py", "services.py", "actors.py",
                 f"templates/{name}/index.html", f"tests/test_{name}.py"):
        assert f"{name}/{part}" in rel
    assert any("/piccolo_migrations/" in r and r.endswith(".py") and not r.endswith("__init__.py") for r in rel)
    sys.path.insert(0, str(tmp_path))
    try:
        test_module = importlib.import_module(f"{name}.tests.test_{name}")
        tests = [fn for n, fn in vars(test_module).items() if n.startswith("test_") and inspect.iscoroutinefunction(fn)]
        assert len(tests) == 2
        for fn in tests:
            await fn()
        assert name in get_registry().metas
        hooks = set(get_registry().hooks_of(name))
        assert {"register_routes", "register_periodic_jobs", "register_template_dirs", "seed_demo"} <= hooks
    finally:
        sys.path.remove(str(tmp_path))
        _forget(name)


def test_plugin_new_command_refuses_bad_names_and_existing_folders(tmp_path: Path):
    from core.onboarding.cli import plugin

    runner = CliRunner()
    ok = runner.invoke(plugin, ["new", "lift_ledger", "--into", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "lift_ledger" / "hooks.py").is_file()
    again = runner.invoke(plugin, ["new", "lift_ledger", "--into", str(tmp_path)])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(plugin, ["new", "Lift-Ledger", "--into", str(tmp_path)])
    assert bad.exit_code == 1 and "snake_case" in bad.output


@pytest.mark.parametrize("name", ["core", "class", "x"])
def test_reserved_or_short_names_are_refused(tmp_path: Path, name: str):
    from core.scaffold import scaffold

    with pytest.raises(ValueError):
        scaffold(name, tmp_path)
