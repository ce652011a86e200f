"""Customers' personal data (PIPL): a copy of everything stored about a customer, erasure, retention.

* `export(principal, customer_id)`: the customer row, units over time, tickets with their timelines, messages,
  who read the file, and every plugin's section (hook `collect_personal_data`; a plugin without the hook
  has its rows with a foreign key to `core_customer` listed by table). Company CS department only; audited.
* `erase(principal, customer_id, reason)`: one transaction. Plugins anonymise their rows first (hook
  `erase_personal_data`), then the kernel: the customer's name, phone, ID number and e-mail are replaced
  in every text column of every row linked to the customer (any table, by foreign key) and of the
  rows hanging off the customer's tickets; the phone, ID number and e-mail also wherever else they
  appear in the company's data (another record's free text); the ticket contact phones and message
  addresses are cleared; the customer row becomes ``已注销客户#<id>``. Receipts, payments, tickets and
  leases stay, linked to the anonymised customer. Audited (without the old values).
* `apply_retention(as_of)`: the daily job. Per company (`settings["retention"]`): contact phones of tickets
  closed at least `closed_ticket_personal_data_days` (default 1095 = 3 years) ago are cleared; message
  addresses and bodies older than `notification_log_days` (default 365) are cleared. Idempotent.

Plugins describe where they keep customer data with `Holding`s and call `collect` / `erase_holdings`.
"""
from __future__ import annotations

import base64
import inspect
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from piccolo.columns import JSON, ForeignKey, Text, Varchar
from piccolo.table import Table

from core.db import is_postgres, json_value, transaction
from core.errors import conflict, invalid
from core.tables import AuditLog, Customer, Notification, Occupancy, Tenant, Ticket
from core.tenancy import Principal, TenantScope

PERMISSION = "customer.personal_data"
REDACTED = "[已删除]"
PLACEHOLDER_PREFIX = "已注销客户#"
RETENTION_DEFAULTS = {"closed_ticket_personal_data_days": 1095, "notification_log_days": 365}
RETENTION_LIMITS = {"closed_ticket_personal_data_days": (30, 10950), "notification_log_days": (7, 3650)}


class _Placeholder:
    def __repr__(self) -> str:
        return "PLACEHOLDER"


PLACEHOLDER: Any = _Placeholder()
"""In a `Holding.erase` map: write the placeholder (``已注销客户#<id>``) into this column."""


def placeholder_for(customer_id: int) -> str:
    return f"{PLACEHOLDER_PREFIX}{customer_id}"


@dataclass(frozen=True)
class Holding:
    """Rows of `table` that belong to a customer.

    :param table: a tenant-owned table.
    :param column: the column naming the customer (``customer_id``), or with `parent` the column naming
        the parent row (``lease_id``).
    :param parent: the holding whose rows these hang off.
    :param erase: column → value written on erasure (`PLACEHOLDER` for the placeholder text).
    :param optional: no duty to keep these rows: deleted when erasing without `keep_records`.
    :param omit: columns left out of the customer's copy (other people's identifiers, token hashes).
    """

    table: type[Table]
    column: str
    parent: "Holding | None" = None
    erase: dict[str, Any] = field(default_factory=dict)
    optional: bool = False
    omit: tuple[str, ...] = ()


# ---------------------------------------------------------------- tables and columns

def app_tables() -> dict[str, list[type[Table]]]:
    """Tables of every Piccolo app (the kernel and each installed plugin), by app name."""
    from piccolo.conf.apps import Finder

    registry = Finder().get_app_registry()
    return {name: list(cfg.table_classes) for name, cfg in registry.app_configs.items()}


def is_tenant_table(table: type[Table]) -> bool:
    return "tenant_id" in {c._meta.name for c in table._meta.columns}


def tenant_tables() -> list[type[Table]]:
    return [t for tables in app_tables().values() for t in tables if is_tenant_table(t)]


def foreign_keys_to(table: type[Table], target: type[Table]) -> list[str]:
    """Names of `table`'s foreign key columns pointing at `target`."""
    return [c._meta.name for c in table._meta.foreign_key_columns
            if c._foreign_key_meta.resolved_references is target]


