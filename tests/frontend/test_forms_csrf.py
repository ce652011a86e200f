"""Every portal form that posts carries the CSRF field (the guard refuses a browser's form without it)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)


def test_every_posting_portal_form_has_the_csrf_field():
    missing = []
    for path in [*ROOT.glob("frontend/templates/**/*.html"), *ROOT.glob("plugins/*/templates/**/*.html"),
                 *ROOT.glob("core/**/templates/**/*.html")]:
        text = path.read_text(encoding="utf-8")
        for m in FORM.finditer(text):
            attrs, body = m.group(1), m.group(2)
            action = re.search(r'action="([^"]*)"', attrs)
            public = "/public/" in attrs or (action is None and path.name.startswith("public"))
            if 'method="post"' not in attrs.lower() or public:  # public pages have no session to forge
                continue
            if "csrf_field()" not in body:
                line = text[:m.start()].count("\n") + 1
                missing.append(f"{path.relative_to(ROOT)}:{line}")
    assert not missing, "forms without {{ csrf_field() }}: " + ", ".join(missing)
