"""Templates (`guanjia onboard template DIR`) and export of a project back to the same layout."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from core.onboarding.sheets import EXAMPLES, SHEETS, TENANT_TOML_EXAMPLE, Sheet
from core.tables import Building, Customer, Grid, Membership, Occupancy, Project, Unit, User
from core.tenancy import TenantScope


def sheet_bytes(sheet: Sheet, rows: list[list[Any]], fmt: str = "xlsx") -> bytes:
    """One file of a sheet: header `中文 key` then the rows."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow([c.header for c in sheet.columns])
        writer.writerows(rows)
        return buf.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = sheet.name
    ws.append([c.header for c in sheet.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append(list(r))
    for i, col in enumerate(sheet.columns):
        ws.column_dimensions[chr(ord("A") + i)].width = max(12, len(col.header) + 4)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write_templates(folder: str | Path, fmt: str = "xlsx") -> list[Path]:
    """Write `tenant.toml` and one example file per sheet; existing files are kept."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    toml = folder / "tenant.toml"
    if not toml.exists():
        toml.write_text(TENANT_TOML_EXAMPLE, encoding="utf-8")
        written.append(toml)
    for sheet in SHEETS:
        path = folder / f"{sheet.name}.{fmt}"
        if not path.exists():
            path.write_bytes(sheet_bytes(sheet, EXAMPLES.get(sheet.name, []), fmt))
            written.append(path)
    return written


async def export_rows(tenant_id: int, project_code: str) -> dict[str, list[list[Any]]]:
    """A project's buildings, grids, units, customers and staff as rows of the onboarding sheets."""
    from core.errors import not_found

    scope = TenantScope(tenant_id)
    project = await scope.select(Project).where(Project.code == project_code).first()
    if project is None:
        raise not_found("project")
    pid, code = project["id"], project["code"]
    buildings = await scope.select(Building).where(Building.project_id == pid).order_by(Building.id)
    bcode = {b["id"]: b["code"] for b in buildings}
    grids = await scope.select(Grid).where(Grid.project_id == pid).order_by(Grid.id)
    gcode = {g["id"]: g["code"] for g in grids}
    members = await scope.select(Membership).order_by(Membership.id)
    user_ids = list({m["user_id"] for m in members} | {g["responsible_id"] for g in grids if g["responsible_id"]})
    users = {u["id"]: u for u in await User.select(User.id, User.login, User.name, User.phone).where(
        User.id.is_in(user_ids or [-1]))}
    from core.db import json_value

    pcodes = {p["id"]: p["code"] for p in await scope.select(Project, Project.id, Project.code)}
    staff = []
    for m in members:
        pids = json_value(m["project_ids"]) or []
        if m["role"] == "company_cs" or pid in pids:
            u = users[m["user_id"]]
            staff.append([u["login"], u["name"], u["phone"], m["role"], ",".join(pcodes[p] for p in pids if p in pcodes),
                          m["title"], ""])  # passwords are never exported
    units = await scope.select(Unit).where(Unit.project_id == pid).order_by(Unit.id)
    ukey = {u["id"]: (bcode[u["building_id"]], u["entrance"], u["room"]) for u in units}
    occ = await scope.select(Occupancy).where(Occupancy.unit_id.is_in(list(ukey) or [-1]) & Occupancy.end_date.is_null()).order_by(Occupancy.id)
    customers = {c["id"]: c for c in await scope.select(Customer).where(
        Customer.id.is_in(list({o["customer_id"] for o in occ}) or [-1]))}

    def area(value: Any) -> str:
        return f"{float(value):.2f}"

    return {
        "staff": staff,
        "buildings": [[code, b["code"], b["name"], b["floors"]] for b in buildings],
        "grids": [[code, g["code"], g["name"], users[g["responsible_id"]]["login"] if g["responsible_id"] else ""]
                  for g in grids],
        "units": [[code, bcode[u["building_id"]], u["entrance"], u["floor"], u["room"], area(u["area"]), u["use"],
                   u["status"], gcode.get(u["grid_id"], "")] for u in units],
        "customers": [[c["name"], c["kind"], c["phone"], c["id_number"], c["email"], code, *ukey[o["unit_id"]], o["role"],
                       o["start_date"].isoformat() if o["start_date"] else ""]
                      for o in occ for c in [customers[o["customer_id"]]]],
        "opening_balances": [],  # taken over by the arrears plugin on import; its bills are exported there
    }


async def export_project(tenant_id: int, project_code: str, folder: str | Path, fmt: str = "xlsx") -> list[Path]:
    """Write a project's data as onboarding files (re-importable as they are)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = await export_rows(tenant_id, project_code)
    out = []
    for sheet in SHEETS:
        path = folder / f"{sheet.name}.{fmt}"
        path.write_bytes(sheet_bytes(sheet, rows[sheet.name], fmt))
        out.append(path)
    return out


async def tenant_toml(tenant_id: int) -> str:
    """The `tenant.toml` of a stored company (its projects, plugins and settings)."""
    import json

    from core.db import json_value
    from core.tables import PluginState, Tenant

    t = await Tenant.select().where(Tenant.id == tenant_id).first()
    scope = TenantScope(tenant_id)
    projects = await scope.select(Project).order_by(Project.id)
    states = await scope.select(PluginState).where(PluginState.enabled == True)  # noqa: E712

    def q(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = ["[company]", f"slug = {q(t['slug'])}", f"name = {q(t['name'])}", f"contact_name = {q(t['contact_name'])}",
             f"contact_phone = {q(t['contact_phone'])}",
             f"plugins = {q(sorted(s['plugin'] for s in states if s['project_id'] is None))}", ""]
    settings = json_value(t["settings"]) or {}
    if settings.get("service_hours"):
        lines += ["[company.service_hours]", *(f"{k} = {q(v)}" for k, v in settings["service_hours"].items()), ""]
    for s in states:
        if s["project_id"] is None and json_value(s["settings"]):
            lines += [f"[settings.{s['plugin']}]", *(f"{k} = {q(v)}" for k, v in json_value(s["settings"]).items()), ""]
    for p in projects:
        own = [s for s in states if s["project_id"] == p["id"]]
        lines += ["[[projects]]", f"code = {q(p['code'])}", f"name = {q(p['name'])}", f"kind = {q(p['kind'])}",
                  f"address = {q(p['address'])}", f"total_area = {float(p['total_area'])}",
                  f"plugins = {q(sorted(s['plugin'] for s in own))}", ""]
        for s in own:
            if json_value(s["settings"]):
                lines += [f"[projects.settings.{s['plugin']}]",
                          *(f"{k} = {q(v)}" for k, v in json_value(s["settings"]).items()), ""]
    return "\n".join(lines)