def text_columns(table: type[Table]) -> list[Any]:
    """Columns that hold text (varchar, text, JSON), foreign keys and the tenant aside."""
    return [c for c in table._meta.columns
            if isinstance(c, (Varchar, Text, JSON)) and not isinstance(c, ForeignKey) and c._meta.name != "tenant_id"]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def plain_row(table: type[Table], row: dict[str, Any], omit: Iterable[str] = ()) -> dict[str, Any]:
    """A row as JSON-friendly values: JSON columns decoded, bytes as base64 with their size."""
    json_cols = {c._meta.name for c in table._meta.columns if isinstance(c, JSON)}
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in omit:
            continue
        if isinstance(value, memoryview):
            value = value.tobytes()
        if isinstance(value, (bytes, bytearray)):
            out[key] = {"size": len(value), "base64": base64.b64encode(value).decode("ascii")}
        elif key in json_cols:
            out[key] = json_value(value)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------- plugins' helpers

async def _holding_ids(scope: TenantScope, holding: Holding, customer_id: int,
                       cache: dict[int, list[int]]) -> list[int]:
    key = id(holding)
    if key not in cache:
        table = holding.table
        column = getattr(table, holding.column)
        if holding.parent is None:
            query = scope.select(table, table._meta.primary_key).where(column == customer_id)
        else:
            parents = await _holding_ids(scope, holding.parent, customer_id, cache)
            query = scope.select(table, table._meta.primary_key).where(column.is_in(parents or [-1]))
        cache[key] = [r["id"] for r in await query]
    return cache[key]


async def collect(tenant_id: int, customer_id: int, holdings: Iterable[Holding]) -> dict[str, list[dict[str, Any]]]:
    """The rows of each holding, by table name (JSON-friendly; `omit` columns left out)."""
    scope = TenantScope(tenant_id)
    cache: dict[int, list[int]] = {}
    out: dict[str, list[dict[str, Any]]] = {}
    for holding in holdings:
        ids = await _holding_ids(scope, holding, customer_id, cache)
        table = holding.table
        rows = await scope.select(table).where(table._meta.primary_key.is_in(ids or [-1])).order_by(
            table._meta.primary_key) if ids else []
        out.setdefault(table._meta.tablename, []).extend(plain_row(table, r, holding.omit) for r in rows)
    return out


async def erase_holdings(tenant_id: int, customer_id: int, holdings: Iterable[Holding], *, keep_records: bool = True,
                         placeholder: str | None = None) -> dict[str, int]:
    """Apply the holdings' `erase` values, replace the customer's identifiers in their text columns, and
    (without `keep_records`) delete `optional` rows, children first. Returns rows changed per table."""
    holdings = list(holdings)
    scope = TenantScope(tenant_id)
    placeholder = placeholder or placeholder_for(customer_id)
    customer = await scope.get_or_none(Customer, customer_id)
    pairs = identifier_pairs(customer, placeholder) if customer else []
    cache: dict[int, list[int]] = {}
    for holding in holdings:  # every id first: deleting a parent must not hide its children
        await _holding_ids(scope, holding, customer_id, cache)
    counts: dict[str, int] = {}
    for holding in holdings:
        ids = cache[id(holding)]
        if not ids:
            continue
        table = holding.table
        name = table._meta.tablename
        if holding.erase:
            values = {getattr(table, k): (placeholder if v is PLACEHOLDER else v) for k, v in holding.erase.items()}
            await scope.update(table, values).where(table._meta.primary_key.is_in(ids))
        changed = await _replace_in_rows(tenant_id, table, pairs, f"{_q('id')} IN ({', '.join(str(int(i)) for i in ids)})", [])
        counts[name] = counts.get(name, 0) + max(len(ids) if holding.erase else 0, changed)
    if not keep_records:
        for holding in reversed(holdings):
            ids = cache[id(holding)]
            if holding.optional and ids:
                await scope.delete(holding.table).where(holding.table._meta.primary_key.is_in(ids))
                counts[holding.table._meta.tablename + ":deleted"] = len(ids)
    return counts


