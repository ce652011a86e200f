"""Reading a tenant folder: `tenant.toml` and its data files (.xlsx or .csv), rows tagged with file, sheet and line."""
from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.onboarding.sheets import SHEETS, Sheet


@dataclass(frozen=True)
class RowError:
    file: str
    sheet: str
    line: int
    reason: str
    column: str = ""

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.sheet}]" if self.sheet else "") + (f" line {self.line}" if self.line else "")
        col = f" {self.column}:" if self.column else ""
        return f"{where}:{col} {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sheet": self.sheet, "line": self.line, "column": self.column, "reason": self.reason}


@dataclass
class Row:
    file: str
    sheet: str
    line: int
    values: dict[str, str]

    def error(self, reason: str, column: str = "") -> RowError:
        return RowError(self.file, self.sheet, self.line, reason, column)


@dataclass
class Bundle:
    """Everything a tenant folder (or an upload) says about one company."""

    config: dict[str, Any]
    rows: dict[str, list[Row]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


def header_key(cell: Any, sheet: Sheet) -> str | None:
    """`楼栋 building` → `building`; a bare key or a bare Chinese title works too."""
    text = str(cell or "").strip()
    if not text:
        return None
    last = text.split()[-1]
    for col in sheet.columns:
        if last == col.key or text == col.zh or text.split()[0] == col.zh:
            return col.key
    return "?" + text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()[:10]
    return str(value).strip()


def _rows_from_table(table: list[list[Any]], file: str, sheet_label: str, sheet: Sheet, first_line: int,
                     errors: list[RowError]) -> list[Row]:
    if not table:
        return []
    keys = [header_key(c, sheet) for c in table[0]]
    for k in keys:
        if k and k.startswith("?"):
            errors.append(RowError(file, sheet_label, first_line, f"unknown column {k[1:]!r}"))
    missing = [c.header for c in sheet.columns if c.required and c.key not in keys]
    if missing:
        errors.append(RowError(file, sheet_label, first_line, f"missing column(s): {', '.join(missing)}"))
        return []
    out = []
    for i, raw in enumerate(table[1:], start=first_line + 1):
        values = {k: _cell(v) for k, v in zip(keys, raw) if k and not k.startswith("?")}
        if not any(values.values()):
            continue
        out.append(Row(file, sheet_label, i, {c.key: values.get(c.key, "") for c in sheet.columns}))
    return out


def read_table(name: str, data: bytes, sheet: Sheet, errors: list[RowError]) -> list[Row]:
    """Rows of one uploaded or stored file (.csv in UTF-8, with or without BOM, or .xlsx)."""
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # a broken workbook is a row error, not a crash
            errors.append(RowError(name, "", 0, f"not a readable Excel file ({exc.__class__.__name__})"))
            return []
        ws = next((wb[t] for t in (sheet.name, sheet.zh) if t in wb.sheetnames), wb.worksheets[0])
        table = [list(r) for r in ws.iter_rows(values_only=True)]
        wb.close()
        return _rows_from_table(table, name, ws.title, sheet, 1, errors)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        errors.append(RowError(name, "", 0, "CSV files must be UTF-8"))
        return []
    return _rows_from_table(list(csv.reader(io.StringIO(text))), name, "", sheet, 1, errors)


def find_file(folder: Path, sheet: Sheet) -> Path | None:
    for candidate in (f"{sheet.name}.xlsx", f"{sheet.name}.csv"):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def parse_config(text: str, file: str = "tenant.toml") -> tuple[dict[str, Any], list[RowError]]:
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        return {}, [RowError(file, "", getattr(exc, "lineno", 0) or 0, f"not valid TOML: {exc}")]


def load_folder(folder: str | Path) -> Bundle:
    """Read `tenant.toml` and every data file beside it; reading problems become errors of the bundle."""
    folder = Path(folder)
    toml_path = folder / "tenant.toml"
    if not toml_path.is_file():
        return Bundle({}, errors=[RowError("tenant.toml", "", 0, f"no tenant.toml in {folder}")])
    config, errors = parse_config(toml_path.read_text(encoding="utf-8"))
    config.setdefault("company", {}).setdefault("slug", folder.resolve().name)
    bundle = Bundle(config, errors=errors)
    for sheet in SHEETS:
        path = find_file(folder, sheet)
        bundle.rows[sheet.name] = read_table(path.name, path.read_bytes(), sheet, bundle.errors) if path else []
    return bundle


def load_upload(config_text: str, files: dict[str, bytes]) -> Bundle:
    """A bundle from uploaded files: `tenant.toml` text and data files named after their sheet."""
    config, errors = parse_config(config_text)
    bundle = Bundle(config, errors=errors)
    by_stem = {Path(n).stem.lower(): (n, d) for n, d in files.items()}
    for sheet in SHEETS:
        hit = by_stem.get(sheet.name)
        bundle.rows[sheet.name] = read_table(hit[0], hit[1], sheet, bundle.errors) if hit else []
    return bundle
