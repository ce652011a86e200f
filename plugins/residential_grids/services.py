"""Services of the residential grids plugin (seed 000, with 001, 003 and 004).

Grids of 350–400 households per butler (gold butlers may hold more), butler assignments with history,
the public board, routing of new tickets, the call/visit register with prepared answers, parcels with
signatures, and the monthly butler evaluation. Every query goes through a `TenantScope` or a
`Principal`; counts are computed by the database.
"""
from __future__ import annotations

import base64
import csv
import io
import math
import re
import struct
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from core import (
    Principal, Problem, TenantScope, conflict, get_registry, invalid, is_postgres, json_value, not_found, notify, places,
    tables, tickets, transaction,
)
from plugins.residential_grids.tables import (
    Assignment, Evaluation, GoldApplication, Parcel, PreparedAnswer, PublicRequest, RegisterEntry, Signature,
)

PLUGIN = "residential_grids"
BEIJING = ZoneInfo("Asia/Shanghai")
MIN_HOUSEHOLDS, MAX_HOUSEHOLDS = 350, 400  # seed 000: 350–400 households per butler
HOUSEHOLD_STATUSES = ("sold", "occupied")  # a household is a sold or occupied residential unit
HOLDER_ROLES = ("butler", "team_lead")  # the team lead also holds a grid (seed 000)
IMMEDIATE_CLOSURE_TARGET = 0.95  # seed 000: inquiries and reports closed at once ≥ 95 %
RETURN_VISIT_TARGET = 1.0  # seed 000: return visits 100 %
COMPLAINT_VISIT_WORKING_DAYS = 3  # seed 000: complaint return visit within 3 working days
SIGNATURE_MAX_BYTES = 200_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ROLE_LABELS = {"butler": "客服管家", "team_lead": "客服组长", "supervisor": "客服主管", "front_desk": "客服前台",
               "project_manager": "管理处经理"}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime | None, field: str) -> datetime | None:
    """An aware datetime, or a 422 naming the field when the client sent a naive one."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise invalid(field, "needs a time zone offset, e.g. 2026-09-30T17:00:00+08:00")
    return value


def local_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BEIJING)


def clean(value: str) -> str:
    from core import schemas

    return schemas.clean_text(value).strip()


async def settings_of(tenant_id: int, project_id: int | None) -> dict[str, Any]:
    return await get_registry().settings(tenant_id, PLUGIN, project_id)


# ---------------------------------------------------------------- projects and grids

async def residential_project(principal: Principal, project_id: int) -> dict[str, Any]:
    """A residential project this staff member sees and where the plugin is enabled (else 404/422)."""
    project = await principal.scope.get(tables.Project, project_id, what="project")
    if not principal.sees_project(project_id) or PLUGIN not in await get_registry().enabled(principal.tenant_id, project_id):
        raise not_found("project")
    if project["kind"] != "residential":
        raise invalid("project_id", "not a residential project: grids of 350–400 households are drawn in residential estates")
    return project


async def visible_grid(principal: Principal, grid_id: int) -> dict[str, Any]:
    grid = await places.get_grid(principal, grid_id)
    await residential_project(principal, grid["project_id"])
    return grid


def _household_clause():
    Unit = tables.Unit
    return (Unit.use == "residential") & Unit.status.is_in(list(HOUSEHOLD_STATUSES))


async def grid_households(scope: TenantScope, grid_ids: Iterable[int]) -> dict[int, int]:
    """Households per grid, counted by the database (GROUP BY grid)."""
    Unit = tables.Unit
    ids = list(grid_ids)
    if not ids:
        return {}
    rows = await scope.select(Unit, Unit.grid_id, Count(alias="households")).where(
        Unit.grid_id.is_in(ids) & _household_clause()).group_by(Unit.grid_id)
    counts = {gid: 0 for gid in ids}
    counts.update({r["grid_id"]: r["households"] for r in rows})
    return counts


async def current_holders(scope: TenantScope, grid_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The current holder (butler or team lead) of each grid, with name, photo and work phone."""
    ids = list(grid_ids)
    if not ids:
        return {}
    rows = await scope.select(
        Assignment, Assignment.id, Assignment.grid_id, Assignment.user_id, Assignment.role, Assignment.started_at,
        Assignment.user_id.name.as_alias("name"), Assignment.user_id.photo_url.as_alias("photo_url"),
    ).where(Assignment.grid_id.is_in(ids) & Assignment.ended_at.is_null())
    out = {r["grid_id"]: r for r in rows}
    if out:
        gold = await gold_users(scope, [r["user_id"] for r in out.values()])
        phones = await work_phones(scope, [r["user_id"] for r in out.values()])
        for r in out.values():
            r["gold"] = r["user_id"] in gold
            r["work_phone"] = phones.get(r["user_id"], "")
    return out


async def gold_users(scope: TenantScope, user_ids: Iterable[int]) -> set[int]:
    """Which of these staff members are gold butlers (金牌管家): an approved application."""
    ids = list(user_ids)
    if not ids:
        return set()
    rows = await scope.select(GoldApplication, GoldApplication.user_id).where(
        GoldApplication.user_id.is_in(ids) & (GoldApplication.status == "approved"))
    return {r["user_id"] for r in rows}


async def work_phones(scope: TenantScope, user_ids: Iterable[int]) -> dict[int, str]:
    M = tables.Membership
    ids = list(user_ids)
    if not ids:
        return {}
    rows = await scope.select(M, M.user_id, M.role, M.work_phone).where(
        M.user_id.is_in(ids) & M.role.is_in(list(HOLDER_ROLES)) & (M.is_active == True))  # noqa: E712
    return {r["user_id"]: r["work_phone"] for r in rows}


def grid_flags(households: int, gold: bool = False) -> list[str]:
    """Why a grid is outside the staffing standard of 350–400 households per butler (seed 000)."""
    if households < MIN_HOUSEHOLDS:
        return [f"under {MIN_HOUSEHOLDS}: {households} households (standard 350–400 per butler)"]
    if households > MAX_HOUSEHOLDS and not gold:
        return [f"over {MAX_HOUSEHOLDS}: {households} households; only a gold butler (金牌管家) may hold it"]
    return []


async def list_grids(principal: Principal, project_id: int) -> list[dict[str, Any]]:
    """The project's grids with households, holder, gold status and flags."""
    await residential_project(principal, project_id)
    G = tables.Grid
    grids = await principal.scope.select(G, G.id, G.code, G.name, G.responsible_id).where(
        G.project_id == project_id).order_by(G.id)
    counts = await grid_households(principal.scope, [g["id"] for g in grids])
    holders = await current_holders(principal.scope, [g["id"] for g in grids])
    for g in grids:
        holder = holders.get(g["id"])
        g["households"] = counts[g["id"]]
        g["holder"] = holder
        g["flags"] = grid_flags(g["households"], bool(holder and holder["gold"]))
    return grids


# ---------------------------------------------------------------- auto-divide

async def entrance_counts(scope: TenantScope, project_id: int) -> list[dict[str, Any]]:
    """Every (building, entrance) of the project with its households, counted with GROUP BY, in building order."""
    Unit, B = tables.Unit, tables.Building
    buildings = await scope.select(B, B.id, B.code).where(B.project_id == project_id)
    codes = {b["id"]: b["code"] for b in buildings}
    all_rows = await scope.select(Unit, Unit.building_id, Unit.entrance, Count(alias="units")).where(
        Unit.project_id == project_id).group_by(Unit.building_id, Unit.entrance)
    household_rows = await scope.select(Unit, Unit.building_id, Unit.entrance, Count(alias="households")).where(
        (Unit.project_id == project_id) & _household_clause()).group_by(Unit.building_id, Unit.entrance)
    households = {(r["building_id"], r["entrance"]): r["households"] for r in household_rows}
    items = [{"building_id": r["building_id"], "building_code": codes.get(r["building_id"], ""), "entrance": r["entrance"],
              "units": r["units"], "households": households.get((r["building_id"], r["entrance"]), 0)} for r in all_rows]
    items.sort(key=lambda i: (_natural(i["building_code"]), _natural(i["entrance"])))
    return items


