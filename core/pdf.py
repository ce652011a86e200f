"""PDF documents with Chinese text (fpdf2): the CJK font and an A4 document that uses it.

`cjk_font()` finds a font covering Chinese: ``GUANJIA_CJK_FONT``, the Debian fonts (fonts-wqy-microhei,
fonts-wqy-zenhei, fonts-noto-cjk), or what fontconfig offers for ``:lang=zh``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from typing import Any

from core.errors import Problem

# (path, index of the Simplified Chinese face in a .ttc collection)
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
)


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, int] | None:
    """(font file, collection index) of a font that covers Chinese, or None."""
    env = os.environ.get("GUANJIA_CJK_FONT")
    if env and os.path.exists(env):
        return env, int(os.environ.get("GUANJIA_CJK_FONT_INDEX") or 0)
    for path, index in FONT_CANDIDATES:
        if os.path.exists(path):
            return path, index
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}|%{index}", ":lang=zh"], capture_output=True, text=True,
                                 timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        path, _, index = out.stdout.strip().partition("|")
        if out.returncode == 0 and path and os.path.exists(path):
            return path, int(index or 0)
    return None


def document(*, orientation: str = "P", title: str = "") -> Any:
    """An A4 fpdf2 document with the CJK font set as ``cjk`` (a 503 problem when the server has none)."""
    font = cjk_font()
    if font is None:
        raise Problem(503, "Service unavailable", "No Chinese font is installed on the server (install "
                      "fonts-wqy-microhei or fonts-noto-cjk, or set GUANJIA_CJK_FONT).")
    from fpdf import FPDF

    pdf = FPDF(orientation=orientation, format="A4", unit="mm")
    pdf.add_font("cjk", "", font[0], collection_font_number=font[1])
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(12, 12, 12)
    pdf.set_font("cjk", size=10)
    if title:
        pdf.set_title(title)
    pdf.set_creator("Guanjia")
    return pdf
