"""Fees, bills, payments with receipts, arrears ageing and the collection ladder (seed 001, 收费管理 / 欠费追缴).

Money is integer fen. Periods are months ``"YYYY-MM"``; a bill of a period falls due on the period's last
day, so on any day of the next month it is 1 month overdue. A customer's months overdue, as of a day, is
the number of months from the oldest overdue unpaid bill's period to that day's month.

The billing run and the ladder are set-based SQL per tenant and project, idempotent by unique keys:
running them again for the same month writes nothing.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.columns.combination import WhereRaw

from core import Principal, TenantScope, conflict, fetch, get_registry, invalid, is_postgres, not_found, transaction
from core import notify, tables, tickets
from plugins.arrears_collection.tables import Allocation, Bill, Case, FeeItem, Payment, ReceiptCounter, Task, Watch

PLUGIN = "arrears_collection"
TZ = ZoneInfo("Asia/Shanghai")
READ, MANAGE, PAY, COLLECT = (f"{PLUGIN}.read", f"{PLUGIN}.manage", f"{PLUGIN}.pay", f"{PLUGIN}.collect")

KIND_LABELS = {
    "reminder": ("口头/电话/短信提示", "Reminder (oral, phone, SMS)"),
    "notice": ("费用催缴通知单", "Written collection notice"),
    "legal_notice": ("书面知会法律顾问", "Legal adviser notified in writing"),
    "lawyer_letter": ("费用催缴律师函", "Lawyer's letter"),
    "sue": ("书面委托法律顾问起诉", "Legal adviser instructed to sue"),
    "preservation": ("申请财产保全", "Apply for property preservation"),
    "transfer_alert": ("欠费房屋买卖/变更预警", "Watched unit sold or transferred"),
}
KIND_OUTCOMES: dict[str, frozenset[str]] = {
    "reminder": frozenset({"reached", "promised", "refused", "unreachable", "paid"}),
    "notice": frozenset({"signed", "delivered", "mailed", "refused", "returned", "promised", "paid"}),
    "legal_notice": frozenset({"sent"}),
    "lawyer_letter": frozenset({"sent", "delivered", "returned", "promised", "refused", "paid"}),
    "sue": frozenset({"filed", "won", "lost", "settled", "paid"}),
    "preservation": frozenset({"applied", "granted", "rejected"}),
    "transfer_alert": frozenset({"handled", "paid"}),
}
# outcomes after which the step is still under way (the suit is filed, the application is lodged)
ONGOING = {("sue", "filed"), ("preservation", "applied")}
DELIVERY = {"reminder": "phone", "notice": "in_person", "legal_notice": "in_writing", "lawyer_letter": "express",
            "sue": "in_writing", "preservation": "in_writing", "transfer_alert": "in_app"}
BUCKETS = (("0-3", 0, 3), ("3-6", 3, 6), ("6-18", 6, 18), ("18+", 18, None))


# ---------------------------------------------------------------- money, months, SQL literals

def fmt_fen(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators, without floating point: 123456 → '1,234.56'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def fen_in_capitals(fen: int) -> str:
    """An amount in Chinese capitals for receipts (人民币大写): 123456 → '壹仟贰佰叁拾肆元伍角陆分'."""
    fen = int(fen)
    if fen == 0:
        return "零元整"
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    out = ""
    if yuan:
        groups, units, big = [], ["", "拾", "佰", "仟"], ["", "万", "亿", "万亿"]
        g = 0
        while yuan:
            yuan, part = divmod(yuan, 10000)
            groups.append((part, big[g]))
            g += 1
        text, zero = "", False
        for i, (part, name) in enumerate(reversed(groups)):
            if part == 0:
                zero = bool(text)
                continue
            chunk, inner_zero = "", False
            for pos in range(3, -1, -1):
                d = part // (10 ** pos) % 10
                if d == 0:
                    inner_zero = bool(chunk) or bool(text)
                    continue
                if inner_zero or (zero and not chunk):
                    chunk += "零"
                chunk += _DIGITS[d] + units[pos]
                inner_zero = zero = False
            text += chunk + name
            zero = part < 1000
        out = text + "元"
    if jiao == 0 and cents == 0:
        return out + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif out:
        out += "零"
    if cents:
        out += _DIGITS[cents] + "分"
    return out


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_no(period: str) -> int:
    year, month = int(period[:4]), int(period[5:7])
    return year * 12 + month - 1


def period_from_no(no: int) -> str:
    return f"{no // 12:04d}-{no % 12 + 1:02d}"


def period_bounds(period: str) -> tuple[date, date]:
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def check_period(value: str, field: str = "period") -> str:
    try:
        year, month = int(value[:4]), int(value[5:7])
        if len(value) != 7 or value[4] != "-" or not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError
    except (ValueError, TypeError):
        raise invalid(field, "a month as YYYY-MM") from None
    return value


def local_date(moment: datetime | date | str) -> date:
    """The Beijing calendar day of a moment (a date is taken as it is; a naive time is Beijing time)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=TZ)
        return moment.astimezone(TZ).date()
    return moment


def _d(day: date) -> str:
    """A date literal for SQL (built from a `date`, never from user text)."""
    text = date(day.year, day.month, day.day).isoformat()
    return f"DATE '{text}'" if is_postgres() else f"'{text}'"


def _ts(moment: datetime) -> str:
    utc = moment.astimezone(timezone.utc)
    return f"TIMESTAMPTZ '{utc.isoformat()}'" if is_postgres() else f"'{utc}'"


def _days_since(day_sql: str, column: str) -> str:
    """Whole days from a date column to a date literal."""
    if is_postgres():
        return f"({day_sql} - {column})"
    return f"CAST(julianday({day_sql}) - julianday({column}) AS INTEGER)"


def _ints(values: Any) -> str:
    return ", ".join(str(int(v)) for v in values) or "-1"