# ---------------------------------------------------------------- set-based replacement of identifiers

def identifier_pairs(customer: dict[str, Any], placeholder: str) -> list[tuple[str, str]]:
    """(old, new) text pairs for a customer: the name → placeholder; phone, ID number, e-mail → REDACTED.
    JSON text may hold the escaped form (``\\u738b``), so that form is replaced too."""
    pairs: list[tuple[str, str]] = []
    for key, minimum, new in (("id_number", 6, REDACTED), ("phone", 7, REDACTED), ("email", 5, REDACTED),
                              ("name", 2, placeholder)):
        old = (customer.get(key) or "").strip()
        if len(old) < minimum or old.startswith(PLACEHOLDER_PREFIX):
            continue
        pairs.append((old, new))
        escaped = json.dumps(old)[1:-1]
        if escaped != old:
            pairs.append((escaped, json.dumps(new)[1:-1]))
    return pairs


def _contains(expr: str, pg: bool) -> str:
    return f"strpos({expr}, {{}}) > 0" if pg else f"instr({expr}, {{}}) > 0"


def _assignments(table: type[Table], pairs: list[tuple[str, str]], pg: bool) -> tuple[list[str], list[Any]]:
    sets, args = [], []
    for col in text_columns(table):
        name = _q(col._meta.db_column_name)
        is_json = isinstance(col, JSON)
        expr = f"CAST({name} AS TEXT)" if pg and is_json else name
        col_pairs = pairs if is_json else [(o, n) for o, n in pairs if not o.startswith("\\") and "\\u" not in o]
        for old, new in col_pairs:
            expr = f"REPLACE({expr}, {{}}, {{}})"
            args += [old, new]
        if isinstance(col, Varchar):
            expr = f"SUBSTR({expr}, 1, {int(col.length)})"
        if pg and is_json:
            expr = f"CAST({expr} AS {'JSONB' if type(col).__name__ == 'JSONB' else 'JSON'})"
        sets.append(f"{name} = {expr}")
    return sets, args


async def _replace_in_rows(tenant_id: int, table: type[Table], pairs: list[tuple[str, str]], where: str,
                           where_args: list[Any]) -> int:
    """Replace identifiers in every text column of the tenant's rows of `table` matching `where`; rows changed."""
    if not pairs or not text_columns(table):
        return 0
    pg = is_postgres()
    sets, args = _assignments(table, pairs, pg)
    # only rows that hold one of the identifiers are rewritten (and counted)
    hits, hit_args = [], []
    for col in text_columns(table):
        expr = f"CAST({_q(col._meta.db_column_name)} AS TEXT)" if pg else _q(col._meta.db_column_name)
        for old, _ in pairs:
            hits.append(_contains(expr, pg))
            hit_args.append(old)
    sql = (f"UPDATE {_q(table._meta.tablename)} SET {', '.join(sets)} WHERE {_q('tenant_id')} = {{}} AND ({where})"
           f" AND ({' OR '.join(hits)}) RETURNING {_q('id')}")
    rows = await Tenant.raw(sql, *args, tenant_id, *where_args, *hit_args)
    return len(rows)


# ---------------------------------------------------------------- the kernel's part of an erasure

