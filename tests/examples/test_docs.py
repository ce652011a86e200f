"""docs/plugins.md carries the hook reference generated from core/hookspecs.py, current."""
from __future__ import annotations

from core import hookspecs
from core.scaffold import DOCS, render_docs


def test_plugin_docs_hook_reference_is_current():
    text = DOCS.read_text(encoding="utf-8")
    assert render_docs(text) == text, "run `python -m core.scaffold docs` to regenerate docs/plugins.md"


def test_plugin_docs_name_every_hook():
    text = DOCS.read_text(encoding="utf-8")
    names = [n for n, fn in vars(hookspecs).items() if hasattr(fn, "guanjia_spec")]
    assert len(names) >= 17
    for name in names:
        assert f"#### `{name}`" in text
