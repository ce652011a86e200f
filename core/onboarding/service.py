"""Validate a company's onboarding bundle completely, then import all of it in one transaction or nothing.

Natural keys make a re-run an update: projects by code, buildings by project + code, grids by project +
code, units by building + entrance + room, customers by ID number (else phone), staff by login,
occupancies by customer + unit + relation.
"""
from __future__ import annotations

import re
import secrets
from calendar import monthrange
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, ContextManager, Iterator

from core.db import json_value, transaction
from core.errors import Problem
from core.onboarding.reading import Bundle, Row, RowError
from core.onboarding.sheets import CUSTOMER_KINDS, PROJECT_KINDS, RELATIONS, UNIT_STATUSES, UNIT_USES
from core.plugins import get_registry
from core.auth import MIN_PASSWORD
from core.roles import ALL_ROLES
from core.tables import Building, Customer, Grid, Membership, Occupancy, PluginState, Project, Tenant, Unit, User
from core.tenancy import TenantScope

CHUNK = 1000
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|400-?\d{3}-?\d{4})$")
ID_NUMBER = re.compile(r"^(\d{17}[\dXx]|[A-Z0-9][A-Z0-9-]{5,39})$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

Progress = Callable[[str, int], ContextManager[Any]]


class OnboardingInvalid(Problem):
    """The bundle has bad rows; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(422, "Invalid onboarding data", f"{len(errors)} problem(s); nothing was imported.",
                         field="rows")
        self.errors = errors


@dataclass
class Report:
    slug: str
    tenant_id: int
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)  # login → generated initial password (shown once)

    def add(self, what: str, created: int = 0, updated: int = 0) -> None:
        self.created[what] = self.created.get(what, 0) + created
        self.updated[what] = self.updated.get(what, 0) + updated


class _NoBar:
    def update(self, n: int) -> None:
        pass


@contextmanager
def no_progress(label: str, total: int) -> Iterator[_NoBar]:
    yield _NoBar()


def room_key(building: str, entrance: str, room: str) -> tuple[str, str, str]:
    return (building.strip(), entrance.strip(), room.strip())


def generate_password() -> str:
    """A random initial password of 12 characters, easy to read out (no 0/O, 1/l/I)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def customer_key(values: dict[str, str]) -> str:
    return ("id:" + values["id_number"].upper()) if values.get("id_number") else ("phone:" + values.get("phone", ""))


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        return None


# ---------------------------------------------------------------- validation

async def validate(bundle: Bundle) -> list[RowError]:
    """Every problem of the bundle (config and rows), checked against the file and what is already stored."""
    errors = list(bundle.errors)
    cfg = bundle.config
    company = cfg.get("company") or {}
    registry = get_registry()
    known_plugins = set(registry.metas) - {"core"}

    def cfg_err(reason: str, column: str = "") -> None:
        errors.append(RowError("tenant.toml", "", 0, reason, column))

    slug = str(company.get("slug", ""))
    if not SLUG.match(slug):
        cfg_err("slug must be lower-case letters, digits and dashes", "company.slug")
    if not str(company.get("name", "")).strip():
        cfg_err("the company needs a name", "company.name")
    if company.get("contact_phone") and not PHONE.match(str(company["contact_phone"])):
        cfg_err("phone malformed", "company.contact_phone")
    for p in company.get("plugins", []):
        if p not in known_plugins:
            cfg_err(f"unknown plugin {p!r}", "company.plugins")
    for p in sorted(set(company.get("plugins", [])) | {q for proj in cfg.get("projects") or [] for q in proj.get("plugins", [])}):
        owner = registry.site_owners.get(p)
        if owner is not None and owner != company.get("slug"):
            cfg_err(f"plugin {p!r} is a site-local plugin of company {owner!r}", "company.plugins")
    for p in (cfg.get("settings") or {}):
        if p not in known_plugins:
            cfg_err(f"settings for unknown plugin {p!r}", "settings")
    project_codes: set[str] = set()
    for i, proj in enumerate(cfg.get("projects") or []):
        where = f"projects[{i}]"
        code = str(proj.get("code", "")).strip()
        if not code:
            cfg_err("a project needs a code", f"{where}.code")
        elif code in project_codes:
            cfg_err(f"duplicate project {code}", f"{where}.code")
        project_codes.add(code)
        if not str(proj.get("name", "")).strip():
            cfg_err("a project needs a name", f"{where}.name")
        if proj.get("kind") not in PROJECT_KINDS:
            cfg_err(f"kind must be one of {', '.join(PROJECT_KINDS)}", f"{where}.kind")
        if _decimal(str(proj.get("total_area", "0"))) is None:
            cfg_err("total area not a number", f"{where}.total_area")
        for p in list(proj.get("plugins", [])) + list((proj.get("settings") or {}).keys()):
            if p not in known_plugins:
                cfg_err(f"unknown plugin {p!r}", f"{where}.plugins")

    # what is stored already counts as known (a re-run may bring only some files)
    tenant = await Tenant.select(Tenant.id).where(Tenant.slug == slug).first() if slug else None
    stored_buildings: set[tuple[str, str]] = set()
    stored_grids: set[tuple[str, str]] = set()
    member_logins: set[str] = set()
    if tenant:
        scope = TenantScope(tenant["id"])
        codes = {r["id"]: r["code"] for r in await scope.select(Project, Project.id, Project.code)}
        project_codes |= set(codes.values())
        stored_buildings = {(codes[r["project_id"]], r["code"]) for r in await scope.select(Building, Building.project_id, Building.code)}
        stored_grids = {(codes[r["project_id"]], r["code"]) for r in await scope.select(Grid, Grid.project_id, Grid.code)}
        users = await scope.select(Membership, Membership.user_id)
        ids = list({u["user_id"] for u in users})
        if ids:
            member_logins = {u["login"] for u in await User.select(User.login).where(User.id.is_in(ids))}

    def project_ok(row: Row) -> bool:
        if row.values["project"] not in project_codes:
            errors.append(row.error(f"unknown project {row.values['project']!r}", "project"))
            return False
        return True

    def required(row: Row, *keys: str) -> bool:
        ok = True
        for k in keys:
            if not row.values.get(k):
                errors.append(row.error("required", k))
                ok = False
        return ok

    # staff
    logins: set[str] = set()
    staff_rows = bundle.rows.get("staff", [])
    for row in staff_rows:
        v = row.values
        if not required(row, "login", "name", "role"):
            continue
        if (v["login"], v["role"]) in logins:
            errors.append(row.error(f"duplicate staff {v['login']} as {v['role']}", "login"))
        logins.add((v["login"], v["role"]))  # type: ignore[arg-type]
        if v["role"] not in ALL_ROLES:
            errors.append(row.error(f"role unknown: {v['role']!r} (one of {', '.join(ALL_ROLES)})", "role"))
        if v["phone"] and not PHONE.match(v["phone"]):
            errors.append(row.error(f"phone malformed: {v['phone']!r}", "phone"))
        if v["password"] and not MIN_PASSWORD <= len(v["password"]) <= 128:
            errors.append(row.error(f"initial password must have {MIN_PASSWORD} to 128 characters", "password"))
        for code in filter(None, (c.strip() for c in re.split(r"[,，;；\s]+", v["projects"]))):
            if code not in project_codes:
                errors.append(row.error(f"unknown project {code!r}", "projects"))
    staff_logins = {login for login, _ in logins}  # type: ignore[misc]
    if staff_logins:
        taken = {u["login"] for u in await User.select(User.login).where(User.login.is_in(list(staff_logins)))}
        for row in staff_rows:
            if row.values["login"] in taken - member_logins:
                errors.append(row.error(f"login {row.values['login']!r} belongs to a user of another company", "login"))
    all_logins = staff_logins | member_logins

    # buildings
    buildings: set[tuple[str, str]] = set()
    for row in bundle.rows.get("buildings", []):
        v = row.values
        if not required(row, "project", "building") or not project_ok(row):
            continue
        key = (v["project"], v["building"])
        if key in buildings:
            errors.append(row.error(f"duplicate building {v['building']}", "building"))
        buildings.add(key)
        if v["floors"] and (_int(v["floors"]) is None or not 0 <= int(v["floors"]) <= 300):
            errors.append(row.error(f"floors not a whole number: {v['floors']!r}", "floors"))
    known_buildings = buildings | stored_buildings

    # grids
    grids: set[tuple[str, str]] = set()
    for row in bundle.rows.get("grids", []):
        v = row.values
        if not required(row, "project", "grid", "name") or not project_ok(row):
            continue
        key = (v["project"], v["grid"])
        if key in grids:
            errors.append(row.error(f"duplicate grid {v['grid']}", "grid"))
        grids.add(key)
        if v["responsible"] and v["responsible"] not in all_logins:
            errors.append(row.error(f"unknown staff login {v['responsible']!r}", "responsible"))
    known_grids = grids | stored_grids

    # units
    rooms: set[tuple[str, str, str, str]] = set()
    for row in bundle.rows.get("units", []):
        v = row.values
        if not required(row, "project", "building", "room", "area") or not project_ok(row):
            continue
        if (v["project"], v["building"]) not in known_buildings:
            errors.append(row.error(f"unknown building {v['building']!r}", "building"))
        key = (v["project"], *room_key(v["building"], v["entrance"], v["room"]))
        if key in rooms:
            errors.append(row.error(f"duplicate room {v['building']}-{v['entrance'] or '-'}-{v['room']}", "room"))
        rooms.add(key)
        area = _decimal(v["area"])
        if area is None:
            errors.append(row.error(f"area not a number: {v['area']!r}", "area"))
        elif area < 0 or area >= Decimal("100000000"):
            errors.append(row.error(f"area out of range: {v['area']}", "area"))
        if v["floor"] and _int(v["floor"]) is None:
            errors.append(row.error(f"floor not a whole number: {v['floor']!r}", "floor"))
        if v["use"] and v["use"] not in UNIT_USES:
            errors.append(row.error(f"use unknown: {v['use']!r} (one of {', '.join(UNIT_USES)})", "use"))
        if v["status"] and v["status"] not in UNIT_STATUSES:
            errors.append(row.error(f"status unknown: {v['status']!r} (one of {', '.join(UNIT_STATUSES)})", "status"))
        if v["grid"] and (v["project"], v["grid"]) not in known_grids:
            errors.append(row.error(f"unknown grid {v['grid']!r}", "grid"))

    # customers and their units
    stored_rooms: set[tuple[str, str, str, str]] = set()
    if tenant and (bundle.rows.get("customers") or bundle.rows.get("opening_balances")):
        stored_rooms = await _stored_rooms(tenant["id"])
    known_rooms = rooms | stored_rooms
    seen: set[tuple[str, tuple, str]] = set()
    names: dict[str, str] = {}
    for row in bundle.rows.get("customers", []):
        v = row.values
        if not required(row, "name", "project", "building", "room") or not project_ok(row):
            continue
        if not v["id_number"] and not v["phone"]:
            errors.append(row.error("a customer needs an ID number or a phone", "id_number"))
            continue
        if v["phone"] and not PHONE.match(v["phone"]):
            errors.append(row.error(f"phone malformed: {v['phone']!r}", "phone"))
        if v["id_number"] and not ID_NUMBER.match(v["id_number"].upper()):
            errors.append(row.error(f"ID number malformed: {v['id_number']!r}", "id_number"))
        if v["kind"] and v["kind"] not in CUSTOMER_KINDS:
            errors.append(row.error(f"kind unknown: {v['kind']!r} (one of {', '.join(CUSTOMER_KINDS)})", "kind"))
        if v["relation"] and v["relation"] not in RELATIONS:
            errors.append(row.error(f"relation unknown: {v['relation']!r} (one of {', '.join(RELATIONS)})", "relation"))
        if v["start_date"] and _date(v["start_date"]) is None:
            errors.append(row.error(f"date malformed: {v['start_date']!r} (YYYY-MM-DD)", "start_date"))
        room = (v["project"], *room_key(v["building"], v["entrance"], v["room"]))
        if (v["project"], v["building"]) not in known_buildings:
            errors.append(row.error(f"unknown building {v['building']!r}", "building"))
        elif room not in known_rooms:
            errors.append(row.error(f"unknown room {v['building']}-{v['entrance'] or '-'}-{v['room']}", "room"))
        ckey = customer_key(v)
        if names.setdefault(ckey, v["name"]) != v["name"]:
            errors.append(row.error(f"the same customer ({ckey}) has another name on an earlier row", "name"))
        link = (ckey, room, v["relation"] or "owner")
        if link in seen:
            errors.append(row.error("duplicate customer for this room", "room"))
        seen.add(link)
    if bundle.rows.get("opening_balances"):
        errors += await _validate_opening_balances(bundle, tenant["id"] if tenant else None, project_codes, known_rooms,
                                                   seen, slug)
    return errors


def _hook_plugins(hook_name: str) -> set[str]:
    return {impl.plugin_name for impl in getattr(get_registry().pm.hook, hook_name).get_hookimpls()}


async def _validate_opening_balances(bundle: Bundle, tenant_id: int | None, project_codes: set[str],
                                     known_rooms: set[tuple[str, str, str, str]], links: set[tuple[str, tuple, str]],
                                     slug: str) -> list[RowError]:
    """Opening balances (期初欠费): a known room, a payer, a month, a positive amount in yuan, and a plugin
    that takes them (hook `import_opening_balances`) enabled for the project."""
    errors: list[RowError] = []
    cfg = bundle.config
    takers = _hook_plugins("import_opening_balances")
    on_for: dict[str, set[str]] = {}
    company_plugins = set((cfg.get("company") or {}).get("plugins", [])) | set((cfg.get("settings") or {}))
    for proj in cfg.get("projects") or []:
        on_for[str(proj.get("code", "")).strip()] = company_plugins | set(proj.get("plugins", []))
    stored_owned: set[tuple[str, str, str, str]] = set()
    stored_keys: set[str] = set()
    if tenant_id is not None:
        registry = get_registry()
        codes = {r["id"]: r["code"] for r in await TenantScope(tenant_id).select(Project, Project.id, Project.code)}
        registry.forget(tenant_id)
        for pid, code in codes.items():
            on_for.setdefault(code, set(company_plugins))
            on_for[code] |= set(await registry.enabled(tenant_id, pid))
        stored_owned = await _stored_owned_rooms(tenant_id)
        stored_keys = await _stored_customer_keys(tenant_id)
    bundle_owned = {room for _, room, relation in links if relation in ("owner", "company")}
    bundle_keys = {k for r in bundle.rows.get("customers", []) for k in (
        f"id:{r.values['id_number'].upper()}" if r.values["id_number"] else "", f"phone:{r.values['phone']}"
        if r.values["phone"] else "") if k}
    told: set[str] = set()
    seen: set[tuple] = set()
    for row in bundle.rows.get("opening_balances", []):
        v = row.values
        missing = [k for k in ("project", "building", "room", "fee", "period", "amount") if not v.get(k)]
        for k in missing:
            errors.append(row.error("required", k))
        if missing:
            continue
        if v["project"] not in project_codes:
            errors.append(row.error(f"unknown project {v['project']!r}", "project"))
            continue
        if not on_for.get(v["project"], company_plugins) & takers and v["project"] not in told:
            told.add(v["project"])
            names = ", ".join(sorted(takers)) or "a plugin that collects arrears"
            errors.append(row.error(f"opening balances need {names} enabled for project {v['project']}", "project"))
        room = (v["project"], *room_key(v["building"], v["entrance"], v["room"]))
        if room not in known_rooms:
            errors.append(row.error(f"unknown room {v['building']}-{v['entrance'] or '-'}-{v['room']}", "room"))
        if v["id_number"] or v["phone"]:
            key = customer_key(v)
            if key not in bundle_keys and key not in stored_keys:
                errors.append(row.error(f"no customer with this {'ID number' if v['id_number'] else 'phone'}",
                                        "id_number" if v["id_number"] else "phone"))
        elif room not in bundle_owned and room not in stored_owned:
            errors.append(row.error("the room has no owner to owe it; give the payer's ID number or phone", "id_number"))
        if not re.fullmatch(r"(20\d\d|2100)-(0[1-9]|1[0-2])", v["period"]):
            errors.append(row.error(f"month malformed: {v['period']!r} (YYYY-MM)", "period"))
        amount = _decimal(v["amount"])
        if amount is None or amount <= 0 or amount >= Decimal("10000000") or amount != amount.quantize(Decimal("0.01")):
            errors.append(row.error(f"amount must be yuan above 0 with at most 2 decimals: {v['amount']!r}", "amount"))
        if v["due_date"] and _date(v["due_date"]) is None:
            errors.append(row.error(f"date malformed: {v['due_date']!r} (YYYY-MM-DD)", "due_date"))
        if len(v["fee"]) > 80:
            errors.append(row.error("fee name longer than 80 characters", "fee"))
        key = (room, v["fee"], v["period"])
        if key in seen:
            errors.append(row.error("duplicate balance for this room, fee and month", "period"))
        seen.add(key)
    return errors


async def _stored_owned_rooms(tenant_id: int) -> set[tuple[str, str, str, str]]:
    scope = TenantScope(tenant_id)
    codes = {r["id"]: r["code"] for r in await scope.select(Project, Project.id, Project.code)}
    bcodes = {r["id"]: r["code"] for r in await scope.select(Building, Building.id, Building.code)}
    rows = await scope.select(Occupancy, Occupancy.unit_id.project_id.as_alias("project_id"),
                              Occupancy.unit_id.building_id.as_alias("building_id"),
                              Occupancy.unit_id.entrance.as_alias("entrance"), Occupancy.unit_id.room.as_alias("room")).where(
        Occupancy.end_date.is_null() & Occupancy.role.is_in(["owner", "company"]))
    return {(codes[r["project_id"]], bcodes[r["building_id"]], r["entrance"], r["room"]) for r in rows}


async def _stored_customer_keys(tenant_id: int) -> set[str]:
    rows = await TenantScope(tenant_id).select(Customer, Customer.id_number, Customer.phone)
    return {f"id:{r['id_number'].upper()}" for r in rows if r["id_number"]} | {f"phone:{r['phone']}" for r in rows if r["phone"]}


async def _stored_rooms(tenant_id: int) -> set[tuple[str, str, str, str]]:
    scope = TenantScope(tenant_id)
    codes = {r["id"]: r["code"] for r in await scope.select(Project, Project.id, Project.code)}
    bcodes = {r["id"]: r["code"] for r in await scope.select(Building, Building.id, Building.code)}
    rows = await scope.select(Unit, Unit.project_id, Unit.building_id, Unit.entrance, Unit.room)
    return {(codes[r["project_id"]], bcodes[r["building_id"]], r["entrance"], r["room"]) for r in rows}


# ---------------------------------------------------------------- import

async def onboard(bundle: Bundle, *, as_of: date, progress: Progress = no_progress, dry_run: bool = False,
                  staff_password: str | None = None) -> Report:
    """Validate, then import everything in one transaction. Raises `OnboardingInvalid` listing every bad row.

    `as_of`: the move-in date of a customer row without one. New staff get the sheet's initial password, else
    a generated one (in `Report.passwords`, to hand over once), and must change it at the first login;
    `staff_password` (the demo) gives every new staff member that password to keep.
    """
    errors = await validate(bundle)
    if errors:
        raise OnboardingInvalid(errors)
    if dry_run:
        return Report(bundle.config["company"]["slug"], 0)
    async with transaction():
        report = await _import(bundle, progress, as_of, staff_password)
    registry = get_registry()
    registry.forget(report.tenant_id)
    own_site = {name: slug for name, slug in registry.site_owners.items() if slug == report.slug}
    if own_site:
        from core.onboarding.sites import enable_site_plugins

        await enable_site_plugins(registry, own_site)
    from core import sla

    sla.forget_tenant_settings(report.tenant_id)
    return report


def _merge_settings(stored: dict[str, Any], company: dict[str, Any]) -> dict[str, Any]:
    merged = dict(stored)
    for key in ("service_hours", "sla", "calendar"):
        if key in company:
            merged[key] = company[key]
    return merged


async def _import(bundle: Bundle, progress: Progress, as_of: date, staff_password: str | None = None) -> Report:
    cfg = bundle.config
    company = cfg["company"]
    slug = company["slug"]
    tenant = await Tenant.select().where(Tenant.slug == slug).first()
    values = {"name": company["name"], "contact_name": company.get("contact_name", ""),
              "contact_phone": company.get("contact_phone", "")}
    if tenant is None:
        row = Tenant(slug=slug, settings=_merge_settings({}, company), **values)
        await row.save()
        tenant_id = row.id
        report = Report(slug, tenant_id)
        report.add("company", created=1)
    else:
        tenant_id = tenant["id"]
        settings = _merge_settings(json_value(tenant["settings"]) or {}, company)
        await Tenant.update({Tenant.settings: settings, **{getattr(Tenant, k): v for k, v in values.items()}}).where(
            Tenant.id == tenant_id)
        report = Report(slug, tenant_id)
        report.add("company", updated=1)
    scope = TenantScope(tenant_id)

    # projects
    stored = {r["code"]: r for r in await scope.select(Project)}
    project_ids: dict[str, int] = {c: r["id"] for c, r in stored.items()}
    for proj in cfg.get("projects") or []:
        code = str(proj["code"]).strip()
        data = {"name": proj["name"], "kind": proj["kind"], "address": proj.get("address", ""),
                "total_area": Decimal(str(proj.get("total_area", 0)))}
        if code in stored:
            await scope.update(Project, {getattr(Project, k): v for k, v in data.items()}).where(Project.id == stored[code]["id"])
            report.add("projects", updated=1)
        else:
            project_ids[code] = (await scope.insert(Project, code=code, **data))["id"]
            report.add("projects", created=1)

    # plugins enabled and their settings: company level, then per project
    # None = enable, keeping the settings stored; a [settings.<plugin>] section replaces them
    wanted: dict[tuple[str, int | None], dict[str, Any] | None] = {}
    for p in company.get("plugins", []):
        wanted[(p, None)] = None
    for p, s in (cfg.get("settings") or {}).items():
        wanted[(p, None)] = dict(s or {})
    for proj in cfg.get("projects") or []:
        pid = project_ids[str(proj["code"]).strip()]
        for p in proj.get("plugins", []):
            wanted.setdefault((p, pid), None)
        for p, s in (proj.get("settings") or {}).items():
            wanted[(p, pid)] = dict(s or {})
    states = {(s["plugin"], s["project_id"]): s for s in await scope.select(PluginState)}
    for (plugin, pid), settings in wanted.items():
        if (plugin, pid) in states:
            change: dict[Any, Any] = {PluginState.enabled: True}
            if settings is not None:
                change[PluginState.settings] = settings
            await scope.update(PluginState, change).where(PluginState.id == states[(plugin, pid)]["id"])
        else:
            await scope.insert(PluginState, plugin=plugin, project_id=pid, enabled=True, settings=settings or {})

    user_ids = await _import_staff(scope, bundle.rows.get("staff", []), project_ids, report, staff_password)
    building_ids = await _import_buildings(scope, bundle.rows.get("buildings", []), project_ids, report)
    grid_ids = await _import_grids(scope, bundle.rows.get("grids", []), project_ids, user_ids, report)
    unit_ids = await _import_units(scope, bundle.rows.get("units", []), project_ids, building_ids, grid_ids, report,
                                   progress)
    await _import_customers(scope, bundle.rows.get("customers", []), project_ids, unit_ids, report, progress, as_of)
    if bundle.rows.get("opening_balances"):
        await _import_opening_balances(scope, bundle.rows["opening_balances"], project_ids, unit_ids, report)
    return report


async def _import_opening_balances(scope: TenantScope, rows: list[Row], project_ids: dict[str, int],
                                   unit_ids: dict[tuple, int], report: Report) -> None:
    """Hand each project's opening balances to the plugin that collects arrears (hook `import_opening_balances`)."""
    stored = await scope.select(Customer, Customer.id, Customer.id_number, Customer.phone)
    by_key = {f"phone:{c['phone']}": c["id"] for c in stored if c["phone"]}
    by_key.update({f"id:{c['id_number'].upper()}": c["id"] for c in stored if c["id_number"]})
    owners: dict[int, int] = {}
    for o in await scope.select(Occupancy, Occupancy.unit_id, Occupancy.customer_id).where(
            Occupancy.end_date.is_null() & Occupancy.role.is_in(["owner", "company"])).order_by(Occupancy.id):
        owners.setdefault(o["unit_id"], o["customer_id"])
    by_project: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        v = row.values
        unit_id = unit_ids[(v["project"], *room_key(v["building"], v["entrance"], v["room"]))]
        customer_id = by_key[customer_key(v)] if (v["id_number"] or v["phone"]) else owners[unit_id]
        year, month = int(v["period"][:4]), int(v["period"][5:7])
        by_project.setdefault(v["project"], []).append({
            "unit_id": unit_id, "customer_id": customer_id, "fee_name": v["fee"], "period": v["period"],
            "amount_fen": int(_decimal(v["amount"]) * 100),  # type: ignore[operator]
            "due_date": _date(v["due_date"]) if v["due_date"] else date(year, month, monthrange(year, month)[1]),
            "note": v["note"][:200], "line": f"{row.file}:{row.line}"})
    registry = get_registry()
    registry.forget(scope.tenant_id)
    for code, balances in by_project.items():
        project = await scope.get(Project, project_ids[code], what="project")
        answers = await registry.call("import_opening_balances", tenant_id=scope.tenant_id, project_id=project["id"],
                                      project=project, balances=balances)
        if not answers:
            raise Problem(422, "Invalid onboarding data", f"no plugin took the opening balances of project {code}",
                          field="opening_balances")
        for answer in answers:
            report.add("opening_balances", created=int(answer.get("created", 0)), updated=int(answer.get("updated", 0)))


async def _import_staff(scope: TenantScope, rows: list[Row], project_ids: dict[str, int], report: Report,
                        staff_password: str | None = None) -> dict[str, int]:
    from core.auth import hash_password

    logins = sorted({r.values["login"] for r in rows})
    members = await scope.select(Membership)
    users = {u["login"]: u for u in await User.select(User.id, User.login, User.name, User.phone, User.password_hash).where(
        User.login.is_in(logins or [""]))}
    shared_hash = hash_password(staff_password) if staff_password else None

    def initial(v: dict[str, str]) -> dict[Any, Any]:
        """An initial password: the sheet's, else a generated one (reported once); changed at the first login."""
        if shared_hash:
            return {"password_hash": shared_hash, "must_change_password": False}
        password = v["password"] or generate_password()
        if not v["password"]:
            report.passwords[v["login"]] = password
        return {"password_hash": hash_password(password), "must_change_password": True}
    member_user_ids = list({m["user_id"] for m in members})
    user_ids = {u["login"]: u["id"] for u in await User.select(User.id, User.login).where(
        User.id.is_in(member_user_ids or [-1]))}
    for row in rows:
        v = row.values
        user = users.get(v["login"])
        if user is None:
            secret = initial(v)
            new = User(login=v["login"], name=v["name"], phone=v["phone"], **secret)
            await new.save()
            user = users[v["login"]] = {"id": new.id, "login": v["login"], "name": v["name"], "phone": v["phone"],
                                        "password_hash": secret["password_hash"]}
            report.add("staff", created=1)
        elif not user["password_hash"]:  # imported before initial passwords were given
            secret = initial(v)
            await User.update({User.password_hash: secret["password_hash"],
                               User.must_change_password: secret["must_change_password"]}).where(User.id == user["id"])
            user["password_hash"] = secret["password_hash"]
        elif (user["name"], user["phone"]) != (v["name"], v["phone"]):
            await User.update({User.name: v["name"], User.phone: v["phone"]}).where(User.id == user["id"])
            user.update(name=v["name"], phone=v["phone"])
        user_ids[v["login"]] = user["id"]
        codes = [c.strip() for c in re.split(r"[,，;；\s]+", v["projects"]) if c.strip()]
        pids = [] if v["role"] == "company_cs" else [project_ids[c] for c in codes]
        existing = next((m for m in members if m["user_id"] == user["id"] and m["role"] == v["role"]), None)
        if existing is None:
            await scope.insert(Membership, user_id=user["id"], role=v["role"], project_ids=pids, title=v["title"])
            report.add("memberships", created=1)
        elif (json_value(existing["project_ids"]) or []) != pids or existing["title"] != v["title"]:
            await scope.update(Membership, {Membership.project_ids: pids, Membership.title: v["title"],
                                            Membership.is_active: True}).where(Membership.id == existing["id"])
            report.add("memberships", updated=1)
    return user_ids


async def _import_buildings(scope: TenantScope, rows: list[Row], project_ids: dict[str, int],
                            report: Report) -> dict[tuple[str, str], int]:
    codes = {v: k for k, v in project_ids.items()}
    stored = {(codes[r["project_id"]], r["code"]): r for r in await scope.select(Building)}
    new = []
    for row in rows:
        v = row.values
        key = (v["project"], v["building"])
        data = {"name": v["name"] or f"{v['building']}栋", "floors": int(v["floors"] or 0)}
        if key in stored:
            if any(stored[key][k] != val for k, val in data.items()):
                await scope.update(Building, {Building.name: data["name"], Building.floors: data["floors"]}).where(
                    Building.id == stored[key]["id"])
                report.add("buildings", updated=1)
        else:
            new.append({"project_id": project_ids[v["project"]], "code": v["building"], **data})
    await scope.insert_many(Building, new)
    report.add("buildings", created=len(new))
    return {(codes[r["project_id"]], r["code"]): r["id"]
            for r in await scope.select(Building, Building.id, Building.project_id, Building.code)}


async def _import_grids(scope: TenantScope, rows: list[Row], project_ids: dict[str, int], user_ids: dict[str, int],
                        report: Report) -> dict[tuple[str, str], int]:
    codes = {v: k for k, v in project_ids.items()}
    stored = {(codes[r["project_id"]], r["code"]): r for r in await scope.select(Grid)}
    new = []
    for row in rows:
        v = row.values
        key = (v["project"], v["grid"])
        data = {"name": v["name"], "responsible_id": user_ids.get(v["responsible"]) if v["responsible"] else None}
        if key in stored:
            if any(stored[key][k] != val for k, val in data.items()):
                await scope.update(Grid, {Grid.name: data["name"], Grid.responsible_id: data["responsible_id"]}).where(
                    Grid.id == stored[key]["id"])
                report.add("grids", updated=1)
        else:
            new.append({"project_id": project_ids[v["project"]], "code": v["grid"], **data})
    await scope.insert_many(Grid, new)
    report.add("grids", created=len(new))
    return {(codes[r["project_id"]], r["code"]): r["id"] for r in await scope.select(Grid, Grid.id, Grid.project_id, Grid.code)}


async def _unit_map(scope: TenantScope, project_codes: dict[int, str], building_codes: dict[int, str]) -> dict[tuple, dict]:
    rows = await scope.select(Unit, Unit.id, Unit.project_id, Unit.building_id, Unit.entrance, Unit.floor, Unit.room,
                              Unit.area, Unit.use, Unit.status, Unit.grid_id)
    return {(project_codes[r["project_id"]], building_codes[r["building_id"]], r["entrance"], r["room"]): r for r in rows}


async def _import_units(scope: TenantScope, rows: list[Row], project_ids: dict[str, int],
                        building_ids: dict[tuple[str, str], int], grid_ids: dict[tuple[str, str], int], report: Report,
                        progress: Progress) -> dict[tuple, int]:
    pcodes = {v: k for k, v in project_ids.items()}
    bcodes = {v: k[1] for k, v in building_ids.items()}
    stored = await _unit_map(scope, pcodes, bcodes)
    new, changed = [], 0
    with progress("units", len(rows)) as bar:
        for i, row in enumerate(rows, 1):
            v = row.values
            key = (v["project"], *room_key(v["building"], v["entrance"], v["room"]))
            data = {"floor": int(v["floor"] or 0), "area": _decimal(v["area"]).quantize(Decimal("0.01")),
                    "use": v["use"] or "residential", "status": v["status"] or "sold",
                    "grid_id": grid_ids[(v["project"], v["grid"])] if v["grid"] else None}
            old = stored.get(key)
            if old is None:
                new.append({"project_id": project_ids[v["project"]], "building_id": building_ids[(v["project"], v["building"])],
                            "entrance": key[2], "room": key[3], **data})
                if len(new) >= CHUNK:
                    await scope.insert_many(Unit, new)
                    report.add("units", created=len(new))
                    new = []
            else:
                same = (old["floor"] == data["floor"] and Decimal(str(old["area"])).quantize(Decimal("0.01")) == data["area"]
                        and old["use"] == data["use"] and old["status"] == data["status"] and old["grid_id"] == data["grid_id"])
                if not same:
                    await scope.update(Unit, {getattr(Unit, k): val for k, val in data.items()}).where(Unit.id == old["id"])
                    changed += 1
            if i % 500 == 0 or i == len(rows):
                bar.update(500 if i % 500 == 0 else i % 500)
        await scope.insert_many(Unit, new)
        report.add("units", created=len(new), updated=changed)
    return {k: r["id"] for k, r in (await _unit_map(scope, pcodes, bcodes)).items()}


async def _import_customers(scope: TenantScope, rows: list[Row], project_ids: dict[str, int], unit_ids: dict[tuple, int],
                            report: Report, progress: Progress, as_of: date) -> None:
    async def customer_maps() -> tuple[dict[str, dict], dict[str, dict]]:
        stored = await scope.select(Customer, Customer.id, Customer.kind, Customer.name, Customer.phone,
                                    Customer.id_number, Customer.email)
        by_id = {c["id_number"].upper(): c for c in stored if c["id_number"]}
        by_phone = {c["phone"]: c for c in stored if c["phone"]}
        return by_id, by_phone

    by_id, by_phone = await customer_maps()

    def find(v: dict[str, str]) -> dict | None:
        if v["id_number"]:
            return by_id.get(v["id_number"].upper()) or (by_phone.get(v["phone"]) if v["phone"] else None)
        return by_phone.get(v["phone"])

    new: dict[str, dict] = {}
    changed = 0
    with progress("customers", len(rows) * 2) as bar:
        for i, row in enumerate(rows, 1):
            v = row.values
            data = {"kind": v["kind"] or "person", "name": v["name"], "phone": v["phone"],
                    "id_number": v["id_number"].upper(), "email": v["email"]}
            old = find(v)
            if old is None:
                new.setdefault(customer_key(v), data)
            elif any(old[k] != val for k, val in data.items() if val or k == "name"):
                update = {k: val for k, val in data.items() if val or k == "name"}
                await scope.update(Customer, {getattr(Customer, k): val for k, val in update.items()}).where(
                    Customer.id == old["id"])
                old.update(update)
                changed += 1
            if i % 500 == 0 or i == len(rows):
                bar.update(500 if i % 500 == 0 else i % 500)
        batch = list(new.values())
        for start in range(0, len(batch), CHUNK):
            await scope.insert_many(Customer, batch[start:start + CHUNK])
        report.add("customers", created=len(batch), updated=changed)
        by_id, by_phone = await customer_maps()
        links = {(o["customer_id"], o["unit_id"], o["role"]) for o in await scope.select(
            Occupancy, Occupancy.customer_id, Occupancy.unit_id, Occupancy.role).where(Occupancy.end_date.is_null())}
        occ = []
        for i, row in enumerate(rows, 1):
            v = row.values
            customer = find(v)
            unit_id = unit_ids[(v["project"], *room_key(v["building"], v["entrance"], v["room"]))]
            link = (customer["id"], unit_id, v["relation"] or "owner")  # type: ignore[index]
            if link not in links:
                links.add(link)
                occ.append({"customer_id": link[0], "unit_id": unit_id, "role": link[2],
                            "start_date": _date(v["start_date"]) if v["start_date"] else as_of})
            if i % 500 == 0 or i == len(rows):
                bar.update(500 if i % 500 == 0 else i % 500)
        for start in range(0, len(occ), CHUNK):
            await scope.insert_many(Occupancy, occ[start:start + CHUNK])
        report.add("occupancies", created=len(occ))