async def _erase_kernel(tenant_id: int, customer: dict[str, Any], placeholder: str) -> dict[str, int]:
    customer_id = customer["id"]
    pairs = identifier_pairs(customer, placeholder)
    counts: dict[str, int] = {}

    def add(name: str, n: int) -> None:
        if n:
            counts[name] = counts.get(name, 0) + n

    tables = [t for t in tenant_tables() if t not in (Customer, AuditLog)]
    # 1. rows that name the customer (any table, by foreign key), and rows hanging off the customer's tickets
    for table in tables:
        for column in foreign_keys_to(table, Customer):
            add(table._meta.tablename, await _replace_in_rows(tenant_id, table, pairs, f"{_q(column)} = {{}}", [customer_id]))
        for column in foreign_keys_to(table, Ticket):
            sub = (f"{_q(column)} IN (SELECT {_q('id')} FROM {_q(Ticket._meta.tablename)} WHERE {_q('tenant_id')} = {{}}"
                   f" AND {_q('customer_id')} = {{}})")
            add(table._meta.tablename, await _replace_in_rows(tenant_id, table, pairs, sub, [tenant_id, customer_id]))
    # 2. the phone, ID number and e-mail wherever else they appear (another record's free text or contact field)
    distinctive = [(o, n) for o, n in pairs if n == REDACTED or json.dumps(REDACTED)[1:-1] == n]
    for table in tables:
        add(table._meta.tablename, await _replace_in_rows(tenant_id, table, distinctive, "1 = 1", []))
    # 3. contact fields of the customer's tickets and messages, then the customer row
    scope = TenantScope(tenant_id)
    rows = await scope.update(Ticket, {Ticket.contact_phone: ""}).where(
        (Ticket.customer_id == customer_id) & (Ticket.contact_phone != "")).returning(Ticket.id)
    add(Ticket._meta.tablename, len(rows))
    rows = await scope.update(Notification, {Notification.address: ""}).where(
        (Notification.recipient_customer_id == customer_id) & (Notification.address != "")).returning(Notification.id)
    add(Notification._meta.tablename, len(rows))
    await scope.update(Customer, {Customer.name: placeholder, Customer.phone: "", Customer.id_number: "",
                                  Customer.email: "", Customer.birthday: None, Customer.note: "",
                                  Customer.greetings_opt_in: False}).where(Customer.id == customer_id)
    add(Customer._meta.tablename, 1)
    return counts


# ---------------------------------------------------------------- hooks of every installed plugin

def _implementations(hook_name: str) -> list[tuple[str, Any]]:
    """(plugin name, function) of every installed plugin implementing a hook, enabled or not."""
    from core.plugins import get_registry

    caller = getattr(get_registry().pm.hook, hook_name)
    return [(impl.plugin_name, impl) for impl in reversed(caller.get_hookimpls())]


async def _call(impl: Any, **kwargs: Any) -> Any:
    value = impl.function(**{a: kwargs[a] for a in impl.argnames if a in kwargs})
    if inspect.isawaitable(value):
        value = await value
    return value


# ---------------------------------------------------------------- export

