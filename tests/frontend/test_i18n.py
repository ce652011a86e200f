"""The English catalogue: read as Babel reads it, and complete for every message the portal uses."""
from __future__ import annotations

from pathlib import Path

import pytest

from frontend import i18n

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "frontend" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def test_catalogue_reads_as_babel_reads_it():
    pofile = pytest.importorskip("babel.messages.pofile", reason="Babel (test extra) reads the catalogue for comparison")
    with PO.open("rb") as f:
        catalog = pofile.read_po(f)
    expected = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    assert i18n.parse_po(PO.read_text(encoding="utf-8")) == expected
    assert len(expected) > 50


def test_every_portal_message_has_an_english_translation():
    extract = pytest.importorskip("babel.messages.extract", reason="Babel (test extra) extracts the messages")
    method_map = [("frontend/**.py", "python"), ("frontend/templates/**.html", "jinja2")]
    options = {"frontend/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "translate": (2,)}
    found = {message for _, _, message, _, _ in
             extract.extract_from_dir(str(ROOT), method_map=method_map, options_map=options, keywords=keywords)}
    found = {m if isinstance(m, str) else m[0] for m in found}
    missing = sorted(found - set(i18n.catalogue("en")))
    assert not missing, f"add English for these messages to {PO.relative_to(ROOT)}: {missing}"
    assert len(found) > 50


def test_po_parser_handles_continuations_escapes_and_fuzzy_entries():
    text = '''
msgid ""
msgstr "Language: en\\n"

msgid "长"
"文本"
msgstr "Long "
"text \\"quoted\\""

#, fuzzy
msgid "草稿"
msgstr "Draft"

msgid "未译"
msgstr ""
'''
    assert i18n.parse_po(text) == {"长文本": 'Long text "quoted"'}


def test_unknown_language_falls_back_to_chinese():
    assert i18n.translate("fr", "保存工单") == "保存工单"
    assert i18n.translate("en", "保存工单") == "Save ticket"


def test_csrf_token_is_bound_to_the_browser_nonce_and_the_secret():
    from frontend import csrf

    nonce = csrf.new_nonce()
    token = csrf.token_for(nonce)
    assert csrf.valid(nonce, token)
    assert not csrf.valid(csrf.new_nonce(), token)
    assert not csrf.valid(nonce, nonce + ".0123456789abcdef0123456789abcdef")
    assert not csrf.valid(nonce, "") and not csrf.valid("", token)
