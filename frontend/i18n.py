"""The portal's languages: zh-CN (the source language of every message) and English.

Messages are written in Chinese in templates and code (`_("工单")`); English comes from a
gettext-compatible catalogue, `translations/en/LC_MESSAGES/messages.po`, read once at start-up.
The language is the `gj_lang` cookie (default zh-CN).
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import pass_context

HERE = Path(__file__).parent
TRANSLATIONS = HERE / "translations"
LANG_COOKIE = "gj_lang"
DEFAULT_LANG = "zh-CN"
LANGUAGES: dict[str, str] = {"zh-CN": "中文", "en": "English"}


def parse_po(text: str) -> dict[str, str]:
    """msgid → msgstr of a .po file (fuzzy and untranslated entries are left out)."""
    catalogue: dict[str, str] = {}
    entry: dict[str, str] = {}
    current: str | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal entry, current, fuzzy
        if entry.get("msgid") and entry.get("msgstr") and not fuzzy:
            catalogue[entry["msgid"]] = entry["msgstr"]
        entry, current, fuzzy = {}, None, False

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            if line.startswith("#,") and "fuzzy" in line:
                if "msgid" in entry:
                    flush()
                fuzzy = True
            continue
        for key in ("msgctxt", "msgid_plural", "msgid", "msgstr[0]", "msgstr"):
            if line.startswith(key + " "):
                if key in ("msgid", "msgctxt") and "msgstr" in entry:
                    keep_fuzzy = fuzzy
                    flush()
                    fuzzy = keep_fuzzy
                current = "msgstr" if key == "msgstr[0]" else key
                entry[current] = ast.literal_eval(line[len(key):].strip())
                break
        else:
            if line.startswith('"') and current is not None:
                entry[current] += ast.literal_eval(line)
    flush()
    return catalogue


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT_LANG or not path.exists():
        return {}
    return parse_po(path.read_text(encoding="utf-8"))


def language_of(request: Any) -> str:
    """The request's language: the cookie when it names a known language, else zh-CN."""
    if request is None:
        return DEFAULT_LANG
    value = request.cookies.get(LANG_COOKIE, "")
    return value if value in LANGUAGES else DEFAULT_LANG


def translate(lang: str, message: str) -> str:
    return catalogue(lang).get(message, message)


@pass_context
def gettext(context: Any, message: str) -> str:
    return translate(language_of(context.get("request")), message)


@pass_context
def ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    return translate(language_of(context.get("request")), singular if n == 1 else plural)


@pass_context
def pick(context: Any, zh: str, en: str) -> str:
    """Choose between a Chinese and an English label (labels that live in code and hooks)."""
    return en if language_of(context.get("request")) == "en" else zh


@pass_context
def current_language(context: Any) -> str:
    return language_of(context.get("request"))