async def gather(tenant_id: int, customer_id: int) -> dict[str, Any]:
    """Everything stored about a customer (no permission check, no audit: see `export`)."""
    scope = TenantScope(tenant_id)
    customer = await scope.get(Customer, customer_id, what="customer")
    units = await (scope.select(
        Occupancy, Occupancy.all_columns(), Occupancy.unit_id.room.as_alias("room"),
        Occupancy.unit_id.entrance.as_alias("entrance"), Occupancy.unit_id.building_id.code.as_alias("building"),
        Occupancy.unit_id.project_id.name.as_alias("project_name"), Occupancy.unit_id.use.as_alias("use"),
        Occupancy.unit_id.area.as_alias("area"))
        .where(Occupancy.customer_id == customer_id).order_by(Occupancy.start_date))
    tickets = await scope.select(Ticket).where(Ticket.customer_id == customer_id).order_by(Ticket.id)
    ticket_ids = [t["id"] for t in tickets]
    records: dict[str, list[dict[str, Any]]] = {}
    apps = app_tables()
    for table in apps.get("core", []):
        if not is_tenant_table(table) or table in (Customer, Occupancy, Ticket, AuditLog):
            continue
        clause = None
        for column in foreign_keys_to(table, Customer):
            part = getattr(table, column) == customer_id
            clause = part if clause is None else clause | part
        for column in foreign_keys_to(table, Ticket):
            part = getattr(table, column).is_in(ticket_ids or [-1])
            clause = part if clause is None else clause | part
        if clause is None:
            continue
        rows = await scope.select(table).where(clause).order_by(table._meta.primary_key)
        omit = ("content", "thumbnail", "idempotency_key") if table._meta.tablename != Notification._meta.tablename \
            else ("idempotency_key",)
        if rows:
            records[table._meta.tablename] = [plain_row(table, r, omit) for r in rows]
    access = await (scope.select(AuditLog, AuditLog.at, AuditLog.action, AuditLog.user_id.name.as_alias("staff"),
                                 AuditLog.address)
                    .where((AuditLog.object_type == "customer") & (AuditLog.object_id == customer_id))
                    .order_by(AuditLog.id))
    plugins: dict[str, Any] = {}
    implemented = set()
    for name, impl in _implementations("collect_personal_data"):
        implemented.add(name)
        section = await _call(impl, tenant_id=tenant_id, customer_id=customer_id)
        if section:
            plugins[name] = section
    for app, tables in apps.items():  # a plugin without the hook: its rows naming the customer, by table
        if app == "core" or app in implemented:
            continue
        section: dict[str, Any] = {}
        for table in tables:
            if not is_tenant_table(table):
                continue
            for column in foreign_keys_to(table, Customer):
                rows = await scope.select(table).where(getattr(table, column) == customer_id).order_by(
                    table._meta.primary_key)
                if rows:
                    section.setdefault(table._meta.tablename, []).extend(plain_row(table, r) for r in rows)
        if section:
            plugins[app] = section
    tenant = await Tenant.select(Tenant.name, Tenant.contact_name, Tenant.contact_phone).where(
        Tenant.id == tenant_id).first()
    return {"format": "guanjia-personal-data/1", "generated_at": datetime.now(timezone.utc),
            "controller": tenant, "customer": plain_row(Customer, customer),
            "units": [plain_row(Occupancy, u) for u in units], "tickets": [plain_row(Ticket, t) for t in tickets],
            "records": records, "plugins": plugins, "access_log": access}


async def export(principal: Principal, customer_id: int, *, address: str = "", download: bool = False) -> dict[str, Any]:
    """The customer's copy of their data; company CS department only; every export is audited."""
    from core import audit, places

    await places.get_customer(principal, customer_id)  # another company's customer: 404 before 403
    principal.require(PERMISSION)
    data = await gather(principal.tenant_id, customer_id)
    await audit.record(principal, "customer.personal_data_export", object_type="customer", object_id=customer_id,
                       address=address, data={"download": download, "plugins": sorted(data["plugins"])})
    return data


# ---------------------------------------------------------------- erasure

async def erased_at(tenant_id: int, customer_id: int) -> datetime | None:
    row = await TenantScope(tenant_id).select(AuditLog, AuditLog.at).where(
        (AuditLog.action == "customer.erased") & (AuditLog.object_type == "customer")
        & (AuditLog.object_id == customer_id)).first()
    return row["at"] if row else None


async def erase(principal: Principal, customer_id: int, reason: str, *, keep_records: bool = True,
                address: str = "", now: datetime | None = None) -> dict[str, Any]:
    """Anonymise a customer (company CS department, with a reason); refused while the customer still holds
    a unit or a plugin needs the person (an active lease, open arrears). One transaction; audited."""
    from core import audit, places

    customer = await places.get_customer(principal, customer_id)
    principal.require(PERMISSION)
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise invalid("reason", "say why the customer's data is erased (at least 4 characters)")
    if await erased_at(principal.tenant_id, customer_id):
        raise conflict("This customer's personal data has already been erased.")
    holds = await principal.scope.count(Occupancy).where(
        (Occupancy.customer_id == customer_id) & Occupancy.end_date.is_null())
    if holds:
        raise conflict(f"The customer still holds {holds} unit(s); end that first (move-out or transfer).")
    now = now or datetime.now(timezone.utc)
    placeholder = placeholder_for(customer_id)
    tenant_id = principal.tenant_id
    counts: dict[str, Any] = {}
    async with transaction():
        for name, impl in _implementations("erase_personal_data"):
            result = await _call(impl, tenant_id=tenant_id, customer_id=customer_id, keep_records=keep_records,
                                 placeholder=placeholder)
            if result:
                counts[name] = result
        counts["core"] = await _erase_kernel(tenant_id, customer, placeholder)
        await audit.record(principal, "customer.erased", object_type="customer", object_id=customer_id,
                           address=address, data={"reason": reason[:500], "keep_records": keep_records,
                                                  "placeholder": placeholder, "changed": counts})
    return {"customer_id": customer_id, "name": placeholder, "erased_at": now, "keep_records": keep_records,
            "changed": counts}


