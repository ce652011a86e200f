"""Import boundary: plugins use only `core`'s public API (the names of `core.__all__`), never `core.<sub>`,
never another plugin's modules (a declared dependency only through its `hookspecs`, i.e. through hooks),
and none of the app's other packages (`frontend`, `tests`). Third-party libraries are free."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import core

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "plugins"
PROJECT_PACKAGES = {"core", "plugins", "frontend", "tests"}
DYNAMIC_IMPORTERS = {"import_module", "__import__", "find_spec"}


def _module_name(path: Path, plugins_root: Path) -> list[str]:
    """`plugins/<name>/a/b.py` → ["plugins", "<name>", "a", "b"] (a package's `__init__` is the package)."""
    parts = ["plugins", *path.relative_to(plugins_root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def boundary_violations(path: Path, plugins_root: Path = PLUGINS, dependencies: tuple[str, ...] = (),
                        public: frozenset[str] = frozenset(core.__all__)) -> list[str]:
    """Every import in the module at `path` that crosses the plugin boundary, as `file:line: what`."""
    module = _module_name(path, plugins_root)
    own = module[1]
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = f"{path.relative_to(plugins_root.parent)}"
    found: list[str] = []
    core_aliases: set[str] = set()

    def check(target: str, line: int, names: list[str] | None = None) -> None:
        parts = target.split(".")
        top = parts[0]
        if top not in PROJECT_PACKAGES:
            return
        if top == "core":
            if len(parts) > 1:
                found.append(f"{where}:{line}: imports {target} (only `from core import <name>` is allowed)")
            for name in names or []:
                if name == "*":
                    found.append(f"{where}:{line}: `from core import *`")
                elif name not in public:
                    found.append(f"{where}:{line}: core.{name} is not in core.__all__")
            return
        if top != "plugins":
            found.append(f"{where}:{line}: imports {target} (plugins import only core)")
            return
        if len(parts) == 1:  # from plugins import x
            others = [n for n in names or [] if n != own]
            if others:
                found.append(f"{where}:{line}: imports plugin(s) {others} from `plugins`")
            return
        other = parts[1]
        if other == own:
            return
        if other in dependencies and (parts[2:3] == ["hookspecs"] or (len(parts) == 2 and names == ["hookspecs"])):
            return  # a declared dependency's hooks
        detail = "a declared dependency may be reached only through hooks" if other in dependencies else \
            "not a declared dependency"
        found.append(f"{where}:{line}: imports {target} of plugin {other} ({detail})")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check(alias.name, node.lineno)
                if alias.name == "core":
                    core_aliases.add(alias.asname or "core")
        elif isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            if node.level:
                base = module if is_package else module[:-1]
                if node.level - 1 >= len(base) - 1:
                    found.append(f"{where}:{line_of(node)}: relative import climbs out of plugin {own}")
                    continue
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            check(target, node.lineno, names)
        elif isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if name in DYNAMIC_IMPORTERS and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                check(node.args[0].value, node.lineno)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in core_aliases \
                and node.attr not in public and not node.attr.startswith("__"):
            found.append(f"{where}:{node.lineno}: core.{node.attr} is not in core.__all__")
    return found


def line_of(node: ast.AST) -> int:
    return getattr(node, "lineno", 0)


def plugin_modules(plugins_root: Path = PLUGINS) -> list[Path]:
    return sorted(p for p in plugins_root.rglob("*.py") if "__pycache__" not in p.parts and p != plugins_root / "__init__.py")


# ---------------------------------------------------------------- the real plugins

def test_every_plugin_module_imports_only_the_public_core_api():
    from core.plugins import get_registry

    metas = get_registry().metas
    modules = plugin_modules()
    assert len(modules) >= 6  # the six built-in plugins at least have their __init__
    violations = []
    for path in modules:
        name = path.relative_to(PLUGINS).parts[0]
        deps = tuple(metas[name].dependencies) if name in metas else ()
        violations += boundary_violations(path, dependencies=deps)
    assert not violations, "\n".join(violations)


def test_core_all_names_exist():
    """What the boundary allows is really there."""
    missing = [name for name in core.__all__ if not hasattr(core, name)]
    assert not missing


# ---------------------------------------------------------------- the checker catches what it must

def _write(root: Path, relative: str, source: str) -> Path:
    path = root / "plugins" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


def test_checker_flags_each_kind_of_bad_import_in_a_synthetic_module(tmp_path):
    bad = _write(tmp_path, "bad_plugin/services.py", "\n".join([
        "from core.tenancy import TenantScope",        # 1: a core submodule
        "import core.tickets",                         # 2: a core submodule
        "from core import TenantScope, _private",       # 3: not in __all__
        "from plugins.parking_leases import services",  # 4: another plugin
        "from plugins import community_events",        # 5: another plugin
        "from ..other_plugin import tables",           # 6: relative, into another plugin
        "import frontend.portal",                      # 7: the app's portal
        "import importlib",
        "importlib.import_module('plugins.arrears_collection.services')",  # 9: dynamic
        "import core",
        "core.db.fetch",                               # 11: core.db not public
        "from plugins.residential_grids.services import x",  # 12: a dependency's module, not its hooks
        "",
    ]))
    found = boundary_violations(bad, tmp_path / "plugins", dependencies=("residential_grids",))
    lines = sorted(int(f.split(":")[1]) for f in found)
    assert lines == [1, 2, 3, 4, 5, 6, 7, 9, 11, 12], "\n".join(found)
    assert any("_private" in f for f in found)
    assert any("through hooks" in f for f in found)
    assert any("not a declared dependency" in f for f in found)


def test_checker_accepts_a_well_behaved_synthetic_module(tmp_path):
    _write(tmp_path, "good_plugin/__init__.py", "from core import PluginMeta\n")
    good = _write(tmp_path, "good_plugin/services.py", "\n".join([
        "from __future__ import annotations",
        "import datetime",
        "from litestar import get",
        "import core",
        "from core import TenantScope, tables, tickets, Problem",
        "from plugins.good_plugin.tables import Thing",
        "from . import tables as own_tables",
        "from .schemas import ThingIn",
        "from plugins.residential_grids import hookspecs",
        "x = core.TenantScope",
        "",
    ]))
    init = tmp_path / "plugins" / "good_plugin" / "__init__.py"
    assert boundary_violations(good, tmp_path / "plugins", dependencies=("residential_grids",)) == []
    assert boundary_violations(init, tmp_path / "plugins") == []


@pytest.mark.parametrize("source", ["from ... import core_stuff\n", "from .. import parking_leases\n"])
def test_checker_flags_relative_imports_leaving_the_plugin(tmp_path, source):
    path = _write(tmp_path, "bad_plugin/sub/mod.py" if source.startswith("from ...") else "bad_plugin/mod.py", source)
    assert boundary_violations(path, tmp_path / "plugins")