def _natural(text: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text or "") if p)


def grid_count(total: int, lo: int = MIN_HOUSEHOLDS, hi: int = MAX_HOUSEHOLDS) -> int:
    """How many grids: the count whose average is nearest the middle of 350–400, when one fits."""
    if total <= 0:
        return 0
    middle = (lo + hi) / 2
    fitting = range(max(1, math.ceil(total / hi)), total // lo + 1)
    if len(fitting):
        return min(fitting, key=lambda k: (abs(total / k - middle), k))
    return max(1, round(total / middle))


def divide(items: list[dict[str, Any]], lo: int = MIN_HOUSEHOLDS, hi: int = MAX_HOUSEHOLDS) -> list[list[int]]:
    """Cut the ordered entrances into contiguous groups: first within 350–400, then buildings whole, then balanced.

    Entrances are never split. Returns the item indexes of each group.
    """
    n = len(items)
    total = sum(i["households"] for i in items)
    k = min(grid_count(total, lo, hi), n)
    if k <= 0:
        return [list(range(n))] if n else []
    target = total / k
    prefix = [0]
    for i in items:
        prefix.append(prefix[-1] + i["households"])

    def cost(a: int, b: int) -> float:  # items a..b-1
        size = prefix[b] - prefix[a]
        outside = lo - size if size < lo else (size - hi if size > hi else 0)
        return outside * 1_000_000 + (size - target) ** 2

    def cut(a: int) -> float:  # a cut before item a that divides a building
        return 10_000 if 0 < a < n and items[a]["building_id"] == items[a - 1]["building_id"] else 0

    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(k + 1)]
    back = [[0] * (n + 1) for _ in range(k + 1)]
    best[0][0] = 0
    for g in range(1, k + 1):
        for b in range(g, n - (k - g) + 1):
            for a in range(b - 1, g - 2, -1):
                if best[g - 1][a] < inf:
                    value = best[g - 1][a] + cost(a, b) + cut(a)
                    if value < best[g][b]:
                        best[g][b], back[g][b] = value, a
                if prefix[b] - prefix[a] > 3 * hi:
                    break
    if best[k][n] == inf:  # entrances too large to reach: one group per needed size, greedily
        return [list(range(n))]
    groups, b = [], n
    for g in range(k, 0, -1):
        a = back[g][b]
        groups.append(list(range(a, b)))
        b = a
    return list(reversed(groups))


def describe(items: list[dict[str, Any]], groups: list[list[int]], gold: dict[str, bool] | None = None) -> list[dict[str, Any]]:
    """A proposal: each grid with its buildings, entrances, households and flags."""
    out = []
    building_grids: dict[int, set[int]] = {}
    for n, group in enumerate(groups):
        for i in group:
            building_grids.setdefault(items[i]["building_id"], set()).add(n)
    for n, group in enumerate(groups, start=1):
        entrances = [{"building_id": items[i]["building_id"], "building_code": items[i]["building_code"],
                      "entrance": items[i]["entrance"], "households": items[i]["households"]} for i in group]
        households = sum(e["households"] for e in entrances)
        code = f"G{n}"
        flags = grid_flags(households, bool(gold and gold.get(code)))
        for e in entrances:
            if e["households"] > MAX_HOUSEHOLDS:
                flags.append(f"building {e['building_code']} entrance {e['entrance'] or '-'} alone holds {e['households']} households")
        split = sorted({items[i]["building_code"] for i in group if len(building_grids[items[i]["building_id"]]) > 1},
                       key=_natural)
        for b in split:
            flags.append(f"building {b} is shared with another grid (whole entrances kept together)")
        out.append({"code": code, "name": f"第{n}网格", "households": households,
                    "buildings": sorted({e["building_code"] for e in entrances}, key=_natural),
                    "entrances": entrances, "flags": flags})
    return out


async def propose_division(principal: Principal, project_id: int) -> dict[str, Any]:
    await residential_project(principal, project_id)
    principal.require("residential_grids.divide")
    items = await entrance_counts(principal.scope, project_id)
    groups = divide(items)
    grids = describe(items, groups)
    total = sum(i["households"] for i in items)
    return {"project_id": project_id, "applied": False, "households": total, "grid_count": len(grids),
            "standard": {"min": MIN_HOUSEHOLDS, "max": MAX_HOUSEHOLDS}, "grids": grids}


async def apply_division(principal: Principal, project_id: int, grids: list[dict[str, Any]], *,
                         now: datetime | None = None) -> dict[str, Any]:
    """Save a division (possibly adjusted by staff): kernel grids by code, units' grid, butlers — one transaction."""
    now = now or utcnow()
    await residential_project(principal, project_id)
    principal.require("residential_grids.divide")
    scope = principal.scope
    if not grids:
        raise invalid("grids", "send the grids to save (the proposal, possibly adjusted)")
    items = await entrance_counts(scope, project_id)
    known = {(i["building_id"], i["entrance"]): i for i in items}
    seen: dict[tuple[int, str], str] = {}
    codes: set[str] = set()
    for n, g in enumerate(grids):
        if g["code"] in codes:
            raise invalid(f"grids.{n}.code", f"grid code {g['code']!r} appears twice")
        codes.add(g["code"])
        for m, e in enumerate(g["entrances"]):
            key = (e["building_id"], e["entrance"])
            if key not in known:
                raise invalid(f"grids.{n}.entrances.{m}", "no such building entrance in this project")
            if key in seen:
                raise invalid(f"grids.{n}.entrances.{m}", f"already in grid {seen[key]}")
            seen[key] = g["code"]
    butlers = [g.get("butler_id") for g in grids if g.get("butler_id")]
    if len(butlers) != len(set(butlers)):
        raise invalid("grids", "a butler holds one grid at a time")
    G, Unit = tables.Grid, tables.Unit
    existing = {g["code"]: g for g in await scope.select(G).where(G.project_id == project_id)}
    saved = []
    async with transaction():
        await scope.update(Unit, {Unit.grid_id: None}).where(Unit.project_id == project_id)
        for g in grids:
            grid = existing.get(g["code"])
            if grid is None:
                grid = await scope.insert(G, project_id=project_id, code=g["code"], name=clean(g["name"]))
            elif grid["name"] != g["name"]:
                await scope.update(G, {G.name: clean(g["name"])}).where(G.id == grid["id"])
            by_building: dict[int, list[str]] = {}
            for e in g["entrances"]:
                by_building.setdefault(e["building_id"], []).append(e["entrance"])
            for building_id, entrances in by_building.items():
                await scope.update(Unit, {Unit.grid_id: grid["id"]}).where(
                    (Unit.project_id == project_id) & (Unit.building_id == building_id) & Unit.entrance.is_in(entrances))
            saved.append((g, grid))
        left_out = [grid for code, grid in existing.items() if code not in codes]
        emptied = []
        for grid in left_out:
            await _end_assignment(scope, grid["id"], now)
            used = await scope.exists(tables.Ticket).where(tables.Ticket.grid_id == grid["id"])
            if used or await scope.exists(Assignment).where(Assignment.grid_id == grid["id"]) \
                    or await scope.exists(PublicRequest).where(PublicRequest.grid_id == grid["id"]):
                await scope.update(G, {G.responsible_id: None}).where(G.id == grid["id"])
                emptied.append(grid["code"])
            else:
                await scope.delete(G).where(G.id == grid["id"])
        for n, (g, grid) in enumerate(saved):
            if g.get("butler_id"):
                await _assign(principal, grid, g["butler_id"], now=now, move=True, field=f"grids.{n}.butler_id")
    result = await list_grids(principal, project_id)
    return {"project_id": project_id, "applied": True, "grids": result, "emptied": emptied}


# ---------------------------------------------------------------- butler assignments

async def holder_role(scope: TenantScope, user_id: int, project_id: int, field: str = "user_id") -> str:
    """The role (butler or team lead) in which this staff member may hold a grid of the project."""
    M = tables.Membership
    rows = await scope.select(M, M.role, M.project_ids).where(
        (M.user_id == user_id) & M.role.is_in(list(HOLDER_ROLES)) & (M.is_active == True))  # noqa: E712
    for r in sorted(rows, key=lambda r: HOLDER_ROLES.index(r["role"])):
        if project_id in (json_value(r["project_ids"]) or []):
            return r["role"]
    raise invalid(field, "not a butler or team lead of this project")