# ---------------------------------------------------------------- retention

def retention_of(settings: dict[str, Any] | None) -> dict[str, int]:
    """A company's retention numbers: the defaults, overridden by `settings["retention"]`."""
    out = dict(RETENTION_DEFAULTS)
    for key, value in ((settings or {}).get("retention") or {}).items():
        if key in out and isinstance(value, int) and not isinstance(value, bool):
            out[key] = value
    return out


async def retention_settings(principal: Principal) -> dict[str, Any]:
    from core.sla import tenant_settings_of

    principal.require(PERMISSION)
    return {**retention_of(await tenant_settings_of(principal.tenant_id)), "defaults": RETENTION_DEFAULTS,
            "limits": {k: list(v) for k, v in RETENTION_LIMITS.items()}}


async def set_retention(principal: Principal, values: dict[str, int]) -> dict[str, Any]:
    """Change the company's retention numbers (company CS department); audited."""
    from core import audit
    from core.sla import update_tenant_settings

    principal.require(PERMISSION)
    for key, value in values.items():
        low, high = RETENTION_LIMITS[key]
        if not low <= value <= high:
            raise invalid(key, f"must be between {low} and {high} days")

    def change(settings: dict[str, Any]) -> None:
        settings.setdefault("retention", {}).update(values)

    await update_tenant_settings(principal.tenant_id, change)
    await audit.record(principal, "retention.changed", object_type="tenant", object_id=principal.tenant_id,
                       data=dict(values))
    return await retention_settings(principal)


async def apply_retention(as_of: datetime) -> dict[str, Any]:
    """Clear the contact phones of tickets closed ≥ N days before `as_of` and the addresses and bodies of
    messages older than M days, per company; one UPDATE per company and rule; a second run changes nothing."""
    from core import audit

    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    tickets_total = notes_total = 0
    per_tenant: dict[int, dict[str, int]] = {}
    for tenant in await Tenant.select(Tenant.id, Tenant.settings).order_by(Tenant.id):
        days = retention_of(json_value(tenant["settings"]) or {})
        scope = TenantScope(tenant["id"])
        cleared = await scope.update(Ticket, {Ticket.contact_phone: ""}).where(
            (Ticket.status == "closed") & (Ticket.closed_at <= as_of - timedelta(days=days["closed_ticket_personal_data_days"]))
            & (Ticket.contact_phone != "")).returning(Ticket.id)
        cutoff = as_of - timedelta(days=days["notification_log_days"])
        notes = await scope.update(Notification, {Notification.address: "", Notification.body: ""}).where(
            (Notification.created_at <= cutoff) & ((Notification.address != "") | (Notification.body != ""))
        ).returning(Notification.id)
        if cleared or notes:
            per_tenant[tenant["id"]] = {"tickets": len(cleared), "notifications": len(notes)}
            tickets_total += len(cleared)
            notes_total += len(notes)
            await audit.record(None, "retention.applied", tenant_id=tenant["id"], object_type="tenant",
                               object_id=tenant["id"], data={"as_of": as_of.isoformat(), **per_tenant[tenant["id"]],
                                                             **days})
    return {"as_of": as_of.isoformat(), "tickets": tickets_total, "notifications": notes_total,
            "tenants": {str(k): v for k, v in per_tenant.items()}}


__all__ = ["Holding", "PLACEHOLDER", "REDACTED", "collect", "erase_holdings", "export", "erase", "gather",
           "apply_retention", "retention_of", "placeholder_for", "plain_row"]