def _date_value(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# ---------------------------------------------------------------- the tenant's rules

@dataclass(frozen=True)
class Rules:
    """The collection rules of a tenant or project (plugin settings over the seed's numbers)."""

    late_fee_daily_per_10k: int
    late_fee_monthly_percent: int
    large_customer_area_per_10k: int
    ordinary_legal_months: int
    ordinary_sue_months: int
    letter_interval_months: int
    large_letter_after_months: int
    large_sue_months: int
    watch_after_months: int
    due_days: dict[str, int]
    legal_adviser: str
    collector_user_id: int | None

    def late_fee_text(self) -> str:
        if self.late_fee_monthly_percent:
            return f"按欠费金额每月{self.late_fee_monthly_percent}%计收违约金"
        return f"按欠费金额每日万分之{self.late_fee_daily_per_10k}计收违约金"


def _int_setting(values: dict[str, Any], name: str, low: int, high: int) -> int:
    try:
        value = int(values[name])
    except (KeyError, TypeError, ValueError):
        raise invalid(f"settings.{name}", "must be a whole number") from None
    if not low <= value <= high:
        raise invalid(f"settings.{name}", f"must be between {low} and {high}")
    return value


async def rules_for(tenant_id: int, project_id: int | None = None) -> Rules:
    s = await get_registry().settings(tenant_id, PLUGIN, project_id)
    due = dict(DEFAULT_DUE_DAYS)
    due.update({k: int(v) for k, v in (s.get("due_days") or {}).items() if k in DEFAULT_DUE_DAYS})
    collector = s.get("collector_user_id")
    return Rules(
        late_fee_daily_per_10k=_int_setting(s, "late_fee_daily_per_10k", 0, 100),
        late_fee_monthly_percent=_int_setting(s, "late_fee_monthly_percent", 0, 10),
        large_customer_area_per_10k=_int_setting(s, "large_customer_area_per_10k", 1, 10000),
        ordinary_legal_months=_int_setting(s, "ordinary_legal_months", 1, 120),
        ordinary_sue_months=_int_setting(s, "ordinary_sue_months", 1, 240),
        letter_interval_months=_int_setting(s, "letter_interval_months", 1, 60),
        large_letter_after_months=_int_setting(s, "large_letter_after_months", 0, 120),
        large_sue_months=_int_setting(s, "large_sue_months", 1, 240),
        watch_after_months=_int_setting(s, "watch_after_months", 0, 120),
        due_days=due,
        legal_adviser=str(s.get("legal_adviser") or ""),
        collector_user_id=int(collector) if collector else None,
    )


DEFAULT_DUE_DAYS = {"reminder": 5, "notice": 7, "legal_notice": 5, "lawyer_letter": 10, "sue": 30,
                    "preservation": 15, "transfer_alert": 1}


async def collector_for(tenant_id: int, project_id: int, rules: Rules) -> int | None:
    """The named staff member who answers for a project's collection: the configured one, else its first
    finance staff, else its project manager, else the company CS department."""
    if rules.collector_user_id:
        return rules.collector_user_id
    for roles in (["finance"], ["project_manager"], ["company_cs"]):
        users = await notify.staff_with_role(tenant_id, roles, project_id)
        if users:
            return min(users)
    return None


# ---------------------------------------------------------------- access

def _need(p: Principal, permission: str) -> None:
    p.require(permission)


async def _project(p: Principal, project_id: int, field: str = "project_id") -> dict[str, Any]:
    project = await p.scope.get_or_none(tables.Project, project_id)
    if project is None or not p.sees_project(project_id):
        raise invalid(field, "no such project")
    return project


def _visible_projects_sql(p: Principal, column: str) -> str:
    if p.project_ids is None:
        return "1 = 1"
    return f"{column} IN ({_ints(p.project_ids)})"


async def _visible_row(p: Principal, table: Any, row_id: int, what: str) -> dict[str, Any]:
    """A row of this tenant in a project the staff member sees, else 404 (checked before any permission: a row
    of another company is never confirmed by a 403)."""
    row = await p.scope.get(table, row_id, what=what)
    if not p.sees_project(row["project_id"]):
        raise not_found(what)
    return row


def _page(rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": tickets.encode_cursor(rows[-1]["id"]) if more and rows else None}


def _keyset(query: Any, table: Any, cursor: str | None, limit: int) -> Any:
    after = tickets.decode_cursor(cursor)
    if after is not None:
        query = query.where(table.id < after)
    return query.order_by(table.id, ascending=False).limit(limit + 1)


async def audit(p: Principal, action: str, object_type: str, object_id: int | None, data: dict[str, Any]) -> None:
    await p.scope.insert(tables.AuditLog, user_id=p.user_id, action=action, object_type=object_type,
                         object_id=object_id, data=data)


# ---------------------------------------------------------------- fee items

async def list_fee_items(p: Principal, project_id: int | None = None) -> list[dict[str, Any]]:
    _need(p, READ)
    query = p.scope.select(FeeItem)
    clause = p.project_filter(FeeItem.project_id)
    if clause is not None:
        query = query.where(clause)
    if project_id is not None:
        query = query.where(FeeItem.project_id == project_id)
    return await query.order_by(FeeItem.project_id).order_by(FeeItem.id)


async def get_fee_item(p: Principal, fee_item_id: int) -> dict[str, Any]:
    row = await _visible_row(p, FeeItem, fee_item_id, "fee item")
    _need(p, READ)
    return row


async def create_fee_item(p: Principal, data: dict[str, Any]) -> dict[str, Any]:
    _need(p, MANAGE)
    await _project(p, data["project_id"])
    if await p.scope.exists(FeeItem).where((FeeItem.project_id == data["project_id"]) & (FeeItem.code == data["code"])):
        raise conflict(f"The project already has a fee item with code {data['code']!r}.")
    row = await p.scope.insert(FeeItem, **data)
    await audit(p, "arrears_collection.fee_item.create", "arrears_collection_fee_item", row["id"],
                {"code": row["code"], "standard_fen": row["standard_fen"], "basis": row["basis"]})
    return row


async def update_fee_item(p: Principal, fee_item_id: int, data: dict[str, Any]) -> dict[str, Any]:
    item = await _visible_row(p, FeeItem, fee_item_id, "fee item")
    _need(p, MANAGE)
    if data:
        await p.scope.update(FeeItem, {getattr(FeeItem, k): v for k, v in data.items()}).where(FeeItem.id == fee_item_id)
        await audit(p, "arrears_collection.fee_item.update", "arrears_collection_fee_item", fee_item_id,
                    {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()})
    return {**item, **data}


# ---------------------------------------------------------------- bills

def _holds(alias: str, start: date, end: date) -> str:
    """An occupancy row that makes its customer the payer for a month (owner or company during the month)."""
    return (f"{alias}.role IN ('owner', 'company') AND {alias}.start_date <= {_d(end)} "
            f"AND ({alias}.end_date IS NULL OR {alias}.end_date > {_d(start)})")


async def generate_bills(tenant_id: int, project: dict[str, Any], period: str, *, now: datetime,
                         unit_ids: list[int] | None = None) -> int:
    """Bill one project for one month: every published area/unit fee item for every held unit, plus the
    charges other plugins add (hook `arrears_charges`). Returns how many bills were new (0 on a re-run)."""
    T, P, N = int(tenant_id), int(project["id"]), period_no(period)
    start, end = period_bounds(period)
    only = f"AND u.id IN ({_ints(unit_ids)})" if unit_ids is not None else ""
    sql = f"""
        INSERT INTO arrears_collection_bill (tenant_id, project_id, unit_id, customer_id, fee_item_id, period,
            period_no, due_date, quantity, amount_fen, paid_fen, paid_on, created_at)
        SELECT u.tenant_id, u.project_id, u.id, h.customer_id, f.id, '{period}', {N}, {_d(end)}, 0,
            CASE f.basis WHEN 'area_month' THEN (CAST(ROUND(u.area * 100) AS BIGINT) * f.standard_fen + 50) / 100
                 ELSE f.standard_fen END,
            0, CAST(NULL AS DATE), {_ts(now)}
        FROM core_unit u
        JOIN arrears_collection_fee_item f ON f.tenant_id = u.tenant_id AND f.project_id = u.project_id
        JOIN core_occupancy h ON h.tenant_id = u.tenant_id AND h.unit_id = u.id AND {_holds('h', start, end)}
        WHERE u.tenant_id = {T} AND u.project_id = {P} AND f.is_active = TRUE
          AND NOT EXISTS (SELECT 1 FROM core_occupancy o2 WHERE o2.tenant_id = h.tenant_id AND o2.unit_id = h.unit_id
                          AND {_holds('o2', start, end)} AND o2.customer_id < h.customer_id)
          AND f.basis IN ('area_month', 'unit_month') AND (f.unit_use = '' OR f.unit_use = u.use)
          AND f.published_on IS NOT NULL AND f.published_on <= {_d(end)} {only}
        ON CONFLICT DO NOTHING RETURNING id"""
    async with transaction():
        created = len(await fetch(sql))
    if unit_ids is None:
        created += await _external_charges(tenant_id, project, period, now=now)
    return created


async def _external_charges(tenant_id: int, project: dict[str, Any], period: str, *, now: datetime) -> int:
    """Bills for the charges other plugins answer through `arrears_charges`."""
    answers = await get_registry().call("arrears_charges", tenant_id=tenant_id, project_id=project["id"],
                                        project=dict(project), period=period)
    charges = [c for answer in answers for c in (answer or [])]
    if not charges:
        return 0
    scope = TenantScope(tenant_id)
    T, P, N = int(tenant_id), int(project["id"]), period_no(period)
    start, end = period_bounds(period)
    created = 0
    async with transaction():
        items = {r["code"]: r for r in await scope.select(FeeItem).where(FeeItem.project_id == P)}
        for charge in charges:
            code = str(charge.get("fee_code") or "")[:50]
            amount = charge.get("amount_fen")
            if not code or not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise ValueError(f"arrears_charges answered a charge without fee_code or a positive amount_fen: {charge!r}")
            if code not in items:
                items[code] = await scope.insert(
                    FeeItem, project_id=P, code=code, name=str(charge.get("fee_name") or code)[:100], basis="external",
                    standard_fen=int(charge.get("standard_fen") or amount), unit_label="月",
                    basis_text=str(charge.get("basis_text") or "")[:300], source=code.split(".")[0], published_on=start)
            customer = charge.get("customer_id")
            payer = (f"(SELECT c.id FROM core_customer c WHERE c.tenant_id = {T} AND c.id = {int(customer)})"
                     if customer else f"(SELECT MIN(o.customer_id) FROM core_occupancy o WHERE o.tenant_id = {T} AND o.unit_id = u.id "
                        f"AND {_holds('o', start, end)})")
            rows = await fetch(f"""
                INSERT INTO arrears_collection_bill (tenant_id, project_id, unit_id, customer_id, fee_item_id, period,
                    period_no, due_date, quantity, amount_fen, paid_fen, paid_on, created_at)
                SELECT u.tenant_id, u.project_id, u.id, {payer}, {int(items[code]['id'])}, '{period}', {N}, {_d(end)},
                    1, {int(amount)}, 0, CAST(NULL AS DATE), {_ts(now)}
                FROM core_unit u WHERE u.tenant_id = {T} AND u.project_id = {P} AND u.id = {int(charge['unit_id'])}
                  AND {payer} IS NOT NULL
                ON CONFLICT DO NOTHING RETURNING id""")
            created += len(rows)
    return created


async def run_billing(p: Principal, project_id: int, period: str, unit_ids: list[int] | None, now: datetime) -> dict[str, Any]:
    """A billing run started by finance (the monthly job does the same for every project)."""
    _need(p, MANAGE)
    project = await _project(p, project_id)
    check_period(period)
    if unit_ids:
        found = await p.scope.count(tables.Unit).where((tables.Unit.project_id == project_id) & tables.Unit.id.is_in(unit_ids))
        if found != len(set(unit_ids)):
            raise invalid("unit_ids", "every unit must belong to the project")
    created = await generate_bills(p.tenant_id, project, period, now=now, unit_ids=unit_ids or None)
    return {"project_id": project_id, "period": period, "created": created}


async def add_metered_bill(p: Principal, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A metered charge (water, electricity …): quantity × the fee item's published standard."""
    _need(p, MANAGE)
    item = await p.scope.get_or_none(FeeItem, data["fee_item_id"])
    if item is None or not p.sees_project(item["project_id"]):
        raise invalid("fee_item_id", "no such fee item")
    if item["basis"] != "metered":
        raise invalid("fee_item_id", "only metered fee items are billed by quantity; the others are billed monthly")
    unit = await p.scope.get_or_none(tables.Unit, data["unit_id"])
    if unit is None or unit["project_id"] != item["project_id"]:
        raise invalid("unit_id", "no such unit in the fee item's project")
    period = check_period(data["period"])
    start, end = period_bounds(period)
    holder = await fetch(f"SELECT MIN(o.customer_id) AS customer_id FROM core_occupancy o WHERE o.tenant_id = "
                         f"{int(p.tenant_id)} AND o.unit_id = {int(unit['id'])} AND {_holds('o', start, end)}")
    if not holder or holder[0]["customer_id"] is None:
        raise invalid("unit_id", "nobody holds the unit in that month")
    if await p.scope.exists(Bill).where((Bill.unit_id == unit["id"]) & (Bill.fee_item_id == item["id"])
                                        & (Bill.period == period)):
        raise conflict("The unit already has a bill for this fee item and month.")
    row = await p.scope.insert(Bill, project_id=item["project_id"], unit_id=unit["id"], customer_id=holder[0]["customer_id"],
                               fee_item_id=item["id"], period=period, period_no=period_no(period), due_date=end,
                               quantity=data["quantity"], amount_fen=int(data["quantity"]) * int(item["standard_fen"]),
                               paid_fen=0, created_at=now)
    await audit(p, "arrears_collection.bill.create", "arrears_collection_bill", row["id"], {"amount_fen": row["amount_fen"]})
    return row


BILL_COLUMNS = (Bill.all_columns(), Bill.fee_item_id.name.as_alias("fee_item_name"),
                Bill.customer_id.name.as_alias("customer_name"), Bill.unit_id.room.as_alias("room"),
                Bill.unit_id.building_id.code.as_alias("building_code"))


async def list_bills(p: Principal, *, project_id: int | None = None, customer_id: int | None = None,
                     unit_id: int | None = None, period: str | None = None, unpaid: bool = False,
                     cursor: str | None = None, limit: int = 25) -> dict[str, Any]:
    _need(p, READ)
    query = p.scope.select(Bill, *BILL_COLUMNS)
    clause = p.project_filter(Bill.project_id)
    if clause is not None:
        query = query.where(clause)
    for col, value in ((Bill.project_id, project_id), (Bill.customer_id, customer_id), (Bill.unit_id, unit_id),
                       (Bill.period, period)):
        if value is not None:
            query = query.where(col == value)
    if unpaid:
        query = query.where(WhereRaw("paid_fen < amount_fen"))
    return _page(await _keyset(query, Bill, cursor, limit), limit)


async def get_bill(p: Principal, bill_id: int) -> dict[str, Any]:
    await _visible_row(p, Bill, bill_id, "bill")
    _need(p, READ)
    bill = await p.scope.select(Bill, *BILL_COLUMNS).where(Bill.id == bill_id).first()
    bill["allocations"] = await p.scope.select(
        Allocation, Allocation.id, Allocation.payment_id, Allocation.amount_fen,
        Allocation.payment_id.receipt_no.as_alias("receipt_no"), Allocation.payment_id.paid_on.as_alias("paid_on"),
    ).where(Allocation.bill_id == bill_id).order_by(Allocation.id)
    return bill


# ---------------------------------------------------------------- payments and receipts

async def _next_receipt_seq(scope: TenantScope, project_id: int) -> int:
    """Advance the project's receipt counter inside the payment's transaction (rolled back with it: no gaps)."""
    for _ in range(2):
        rows = await scope.update(ReceiptCounter, {ReceiptCounter.last_seq: ReceiptCounter.last_seq + 1}).where(
            ReceiptCounter.project_id == project_id).returning(ReceiptCounter.last_seq)
        if rows:
            return int(rows[0]["last_seq"])
        await ReceiptCounter.insert(ReceiptCounter(tenant_id=scope.tenant_id, project_id=project_id, last_seq=0)
                                    ).on_conflict(action="DO NOTHING")
    raise RuntimeError("the receipt counter could not be advanced")


async def record_payment(p: Principal, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Receive money from a customer: a receipt numbered without gaps per project, allocated to the oldest
    bills first. A payment that clears the customer's overdue bills stops the collection ladder."""
    _need(p, PAY)
    project = await _project(p, data["project_id"])
    if await p.scope.get_or_none(tables.Customer, data["customer_id"]) is None:
        raise invalid("customer_id", "no such customer")
    amount, paid_on = int(data["amount_fen"]), data["paid_on"]
    if paid_on > local_date(now) + timedelta(days=1):
        raise invalid("paid_on", "is in the future")
    scope = p.scope
    async with transaction():
        seq = await _next_receipt_seq(scope, project["id"])
        bills = await scope.select(Bill, Bill.id, Bill.amount_fen, Bill.paid_fen, Bill.due_date).where(
            (Bill.project_id == project["id"]) & (Bill.customer_id == data["customer_id"])
            & WhereRaw("paid_fen < amount_fen")).order_by(Bill.period_no).order_by(Bill.due_date).order_by(Bill.id)
        owed = sum(b["amount_fen"] - b["paid_fen"] for b in bills)
        if amount > owed:
            raise invalid("amount_fen", f"is more than the customer owes in this project ({fmt_fen(owed)} yuan)")
        receipt_no = f"{project['code']}-{seq:08d}"
        payment = await scope.insert(Payment, project_id=project["id"], customer_id=data["customer_id"], amount_fen=amount,
                                     method=data["method"], paid_on=paid_on, receipt_seq=seq, receipt_no=receipt_no,
                                     received_by=p.user_id, note=data.get("note", ""), created_at=now)
        left, allocations = amount, []
        for b in bills:
            if left == 0:
                break
            share = min(left, b["amount_fen"] - b["paid_fen"])
            left -= share
            b["paid_fen"] += share
            allocations.append({"payment_id": payment["id"], "bill_id": b["id"], "amount_fen": share})
            settled = b["paid_fen"] == b["amount_fen"]
            await scope.update(Bill, {Bill.paid_fen: Bill.paid_fen + share,
                                      Bill.paid_on: paid_on if settled else None}).where(Bill.id == b["id"])
        await scope.insert_many(Allocation, allocations)
        overdue_left = sum(b["amount_fen"] - b["paid_fen"] for b in bills if _date_value(b["due_date"]) < paid_on)
        cleared = overdue_left == 0
        stopped = await stop_ladder(p.tenant_id, project["id"], data["customer_id"], paid_on, now) if cleared else 0
        await audit(p, "arrears_collection.payment.create", "arrears_collection_payment", payment["id"],
                    {"amount_fen": amount, "receipt_no": receipt_no, "customer_id": data["customer_id"]})
    payment["allocations"] = allocations
    payment["cleared"] = cleared
    payment["ladder_stopped"] = stopped
    await get_registry().call("on_arrears_payment", tenant_id=p.tenant_id, project_id=project["id"],
                              payment={k: v for k, v in payment.items() if k != "allocations"}, cleared=cleared)
    return payment


async def stop_ladder(tenant_id: int, project_id: int, customer_id: int, on: date, now: datetime) -> int:
    """Arrears cleared: close the open case, cancel its open steps (outcome paid), end the watch on its units.
    Returns how many cases were closed."""
    scope = TenantScope(tenant_id)
    cases = await scope.select(Case, Case.id).where((Case.project_id == project_id) & (Case.customer_id == customer_id)
                                              & (Case.status == "open"))
    ids = [c["id"] for c in cases]
    if not ids:
        return 0
    await scope.update(Case, {Case.status: "closed", Case.closed_on: on, Case.closed_reason: "cleared"}).where(
        Case.id.is_in(ids))
    await scope.update(Task, {Task.status: "cancelled", Task.outcome: "paid", Task.done_at: now}).where(
        Task.case_id.is_in(ids) & (Task.status == "open"))
    await scope.update(Watch, {Watch.ended_on: on}).where(Watch.case_id.is_in(ids) & Watch.ended_on.is_null())
    return len(ids)


PAYMENT_COLUMNS = (Payment.all_columns(), Payment.customer_id.name.as_alias("customer_name"),
                   Payment.project_id.name.as_alias("project_name"), Payment.received_by.name.as_alias("received_by_name"))


async def list_payments(p: Principal, *, project_id: int | None = None, customer_id: int | None = None,
                        cursor: str | None = None, limit: int = 25) -> dict[str, Any]:
    _need(p, READ)
    query = p.scope.select(Payment, *PAYMENT_COLUMNS)
    clause = p.project_filter(Payment.project_id)
    if clause is not None:
        query = query.where(clause)
    for col, value in ((Payment.project_id, project_id), (Payment.customer_id, customer_id)):
        if value is not None:
            query = query.where(col == value)
    return _page(await _keyset(query, Payment, cursor, limit), limit)


async def get_payment(p: Principal, payment_id: int) -> dict[str, Any]:
    await _visible_row(p, Payment, payment_id, "payment")
    _need(p, READ)
    payment = await p.scope.select(Payment, *PAYMENT_COLUMNS).where(Payment.id == payment_id).first()
    payment["allocations"] = await p.scope.select(
        Allocation, Allocation.id, Allocation.bill_id, Allocation.amount_fen, Allocation.bill_id.period.as_alias("period"),
        Allocation.bill_id.fee_item_id.name.as_alias("fee_item_name"), Allocation.bill_id.unit_id.room.as_alias("room"),
    ).where(Allocation.payment_id == payment_id).order_by(Allocation.id)
    return payment


# ---------------------------------------------------------------- ageing (set-based, as of a day)

def _overdue_sql(T: int, as_of: date, rules: Rules, *, project_sql: str, group: str, select: str) -> str:
    """Unpaid bills past their due date, grouped: owed, late fee by the tenant's rule, oldest period."""
    N = period_no(period_of(as_of))
    D = _d(as_of)
    late = (f"(b.amount_fen - b.paid_fen) * {_days_since(D, 'b.due_date')} * {int(rules.late_fee_daily_per_10k)} / 10000"
            f" + (b.amount_fen - b.paid_fen) * ({N} - b.period_no) * {int(rules.late_fee_monthly_percent)} / 100")
    return (f"SELECT {select}, MIN(b.period_no) AS first_no, {N} - MIN(b.period_no) AS months, "
            f"SUM(b.amount_fen - b.paid_fen) AS owed_fen, SUM({late}) AS late_fee_fen, COUNT(*) AS bills "
            f"FROM arrears_collection_bill b WHERE b.tenant_id = {T} AND {project_sql} "
            f"AND b.paid_fen < b.amount_fen AND b.due_date < {D} GROUP BY {group}")


async def ageing(p: Principal, *, as_of: date, project_id: int | None = None, customer_id: int | None = None,
                 by: str = "customer", limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Arrears per customer (or per customer and unit) as of a day: months overdue, amount owed, late fee."""
    _need(p, READ)
    if project_id is not None:
        await _project(p, project_id)
    rules = await rules_for(p.tenant_id, project_id)
    T = int(p.tenant_id)
    project_sql = _visible_projects_sql(p, "b.project_id") + (f" AND b.project_id = {int(project_id)}" if project_id else "")
    if customer_id is not None:
        project_sql += f" AND b.customer_id = {int(customer_id)}"
    keys = "b.project_id, b.customer_id" + (", b.unit_id" if by == "unit" else "")
    inner = _overdue_sql(T, as_of, rules, project_sql=project_sql, group=keys, select=keys)
    unit_cols = ", a.unit_id, u.room, bd.code AS building_code" if by == "unit" else ""
    unit_join = (" JOIN core_unit u ON u.id = a.unit_id JOIN core_building bd ON bd.id = u.building_id"
                 if by == "unit" else "")
    rows = await fetch(
        f"SELECT a.project_id, a.customer_id, c.name AS customer_name{unit_cols}, a.months, a.owed_fen, "
        f"a.late_fee_fen, a.bills FROM ({inner}) a JOIN core_customer c ON c.id = a.customer_id{unit_join} "
        f"ORDER BY a.months DESC, a.owed_fen DESC, a.customer_id LIMIT {int(limit) + 1} OFFSET {int(offset)}")
    items = [{**r, "months": int(r["months"]), "owed_fen": int(r["owed_fen"]), "late_fee_fen": int(r["late_fee_fen"]),
              "bucket": bucket_of(int(r["months"]))} for r in rows[:limit]]
    return {"as_of": as_of.isoformat(), "items": items, "next_offset": offset + limit if len(rows) > limit else None}


def bucket_of(months: int) -> str:
    for name, low, high in BUCKETS:
        if months >= low and (high is None or months < high):
            return name
    return "0-3"


# ---------------------------------------------------------------- the collection ladder

async def run_ladder(tenant_id: int, project: dict[str, Any], as_of: date, *, now: datetime) -> dict[str, int]:
    """The monthly collection ladder of one project as of a day (seed 001, 欠费催缴), set-based.

    Ordinary customers: 1 up to 6 months overdue → a reminder and a written notice every month; 6 up to
    18 months → the legal adviser notified in writing and a lawyer's letter, a second one 6 months after
    the first (two in total); 18 months or more → the legal adviser instructed to sue. Large customers
    (managed area over 1.5 ‰ of the project's) → a lawyer's letter once arrears exceed 3 months, a suit
    from 6 months. Any customer over 3 months → the units with overdue bills are watched for a transfer.
    Idempotent: every step has a unique key (case, kind, month or letter number)."""
    rules = await rules_for(tenant_id, project["id"])
    collector = await collector_for(tenant_id, project["id"], rules)
    T, P = int(tenant_id), int(project["id"])
    S = period_of(as_of)
    N = period_no(S)
    D, NOW = _d(as_of), _ts(now)
    total_c = int((Decimal(str(project.get("total_area") or 0)) * 100).to_integral_value())
    od = _overdue_sql(T, as_of, rules, project_sql=f"b.project_id = {P}", group="b.customer_id",
                      select="b.customer_id, MIN(b.unit_id) AS unit_id")
    area = (f"SELECT o.customer_id, SUM(CAST(ROUND(u.area * 100) AS BIGINT)) AS area_c FROM core_occupancy o "
            f"JOIN core_unit u ON u.id = o.unit_id WHERE o.tenant_id = {T} AND u.tenant_id = {T} AND u.project_id = {P} "
            f"AND o.role IN ('owner', 'company') AND o.start_date <= {D} AND (o.end_date IS NULL OR o.end_date > {D}) "
            f"AND o.customer_id IN (SELECT customer_id FROM od) GROUP BY o.customer_id")
    st = (f"SELECT od.customer_id, od.unit_id, od.months, od.owed_fen, od.late_fee_fen, "
          f"CASE WHEN COALESCE(area.area_c, 0) * 10000 > CAST({total_c} AS BIGINT) * {rules.large_customer_area_per_10k} "
          f"THEN 1 ELSE 0 END AS is_large FROM od LEFT JOIN area ON area.customer_id = od.customer_id")
    # each customer's open case, found through the unique index (one lookup a customer, whatever the statistics)
    cs = (f"SELECT st.*, (SELECT c.id FROM arrears_collection_case c WHERE c.tenant_id = {T} AND c.project_id = {P} "
          f"AND c.customer_id = st.customer_id AND c.status = 'open') AS case_id FROM st")
    cte = f"WITH od AS ({od}), area AS ({area}), st AS ({st})"
    cte_cases = f"{cte}, cs AS ({cs})"
    counts = {"cases_opened": 0, "cases_closed": 0, "tasks": 0, "watches": 0}
    if collector is None:
        return counts  # nobody to name: the company has no finance, project manager or CS staff
    R = rules
    o_legal, o_sue, gap = R.ordinary_legal_months, R.ordinary_sue_months, R.letter_interval_months
    l_letter, l_sue = R.large_letter_after_months, R.large_sue_months
    due = {k: _d(as_of + timedelta(days=v)) for k, v in R.due_days.items()}

    def step(kind: str, rung: str, key: str, where: str) -> str:
        return (f"SELECT st.case_id, st.customer_id, st.unit_id, st.months, st.owed_fen, st.late_fee_fen, "
                f"'{kind}' AS kind, '{rung}' AS rung, '{key}' AS dedup_key FROM cs st "
                f"WHERE st.case_id IS NOT NULL AND {where}")

    ordinary_1_6 = f"st.is_large = 0 AND st.months >= 1 AND st.months < {o_legal}"
    large_1_3 = f"st.is_large = 1 AND st.months >= 1 AND st.months <= {l_letter}"
    ordinary_6_18 = f"st.is_large = 0 AND st.months >= {o_legal} AND st.months < {o_sue}"
    first_letter_ago = (f"EXISTS (SELECT 1 FROM arrears_collection_task t WHERE t.tenant_id = {T} AND t.case_id = st.case_id "
                        f"AND t.kind = 'lawyer_letter' AND t.dedup_key = '1' AND t.period_no <= {N - gap})")
    steps = " UNION ALL ".join([
        step("reminder", "ordinary_1_6", S, ordinary_1_6), step("notice", "ordinary_1_6", S, ordinary_1_6),
        step("reminder", "large_1_3", S, large_1_3), step("notice", "large_1_3", S, large_1_3),
        step("legal_notice", "ordinary_6_18", "once", ordinary_6_18),
        step("lawyer_letter", "ordinary_6_18", "1", ordinary_6_18),
        step("lawyer_letter", "ordinary_6_18", "2", f"{ordinary_6_18} AND {first_letter_ago}"),
        step("sue", "ordinary_18", "once", f"st.is_large = 0 AND st.months >= {o_sue}"),
        step("lawyer_letter", "large_3_6", "1", f"st.is_large = 1 AND st.months > {l_letter} AND st.months < {l_sue}"),
        step("sue", "large_6", "once", f"st.is_large = 1 AND st.months >= {l_sue}"),
    ])
    due_case = "CASE r.kind " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in due.items()) + f" ELSE {D} END"
    delivery_case = "CASE r.kind " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in DELIVERY.items()) + " ELSE '' END"
    async with transaction():
        # arrears cleared some other way (bills settled, credited): the ladder stops
        closed = await fetch(
            f"UPDATE arrears_collection_case SET status = 'closed', closed_on = {D}, closed_reason = 'cleared' "
            f"WHERE tenant_id = {T} AND project_id = {P} AND status = 'open' AND NOT EXISTS (SELECT 1 FROM "
            f"arrears_collection_bill b WHERE b.tenant_id = {T} AND b.project_id = {P} AND b.customer_id = "
            f"arrears_collection_case.customer_id AND b.paid_fen < b.amount_fen AND b.due_date < {D}) RETURNING id")
        if closed:
            ids = _ints(r["id"] for r in closed)
            await fetch(
                f"UPDATE arrears_collection_task SET status = 'cancelled', outcome = 'paid', done_at = {NOW} "
                f"WHERE tenant_id = {T} AND case_id IN ({ids}) AND status = 'open'")
            await fetch(f"UPDATE arrears_collection_watch SET ended_on = {D} WHERE tenant_id = {T} "
                                    f"AND case_id IN ({ids}) AND ended_on IS NULL")
        counts["cases_closed"] = len(closed)
        opened = await fetch(
            f"{cte} INSERT INTO arrears_collection_case (tenant_id, project_id, customer_id, status, opened_period, "
            f"opened_on, closed_on, closed_reason, created_at) SELECT {T}, {P}, st.customer_id, 'open', '{S}', {D}, "
            f"CAST(NULL AS DATE), "
            f"'', {NOW} FROM st WHERE st.months >= 1 AND NOT EXISTS (SELECT 1 FROM arrears_collection_case c "
            f"WHERE c.tenant_id = {T} AND c.project_id = {P} AND c.customer_id = st.customer_id AND c.status = 'open') "
            f"ON CONFLICT DO NOTHING RETURNING id")
        counts["cases_opened"] = len(opened)
        tasks = await fetch(
            f"{cte_cases}, r AS ({steps}) INSERT INTO arrears_collection_task (tenant_id, project_id, case_id, customer_id, "
            f"unit_id, kind, rung, dedup_key, period, period_no, assignee_id, due_date, status, months_overdue, owed_fen, "
            f"late_fee_fen, delivery, outcome, promised_on, tracking_no, signed, note, created_at, done_at, done_by) "
            f"SELECT {T}, {P}, r.case_id, r.customer_id, r.unit_id, r.kind, r.rung, r.dedup_key, '{S}', {N}, "
            f"CASE WHEN r.kind IN ('reminder', 'notice') THEN COALESCE(g.responsible_id, {int(collector)}) "
            f"ELSE {int(collector)} END, {due_case}, 'open', r.months, r.owed_fen, r.late_fee_fen, {delivery_case}, "
            f"'', CAST(NULL AS DATE), '', CAST(NULL AS BOOLEAN), '', {NOW}, CAST(NULL AS TIMESTAMPTZ), CAST(NULL AS INTEGER) "
            f"FROM r JOIN core_unit u ON u.id = r.unit_id LEFT JOIN core_grid g ON g.id = u.grid_id WHERE 1 = 1 "
            f"ON CONFLICT DO NOTHING RETURNING id")
        counts["tasks"] = len(tasks)
        watches = await fetch(
            f"{cte_cases} INSERT INTO arrears_collection_watch (tenant_id, project_id, case_id, unit_id, customer_id, "
            f"since_period, started_on, ended_on, alerted_at, created_at) "
            f"SELECT DISTINCT {T}, {P}, st.case_id, b.unit_id, b.customer_id, '{S}', {D}, CAST(NULL AS DATE), "
            f"CAST(NULL AS TIMESTAMPTZ), {NOW} "
            f"FROM cs st JOIN arrears_collection_bill b ON b.tenant_id = {T} AND b.project_id = {P} "
            f"AND b.customer_id = st.customer_id AND b.paid_fen < b.amount_fen AND b.due_date < {D} "
            f"WHERE st.case_id IS NOT NULL AND st.months > {R.watch_after_months} ON CONFLICT DO NOTHING RETURNING id")
        counts["watches"] = len(watches)
    return counts


async def run_ladder_for_tenant(tenant_id: int, as_of: date, *, now: datetime, project_id: int | None = None) -> dict[str, Any]:
    """The ladder for every project of a tenant where the plugin is enabled."""
    registry = get_registry()
    out: dict[str, Any] = {}
    query = TenantScope(tenant_id).select(tables.Project).order_by(tables.Project.id)
    if project_id is not None:
        query = query.where(tables.Project.id == project_id)
    for project in await query:
        if PLUGIN in await registry.enabled(tenant_id, project["id"]):
            out[project["code"]] = await run_ladder(tenant_id, project, as_of, now=now)
    return out


async def bill_tenant(tenant_id: int, period: str, *, now: datetime) -> dict[str, int]:
    """The monthly billing of every project of a tenant where the plugin is enabled."""
    registry = get_registry()
    out: dict[str, int] = {}
    for project in await TenantScope(tenant_id).select(tables.Project).order_by(tables.Project.id):
        if PLUGIN in await registry.enabled(tenant_id, project["id"]):
            out[project["code"]] = await generate_bills(tenant_id, project, period, now=now)
    return out


async def start_ladder(p: Principal, as_of: date, project_id: int | None, now: datetime) -> dict[str, Any]:
    """A ladder run started by finance (the monthly job does the same for the whole company)."""
    _need(p, MANAGE)
    if project_id is not None:
        await _project(p, project_id)
    elif not p.sees_all_projects():
        raise invalid("project_id", "name the project (your role covers only some projects)")
    return {"as_of": as_of.isoformat(), "projects": await run_ladder_for_tenant(p.tenant_id, as_of, now=now,
                                                                               project_id=project_id)}


# ---------------------------------------------------------------- tasks, cases, watches

TASK_COLUMNS = (Task.all_columns(), Task.customer_id.name.as_alias("customer_name"),
                Task.assignee_id.name.as_alias("assignee_name"), Task.unit_id.room.as_alias("room"),
                Task.unit_id.building_id.code.as_alias("building_code"), Task.project_id.name.as_alias("project_name"))


def _task_filter(p: Principal, query: Any) -> Any:
    """Finance and managers see every step of their projects; other collectors see the steps named for them."""
    clause = p.project_filter(Task.project_id)
    if clause is not None:
        query = query.where(clause)
    if not p.can(READ):
        query = query.where(Task.assignee_id == p.user_id)
    return query


def present_task(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["label_zh"], row["label_en"] = KIND_LABELS.get(row["kind"], (row["kind"], row["kind"]))
    return row


async def list_tasks(p: Principal, *, status: str | None = None, kind: str | None = None, project_id: int | None = None,
                     customer_id: int | None = None, case_id: int | None = None, mine: bool = False,
                     cursor: str | None = None, limit: int = 25) -> dict[str, Any]:
    if not (p.can(READ) or p.can(COLLECT)):
        p.require(READ)
    query = _task_filter(p, p.scope.select(Task, *TASK_COLUMNS))
    for col, value in ((Task.status, status), (Task.kind, kind), (Task.project_id, project_id),
                       (Task.customer_id, customer_id), (Task.case_id, case_id)):
        if value is not None:
            query = query.where(col == value)
    if mine:
        query = query.where(Task.assignee_id == p.user_id)
    page = _page(await _keyset(query, Task, cursor, limit), limit)
    page["items"] = [present_task(r) for r in page["items"]]
    return page


async def get_task(p: Principal, task_id: int) -> dict[str, Any]:
    if not (p.can(READ) or p.can(COLLECT)):
        raise not_found("task")
    row = await _task_filter(p, p.scope.select(Task, *TASK_COLUMNS)).where(Task.id == task_id).first()
    if row is None:
        raise not_found("task")
    return present_task(row)


async def record_outcome(p: Principal, task_id: int, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Record what a step achieved (reached, promised to pay on a date, refused, paid, signed, sent …).
    A suit won opens the follow-up: apply for property preservation in time."""
    task = await get_task(p, task_id)
    if not (p.can(COLLECT) or p.can(MANAGE)):
        p.require(COLLECT)
    if task["status"] != "open":
        raise conflict(f"This step is {task['status']}; its outcome is recorded.", task_status=task["status"])
    outcome = data["outcome"]
    if outcome not in KIND_OUTCOMES[task["kind"]]:
        raise invalid("outcome", f"a {task['kind']} step takes one of {', '.join(sorted(KIND_OUTCOMES[task['kind']]))}")
    if outcome == "promised" and not data.get("promised_on"):
        raise invalid("promised_on", "a promise to pay needs the date promised")
    if task["kind"] == "lawyer_letter" and outcome == "sent" and not data.get("tracking_no"):
        raise invalid("tracking_no", "a lawyer's letter goes by express mail: give the waybill number")
    values: dict[Any, Any] = {Task.outcome: outcome, Task.note: data.get("note", ""), Task.done_by: p.user_id}
    if data.get("promised_on"):
        values[Task.promised_on] = data["promised_on"]
    if data.get("delivery"):
        values[Task.delivery] = data["delivery"]
    if data.get("tracking_no"):
        values[Task.tracking_no] = data["tracking_no"]
    if outcome == "signed" or data.get("signed") is not None:
        values[Task.signed] = True if outcome == "signed" else bool(data["signed"])
    if (task["kind"], outcome) not in ONGOING:
        values[Task.status] = "done"
        values[Task.done_at] = now
    async with transaction():
        await p.scope.update(Task, values).where((Task.id == task_id) & (Task.status == "open"))
        if task["kind"] == "sue" and outcome == "won":
            await _open_step(p.scope, task, "preservation", "after_suit", "once", local_date(now), now)
    return await get_task(p, task_id)


async def _open_step(scope: TenantScope, source: dict[str, Any], kind: str, rung: str, key: str, on: date,
                     now: datetime, assignee_id: int | None = None) -> dict[str, Any] | None:
    """A follow-up step of a case (property preservation, a transfer alert), once per key."""
    if await scope.exists(Task).where((Task.case_id == source["case_id"]) & (Task.kind == kind) & (Task.dedup_key == key)):
        return None
    rules = await rules_for(scope.tenant_id, source["project_id"])
    period = period_of(on)
    return await scope.insert(
        Task, project_id=source["project_id"], case_id=source["case_id"], customer_id=source["customer_id"],
        unit_id=source.get("unit_id"), kind=kind, rung=rung, dedup_key=key, period=period, period_no=period_no(period),
        assignee_id=assignee_id or source["assignee_id"], due_date=on + timedelta(days=rules.due_days[kind]),
        status="open", months_overdue=source.get("months_overdue", 0), owed_fen=source.get("owed_fen", 0),
        late_fee_fen=source.get("late_fee_fen", 0), delivery=DELIVERY[kind], created_at=now)


CASE_COLUMNS = (Case.all_columns(), Case.customer_id.name.as_alias("customer_name"),
                Case.project_id.name.as_alias("project_name"))


async def list_cases(p: Principal, *, status: str | None = None, project_id: int | None = None,
                     customer_id: int | None = None, cursor: str | None = None, limit: int = 25) -> dict[str, Any]:
    _need(p, READ)
    query = p.scope.select(Case, *CASE_COLUMNS)
    clause = p.project_filter(Case.project_id)
    if clause is not None:
        query = query.where(clause)
    for col, value in ((Case.status, status), (Case.project_id, project_id), (Case.customer_id, customer_id)):
        if value is not None:
            query = query.where(col == value)
    return _page(await _keyset(query, Case, cursor, limit), limit)


async def get_case(p: Principal, case_id: int) -> dict[str, Any]:
    await _visible_row(p, Case, case_id, "case")
    _need(p, READ)
    case = await p.scope.select(Case, *CASE_COLUMNS).where(Case.id == case_id).first()
    case["tasks"] = [present_task(t) for t in await p.scope.select(Task, *TASK_COLUMNS).where(Task.case_id == case_id)
                     .order_by(Task.id)]
    case["watches"] = await p.scope.select(Watch).where(Watch.case_id == case_id).order_by(Watch.id)
    return case


WATCH_COLUMNS = (Watch.all_columns(), Watch.customer_id.name.as_alias("customer_name"),
                 Watch.unit_id.room.as_alias("room"), Watch.unit_id.building_id.code.as_alias("building_code"))


async def list_watches(p: Principal, *, active: bool = True, project_id: int | None = None,
                       cursor: str | None = None, limit: int = 25) -> dict[str, Any]:
    _need(p, READ)
    query = p.scope.select(Watch, *WATCH_COLUMNS)
    clause = p.project_filter(Watch.project_id)
    if clause is not None:
        query = query.where(clause)
    if active:
        query = query.where(Watch.ended_on.is_null())
    if project_id is not None:
        query = query.where(Watch.project_id == project_id)
    return _page(await _keyset(query, Watch, cursor, limit), limit)


async def get_watch(p: Principal, watch_id: int) -> dict[str, Any]:
    await _visible_row(p, Watch, watch_id, "watch")
    _need(p, READ)
    return await p.scope.select(Watch, *WATCH_COLUMNS).where(Watch.id == watch_id).first()


async def ownership_changed(tenant_id: int, unit_id: int, previous_owner_ids: list[int], new_owner_id: int,
                            on_date: date) -> int:
    """A watched unit was sold or transferred: alert finance at once (in-app message and a step to act on).
    Returns how many watches raised an alert."""
    scope = TenantScope(tenant_id)
    watches = await scope.select(Watch).where((Watch.unit_id == unit_id) & Watch.ended_on.is_null())
    if not watches:
        return 0
    now = datetime.now(timezone.utc)
    unit = await scope.get(tables.Unit, unit_id, tables.Unit.id, tables.Unit.room,
                           tables.Unit.building_id.code.as_alias("building_code"))
    new_owner = await scope.get_or_none(tables.Customer, new_owner_id, tables.Customer.name)
    alerted = 0
    for w in watches:
        rules = await rules_for(tenant_id, w["project_id"])
        finance = await notify.staff_with_role(tenant_id, ["finance"], w["project_id"])
        collector = await collector_for(tenant_id, w["project_id"], rules)
        if collector is None:
            continue
        owed = await _case_owed(tenant_id, w["project_id"], w["customer_id"], on_date)
        source = {"project_id": w["project_id"], "case_id": w["case_id"], "customer_id": w["customer_id"],
                  "unit_id": unit_id, "assignee_id": collector, "owed_fen": owed}
        await _open_step(scope, source, "transfer_alert", "watch", on_date.isoformat(), on_date, now)
        await scope.update(Watch, {Watch.alerted_at: now}).where(Watch.id == w["id"])
        subject = f"欠费房屋过户预警: {unit['building_code']}-{unit['room']}"
        body = (f"房屋 {unit['building_code']}-{unit['room']} 于 {on_date.isoformat()} 发生产权变更"
                f"{'(新业主: ' + new_owner['name'] + ')' if new_owner else ''};原业主欠费 {fmt_fen(owed)} 元,请立即跟进。")
        await notify.send(tenant_id, template="arrears_collection.transfer_alert", subject=subject, body=body,
                          key=f"arrears_collection:transfer:{w['id']}:{on_date.isoformat()}",
                          user_ids=sorted(set(finance) | {collector}))
        alerted += 1
    return alerted


async def _case_owed(tenant_id: int, project_id: int, customer_id: int, on: date) -> int:
    rows = await TenantScope(tenant_id).select(Bill, Bill.amount_fen, Bill.paid_fen).where(
        (Bill.project_id == project_id) & (Bill.customer_id == customer_id) & WhereRaw("paid_fen < amount_fen"))
    return sum(r["amount_fen"] - r["paid_fen"] for r in rows)


# ---------------------------------------------------------------- reports

async def collection_rate(p: Principal, *, project_id: int | None = None, from_period: str | None = None,
                          to_period: str | None = None) -> list[dict[str, Any]]:
    """Billed and collected per project and month; the rate in basis points (collected × 10000 / billed)."""
    _need(p, READ)
    where = [f"b.tenant_id = {int(p.tenant_id)}", _visible_projects_sql(p, "b.project_id")]
    if project_id is not None:
        where.append(f"b.project_id = {int(project_id)}")
    if from_period:
        where.append(f"b.period_no >= {period_no(check_period(from_period, 'from_period'))}")
    if to_period:
        where.append(f"b.period_no <= {period_no(check_period(to_period, 'to_period'))}")
    rows = await fetch(
        f"SELECT b.project_id, pr.name AS project_name, b.period, SUM(b.amount_fen) AS billed_fen, "
        f"SUM(b.paid_fen) AS collected_fen, COUNT(*) AS bills FROM arrears_collection_bill b "
        f"JOIN core_project pr ON pr.id = b.project_id WHERE {' AND '.join(where)} "
        f"GROUP BY b.project_id, pr.name, b.period ORDER BY b.project_id, b.period")
    out = []
    for r in rows:
        billed, collected = int(r["billed_fen"]), int(r["collected_fen"])
        out.append({**r, "billed_fen": billed, "collected_fen": collected,
                    "rate_bp": collected * 10000 // billed if billed else 0,
                    "rate": f"{collected * 10000 // billed / 100:.2f}%" if billed else "-"})
    return out


async def ageing_buckets(p: Principal, *, as_of: date, project_id: int | None = None) -> list[dict[str, Any]]:
    """Customers and amounts in arrears per project, by months overdue: 0–3, 3–6, 6–18, 18+."""
    _need(p, READ)
    rules = await rules_for(p.tenant_id, project_id)
    project_sql = _visible_projects_sql(p, "b.project_id") + (f" AND b.project_id = {int(project_id)}" if project_id else "")
    inner = _overdue_sql(int(p.tenant_id), as_of, rules, project_sql=project_sql, group="b.project_id, b.customer_id",
                         select="b.project_id, b.customer_id")
    bucket = "CASE " + " ".join(
        f"WHEN a.months >= {low}" + (f" AND a.months < {high}" if high else "") + f" THEN '{name}'"
        for name, low, high in BUCKETS) + " END"
    rows = await fetch(
        f"SELECT a.project_id, {bucket} AS bucket, COUNT(*) AS customers, SUM(a.owed_fen) AS owed_fen, "
        f"SUM(a.late_fee_fen) AS late_fee_fen FROM ({inner}) a GROUP BY a.project_id, {bucket}")
    names = {r["id"]: r["name"] for r in await p.scope.select(tables.Project, tables.Project.id, tables.Project.name)}
    found = {(r["project_id"], r["bucket"]): r for r in rows}
    out = []
    for pid in sorted({r["project_id"] for r in rows} | ({project_id} if project_id else set())):
        for name, _, _ in BUCKETS:
            r = found.get((pid, name), {})
            out.append({"project_id": pid, "project_name": names.get(pid, ""), "bucket": name,
                        "customers": int(r.get("customers") or 0), "owed_fen": int(r.get("owed_fen") or 0),
                        "late_fee_fen": int(r.get("late_fee_fen") or 0)})
    return out


async def ladder_actions(p: Principal, *, project_id: int | None = None, period: str | None = None) -> list[dict[str, Any]]:
    """Ladder steps counted by kind, status and outcome."""
    _need(p, READ)
    where = [f"t.tenant_id = {int(p.tenant_id)}", _visible_projects_sql(p, "t.project_id")]
    if project_id is not None:
        where.append(f"t.project_id = {int(project_id)}")
    if period:
        where.append(f"t.period = '{check_period(period)}'")
    rows = await fetch(
        f"SELECT t.project_id, t.kind, t.status, t.outcome, COUNT(*) AS steps, SUM(t.owed_fen) AS owed_fen "
        f"FROM arrears_collection_task t WHERE {' AND '.join(where)} GROUP BY t.project_id, t.kind, t.status, t.outcome "
        f"ORDER BY t.project_id, t.kind, t.status, t.outcome")
    return [{**r, "steps": int(r["steps"]), "owed_fen": int(r["owed_fen"] or 0),
             "label_zh": KIND_LABELS.get(r["kind"], ("", ""))[0]} for r in rows]


async def notice_context(p: Principal, task_id: int) -> dict[str, Any]:
    """What a written notice or lawyer's letter states: the customer, the unit, the bills owed and the late fee."""
    task = await get_task(p, task_id)
    if task["kind"] not in ("notice", "lawyer_letter", "legal_notice", "sue"):
        raise not_found("notice")
    scope = p.scope
    project = await scope.get(tables.Project, task["project_id"])
    customer = await scope.get(tables.Customer, task["customer_id"], tables.Customer.name)
    rules = await rules_for(p.tenant_id, task["project_id"])
    bills = await scope.select(Bill, Bill.period, Bill.amount_fen, Bill.paid_fen, Bill.fee_item_id.name.as_alias("fee_item_name"),
                               Bill.unit_id.room.as_alias("room"), Bill.unit_id.building_id.code.as_alias("building_code"),
                               ).where((Bill.project_id == task["project_id"]) & (Bill.customer_id == task["customer_id"])
                                       & (Bill.period_no < task["period_no"]) & WhereRaw("paid_fen < amount_fen")
                                       ).order_by(Bill.period_no).order_by(Bill.id)
    return {"task": task, "project": project, "customer": customer, "rules": rules, "bills": bills,
            "legal_adviser": rules.legal_adviser}