async def _end_assignment(scope: TenantScope, grid_id: int, now: datetime) -> None:
    await scope.update(Assignment, {Assignment.ended_at: now}).where(
        (Assignment.grid_id == grid_id) & Assignment.ended_at.is_null())


async def _assign(principal: Principal, grid: dict[str, Any], user_id: int, *, now: datetime, move: bool,
                  note: str = "", field: str = "user_id") -> dict[str, Any]:
    scope = principal.scope
    role = await holder_role(scope, user_id, grid["project_id"], field)
    households = (await grid_households(scope, [grid["id"]]))[grid["id"]]
    if households > MAX_HOUSEHOLDS and user_id not in await gold_users(scope, [user_id]):
        raise invalid(field, f"the grid has {households} households, over {MAX_HOUSEHOLDS}: only a gold butler (金牌管家) may hold it")
    async with transaction():
        current = await scope.select(Assignment).where(
            (Assignment.grid_id == grid["id"]) & Assignment.ended_at.is_null()).first()
        if current and current["user_id"] == user_id:
            return current
        other = await scope.select(Assignment).where(
            (Assignment.user_id == user_id) & Assignment.ended_at.is_null()).first()
        if other:
            if not move:
                raise conflict(f"This staff member already holds grid #{other['grid_id']}; a butler holds one grid at a time "
                               "(send move: true to move them).", grid_id=other["grid_id"])
            await _end_assignment(scope, other["grid_id"], now)
            await scope.update(tables.Grid, {tables.Grid.responsible_id: None}).where(tables.Grid.id == other["grid_id"])
        await _end_assignment(scope, grid["id"], now)
        row = await scope.insert(Assignment, project_id=grid["project_id"], grid_id=grid["id"], user_id=user_id, role=role,
                                 started_at=now, assigned_by_id=principal.user_id, note=clean(note))
        await scope.update(tables.Grid, {tables.Grid.responsible_id: user_id}).where(tables.Grid.id == grid["id"])
    return row


async def assign(principal: Principal, grid_id: int, user_id: int, *, note: str = "", move: bool = False,
                 now: datetime | None = None) -> dict[str, Any]:
    """Make a butler (or the team lead) the holder of a grid; the previous holder's time ends now."""
    grid = await visible_grid(principal, grid_id)
    principal.require("residential_grids.assign")
    return await _assign(principal, grid, user_id, now=now or utcnow(), move=move, note=note)


async def assignment_history(principal: Principal, grid_id: int) -> list[dict[str, Any]]:
    await visible_grid(principal, grid_id)
    return await principal.scope.select(
        Assignment, Assignment.all_columns(), Assignment.user_id.name.as_alias("name")).where(
        Assignment.grid_id == grid_id).order_by(Assignment.started_at, ascending=False)


async def role_configuration(principal: Principal, project_id: int) -> dict[str, Any]:
    """The project's customer-service role configuration, for the company's record (备案)."""
    project = await residential_project(principal, project_id)
    principal.require("residential_grids.assign")
    grids = await list_grids(principal, project_id)
    M = tables.Membership
    members = await principal.scope.select(M, M.user_id, M.role, M.project_ids, M.work_phone, M.title,
                                           M.user_id.name.as_alias("name")).where(
        M.role.is_in(["project_manager", "supervisor", "team_lead", "front_desk", "butler"]) & (M.is_active == True))  # noqa: E712
    members = [m for m in members if project_id in (json_value(m["project_ids"]) or [])]
    holding = {g["holder"]["user_id"]: g for g in grids if g["holder"]}
    gold = await gold_users(principal.scope, [m["user_id"] for m in members])
    rows = []
    for m in sorted(members, key=lambda m: (list(ROLE_LABELS).index(m["role"]) if m["role"] in ROLE_LABELS else 9, m["name"])):
        g = holding.get(m["user_id"])
        rows.append({"role": m["role"], "role_label": ROLE_LABELS.get(m["role"], m["role"]), "name": m["name"],
                     "work_phone": m["work_phone"], "gold": m["user_id"] in gold,
                     "grid_code": g["code"] if g else "", "grid_name": g["name"] if g else "",
                     "households": g["households"] if g else None,
                     "since": g["holder"]["started_at"].astimezone(BEIJING).date().isoformat() if g else ""})
    for g in grids:
        if not g["holder"]:
            rows.append({"role": "", "role_label": "(待配置 vacant)", "name": "", "work_phone": "", "gold": False,
                         "grid_code": g["code"], "grid_name": g["name"], "households": g["households"], "since": ""})
    await principal.scope.insert(tables.AuditLog, user_id=principal.user_id, action="residential_grids.export_roles",
                                 object_type="core_project", object_id=project_id, data={"rows": len(rows)})
    return {"project": {"id": project["id"], "code": project["code"], "name": project["name"]}, "rows": rows}


EXPORT_HEADER = ["岗位 Role", "姓名 Name", "工作电话 Work phone", "金牌管家 Gold", "网格 Grid", "网格名称 Grid name",
                 "户数 Households", "起始 Since"]


def _export_rows(config: dict[str, Any]) -> list[list[Any]]:
    return [[r["role_label"], r["name"], r["work_phone"], "是" if r["gold"] else "", r["grid_code"], r["grid_name"],
             r["households"] if r["households"] is not None else "", r["since"]] for r in config["rows"]]


def export_csv(config: dict[str, Any]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([f"{config['project']['name']} 客服岗位配置 (备案)"])
    writer.writerow(EXPORT_HEADER)
    writer.writerows(_export_rows(config))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM so Excel reads UTF-8


def export_xlsx(config: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "岗位配置"
    ws.append([f"{config['project']['name']} 客服岗位配置 (备案)"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(EXPORT_HEADER)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in _export_rows(config):
        ws.append(row)
    for col, width in zip("ABCDEFGH", (14, 12, 16, 10, 8, 14, 10, 12)):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- gold butler

async def apply_gold(principal: Principal, project_id: int, reason: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A butler applies for promotion to gold butler (金牌管家)."""
    await residential_project(principal, project_id)
    principal.require("residential_grids.gold_apply")
    await holder_role(principal.scope, principal.user_id, project_id)
    if await principal.scope.exists(GoldApplication).where(
            (GoldApplication.user_id == principal.user_id) & GoldApplication.status.is_in(["pending", "approved"])):
        raise conflict("You already have a pending application or are a gold butler.")
    return await principal.scope.insert(GoldApplication, project_id=project_id, user_id=principal.user_id,
                                        reason=clean(reason), created_at=now or utcnow())


async def decide_gold(principal: Principal, application_id: int, approve: bool, reason: str, *,
                      now: datetime | None = None) -> dict[str, Any]:
    """The supervisor approves or rejects (with a reason) a gold-butler application."""
    app = await principal.scope.get(GoldApplication, application_id, what="gold application")
    principal.require("residential_grids.evaluate")
    await residential_project(principal, app["project_id"])
    reason = clean(reason)
    if not approve and not reason:
        raise invalid("reason", "a rejection needs a reason")
    status = "approved" if approve else "rejected"
    done = await principal.scope.update(GoldApplication, {
        GoldApplication.status: status, GoldApplication.decided_at: now or utcnow(),
        GoldApplication.decided_by_id: principal.user_id, GoldApplication.decision_reason: reason}).where(
        (GoldApplication.id == application_id) & (GoldApplication.status == "pending")).returning(GoldApplication.id)
    if not done:
        raise conflict(f"The application is already {app['status']}.")
    return await principal.scope.get(GoldApplication, application_id)


async def list_gold(principal: Principal, project_id: int) -> list[dict[str, Any]]:
    await residential_project(principal, project_id)
    return await principal.scope.select(
        GoldApplication, GoldApplication.all_columns(), GoldApplication.user_id.name.as_alias("name")).where(
        GoldApplication.project_id == project_id).order_by(GoldApplication.id, ascending=False)


# ---------------------------------------------------------------- routing

async def responsible_for(tenant_id: int, project: dict[str, Any], ticket: dict[str, Any],
                          grid: dict[str, Any] | None = None) -> int | None:
    """Who answers for a new ticket of a residential project: the grid's butler; for a public area, the
    grid holding that building; else the project's team lead. None outside residential projects.

    `grid` is the ticket's grid as the kernel read it (its `responsible_id` is the holder: `_assign` keeps
    it so), which spares a query."""
    if project.get("kind") != "residential":
        return None
    grid_id = ticket.get("grid_id")
    if grid is not None and grid["id"] == grid_id and grid["responsible_id"]:
        return grid["responsible_id"]
    scope = TenantScope(tenant_id)
    if grid_id is None and ticket.get("unit_id"):
        unit = await scope.get_or_none(tables.Unit, ticket["unit_id"], tables.Unit.grid_id)
        grid_id = unit["grid_id"] if unit else None
    if grid_id is None and ticket.get("building_id") and not ticket.get("unit_id"):
        Unit = tables.Unit
        rows = await scope.select(Unit, Unit.grid_id, Count(alias="units")).where(
            (Unit.building_id == ticket["building_id"]) & Unit.grid_id.is_not_null()).group_by(Unit.grid_id)
        if rows:
            grid_id = max(rows, key=lambda r: (r["units"], -r["grid_id"]))["grid_id"]
    if grid_id is not None:
        holder = await grid_holder_id(scope, grid_id)
        if holder:
            return holder
    if not ticket.get("unit_id") and not ticket.get("building_id") and grid_id is None:
        return None
    return await team_lead_of(scope, project["id"])


async def grid_holder_id(scope: TenantScope, grid_id: int) -> int | None:
    row = await scope.first(Assignment, Assignment.user_id, grid_id=grid_id, ended_at=None)
    if row:
        return row["user_id"]
    grid = await scope.get_or_none(tables.Grid, grid_id, tables.Grid.responsible_id)
    return grid["responsible_id"] if grid else None


async def team_lead_of(scope: TenantScope, project_id: int) -> int | None:
    """The project's team lead: the one holding a grid of it, else any team lead of the project."""
    row = await scope.select(Assignment, Assignment.user_id).where(
        (Assignment.project_id == project_id) & (Assignment.role == "team_lead") & Assignment.ended_at.is_null()).first()
    if row:
        return row["user_id"]
    leads = await notify.staff_with_role(scope.tenant_id, ["team_lead"], project_id)
    return leads[0] if leads else None


# ---------------------------------------------------------------- public board

async def public_grid(slug: str, grid_id: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Tenant, grid and project for a public page, or 404 (unknown company, grid, or plugin not enabled)."""
    T = tables.Tenant
    tenant = await T.select(T.id, T.slug, T.name).where((T.slug == slug) & (T.is_active == True)).first()  # noqa: E712
    if tenant is None:
        raise not_found("grid")
    scope = TenantScope(tenant["id"])
    grid = await scope.get(tables.Grid, grid_id, what="grid")
    project = await scope.get(tables.Project, grid["project_id"], what="grid")
    if project["kind"] != "residential" or PLUGIN not in await get_registry().enabled(tenant["id"], project["id"]):
        raise not_found("grid")
    return tenant, grid, project


async def public_board(slug: str, grid_id: int) -> dict[str, Any]:
    """What the public board shows: the grid, the butler's name, photo and work phone — never customer data."""
    tenant, grid, project = await public_grid(slug, grid_id)
    holder = (await current_holders(TenantScope(tenant["id"]), [grid_id])).get(grid_id)
    return {"company": tenant["name"], "slug": tenant["slug"], "project_name": project["name"], "grid_id": grid["id"],
            "grid_code": grid["code"], "grid_name": grid["name"],
            "butler": None if holder is None else {
                "name": holder["name"], "photo_url": holder["photo_url"], "work_phone": holder["work_phone"],
                "role_label": "金牌管家" if holder["gold"] else ROLE_LABELS.get(holder["role"], "客服管家")}}


PUBLIC_KINDS = {"inquiry": "咨询", "repair": "报修"}


async def file_public_request(slug: str, grid_id: int, form: dict[str, str], address: str, *,
                              now: datetime | None = None) -> dict[str, Any]:
    """A resident files an inquiry or repair from the grid's public page; rate-limited per address."""
    now = now or utcnow()
    tenant, grid, project = await public_grid(slug, grid_id)
    scope = TenantScope(tenant["id"])
    kind = form.get("kind", "")
    if kind not in PUBLIC_KINDS:
        raise invalid("kind", "inquiry or repair")
    description = clean(form.get("description", ""))[:1000]
    if not description:
        raise invalid("description", "tell us what you need")
    phone = form.get("phone", "").strip()
    if not re.fullmatch(r"[0-9+\-() ]{5,40}", phone):
        raise invalid("phone", "a phone number so the butler can call you back")
    name = clean(form.get("name", ""))[:50]
    room = clean(form.get("room", ""))[:100]
    limit = int((await settings_of(tenant["id"], project["id"])).get("public_requests_per_hour", 3))
    recent = await scope.count(PublicRequest).where(
        (PublicRequest.address == address[:64]) & (PublicRequest.created_at > now - timedelta(hours=1)))
    if recent >= limit:
        raise Problem(429, "Too many requests", f"At most {limit} requests an hour from one address; please call the butler.")
    holder_id = await grid_holder_id(scope, grid_id) or await team_lead_of(scope, project["id"])
    if holder_id is None:
        raise Problem(503, "Service unavailable", "This grid has no butler yet; please call the service centre.")
    from core import principal_of

    M = tables.Membership
    m = await scope.select(M, M.role).where((M.user_id == holder_id) & M.role.is_in(list(HOLDER_ROLES))).first()
    acting = await principal_of(tenant["id"], holder_id, m["role"] if m else None)
    title = f"公示页{PUBLIC_KINDS[kind]}: {description[:60]}"
    ticket = await tickets.create_ticket(acting, {
        "project_id": project["id"], "kind": kind, "channel": "online", "title": title[:200],
        "description": f"{description}\n\n{name} {phone} {room}".strip(), "contact_phone": phone,
        "place_note": room, "grid_id": grid_id}, now=now)
    await scope.insert(PublicRequest, grid_id=grid_id, address=address[:64], kind=kind, ticket_id=ticket["id"],
                       created_at=now)
    return {"ticket_id": ticket["id"], "grid_name": grid["name"], "kind": kind}


def _cjk_font() -> tuple[str, int] | None:
    import os

    for path, number in (("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
                         ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
                         ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
                         ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2)):
        if os.path.exists(path):
            return path, number
    return None


def board_pdf(board: dict[str, Any], url: str) -> bytes:
    """A printable A4 page for the grid: butler, work phone and a QR code to the public page."""
    import qrcode
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    font = _cjk_font()
    if font:
        pdf.add_font("cjk", "", font[0], collection_font_number=font[1])
        pdf.set_font("cjk", size=28)
        text = lambda s: s  # noqa: E731
    else:  # without a CJK font only Latin text can be drawn
        pdf.set_font("Helvetica", size=28)
        text = lambda s: s.encode("latin-1", "replace").decode("latin-1")  # noqa: E731
    butler = board["butler"] or {"name": "(待配置)", "work_phone": "", "role_label": "客服管家"}
    pdf.set_xy(15, 20)
    pdf.cell(180, 14, text("网格管家公示"), align="C")
    pdf.set_font_size(16)
    pdf.set_xy(15, 38)
    pdf.cell(180, 10, text(f"{board['company']} · {board['project_name']}"), align="C")
    pdf.set_draw_color(30, 30, 30)
    pdf.rect(15, 55, 180, 90)
    pdf.set_font_size(22)
    for y, line in ((65, f"网格: {board['grid_name']} ({board['grid_code']})"),
                    (85, f"{butler['role_label']}: {butler['name']}"),
                    (105, f"工作电话: {butler['work_phone'] or '-'}")):
        pdf.set_xy(25, y)
        pdf.cell(160, 12, text(line))
    pdf.set_font_size(12)
    pdf.set_xy(25, 127)
    pdf.cell(160, 8, text("每格定人, 每人定责 · 您的诉求请找网格管家"))
    qr = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(url)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    size = 80.0
    cell = size / len(matrix)
    x0, y0 = (210 - size) / 2, 160
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(x0 + c * cell, y0 + r * cell, cell, cell, style="F")
    pdf.set_font_size(12)
    pdf.set_xy(15, 245)
    pdf.cell(180, 8, text("扫码联系管家 · 在线报修/咨询"), align="C")
    pdf.set_xy(15, 254)
    pdf.set_font_size(9)
    pdf.cell(180, 6, url, align="C")
    return bytes(pdf.output())


# ---------------------------------------------------------------- prepared answers (答客问)

async def create_answer(principal: Principal, project_id: int, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    await residential_project(principal, project_id)
    principal.require("residential_grids.answers")
    now = now or utcnow()
    return await principal.scope.insert(PreparedAnswer, project_id=project_id, question=clean(data["question"]),
                                        answer=clean(data["answer"]), keywords=clean(data.get("keywords", "")),
                                        created_by_id=principal.user_id, created_at=now, updated_at=now)


async def update_answer(principal: Principal, answer_id: int, data: dict[str, Any]) -> dict[str, Any]:
    row = await principal.scope.get(PreparedAnswer, answer_id, what="prepared answer")
    principal.require("residential_grids.answers")
    await residential_project(principal, row["project_id"])
    changes = {k: clean(v) if isinstance(v, str) else v for k, v in data.items()}
    if changes:
        changes["updated_at"] = utcnow()
        await principal.scope.update(PreparedAnswer, {getattr(PreparedAnswer, k): v for k, v in changes.items()}).where(
            PreparedAnswer.id == answer_id)
    return {**row, **changes}


async def search_answers(principal: Principal, project_id: int, q: str = "", *, include_inactive: bool = False,
                         limit: int = 50) -> list[dict[str, Any]]:
    """Prepared answers of the project whose question, answer or keywords contain every word of `q`."""
    await residential_project(principal, project_id)
    query = principal.scope.select(PreparedAnswer).where(PreparedAnswer.project_id == project_id)
    if not include_inactive:
        query = query.where(PreparedAnswer.is_active == True)  # noqa: E712
    for word in clean(q).split()[:5]:
        pattern = "%" + word.replace("\\", "").replace("%", "").replace("_", "") + "%"
        match = "ilike" if is_postgres() else "like"  # SQLite's LIKE already ignores ASCII case
        query = query.where(getattr(PreparedAnswer.question, match)(pattern) | getattr(PreparedAnswer.answer, match)(pattern)
                            | getattr(PreparedAnswer.keywords, match)(pattern))
    return await query.order_by(PreparedAnswer.use_count, ascending=False).order_by(PreparedAnswer.id).limit(limit)


async def _use_answer(principal: Principal, answer_id: int, project_id: int, field: str) -> dict[str, Any]:
    row = await principal.scope.get_or_none(PreparedAnswer, answer_id)
    if row is None or row["project_id"] != project_id or not row["is_active"]:
        raise invalid(field, "no such prepared answer in this project")
    await principal.scope.update(PreparedAnswer, {PreparedAnswer.use_count: PreparedAnswer.use_count + 1}).where(
        PreparedAnswer.id == answer_id)
    return row


async def _close_inquiry(principal: Principal, ticket: dict[str, Any], answer: str, now: datetime) -> dict[str, Any]:
    await tickets.add_comment(principal, ticket["id"], f"答复 Answer: {answer}", now=now)
    if ticket["status"] in ("received", "dispatched", "in_progress", "reopened"):
        ticket = await tickets.transition(principal, ticket["id"], "resolved", now=now)
    if ticket["status"] in ("resolved", "visited"):
        ticket = await tickets.transition(principal, ticket["id"], "closed", now=now)
    return ticket


async def close_with_answer(principal: Principal, ticket_id: int, answer_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Answer an inquiry with a prepared answer and close it at once (immediate closure)."""
    now = now or utcnow()
    ticket = await tickets.get_ticket(principal, ticket_id)
    principal.require("residential_grids.front_desk")
    if ticket["kind"] != "inquiry":
        raise invalid("ticket_id", "only an inquiry closes with a prepared answer")
    if ticket["status"] in ("closed", "cancelled"):
        raise conflict(f"The ticket is already {ticket['status']}.")
    await residential_project(principal, ticket["project_id"])
    answer = await _use_answer(principal, answer_id, ticket["project_id"], "prepared_answer_id")
    return await _close_inquiry(principal, ticket, answer["answer"], now)


# ---------------------------------------------------------------- call/visit register (来电来访登记表)

async def _household_of(scope: TenantScope, unit_id: int, on: date) -> list[dict[str, Any]]:
    """Customers holding the unit on a day (owner first), with phone."""
    O = tables.Occupancy
    rows = await scope.select(O, O.customer_id, O.role, O.customer_id.name.as_alias("name"),
                              O.customer_id.phone.as_alias("phone")).where(
        (O.unit_id == unit_id) & (O.start_date <= on) & (O.end_date.is_null() | (O.end_date >= on)))
    order = {"owner": 0, "company": 1, "renter": 2, "resident": 3}
    return sorted(rows, key=lambda r: order.get(r["role"], 9))


async def lookup(principal: Principal, project_id: int, *, phone: str = "", building: str = "", room: str = "",
                 on: date | None = None) -> list[dict[str, Any]]:
    """Find the caller quickly: by phone (their units in the project) or by building code and room."""
    await residential_project(principal, project_id)
    principal.require("residential_grids.front_desk")
    scope, on = principal.scope, on or local_day(utcnow())
    Unit, O = tables.Unit, tables.Occupancy
    if phone:
        rows = await scope.select(O, O.unit_id, O.customer_id, O.role, O.customer_id.name.as_alias("name"),
                                  O.unit_id.room.as_alias("room"), O.unit_id.entrance.as_alias("entrance"),
                                  O.unit_id.building_id.code.as_alias("building_code")).where(
            (O.customer_id.phone == phone.strip()) & (O.unit_id.project_id == project_id) & O.end_date.is_null()).limit(20)
        return rows
    if building and room:
        units = await scope.select(Unit, Unit.id, Unit.room, Unit.entrance, Unit.grid_id,
                                   Unit.building_id.code.as_alias("building_code")).where(
            (Unit.project_id == project_id) & (Unit.building_id.code == building.strip()) & (Unit.room == room.strip())).limit(10)
        for u in units:
            u["household"] = [{"customer_id": h["customer_id"], "name": h["name"], "role": h["role"]}
                              for h in await _household_of(scope, u["id"], on)]
        return units
    raise invalid("phone", "give a phone number, or a building code and a room")


async def log_contact(principal: Principal, project_id: int, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Log a call or visit; link or create its ticket; an unanswered question needs a promised reply time."""
    await residential_project(principal, project_id)
    principal.require("residential_grids.front_desk")
    scope = principal.scope
    at = aware(data.get("at"), "at") or now or utcnow()
    promised = aware(data.get("promised_reply_at"), "promised_reply_at")
    unit_id, customer_id, phone = data.get("unit_id"), data.get("customer_id"), data.get("phone", "").strip()
    if unit_id is not None:
        unit = await scope.get_or_none(tables.Unit, unit_id)
        if unit is None or unit["project_id"] != project_id:
            raise invalid("unit_id", "no such unit in this project")
    if customer_id is not None:
        if await scope.get_or_none(tables.Customer, customer_id, tables.Customer.id) is None:
            raise invalid("customer_id", "no such customer")
    elif unit_id is not None:
        household = await _household_of(scope, unit_id, local_day(at))
        customer_id = household[0]["customer_id"] if household else None
    elif phone:
        found = await scope.select(tables.Customer, tables.Customer.id).where(tables.Customer.phone == phone).first()
        customer_id = found["id"] if found else None
    if data.get("ticket_kind") and data.get("ticket_id"):
        raise invalid("ticket_id", "either link an existing ticket or create one with ticket_kind, not both")
    answer = clean(data.get("answer", ""))
    if data.get("prepared_answer_id"):
        prepared = await _use_answer(principal, data["prepared_answer_id"], project_id, "prepared_answer_id")
        answer = answer or prepared["answer"]
    answered = bool(answer)
    if not answered and promised is None and not data.get("ticket_kind") and not data.get("ticket_id"):
        raise invalid("promised_reply_at", "a question not answered now needs a promised reply time")
    if promised is not None and promised <= at:
        raise invalid("promised_reply_at", "the promised reply time must be after the call or visit")
    ticket_id = data.get("ticket_id")
    if ticket_id is not None:
        linked = await scope.get_or_none(tables.Ticket, ticket_id)
        if linked is None or linked["project_id"] != project_id or not principal.sees_ticket(linked):
            raise invalid("ticket_id", "no such ticket in this project")
    subject, content = clean(data["subject"]), clean(data.get("content", ""))
    if data.get("ticket_kind"):
        ticket = await tickets.create_ticket(principal, {
            "project_id": project_id, "kind": data["ticket_kind"], "title": subject,
            "channel": "hotline" if data["channel"] == "call" else "walk_in", "description": content,
            "unit_id": unit_id, "customer_id": customer_id, "contact_phone": phone,
            "promised_at": promised}, now=at)
        if data["ticket_kind"] == "inquiry" and answered:
            ticket = await _close_inquiry(principal, ticket, answer, at)
        ticket_id = ticket["id"]
    return await scope.insert(RegisterEntry, project_id=project_id, channel=data["channel"], at=at,
                              staff_id=principal.user_id, unit_id=unit_id, customer_id=customer_id, phone=phone,
                              caller_name=clean(data.get("caller_name", "")), subject=subject, content=content,
                              answer=answer, prepared_answer_id=data.get("prepared_answer_id"),
                              answered_at=at if answered else None, promised_reply_at=None if answered else promised,
                              ticket_id=ticket_id, created_at=at)


async def reply(principal: Principal, entry_id: int, answer: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Record the reply to a question that could not be answered at once; closes its open inquiry."""
    now = now or utcnow()
    entry = await principal.scope.get(RegisterEntry, entry_id, what="register entry")
    principal.require("residential_grids.front_desk")
    await residential_project(principal, entry["project_id"])
    if entry["answered_at"] is not None:
        raise conflict("This question was already answered.")
    answer = clean(answer)
    await principal.scope.update(RegisterEntry, {RegisterEntry.answer: answer, RegisterEntry.answered_at: now}).where(
        RegisterEntry.id == entry_id)
    if entry["ticket_id"]:
        ticket = await principal.scope.get_or_none(tables.Ticket, entry["ticket_id"])
        if ticket and ticket["kind"] == "inquiry" and ticket["status"] not in ("closed", "cancelled") \
                and principal.sees_ticket(ticket):
            await _close_inquiry(principal, ticket, answer, now)
    return {**entry, "answer": answer, "answered_at": now}


async def list_register(principal: Principal, project_id: int, *, overdue: bool = False, as_of: datetime | None = None,
                        day: date | None = None, before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The register, newest first; `overdue`: questions past their promised reply time and still unanswered at `as_of`."""
    await residential_project(principal, project_id)
    principal.require("residential_grids.front_desk")
    R = RegisterEntry
    query = principal.scope.select(R, R.all_columns(), R.staff_id.name.as_alias("staff_name"),
                                   R.unit_id.room.as_alias("room"), R.unit_id.building_id.code.as_alias("building_code")
                                   ).where(R.project_id == project_id)
    if overdue:
        query = query.where(R.answered_at.is_null() & (R.promised_reply_at < (as_of or utcnow())))
    if day is not None:
        query = query.where((R.at >= day_start(day)) & (R.at < day_start(day + timedelta(days=1))))
    if before_id is not None:
        query = query.where(R.id < before_id)
    rows = await query.order_by(R.id, ascending=False).limit(max(1, min(limit, 200)))
    moment = as_of or utcnow()
    for r in rows:
        r["is_overdue"] = r["answered_at"] is None and r["promised_reply_at"] is not None and r["promised_reply_at"] < moment
    return rows


async def flag_overdue_replies(tenant_id: int, as_of: datetime) -> int:
    """Flag unanswered questions past their promised reply time; tell the staff who logged them and the supervisors."""
    scope = TenantScope(tenant_id)
    R = RegisterEntry
    flagged = await scope.update(R, {R.overdue_at: as_of}).where(
        R.answered_at.is_null() & R.overdue_at.is_null() & (R.promised_reply_at < as_of)).returning(
        R.id, R.project_id, R.staff_id, R.subject)
    for row in flagged:
        supervisors = await notify.staff_with_role(tenant_id, ["supervisor"], row["project_id"])
        await notify.send(tenant_id, template="residential_grids.reply_overdue",
                          subject=f"答复逾期: {row['subject']}", body="约定的答复时间已过, 请尽快回复业户。",
                          key=f"rg:register:{row['id']}:overdue", user_ids=[row["staff_id"], *supervisors])
    return len(flagged)


# ---------------------------------------------------------------- parcels (快递)

async def register_parcel(principal: Principal, project_id: int, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Register a parcel for a unit and tell the household."""
    await residential_project(principal, project_id)
    principal.require("residential_grids.front_desk")
    scope = principal.scope
    received = aware(data.get("received_at"), "received_at") or now or utcnow()
    unit = await scope.get_or_none(tables.Unit, data["unit_id"])
    if unit is None or unit["project_id"] != project_id:
        raise invalid("unit_id", "no such unit in this project")
    carrier, tracking = clean(data["carrier"]), data["tracking_no"].strip().upper()
    if await scope.exists(Parcel).where((Parcel.project_id == project_id) & (Parcel.carrier == carrier)
                                        & (Parcel.tracking_no == tracking)):
        raise conflict(f"Parcel {carrier} {tracking} is already registered.")
    parcel = await scope.insert(Parcel, project_id=project_id, building_id=unit["building_id"], unit_id=unit["id"],
                                carrier=carrier, tracking_no=tracking, recipient_name=clean(data.get("recipient_name", "")),
                                received_at=received, received_by_id=principal.user_id)
    await _tell_household(scope, [parcel], "arrived", local_day(received))
    return parcel


async def _tell_household(scope: TenantScope, parcels: list[dict[str, Any]], what: str, on: date) -> int:
    """SMS the household of each parcel (idempotent per parcel, message and day)."""
    O = tables.Occupancy
    unit_ids = list({p["unit_id"] for p in parcels})
    if not unit_ids:
        return 0
    rows = await scope.select(O, O.unit_id, O.customer_id, O.customer_id.phone.as_alias("phone")).where(
        O.unit_id.is_in(unit_ids) & (O.start_date <= on) & (O.end_date.is_null() | (O.end_date >= on)))
    by_unit: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_unit.setdefault(r["unit_id"], []).append(r)
    sent = 0
    for p in parcels:
        for r in by_unit.get(p["unit_id"], []):
            subject = (f"您的快递 {p['carrier']} {p['tracking_no']} 已到物业服务中心, 请凭本人或委托人签字领取。" if what == "arrived"
                       else f"提醒: 您的快递 {p['carrier']} {p['tracking_no']} 尚未领取, 请尽快到物业服务中心签字领取。")
            sent += len(await notify.send(scope.tenant_id, template=f"residential_grids.parcel_{what}", subject=subject,
                                          body=subject, key=f"rg:parcel:{p['id']}:{what}:{on.isoformat()}",
                                          customer_id=r["customer_id"], address=r["phone"] or "", channel="sms"))
    return sent


PARCEL_COLUMNS = (Parcel.id, Parcel.project_id, Parcel.building_id, Parcel.unit_id, Parcel.carrier, Parcel.tracking_no,
                  Parcel.recipient_name, Parcel.received_at, Parcel.status, Parcel.delegate_name, Parcel.released_at,
                  Parcel.picker_kind, Parcel.picker_name, Parcel.reminders, Parcel.flagged_at)


async def daily_list(principal: Principal, project_id: int, day: date) -> dict[str, Any]:
    """The day's parcel list sorted by building (seed 000): received that day, plus every one still waiting."""
    await residential_project(principal, project_id)
    principal.require("residential_grids.front_desk")
    start, end = day_start(day), day_start(day + timedelta(days=1))
    rows = await principal.scope.select(
        Parcel, *PARCEL_COLUMNS, Parcel.building_id.code.as_alias("building_code"),
        Parcel.unit_id.entrance.as_alias("entrance"), Parcel.unit_id.room.as_alias("room")).where(
        (Parcel.project_id == project_id) & (Parcel.received_at < end)
        & (((Parcel.received_at >= start)) | (Parcel.status == "waiting"))).order_by(
        Parcel.building_id.code).order_by(Parcel.id).limit(2000)
    rows.sort(key=lambda r: (_natural(r["building_code"]), _natural(r["entrance"]), _natural(r["room"]), r["id"]))
    buildings: list[dict[str, Any]] = []
    for r in rows:
        if not buildings or buildings[-1]["building_code"] != r["building_code"]:
            buildings.append({"building_code": r["building_code"], "parcels": []})
        buildings[-1]["parcels"].append(r)
    return {"day": day.isoformat(), "count": len(rows), "waiting": sum(r["status"] == "waiting" for r in rows),
            "buildings": buildings}


async def get_parcel(principal: Principal, parcel_id: int) -> dict[str, Any]:
    parcel = await principal.scope.get(Parcel, parcel_id, what="parcel")
    principal.require("residential_grids.front_desk")
    await residential_project(principal, parcel["project_id"])
    return parcel


async def set_delegate(principal: Principal, parcel_id: int, name: str, phone: str = "") -> dict[str, Any]:
    """Record the delegate the household named for this parcel."""
    parcel = await get_parcel(principal, parcel_id)
    if parcel["status"] != "waiting":
        raise conflict("The parcel was already picked up.")
    name = clean(name)
    await principal.scope.update(Parcel, {Parcel.delegate_name: name, Parcel.delegate_phone: phone.strip()}).where(
        Parcel.id == parcel_id)
    return {**parcel, "delegate_name": name, "delegate_phone": phone.strip()}


def check_signature(value: str) -> tuple[bytes, int, int]:
    """A signature drawn in the portal: a PNG data URL of at most 200 kB. Returns (png, width, height)."""
    prefix = "data:image/png;base64,"
    if not value or not value.startswith(prefix):
        raise invalid("signature", "a signature is required: a PNG data URL (data:image/png;base64,…) drawn in the portal")
    try:
        raw = base64.b64decode(value[len(prefix):], validate=True)
    except ValueError as exc:
        raise invalid("signature", "not valid base64") from exc
    if len(raw) > SIGNATURE_MAX_BYTES:
        raise invalid("signature", f"too large: {len(raw)} bytes (at most {SIGNATURE_MAX_BYTES})")
    if len(raw) < 33 or raw[:8] != PNG_MAGIC or raw[12:16] != b"IHDR":
        raise invalid("signature", "not a PNG image")
    width, height = struct.unpack(">II", raw[16:24])
    if not (20 <= width <= 4000 and 20 <= height <= 4000):
        raise invalid("signature", f"unexpected image size {width}×{height}")
    return raw, width, height


async def release_parcel(principal: Principal, parcel_id: int, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Hand a parcel to the household or its named delegate — only with a signature (seed 000)."""
    parcel = await get_parcel(principal, parcel_id)
    now = aware(data.get("at"), "at") or now or utcnow()
    if parcel["status"] != "waiting":
        raise conflict("The parcel was already picked up.")
    raw, width, height = check_signature(data.get("signature", ""))
    scope = principal.scope
    if data["picker"] == "household":
        if not data.get("customer_id"):
            raise invalid("customer_id", "who of the household picks it up")
        household = await _household_of(scope, parcel["unit_id"], local_day(now))
        member = next((h for h in household if h["customer_id"] == data["customer_id"]), None)
        if member is None:
            raise invalid("customer_id", "not a member of the recipient household")
        name, customer_id = member["name"], member["customer_id"]
    else:
        name = clean(data.get("name", ""))
        if not parcel["delegate_name"]:
            raise invalid("picker", "the household has named no delegate for this parcel")
        if name != parcel["delegate_name"]:
            raise invalid("name", "not the delegate the household named")
        customer_id = None
    async with transaction():
        done = await scope.update(Parcel, {
            Parcel.status: "released", Parcel.released_at: now, Parcel.released_by_id: principal.user_id,
            Parcel.picker_kind: data["picker"], Parcel.picker_name: name, Parcel.picker_customer_id: customer_id}).where(
            (Parcel.id == parcel_id) & (Parcel.status == "waiting")).returning(Parcel.id)
        if not done:
            raise conflict("The parcel was already picked up.")
        await scope.insert(Signature, parcel_id=parcel_id, image=data["signature"], size_bytes=len(raw), width=width,
                           height=height, signer_name=name, signed_at=now, staff_id=principal.user_id)
    return {**parcel, "status": "released", "released_at": now, "released_by_id": principal.user_id,
            "picker_kind": data["picker"], "picker_name": name, "picker_customer_id": customer_id}


async def signature_of(principal: Principal, parcel_id: int) -> tuple[dict[str, Any], bytes]:
    parcel = await get_parcel(principal, parcel_id)
    sig = await principal.scope.select(Signature).where(Signature.parcel_id == parcel_id).first()
    if sig is None:
        raise conflict(f"The parcel is {parcel['status']}: nobody has signed for it yet.")
    return sig, base64.b64decode(sig["image"].split(",", 1)[1])


async def parcel_reminders(tenant_id: int, as_of: datetime) -> dict[str, int]:
    """Daily: remind households of parcels still waiting, and flag those unclaimed after N days (a plugin setting)."""
    scope = TenantScope(tenant_id)
    today = local_day(as_of)
    projects = await scope.select(Parcel, Parcel.project_id).where(Parcel.status == "waiting").distinct()
    reminded = flagged = 0
    for p in projects:
        project_id = p["project_id"]
        if PLUGIN not in await get_registry().enabled(tenant_id, project_id):
            continue
        days = int((await settings_of(tenant_id, project_id)).get("unclaimed_flag_days", 3))
        due = await scope.update(Parcel, {Parcel.reminded_on: today, Parcel.reminders: Parcel.reminders + 1}).where(
            (Parcel.project_id == project_id) & (Parcel.status == "waiting") & (Parcel.received_at < day_start(today))
            & (Parcel.reminded_on.is_null() | (Parcel.reminded_on < today))).returning(
            Parcel.id, Parcel.unit_id, Parcel.carrier, Parcel.tracking_no)
        await _tell_household(scope, due, "reminder", today)
        reminded += len(due)
        late = await scope.update(Parcel, {Parcel.flagged_at: as_of}).where(
            (Parcel.project_id == project_id) & (Parcel.status == "waiting") & Parcel.flagged_at.is_null()
            & (Parcel.received_at <= as_of - timedelta(days=days))).returning(Parcel.id)
        if late:
            desk = await notify.staff_with_role(tenant_id, ["front_desk", "team_lead"], project_id)
            await notify.send(tenant_id, template="residential_grids.parcels_unclaimed",
                              subject=f"{len(late)} 件快递超过 {days} 天未领取", body="请联系业户或按规定处理。",
                              key=f"rg:parcels:{project_id}:unclaimed:{today.isoformat()}", user_ids=desk)
        flagged += len(late)
    return {"reminded": reminded, "flagged": flagged}


# ---------------------------------------------------------------- monthly butler evaluation (月度考评)

def month_bounds(month: str) -> tuple[datetime, datetime]:
    year, mon = (int(p) for p in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=BEIJING)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=BEIJING)
    return start, end


def _seconds_between(later: str, earlier: str) -> str:
    if is_postgres():
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


async def compute_month(tenant_id: int, project_id: int, month: str, as_of: datetime) -> list[dict[str, Any]]:
    """Compute (or recompute) every grid holder's figures for a month; the supervisor's score is kept."""
    scope = TenantScope(tenant_id)
    start, end = month_bounds(month)
    T, A = tables.Ticket, Assignment
    holders = await scope.select(A, A.user_id, A.grid_id, A.started_at).where(
        (A.project_id == project_id) & (A.started_at < end) & (A.ended_at.is_null() | (A.ended_at > start))).order_by(A.started_at)
    grid_of = {h["user_id"]: h["grid_id"] for h in holders}  # the latest grid held in the month
    minutes = int((await settings_of(tenant_id, project_id)).get("immediate_closure_minutes", 30))
    households = await grid_households(scope, set(grid_of.values()))
    out = []
    for user_id, grid_id in grid_of.items():
        mine = (T.project_id == project_id) & (T.responsible_id == user_id)
        created = mine & (T.created_at >= start) & (T.created_at < end)
        resolved = mine & (T.resolved_at >= start) & (T.resolved_at < end) & (T.resolved_at <= as_of)
        by_kind = {r["kind"]: r["n"] for r in await scope.select(T, T.kind, Count(alias="n")).where(created).group_by(T.kind)}
        inquiries_immediate = await scope.count(T).where(
            created & (T.kind == "inquiry") & T.resolved_at.is_not_null() & (T.resolved_at <= as_of)
            & WhereRaw(f"{_seconds_between('resolved_at', 'created_at')} <= {{}}", minutes * 60))
        visited = T.return_visited_at.is_not_null() & (T.return_visited_at <= as_of)
        figures = {
            "households": households.get(grid_id, 0),
            "tickets_total": sum(by_kind.values()),
            "tickets_by_kind": by_kind,
            "inquiries": by_kind.get("inquiry", 0),
            "inquiries_immediate": inquiries_immediate,
            "visits_due": await scope.count(T).where(resolved & T.kind.is_in(["repair", "complaint"])),
            "visits_done": await scope.count(T).where(resolved & T.kind.is_in(["repair", "complaint"]) & visited),
            "complaints_resolved": await scope.count(T).where(resolved & (T.kind == "complaint")),
            "complaint_visits_in_time": await scope.count(T).where(
                resolved & (T.kind == "complaint") & visited & T.return_visit_due_at.is_not_null()
                & WhereRaw("return_visited_at <= return_visit_due_at")),
            "own_fault_complaints": await scope.count(T).where(resolved & (T.kind == "complaint") & (T.own_fault == True)),  # noqa: E712
            "due_tickets": await scope.count(T).where(resolved & (T.promised_at.is_not_null() | T.resolution_due_at.is_not_null())),
            "on_time_tickets": await scope.count(T).where(
                resolved & (T.promised_at.is_not_null() | T.resolution_due_at.is_not_null())
                & WhereRaw("resolved_at <= COALESCE(promised_at, resolution_due_at)")),
        }
        async with transaction():
            existing = await scope.select(Evaluation, Evaluation.id).where(
                (Evaluation.project_id == project_id) & (Evaluation.user_id == user_id) & (Evaluation.month == month)).first()
            if existing:
                await scope.update(Evaluation, {getattr(Evaluation, k): v for k, v in
                                                {**figures, "grid_id": grid_id, "as_of": as_of, "computed_at": as_of}.items()}).where(
                    Evaluation.id == existing["id"])
                row = await scope.get(Evaluation, existing["id"])
            else:
                row = await scope.insert(Evaluation, project_id=project_id, user_id=user_id, grid_id=grid_id, month=month,
                                         as_of=as_of, computed_at=as_of, **figures)
        out.append(present_evaluation(row))
    return out


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def present_evaluation(row: dict[str, Any]) -> dict[str, Any]:
    """An evaluation with its rates and whether each target of seed 000 is met."""
    row = dict(row)
    row["tickets_by_kind"] = json_value(row["tickets_by_kind"]) or {}
    immediate = _rate(row["inquiries_immediate"], row["inquiries"])
    visits = _rate(row["visits_done"], row["visits_due"])
    complaint_visits = _rate(row["complaint_visits_in_time"], row["complaints_resolved"])
    on_time = _rate(row["on_time_tickets"], row["due_tickets"])
    row["rates"] = {
        "immediate_closure": {"value": immediate, "target": IMMEDIATE_CLOSURE_TARGET,
                              "met": immediate is None or immediate >= IMMEDIATE_CLOSURE_TARGET},
        "return_visit": {"value": visits, "target": RETURN_VISIT_TARGET, "met": visits is None or visits >= RETURN_VISIT_TARGET},
        "complaint_visit_within_3_working_days": {"value": complaint_visits, "target": 1.0,
                                                  "met": complaint_visits is None or complaint_visits >= 1.0},
        "own_fault_complaints": {"value": row["own_fault_complaints"], "target": 0, "met": row["own_fault_complaints"] == 0},
        "on_time": {"value": on_time, "target": 1.0, "met": on_time is None or on_time >= 1.0},
    }
    return row


async def compute_evaluations(principal: Principal, project_id: int, month: str, as_of: datetime | None = None) -> list[dict[str, Any]]:
    await residential_project(principal, project_id)
    principal.require("residential_grids.evaluate")
    as_of = aware(as_of, "as_of") or utcnow()
    if as_of < month_bounds(month)[0]:
        raise invalid("as_of", "the month has not begun at this as_of")
    return await compute_month(principal.tenant_id, project_id, month, as_of)


async def list_evaluations(principal: Principal, project_id: int, *, month: str | None = None,
                           user_id: int | None = None) -> list[dict[str, Any]]:
    await residential_project(principal, project_id)
    E = Evaluation
    query = principal.scope.select(E, E.all_columns(), E.user_id.name.as_alias("name"),
                                   E.grid_id.name.as_alias("grid_name")).where(E.project_id == project_id)
    if principal.role == "butler":
        query = query.where(E.user_id == principal.user_id)
    if month:
        query = query.where(E.month == month)
    if user_id:
        query = query.where(E.user_id == user_id)
    return [present_evaluation(r) for r in await query.order_by(E.month).order_by(E.user_id).limit(500)]


async def evaluation_series(principal: Principal, project_id: int, user_id: int | None) -> dict[str, Any]:
    """One butler's evaluations over the months, as series for a chart."""
    await residential_project(principal, project_id)
    if user_id is None:
        raise invalid("user_id", "which butler")
    rows = await list_evaluations(principal, project_id, user_id=user_id)
    pct = lambda v: None if v is None else round(v * 100, 1)  # noqa: E731
    return {"user_id": user_id, "name": rows[0]["name"] if rows else "", "months": [r["month"] for r in rows],
            "series": {
                "immediate_closure_pct": [pct(r["rates"]["immediate_closure"]["value"]) for r in rows],
                "return_visit_pct": [pct(r["rates"]["return_visit"]["value"]) for r in rows],
                "complaint_visit_in_time_pct": [pct(r["rates"]["complaint_visit_within_3_working_days"]["value"]) for r in rows],
                "on_time_pct": [pct(r["rates"]["on_time"]["value"]) for r in rows],
                "own_fault_complaints": [r["own_fault_complaints"] for r in rows],
                "score": [r["score"] for r in rows],
                "households": [r["households"] for r in rows]}}


async def score_evaluation(principal: Principal, evaluation_id: int, score: int, comment: str, *,
                           now: datetime | None = None) -> dict[str, Any]:
    """The supervisor's score (0–100) and comment on a computed evaluation."""
    row = await principal.scope.get(Evaluation, evaluation_id, what="evaluation")
    principal.require("residential_grids.evaluate")
    await residential_project(principal, row["project_id"])
    now = aware(now, "at") or utcnow()
    changes = {"score": score, "comment": clean(comment), "evaluated_by_id": principal.user_id, "evaluated_at": now}
    await principal.scope.update(Evaluation, {getattr(Evaluation, k): v for k, v in changes.items()}).where(
        Evaluation.id == evaluation_id)
    return present_evaluation({**row, **changes})
