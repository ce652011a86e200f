"""Services of parking leases (seed 001, 车位租赁受理作业指导书).

Spaces of garages and surface lots; the parking plan decided by the owners' general meeting, published
with its required documents, process and fees; applications checked at the front desk and handled
within the seed's 20 minutes; a waiting list with the reason given in writing; offers with a deadline;
leases with plates, renewal reminders, expiry and termination; reports. Times come in as `now`/`as_of`.
"""
from __future__ import annotations

import io
import json
import re
from calendar import monthrange
from datetime import date, datetime, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Avg, Count, Max, Min, Sum

from core import Principal, Problem, TenantScope, conflict, fetch, get_registry, invalid, not_found, notify, places, transaction
from core import tables as ct
from plugins.parking_leases.tables import (
    Application, Charge, Document, Fee, Garage, Lease, Offer, Plan, Plate, Reminder, Space, WaitlistEntry,
)

PLUGIN = "parking_leases"
TZ = ZoneInfo("Asia/Shanghai")
SPACE_TYPES: dict[str, tuple[str, str]] = {
    "standard": ("标准车位", "standard"), "small": ("小型车位", "small"), "accessible": ("无障碍车位", "accessible"),
    "ev": ("充电车位", "EV charging"), "vip": ("贵宾车位", "VIP"),
}
SPACE_STATUSES: dict[str, str] = {"free": "空闲", "leased": "已租", "reserved": "已预留", "out_of_service": "停用"}
TERMS: dict[str, int] = {"monthly": 1, "quarterly": 3, "yearly": 12}
TERM_LABELS = {"monthly": "月租", "quarterly": "季租", "yearly": "年租"}
APPLICATION_STATUSES = {"received": "已受理", "checked": "资料已审", "offered": "已提供车位", "waiting": "轮候中",
                        "signed": "已签约", "declined": "已放弃", "lapsed": "逾期未确认", "withdrawn": "已撤回"}
OPEN_APPLICATION = ("received", "checked", "offered", "waiting")
UPLOAD_TYPES = {"application/pdf": b"%PDF", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
PLATE_RE = re.compile(r"^[\u4e00-\u9fa5][A-Z][A-Z0-9]{4,6}[\u4e00-\u9fa5]?$")
MAX_RANGE = 2000
MAX_SHEET_ROWS = 5000


# ---------------------------------------------------------------- helpers

def local_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(TZ).date()


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def term_end(start: date, term: str) -> date:
    """The last day of a lease term that starts on `start`."""
    return add_months(start, TERMS[term]) - timedelta(days=1)


def type_label(space_type: str) -> str:
    zh, en = SPACE_TYPES.get(space_type, (space_type, space_type))
    return f"{zh} ({en})"


async def is_enabled(tenant_id: int, project_id: int) -> bool:
    return PLUGIN in await get_registry().enabled(tenant_id, project_id)


async def settings_for(tenant_id: int, project_id: int | None) -> dict[str, Any]:
    return await get_registry().settings(tenant_id, PLUGIN, project_id)


async def project_for(principal: Principal, project_id: int, *, field: str | None = None,
                      permission: str = "parking_leases.view") -> dict[str, Any]:
    """A project this staff member sees and that has parking leases enabled (404, or 422 on a body field);
    the role's permission is checked only once the project is known to be theirs."""
    project = await principal.scope.get_or_none(ct.Project, project_id)
    if project is None or not principal.sees_project(project_id) or not await is_enabled(principal.tenant_id, project_id):
        if field:
            raise invalid(field, "no such project (or parking leases are off there)")
        raise not_found("project")
    principal.require(permission)
    return project


async def _row_in_project(principal: Principal, table: Any, row_id: int, what: str,
                          permission: str = "parking_leases.view") -> dict[str, Any]:
    """A row of a visible project with the plugin on (else 404), then the role's permission (403)."""
    row = await principal.scope.get(table, row_id, what=what)
    if not principal.sees_project(row["project_id"]) or not await is_enabled(principal.tenant_id, row["project_id"]):
        raise not_found(what)
    principal.require(permission)
    return row


def _unique_violation(exc: Exception) -> bool:
    text = str(exc).lower()
    return "unique" in text or "duplicate" in text


def clean(value: str) -> str:
    return "".join(ch for ch in value if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127)).strip()


def normalise_plates(plates: Iterable[str]) -> list[str]:
    out: list[str] = []
    for i, raw in enumerate(plates):
        plate = re.sub(r"[\s·.\-]", "", raw).upper()
        if not PLATE_RE.match(plate):
            raise invalid(f"plates.{i}", f"{raw!r} is not a vehicle plate (e.g. 粤B12345 or 粤BD12345)")
        if plate not in out:
            out.append(plate)
    return out


# ---------------------------------------------------------------- garages and spaces

async def create_garage(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    await project_for(principal, data["project_id"], field="project_id")
    principal.require("parking_leases.manage")
    if await principal.scope.exists(Garage).where((Garage.project_id == data["project_id"]) & (Garage.code == data["code"])):
        raise conflict(f"A garage with code {data['code']!r} already exists in this project.")
    return await principal.scope.insert(Garage, **data)


async def get_garage(principal: Principal, garage_id: int) -> dict[str, Any]:
    garage = await _row_in_project(principal, Garage, garage_id, "garage")
    counts = await principal.scope.select(Space, Space.status, Count(Space.id, alias="n")).where(
        Space.garage_id == garage_id).group_by(Space.status)
    garage["spaces"] = {r["status"]: r["n"] for r in counts}
    return garage


async def list_garages(principal: Principal, project_id: int) -> list[dict[str, Any]]:
    await project_for(principal, project_id)
    return await principal.scope.select(Garage).where(Garage.project_id == project_id).order_by(Garage.code)


def parse_range(first: str, last: str) -> list[str]:
    """Space numbers from `B3-001` to `B3-120`: same prefix, the digits counted up with their width."""
    a, b = re.match(r"^(.*?)(\d+)$", first.strip()), re.match(r"^(.*?)(\d+)$", last.strip())
    if not a:
        raise invalid("first", "must end with a number, e.g. B3-001")
    if not b:
        raise invalid("last", "must end with a number, e.g. B3-120")
    if a.group(1) != b.group(1):
        raise invalid("last", f"must have the same prefix as first ({a.group(1)!r})")
    start, end, width = int(a.group(2)), int(b.group(2)), len(a.group(2))
    if end < start:
        raise invalid("last", "comes before first")
    if end - start + 1 > MAX_RANGE:
        raise invalid("last", f"a range may hold at most {MAX_RANGE} spaces")
    return [f"{a.group(1)}{n:0{width}d}" for n in range(start, end + 1)]


async def _insert_spaces(principal: Principal, garage: dict[str, Any], rows: list[dict[str, Any]]) -> int:
    numbers = [r["number"] for r in rows]
    taken: list[str] = []
    for i in range(0, len(numbers), 500):
        taken += [r["number"] for r in await principal.scope.select(Space, Space.number).where(
            (Space.garage_id == garage["id"]) & Space.number.is_in(numbers[i:i + 500]))]
    if taken:
        raise conflict(f"{len(taken)} of these spaces already exist in garage {garage['code']}: "
                       f"{', '.join(sorted(taken)[:10])}{' …' if len(taken) > 10 else ''}; nothing was created.",
                       numbers=sorted(taken)[:100])
    try:
        async with transaction():
            await principal.scope.insert_many(Space, [{"project_id": garage["project_id"], "garage_id": garage["id"],
                                                       **r} for r in rows])
    except Exception as exc:  # noqa: BLE001
        if _unique_violation(exc):
            raise conflict("Some of these spaces were created meanwhile; nothing was created.") from exc
        raise
    return len(rows)


async def create_space_range(principal: Principal, garage_id: int, data: dict[str, Any]) -> dict[str, Any]:
    garage = await _row_in_project(principal, Garage, garage_id, "garage")
    principal.require("parking_leases.manage")
    numbers = parse_range(data["first"], data["last"])
    rows = [{"number": n, "zone": data.get("zone", ""), "space_type": data.get("space_type", "standard")} for n in numbers]
    created = await _insert_spaces(principal, garage, rows)
    return {"created": created, "first": numbers[0], "last": numbers[-1]}


SHEET_COLUMNS = {
    "number": ("number", "编号", "车位号", "车位编号"), "zone": ("zone", "level", "区域", "楼层", "区域/楼层"),
    "type": ("type", "space_type", "类型", "车位类型"), "status": ("status", "状态"), "note": ("note", "备注"),
}
_TYPE_WORDS = {**{k: k for k in SPACE_TYPES}, **{v[0]: k for k, v in SPACE_TYPES.items()}, "充电": "ev",
               "标准": "standard", "小型": "small", "无障碍": "accessible", "贵宾": "vip"}
_STATUS_WORDS = {"": "free", "free": "free", "空闲": "free", "out_of_service": "out_of_service", "停用": "out_of_service"}


async def import_spaces(principal: Principal, garage_id: int, content: bytes) -> dict[str, Any]:
    """Create spaces from an Excel sheet (header row, then one space a row). Every bad row is reported with
    its line number, and nothing is imported unless every row is good."""
    garage = await _row_in_project(principal, Garage, garage_id, "garage")
    principal.require("parking_leases.manage")
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001
        raise invalid("file", "is not an Excel workbook (.xlsx)") from exc
    sheet = book.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header = next(lines, None)
    if not header:
        raise invalid("file", "the sheet is empty")
    names = [str(h or "").strip().lower() for h in header]
    cols: dict[str, int] = {}
    for key, aliases in SHEET_COLUMNS.items():
        for i, name in enumerate(names):
            if name in aliases:
                cols[key] = i
    for key in ("number", "type"):
        if key not in cols:
            raise invalid("file", f"line 1: the header has no {key!r} column ({' / '.join(SHEET_COLUMNS[key])})")
    errors: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}

    def cell(values: tuple, key: str) -> str:
        i = cols.get(key)
        v = values[i] if i is not None and i < len(values) else None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return "" if v is None else str(v).strip()

    for line, values in enumerate(lines, start=2):
        if line - 1 > MAX_SHEET_ROWS:
            raise invalid("file", f"a sheet may hold at most {MAX_SHEET_ROWS} spaces")
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        number, zone, kind, status, note = (cell(values, k) for k in ("number", "zone", "type", "status", "note"))

        def bad(field: str, message: str) -> None:
            errors.append({"field": f"line {line}.{field}", "line": line, "message": message})

        if not number:
            bad("number", "is empty")
        elif len(number) > 30:
            bad("number", "is longer than 30 characters")
        elif number in seen:
            bad("number", f"{number} is already on line {seen[number]}")
        else:
            seen[number] = line
        if len(zone) > 30:
            bad("zone", "is longer than 30 characters")
        space_type = _TYPE_WORDS.get(kind.lower() if kind.isascii() else kind)
        if space_type is None:
            bad("type", f"{kind!r} is not a space type ({', '.join(SPACE_TYPES)})")
        space_status = _STATUS_WORDS.get(status.lower() if status.isascii() else status)
        if space_status is None:
            bad("status", f"{status!r} is not free or out_of_service")
        if len(note) > 200:
            bad("note", "is longer than 200 characters")
        rows.append({"number": number, "zone": zone, "space_type": space_type, "status": space_status,
                     "note": clean(note)})
    if errors:
        first = errors[0]
        raise Problem(422, "Invalid input", f"{len(errors)} error(s) in the sheet, first {first['field']}: "
                      f"{first['message']}; nothing was imported.", errors=errors)
    if not rows:
        raise invalid("file", "the sheet has no spaces")
    created = await _insert_spaces(principal, garage, rows)
    return {"created": created}


async def list_spaces(principal: Principal, project_id: int, *, garage_id: int | None = None, status: str | None = None,
                      space_type: str | None = None, after: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    await project_for(principal, project_id)
    query = principal.scope.select(Space, Space.all_columns(), Space.garage_id.code.as_alias("garage_code")).where(
        Space.project_id == project_id)
    for col, value in ((Space.garage_id, garage_id), (Space.status, status), (Space.space_type, space_type)):
        if value is not None:
            query = query.where(col == value)
    if after is not None:
        query = query.where(Space.id > after)
    return await query.order_by(Space.id).limit(limit + 1)


async def get_space(principal: Principal, space_id: int) -> dict[str, Any]:
    space = await _row_in_project(principal, Space, space_id, "space")
    space["lease"] = await principal.scope.select(Lease).where(
        (Lease.space_id == space_id) & (Lease.status == "active")).first()
    return space


async def update_space(principal: Principal, space_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Change a space's zone, type or note, or take it out of service / back into service."""
    space = await _row_in_project(principal, Space, space_id, "space")
    principal.require("parking_leases.manage")
    if "status" in data and data["status"] != space["status"]:
        if space["status"] in ("leased", "reserved"):
            raise conflict(f"The space is {space['status']}; end its lease or offer first.")
    if "space_type" in data and data["space_type"] != space["space_type"] and space["status"] in ("leased", "reserved"):
        raise conflict(f"The space is {space['status']}; its type cannot change now.")
    values = {getattr(Space, k): (clean(v) if isinstance(v, str) and k in ("zone", "note") else v) for k, v in data.items()}
    if values:
        updated = await principal.scope.update(Space, values).where(
            (Space.id == space_id) & (Space.status == space["status"])).returning(Space.id)
        if not updated:
            raise conflict("The space changed meanwhile; try again.")
    return await get_space(principal, space_id)


# ---------------------------------------------------------------- the published plan and fees

async def plan_of(scope: TenantScope, project_id: int) -> dict[str, Any] | None:
    """The project's published plan with its fees, or None."""
    plan = await scope.select(Plan).where(Plan.project_id == project_id).first()
    if plan is None:
        return None
    from core import json_value

    plan["required_documents"] = json_value(plan["required_documents"]) or []
    plan["process_steps"] = json_value(plan["process_steps"]) or []
    fees = await scope.select(Fee).where(Fee.plan_id == plan["id"])
    order = list(SPACE_TYPES)
    terms = list(TERMS)
    plan["fees"] = sorted(fees, key=lambda f: (order.index(f["space_type"]) if f["space_type"] in order else 99,
                                               terms.index(f["term"]) if f["term"] in terms else 9))
    return plan


async def get_plan(principal: Principal, project_id: int) -> dict[str, Any]:
    await project_for(principal, project_id)
    plan = await plan_of(principal.scope, project_id)
    if plan is None:
        raise not_found("parking plan")
    return plan


async def publish_plan(principal: Principal, project_id: int, data: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """Publish (or republish) the plan decided by the owners' general meeting, with its fees."""
    await project_for(principal, project_id)
    principal.require("parking_leases.manage")
    docs = [clean(d) for d in data["required_documents"]]
    for i, d in enumerate(docs):
        if not d:
            raise invalid(f"required_documents.{i}", "is empty")
    if len(set(docs)) != len(docs):
        raise invalid("required_documents", "lists a document twice")
    seen: set[tuple[str, str]] = set()
    for i, fee in enumerate(data["fees"]):
        key = (fee["space_type"], fee["term"])
        if key in seen:
            raise invalid(f"fees.{i}", f"{fee['space_type']} {fee['term']} is listed twice")
        seen.add(key)
    values = {"title": clean(data["title"]), "decision_ref": clean(data["decision_ref"]),
              "decision_date": data["decision_date"], "summary": clean(data.get("summary", "")),
              "required_documents": docs, "process_steps": [clean(s) for s in data.get("process_steps", [])]}
    async with transaction():
        plan = await principal.scope.select(Plan, Plan.id).where(Plan.project_id == project_id).first()
        if plan is None:
            plan = await principal.scope.insert(Plan, project_id=project_id, published_at=now, updated_at=now, **values)
        else:
            await principal.scope.update(Plan, {**{getattr(Plan, k): (json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v)
                                                   for k, v in values.items()},
                                                Plan.updated_at: now, Plan.published_at: now}).where(Plan.id == plan["id"])
            await principal.scope.delete(Fee).where(Fee.plan_id == plan["id"])
        await principal.scope.insert_many(Fee, [{"project_id": project_id, "plan_id": plan["id"], **f}
                                                for f in data["fees"]])
    return await plan_of(principal.scope, project_id)  # type: ignore[return-value]


def fee_for(plan: dict[str, Any], space_type: str, term: str) -> dict[str, Any] | None:
    return next((f for f in plan["fees"] if f["space_type"] == space_type and f["term"] == term), None)


# ---------------------------------------------------------------- applications

async def holder_roles(scope: TenantScope, customer_id: int, project_id: int, on: date) -> list[dict[str, Any]]:
    """How the customer holds units of the project on a day (owner, renter, …)."""
    return await scope.select(ct.Occupancy, ct.Occupancy.role, ct.Occupancy.unit_id).where(
        (ct.Occupancy.customer_id == customer_id) & (ct.Occupancy.unit_id.project_id == project_id)
        & (ct.Occupancy.start_date <= on) & (ct.Occupancy.end_date.is_null() | (ct.Occupancy.end_date >= on)))


def priority_of(roles: list[str], order: list[str]) -> tuple[int, str]:
    """The best (lowest) priority among the customer's roles: its place in the configured order."""
    ranked = sorted((order.index(r) if r in order else len(order), r) for r in roles)
    return ranked[0]


async def create_application(principal: Principal, data: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """A customer of the project applies at the desk; the clock of the seed's 20 minutes starts now."""
    project_id = data["project_id"]
    await project_for(principal, project_id, field="project_id")
    principal.require("parking_leases.handle")
    try:
        await places.get_customer(principal, data["customer_id"])
    except Problem as exc:
        if exc.status == 404:
            raise invalid("customer_id", "no such customer") from exc
        raise
    holds = await holder_roles(principal.scope, data["customer_id"], project_id, local_date(now))
    if not holds:
        raise invalid("customer_id", "is not a customer of this project (holds no unit here)")
    plan = await plan_of(principal.scope, project_id)
    if plan is None:
        raise conflict("The parking plan of this project is not published yet; publish the plan and fees first.")
    if fee_for(plan, data["space_type"], data["term"]) is None:
        raise invalid("term", f"no published fee for {type_label(data['space_type'])} on a {data['term']} term")
    settings = await settings_for(principal.tenant_id, project_id)
    priority, role = priority_of([h["role"] for h in holds], list(settings["priority_order"]))
    unit_id = next(h["unit_id"] for h in holds if h["role"] == role)
    row = await principal.scope.insert(
        Application, project_id=project_id, customer_id=data["customer_id"], unit_id=unit_id, holder_role=role,
        priority=priority, space_type=data["space_type"], term=data["term"],
        plates=normalise_plates(data.get("plates", [])), status="received",
        checklist={d: False for d in plan["required_documents"]}, received_at=now, received_by=principal.user_id,
        note=clean(data.get("note", "")))
    return await get_application(principal, row["id"])


async def get_application(principal: Principal, application_id: int) -> dict[str, Any]:
    from core import json_value

    app = await _row_in_project(principal, Application, application_id, "application")
    app["plates"] = json_value(app["plates"]) or []
    app["checklist"] = json_value(app["checklist"]) or {}
    app["documents"] = await principal.scope.select(
        Document, Document.id, Document.requirement, Document.filename, Document.content_type, Document.size_bytes,
        Document.uploaded_at).where(Document.application_id == application_id).order_by(Document.id)
    app["offer"] = await principal.scope.select(Offer).where(Offer.application_id == application_id).order_by(
        Offer.id, ascending=False).first()
    app["waitlist"] = await principal.scope.select(WaitlistEntry).where(
        WaitlistEntry.application_id == application_id).first()
    if app["waitlist"] and app["waitlist"]["status"] == "waiting":
        app["waitlist"]["position"] = await waitlist_position(principal.scope, app["waitlist"])
    app["lease"] = await principal.scope.select(Lease).where(Lease.application_id == application_id).first()
    app["handling_minutes"] = round(app["handling_seconds"] / 60, 1) if app["handling_seconds"] is not None else None
    return app


async def list_applications(principal: Principal, project_id: int, *, status: str | None = None,
                            after: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    await project_for(principal, project_id)
    query = principal.scope.select(Application, Application.all_columns(),
                                   Application.customer_id.name.as_alias("customer_name")).where(
        Application.project_id == project_id)
    if status:
        query = query.where(Application.status == status)
    if after is not None:
        query = query.where(Application.id < after)
    return await query.order_by(Application.id, ascending=False).limit(limit + 1)


async def add_document(principal: Principal, application_id: int, requirement: str, filename: str, content_type: str,
                       content: bytes, *, now: datetime) -> dict[str, Any]:
    """Attach a file for one required document; its type (PDF, JPEG, PNG) and size are checked."""
    app = await get_application(principal, application_id)
    principal.require("parking_leases.handle")
    if app["status"] not in OPEN_APPLICATION:
        raise conflict(f"The application is {app['status']}; documents can no longer be attached.")
    if requirement not in app["checklist"]:
        raise invalid("requirement", f"is not a required document ({' / '.join(app['checklist'])})")
    limit = int((await settings_for(principal.tenant_id, app["project_id"]))["max_upload_bytes"])
    if not content:
        raise invalid("file", "is empty")
    if len(content) > limit:
        raise invalid("file", f"is {len(content)} bytes; the largest allowed is {limit} bytes")
    magic = UPLOAD_TYPES.get(content_type.split(";")[0].strip().lower())
    if magic is None:
        raise invalid("file", f"type {content_type!r} is not accepted (PDF, JPEG or PNG)")
    if not content.startswith(magic):
        raise invalid("file", f"the content is not a {content_type} file")
    name = clean(filename.replace("/", "_").replace("\\", "_"))[:200] or "document"
    row = await principal.scope.insert(Document, application_id=application_id, requirement=requirement, filename=name,
                                       content_type=content_type.split(";")[0].strip().lower(), size_bytes=len(content),
                                       content=content, uploaded_by=principal.user_id, uploaded_at=now)
    row.pop("content", None)
    return row


async def get_document(principal: Principal, document_id: int) -> dict[str, Any]:
    doc = await principal.scope.get(Document, document_id, what="document")
    await get_application(principal, doc["application_id"])  # the application must be visible
    return doc


async def check_documents(principal: Principal, application_id: int, items: dict[str, bool], *,
                          now: datetime) -> dict[str, Any]:
    """Tick the checklist; an item is ticked only with a file attached. All ticked: documents checked."""
    app = await get_application(principal, application_id)
    principal.require("parking_leases.handle")
    if app["status"] not in ("received", "checked"):
        raise conflict(f"The application is {app['status']}; its checklist is closed.")
    attached = {d["requirement"] for d in app["documents"]}
    checklist = dict(app["checklist"])
    for name, ok in items.items():
        if name not in checklist:
            raise invalid(f"items.{name}", "is not a required document")
        if ok and name not in attached:
            raise invalid(f"items.{name}", "no file is attached for it")
        checklist[name] = bool(ok)
    values: dict[Any, Any] = {Application.checklist: json.dumps(checklist, ensure_ascii=False)}
    complete = all(checklist.values())
    if complete and app["status"] == "received":
        values.update({Application.status: "checked", Application.checked_at: now})
    elif not complete and app["status"] == "checked":
        values.update({Application.status: "received", Application.checked_at: None})
    await principal.scope.update(Application, values).where(Application.id == application_id)
    return await get_application(principal, application_id)


async def space_counts(scope: TenantScope, project_id: int, space_type: str) -> dict[str, int]:
    rows = await scope.select(Space, Space.status, Count(Space.id, alias="n")).where(
        (Space.project_id == project_id) & (Space.space_type == space_type)).group_by(Space.status)
    return {r["status"]: r["n"] for r in rows}


async def waitlist_position(scope: TenantScope, entry: dict[str, Any]) -> int:
    """1 + the applicants waiting ahead: lower priority number first, then who joined first."""
    ahead = await scope.count(WaitlistEntry).where(
        (WaitlistEntry.project_id == entry["project_id"]) & (WaitlistEntry.space_type == entry["space_type"])
        & (WaitlistEntry.status == "waiting") & (WaitlistEntry.id != entry["id"])
        & ((WaitlistEntry.priority < entry["priority"])
           | ((WaitlistEntry.priority == entry["priority"]) & (WaitlistEntry.joined_at < entry["joined_at"]))
           | ((WaitlistEntry.priority == entry["priority"]) & (WaitlistEntry.joined_at == entry["joined_at"])
              & (WaitlistEntry.id < entry["id"]))))
    return ahead + 1


def waitlist_reason(space_type: str, counts: dict[str, int], position: int, offer_days: int, queued: int) -> str:
    """The written explanation given to an applicant who cannot be offered a space now (seed 001)."""
    zh, en = SPACE_TYPES[space_type]
    total = sum(counts.values())
    if total == 0:
        head_zh = f"本项目没有{zh}。"
        head_en = f"This project has no {en} spaces."
    else:
        head_zh = (f"本项目{zh}共{total}个,已全部占用:已租{counts.get('leased', 0)}个,已预留"
                   f"{counts.get('reserved', 0)}个,停用{counts.get('out_of_service', 0)}个"
                   + (f",另有{queued}位客户已在轮候" if queued else "") + "。")
        head_en = (f"All {total} {en} spaces of this project are taken: {counts.get('leased', 0)} leased, "
                   f"{counts.get('reserved', 0)} reserved, {counts.get('out_of_service', 0)} out of service"
                   + (f", and {queued} applicant(s) were already waiting" if queued else "") + ".")
    return (f"{head_zh}您已登记轮候,目前排第{position}位。车位空出时,我们将按轮候顺序通知您,"
            f"请在{offer_days}天内确认,逾期将顺延给下一位。感谢您的理解。\n"
            f"{head_en} You are number {position} on the waiting list. When a space frees up it is offered "
            f"in turn; you will have {offer_days} days to accept it, after which it goes to the next applicant. "
            f"Thank you for your understanding.")


async def allocate(principal: Principal, application_id: int, space_id: int | None, *, now: datetime) -> dict[str, Any]:
    """Offer a free space of the requested type, or put the applicant on the waiting list with the reason."""
    app = await get_application(principal, application_id)
    principal.require("parking_leases.handle")
    if app["status"] != "checked":
        raise conflict(f"The application is {app['status']}; check every required document first.")
    scope = principal.scope
    settings = await settings_for(principal.tenant_id, app["project_id"])
    offer_days = int(settings["offer_days"])
    queued = await scope.count(WaitlistEntry).where(
        (WaitlistEntry.project_id == app["project_id"]) & (WaitlistEntry.space_type == app["space_type"])
        & (WaitlistEntry.status == "waiting"))
    if space_id is not None:
        space = await scope.get_or_none(Space, space_id)
        if space is None or space["project_id"] != app["project_id"]:
            raise invalid("space_id", "no such space in this project")
        if space["space_type"] != app["space_type"]:
            raise invalid("space_id", f"is a {space['space_type']} space; the application is for {app['space_type']}")
        if space["status"] != "free":
            raise conflict(f"Space {space['number']} is {space['status']}.")
        candidates = [space]
    elif queued:
        candidates = []  # those already waiting for this type come first
    else:
        candidates = await scope.select(Space).where(
            (Space.project_id == app["project_id"]) & (Space.space_type == app["space_type"])
            & (Space.status == "free")).order_by(Space.garage_id).order_by(Space.number).limit(5)
    for space in candidates:
        async with transaction():
            taken = await scope.update(Space, {Space.status: "reserved"}).where(
                (Space.id == space["id"]) & (Space.status == "free")).returning(Space.id)
            if not taken:
                continue
            offer = await scope.insert(Offer, project_id=app["project_id"], application_id=application_id,
                                       space_id=space["id"], offered_at=now, deadline_at=now + timedelta(days=offer_days))
            await scope.update(Application, {Application.status: "offered", Application.handled_by: principal.user_id}
                               ).where(Application.id == application_id)
        return {"outcome": "offered", "offer": offer, "space": {**space, "status": "reserved"},
                "application": await get_application(principal, application_id)}
    if space_id is not None:
        raise conflict("The space was taken meanwhile.")
    counts = await space_counts(scope, app["project_id"], app["space_type"])
    async with transaction():
        entry = await scope.insert(WaitlistEntry, project_id=app["project_id"], application_id=application_id,
                                   customer_id=app["customer_id"], space_type=app["space_type"], priority=app["priority"],
                                   joined_at=now, position_at_join=0, reason="")
        position = await waitlist_position(scope, entry)
        reason = waitlist_reason(app["space_type"], counts, position, offer_days, queued)
        await scope.update(WaitlistEntry, {WaitlistEntry.position_at_join: position, WaitlistEntry.reason: reason}
                           ).where(WaitlistEntry.id == entry["id"])
        await scope.update(Application, {Application.status: "waiting", Application.waitlisted_at: now,
                                         Application.handled_by: principal.user_id}).where(Application.id == application_id)
    await notify.send(principal.tenant_id, template="parking_leases.waitlisted",
                      subject=f"车位轮候登记 Waiting list: {type_label(app['space_type'])}, 第{position}位",
                      body=reason, key=f"parking_leases:waitlist:{entry['id']}:joined", customer_id=app["customer_id"])
    entry.update(position_at_join=position, reason=reason, position=position)
    return {"outcome": "waiting", "waitlist": entry, "reason": reason, "position": position,
            "application": await get_application(principal, application_id)}


async def get_waitlist_entry(principal: Principal, waitlist_id: int) -> dict[str, Any]:
    entry = await _row_in_project(principal, WaitlistEntry, waitlist_id, "waiting list entry")
    entry["position"] = await waitlist_position(principal.scope, entry) if entry["status"] == "waiting" else None
    return entry


async def list_waitlist(principal: Principal, project_id: int, space_type: str | None = None) -> list[dict[str, Any]]:
    """Who is waiting, in the order spaces are offered."""
    await project_for(principal, project_id)
    query = principal.scope.select(WaitlistEntry, WaitlistEntry.all_columns(),
                                   WaitlistEntry.customer_id.name.as_alias("customer_name")).where(
        (WaitlistEntry.project_id == project_id) & WaitlistEntry.status.is_in(["waiting", "offered"]))
    if space_type:
        query = query.where(WaitlistEntry.space_type == space_type)
    rows = await query.order_by(WaitlistEntry.space_type).order_by(WaitlistEntry.priority).order_by(
        WaitlistEntry.joined_at).order_by(WaitlistEntry.id).limit(500)
    positions: dict[str, int] = {}
    for r in rows:
        if r["status"] == "waiting":
            positions[r["space_type"]] = positions.get(r["space_type"], 0) + 1
            r["position"] = positions[r["space_type"]]
        else:
            r["position"] = None
    return rows


# ---------------------------------------------------------------- offers

async def get_offer(principal: Principal, offer_id: int) -> dict[str, Any]:
    offer = await _row_in_project(principal, Offer, offer_id, "offer")
    offer["space"] = await principal.scope.get(Space, offer["space_id"])
    return offer


async def accept_offer(principal: Principal, offer_id: int, *, now: datetime) -> dict[str, Any]:
    """The applicant accepts within the deadline; for a waiting-list offer the desk's clock resumes now."""
    offer = await get_offer(principal, offer_id)
    principal.require("parking_leases.handle")
    if offer["status"] != "open":
        raise conflict(f"The offer is {offer['status']}.")
    if now > offer["deadline_at"]:
        raise conflict(f"The offer expired at {offer['deadline_at'].astimezone(TZ):%Y-%m-%d %H:%M}.")
    app = await principal.scope.get(Application, offer["application_id"])
    async with transaction():
        await principal.scope.update(Offer, {Offer.status: "accepted", Offer.decided_at: now}).where(
            (Offer.id == offer_id) & (Offer.status == "open"))
        if app["waitlisted_at"] is not None:
            await principal.scope.update(Application, {
                Application.waited_seconds: int((now - app["waitlisted_at"]).total_seconds()),
                Application.resumed_at: now}).where(Application.id == app["id"])
    return await get_offer(principal, offer_id)


async def decline_offer(principal: Principal, offer_id: int, reason: str, *, now: datetime) -> dict[str, Any]:
    """The applicant declines: the space is free again for the next in line."""
    offer = await get_offer(principal, offer_id)
    principal.require("parking_leases.handle")
    if offer["status"] not in ("open", "accepted"):
        raise conflict(f"The offer is {offer['status']}.")
    await _close_offers(principal.scope, [offer], "declined", now, note=clean(reason))
    return await get_offer(principal, offer_id)


async def _close_offers(scope: TenantScope, offers: list[dict[str, Any]], outcome: str, now: datetime,
                        note: str = "") -> list[dict[str, Any]]:
    """End offers (declined or expired): spaces back to free, their applications closed."""
    if not offers:
        return []
    ids = [o["id"] for o in offers]
    app_status = "declined" if outcome == "declined" else "lapsed"
    async with transaction():
        closed = await scope.update(Offer, {Offer.status: outcome, Offer.decided_at: now}).where(
            Offer.id.is_in(ids) & Offer.status.is_in(["open", "accepted"])).returning(
            Offer.id, Offer.space_id, Offer.application_id, Offer.waitlist_id)
        if not closed:
            return []
        await scope.update(Space, {Space.status: "free"}).where(
            Space.id.is_in([o["space_id"] for o in closed]) & (Space.status == "reserved"))
        values: dict[Any, Any] = {Application.status: app_status, Application.closed_at: now}
        if note:
            values[Application.note] = note
        await scope.update(Application, values).where(Application.id.is_in([o["application_id"] for o in closed]))
        waits = [o["waitlist_id"] for o in closed if o["waitlist_id"]]
        if waits:
            await scope.update(WaitlistEntry, {WaitlistEntry.status: app_status, WaitlistEntry.left_at: now}).where(
                WaitlistEntry.id.is_in(waits))
    return closed


# ---------------------------------------------------------------- leases

async def _sign(scope: TenantScope, *, project_id: int, space_id: int, customer_id: int, term: str, fee_fen: int,
                deposit_fen: int, start: date, plates: list[str], now: datetime, user_id: int | None,
                application_id: int | None = None, space_was: str = "reserved") -> dict[str, Any]:
    """Store a lease, its plates and its first charges; the space becomes leased. Call inside a transaction."""
    taken = await scope.update(Space, {Space.status: "leased"}).where(
        (Space.id == space_id) & (Space.status == space_was)).returning(Space.id)
    if not taken:
        raise conflict("The space is not available for this lease.")
    end = term_end(start, term)
    lease = await scope.insert(Lease, project_id=project_id, space_id=space_id, customer_id=customer_id,
                               application_id=application_id, term=term, fee_fen=fee_fen, deposit_fen=deposit_fen,
                               start_date=start, end_date=end, status="active", signed_at=now, signed_by=user_id)
    await scope.insert_many(Plate, [{"lease_id": lease["id"], "plate": p} for p in plates])
    charges = [{"project_id": project_id, "lease_id": lease["id"], "customer_id": customer_id, "kind": "fee",
                "month": f"{start:%Y-%m}", "period_start": start, "period_end": end, "amount_fen": fee_fen}]
    if deposit_fen:
        charges.append({**charges[0], "kind": "deposit", "amount_fen": deposit_fen})
    await scope.insert_many(Charge, charges)
    return lease


async def _signed(scope: TenantScope, coro):
    try:
        return await coro
    except Problem:
        raise
    except Exception as exc:  # noqa: BLE001
        if _unique_violation(exc):
            raise conflict("This space already has an active lease (one active lease per space).") from exc
        raise


async def sign_lease(principal: Principal, application_id: int, data: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """Sign the lease of the offered space; the application's handling time (received → signed) is recorded."""
    app = await get_application(principal, application_id)
    principal.require("parking_leases.handle")
    offer = app["offer"]
    if app["status"] != "offered" or offer is None or offer["status"] not in ("open", "accepted"):
        raise conflict(f"The application is {app['status']}; a space must be offered before the lease is signed.")
    if offer["status"] == "open" and now > offer["deadline_at"]:
        raise conflict(f"The offer expired at {offer['deadline_at'].astimezone(TZ):%Y-%m-%d %H:%M}.")
    plan = await plan_of(principal.scope, app["project_id"])
    fee = fee_for(plan, app["space_type"], app["term"]) if plan else None
    if fee is None:
        raise conflict("No published fee for this space type and term.")
    plates = normalise_plates(data["plates"]) if data.get("plates") is not None else app["plates"]
    start = data.get("start_date") or local_date(now)
    waited = app["waited_seconds"]
    if app["waitlisted_at"] is not None and offer["status"] == "open":
        waited = int((now - app["waitlisted_at"]).total_seconds())  # accepted at the desk just now
    handling = max(int((now - app["received_at"]).total_seconds()) - waited, 0)
    deposit = data["deposit_fen"] if data.get("deposit_fen") is not None else fee["deposit_fen"]
    scope = principal.scope

    async def work() -> dict[str, Any]:
        async with transaction():
            lease = await _sign(scope, project_id=app["project_id"], space_id=offer["space_id"],
                                customer_id=app["customer_id"], term=app["term"], fee_fen=fee["amount_fen"],
                                deposit_fen=deposit, start=start, plates=plates, now=now, user_id=principal.user_id,
                                application_id=application_id)
            await scope.update(Offer, {Offer.status: "accepted", Offer.decided_at: offer["decided_at"] or now}).where(
                Offer.id == offer["id"])
            await scope.update(Application, {
                Application.status: "signed", Application.signed_at: now, Application.closed_at: now,
                Application.waited_seconds: waited, Application.handling_seconds: handling,
                Application.plates: json.dumps(plates, ensure_ascii=False), Application.handled_by: principal.user_id}).where(Application.id == application_id)
            if app["waitlist"]:
                await scope.update(WaitlistEntry, {WaitlistEntry.status: "accepted", WaitlistEntry.left_at: now}).where(
                    WaitlistEntry.id == app["waitlist"]["id"])
            return lease

    lease = await _signed(scope, work())
    return await get_lease(principal, lease["id"])


async def create_lease(principal: Principal, data: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """Record a lease signed outside an application (e.g. an existing contract taken over)."""
    principal.require("parking_leases.manage")
    space = await principal.scope.get_or_none(Space, data["space_id"])
    if space is None or not principal.sees_project(space["project_id"]) or not await is_enabled(
            principal.tenant_id, space["project_id"]):
        raise invalid("space_id", "no such space")
    try:
        await places.get_customer(principal, data["customer_id"])
    except Problem as exc:
        if exc.status == 404:
            raise invalid("customer_id", "no such customer") from exc
        raise
    fee_fen = data.get("fee_fen")
    deposit = data.get("deposit_fen")
    if fee_fen is None or deposit is None:
        plan = await plan_of(principal.scope, space["project_id"])
        fee = fee_for(plan, space["space_type"], data["term"]) if plan else None
        if fee is None:
            raise invalid("fee_fen", "no published fee for this space type and term; give fee_fen")
        fee_fen = fee["amount_fen"] if fee_fen is None else fee_fen
        deposit = fee["deposit_fen"] if deposit is None else deposit
    if space["status"] != "free":
        raise conflict(f"Space {space['number']} is {space['status']}"
                       + (" (one active lease per space)." if space["status"] == "leased" else "."))
    plates = normalise_plates(data.get("plates", []))

    async def work() -> dict[str, Any]:
        async with transaction():
            return await _sign(principal.scope, project_id=space["project_id"], space_id=space["id"],
                               customer_id=data["customer_id"], term=data["term"], fee_fen=fee_fen, deposit_fen=deposit,
                               start=data["start_date"], plates=plates, now=now, user_id=principal.user_id,
                               space_was="free")

    lease = await _signed(principal.scope, work())
    return await get_lease(principal, lease["id"])


async def get_lease(principal: Principal, lease_id: int) -> dict[str, Any]:
    lease = await _row_in_project(principal, Lease, lease_id, "lease")
    lease["plates"] = [p["plate"] for p in await principal.scope.select(Plate, Plate.plate).where(
        Plate.lease_id == lease_id).order_by(Plate.id)]
    lease["space"] = await principal.scope.get(Space, lease["space_id"])
    lease["charges"] = await principal.scope.select(Charge).where(Charge.lease_id == lease_id).order_by(Charge.id)
    lease["reminders"] = await principal.scope.select(Reminder).where(Reminder.lease_id == lease_id).order_by(Reminder.id)
    return lease


async def list_leases(principal: Principal, project_id: int, *, status: str | None = None,
                      customer_id: int | None = None, ending_before: date | None = None, after: int | None = None,
                      limit: int = 50) -> list[dict[str, Any]]:
    await project_for(principal, project_id)
    query = principal.scope.select(Lease, Lease.all_columns(), Lease.space_id.number.as_alias("space_number"),
                                   Lease.space_id.space_type.as_alias("space_type"),
                                   Lease.customer_id.name.as_alias("customer_name")).where(Lease.project_id == project_id)
    if status:
        query = query.where(Lease.status == status)
    if customer_id is not None:
        query = query.where(Lease.customer_id == customer_id)
    if ending_before is not None:
        query = query.where(Lease.end_date <= ending_before)
    if after is not None:
        query = query.where(Lease.id > after)
    return await query.order_by(Lease.id).limit(limit + 1)


async def renew_lease(principal: Principal, lease_id: int, term: str | None, *, now: datetime) -> dict[str, Any]:
    """Extend an active lease by one term at the published fee; the next term is billed."""
    lease = await get_lease(principal, lease_id)
    principal.require("parking_leases.handle")
    if lease["status"] != "active":
        raise conflict(f"The lease is {lease['status']}; only an active lease can be renewed.")
    term = term or lease["term"]
    plan = await plan_of(principal.scope, lease["project_id"])
    fee = fee_for(plan, lease["space"]["space_type"], term) if plan else None
    amount = fee["amount_fen"] if fee else (lease["fee_fen"] if term == lease["term"] else None)
    if amount is None:
        raise invalid("term", "no published fee for this space type and term")
    start = lease["end_date"] + timedelta(days=1)
    end = term_end(start, term)
    async with transaction():
        updated = await principal.scope.update(Lease, {Lease.end_date: end, Lease.term: term, Lease.fee_fen: amount}).where(
            (Lease.id == lease_id) & (Lease.status == "active") & (Lease.end_date == lease["end_date"])).returning(Lease.id)
        if not updated:
            raise conflict("The lease changed meanwhile; try again.")
        await principal.scope.insert(Charge, project_id=lease["project_id"], lease_id=lease_id,
                                     customer_id=lease["customer_id"], kind="fee", month=f"{start:%Y-%m}",
                                     period_start=start, period_end=end, amount_fen=amount)
    return await get_lease(principal, lease_id)


async def terminate_lease(principal: Principal, lease_id: int, reason: str, end_date: date | None, *,
                          now: datetime) -> dict[str, Any]:
    """End a lease early with a reason; its space is free for the next in line."""
    lease = await get_lease(principal, lease_id)
    principal.require("parking_leases.handle")
    reason = clean(reason)
    if not reason:
        raise invalid("reason", "a termination needs a reason")
    if lease["status"] != "active":
        raise conflict(f"The lease is already {lease['status']}.")
    last = end_date or local_date(now)
    if last < lease["start_date"] - timedelta(days=1):
        raise invalid("end_date", "is before the lease starts")
    async with transaction():
        done = await principal.scope.update(Lease, {Lease.status: "terminated", Lease.ended_at: now,
                                                    Lease.end_date: min(last, lease["end_date"]),
                                                    Lease.termination_reason: reason}).where(
            (Lease.id == lease_id) & (Lease.status == "active")).returning(Lease.id)
        if not done:
            raise conflict("The lease changed meanwhile.")
        await principal.scope.update(Space, {Space.status: "free"}).where(
            (Space.id == lease["space_id"]) & (Space.status == "leased"))
    return await get_lease(principal, lease_id)


async def arrears_charges(tenant_id: int, project_id: int, period: str) -> list[dict[str, Any]]:
    """Lease fees of one project whose term starts in `period` (YYYY-MM), as the arrears plugin bills them:
    one charge per lease term, on the unit through which the customer applied (or holds in the project)."""
    scope = TenantScope(tenant_id)
    rows = await scope.select(
        Charge, Charge.all_columns(), Charge.lease_id.term.as_alias("term"),
        Charge.lease_id.space_id.number.as_alias("space_number"),
        Charge.lease_id.space_id.space_type.as_alias("space_type"),
        Charge.lease_id.application_id.unit_id.as_alias("unit_id")).where(
        (Charge.project_id == project_id) & (Charge.month == period) & (Charge.kind == "fee")).order_by(Charge.id)
    plan = await scope.select(Plan, Plan.decision_ref, Plan.decision_date).where(Plan.project_id == project_id).first()
    basis = f"车位使用方案(业主大会决议 {plan['decision_ref']},{plan['decision_date']})" if plan else "车位租赁合同"
    out = []
    for r in rows:
        unit_id = r["unit_id"]
        if unit_id is None:
            holds = await holder_roles(scope, r["customer_id"], project_id, r["period_start"])
            unit_id = holds[0]["unit_id"] if holds else None
        if unit_id is None:
            continue  # a customer without a unit here is billed by the lease itself, not through a unit
        out.append({"unit_id": unit_id, "customer_id": r["customer_id"], "fee_code": f"{PLUGIN}.{r['term']}",
                    "fee_name": f"车位租赁费({TERM_LABELS.get(r['term'], r['term'])})", "amount_fen": int(r["amount_fen"]),
                    "standard_fen": int(r["amount_fen"]), "basis_text": f"{basis};车位 {r['space_number']} "
                    f"{SPACE_TYPES.get(r['space_type'], (r['space_type'],))[0]},{r['period_start']}至{r['period_end']}",
                    "charge_id": r["id"], "lease_id": r["lease_id"]})
    return out


# ---------------------------------------------------------------- periodic work (as_of, idempotent)

async def enabled_projects(tenant_id: int) -> list[int]:
    """Projects of a tenant that have a garage and parking leases enabled."""
    rows = await TenantScope(tenant_id).select(Garage, Garage.project_id).distinct()
    enabled = []
    for r in rows:
        if await is_enabled(tenant_id, r["project_id"]):
            enabled.append(r["project_id"])
    return enabled


async def tenants_with_plugin() -> list[int]:
    rows = await fetch("SELECT DISTINCT s.tenant_id AS id FROM core_plugin_state s JOIN core_tenant t ON t.id = s.tenant_id "
                       "WHERE s.plugin = {} AND s.enabled = {} AND t.is_active = {} ORDER BY s.tenant_id",
                       PLUGIN, True, True)
    return [r["id"] for r in rows]


async def offer_waiting(tenant_id: int, as_of: datetime) -> dict[str, int]:
    """Expire offers past their deadline, then offer every free space to the next in line of its type
    with a deadline of `offer_days`. Running twice for the same `as_of` writes nothing new."""
    scope = TenantScope(tenant_id)
    projects = await enabled_projects(tenant_id)
    result = {"expired": 0, "offered": 0}
    if not projects:
        return result
    due = await scope.select(Offer).where(
        (Offer.status == "open") & (Offer.deadline_at <= as_of) & Offer.project_id.is_in(projects))
    for o in await _close_offers(scope, due, "expired", as_of):
        result["expired"] += 1
        app = await scope.get(Application, o["application_id"])
        await notify.send(tenant_id, template="parking_leases.offer_lapsed", subject="车位确认已逾期 Offer lapsed",
                          body="您未在期限内确认车位,车位已顺延给下一位轮候客户。The space was not accepted in time and "
                               "has been offered to the next applicant.",
                          key=f"parking_leases:offer:{o['id']}:lapsed", customer_id=app["customer_id"])
    waiting = await scope.select(WaitlistEntry).where(
        (WaitlistEntry.status == "waiting") & WaitlistEntry.project_id.is_in(projects)).order_by(
        WaitlistEntry.priority).order_by(WaitlistEntry.joined_at).order_by(WaitlistEntry.id)
    queues: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for w in waiting:
        queues.setdefault((w["project_id"], w["space_type"]), []).append(w)
    for (project_id, space_type), queue in queues.items():
        free = await scope.select(Space).where(
            (Space.project_id == project_id) & (Space.space_type == space_type) & (Space.status == "free")).order_by(
            Space.garage_id).order_by(Space.number).limit(len(queue))
        if not free:
            continue
        days = int((await settings_for(tenant_id, project_id))["offer_days"])
        deadline = as_of + timedelta(days=days)
        for space, entry in zip(free, queue):
            try:
                async with transaction():
                    taken = await scope.update(Space, {Space.status: "reserved"}).where(
                        (Space.id == space["id"]) & (Space.status == "free")).returning(Space.id)
                    moved = await scope.update(WaitlistEntry, {WaitlistEntry.status: "offered"}).where(
                        (WaitlistEntry.id == entry["id"]) & (WaitlistEntry.status == "waiting")).returning(WaitlistEntry.id)
                    if not taken or not moved:
                        raise _Taken()  # rolls back: another run got there first
                    offer = await scope.insert(Offer, project_id=project_id, application_id=entry["application_id"],
                                               waitlist_id=entry["id"], space_id=space["id"], offered_at=as_of,
                                               deadline_at=deadline)
                    await scope.update(Application, {Application.status: "offered"}).where(
                        Application.id == entry["application_id"])
            except _Taken:
                continue
            result["offered"] += 1
            await notify.send(tenant_id, template="parking_leases.offered",
                              subject=f"车位已为您预留 A space is offered: {space['number']}",
                              body=f"轮候的{type_label(space_type)}已有空位:{space['number']}。请于"
                                   f"{deadline.astimezone(TZ):%Y-%m-%d %H:%M}前到客服中心确认并签约,逾期将顺延给下一位。\n"
                                   f"Space {space['number']} is offered to you; accept it by "
                                   f"{deadline.astimezone(TZ):%Y-%m-%d %H:%M} or it goes to the next applicant.",
                              key=f"parking_leases:offer:{offer['id']}:offered", customer_id=entry["customer_id"])
    return result


class _Taken(Exception):
    """A space or an applicant was taken by a concurrent run."""


async def lease_sweep(tenant_id: int, as_of: datetime) -> dict[str, int]:
    """Expire leases past their end date (their spaces become free) and send renewal reminders 30 and 7
    days before the end. Each reminder is sent once per lease end date; a rerun writes nothing new."""
    scope = TenantScope(tenant_id)
    today = local_date(as_of)
    projects = await enabled_projects(tenant_id)
    result = {"expired": 0, "reminders": 0}
    if not projects:
        return result
    async with transaction():
        expired = await scope.update(Lease, {Lease.status: "expired", Lease.ended_at: as_of}).where(
            (Lease.status == "active") & (Lease.end_date < today) & Lease.project_id.is_in(projects)).returning(
            Lease.id, Lease.space_id)
        if expired:
            await scope.update(Space, {Space.status: "free"}).where(
                Space.id.is_in([r["space_id"] for r in expired]) & (Space.status == "leased"))
    result["expired"] = len(expired)
    by_project = {p: sorted({int(d) for d in (await settings_for(tenant_id, p))["reminder_days"]}) for p in projects}
    horizon = max((max(d) for d in by_project.values() if d), default=0)
    due = await scope.select(Lease, Lease.all_columns(), Lease.space_id.number.as_alias("space_number")).where(
        (Lease.status == "active") & (Lease.end_date >= today) & (Lease.end_date <= today + timedelta(days=horizon))
        & Lease.project_id.is_in(projects))
    rows = []
    for lease in due:
        left = (lease["end_date"] - today).days
        marks = [d for d in by_project[lease["project_id"]] if left <= d]
        if marks:
            rows.append(Reminder(tenant_id=tenant_id, lease_id=lease["id"], end_date=lease["end_date"],
                                 days_before=min(marks), sent_at=as_of))
    if rows:
        new = await Reminder.insert(*rows).on_conflict(action="DO NOTHING").returning(
            Reminder.lease_id, Reminder.days_before, Reminder.end_date)
        leases = {r["id"]: r for r in due}
        for r in new:
            lease = leases[r["lease_id"]]
            result["reminders"] += 1
            await notify.send(
                tenant_id, template="parking_leases.renewal_reminder",
                subject=f"车位租约{r['days_before']}天后到期 Lease ends in {r['days_before']} days: {lease['space_number']}",
                body=f"您租用的车位{lease['space_number']}将于{lease['end_date']:%Y-%m-%d}到期,如需续租请到客服中心办理。\n"
                     f"Your lease of space {lease['space_number']} ends on {lease['end_date']:%Y-%m-%d}; "
                     f"come to the service desk to renew it.",
                key=f"parking_leases:lease:{lease['id']}:renewal:{lease['end_date']}:{r['days_before']}",
                customer_id=lease["customer_id"])
    return result


async def run_for_tenants(job, as_of: datetime) -> dict[str, int]:
    """Run a per-tenant job for every tenant that has the plugin enabled; sums the counts."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    total: dict[str, int] = {}
    for tenant_id in await tenants_with_plugin():
        for k, v in (await job(tenant_id, as_of)).items():
            total[k] = total.get(k, 0) + v
    return total


# ---------------------------------------------------------------- reports

async def occupancy_report(principal: Principal, project_id: int) -> dict[str, Any]:
    """Spaces by type and status; occupancy = leased ÷ (all − out of service)."""
    await project_for(principal, project_id)
    rows = await principal.scope.select(Space, Space.space_type, Space.status, Count(Space.id, alias="n")).where(
        Space.project_id == project_id).group_by(Space.space_type, Space.status)
    types: dict[str, dict[str, Any]] = {}
    for r in rows:
        t = types.setdefault(r["space_type"], {"space_type": r["space_type"], "label": type_label(r["space_type"]),
                                               **{s: 0 for s in SPACE_STATUSES}})
        t[r["status"]] = r["n"]
    out = []
    for key in [k for k in SPACE_TYPES if k in types] + [k for k in types if k not in SPACE_TYPES]:
        t = types[key]
        t["total"] = sum(t[s] for s in SPACE_STATUSES)
        usable = t["total"] - t["out_of_service"]
        t["occupancy"] = round(t["leased"] / usable, 4) if usable else None
        out.append(t)
    total = {s: sum(t[s] for t in out) for s in SPACE_STATUSES}
    usable = sum(total.values()) - total["out_of_service"]
    return {"project_id": project_id, "by_type": out, "total": {**total, "total": sum(total.values()),
                                                                "occupancy": round(total["leased"] / usable, 4) if usable else None}}


async def waitlist_report(principal: Principal, project_id: int, *, as_of: datetime) -> dict[str, Any]:
    """Waiting-list length per type, the longest current wait, and how long those served had waited."""
    await project_for(principal, project_id)
    scope = principal.scope
    now_rows = await scope.select(WaitlistEntry, WaitlistEntry.space_type, Count(WaitlistEntry.id, alias="n"),
                                  Min(WaitlistEntry.joined_at, alias="since")).where(
        (WaitlistEntry.project_id == project_id) & (WaitlistEntry.status == "waiting")).group_by(WaitlistEntry.space_type)
    served = await scope.select(Application, Application.space_type, Count(Application.id, alias="n"),
                                Avg(Application.waited_seconds, alias="avg_s"), Max(Application.waited_seconds, alias="max_s")
                                ).where((Application.project_id == project_id) & (Application.status == "signed")
                                        & Application.waitlisted_at.is_not_null()).group_by(Application.space_type)
    lapsed = await scope.select(WaitlistEntry, WaitlistEntry.space_type, Count(WaitlistEntry.id, alias="n")).where(
        (WaitlistEntry.project_id == project_id) & WaitlistEntry.status.is_in(["lapsed", "declined"])).group_by(
        WaitlistEntry.space_type)
    types: dict[str, dict[str, Any]] = {}

    def t(space_type: str) -> dict[str, Any]:
        return types.setdefault(space_type, {"space_type": space_type, "label": type_label(space_type), "waiting": 0,
                                             "longest_wait_days": None, "served": 0, "served_avg_wait_days": None,
                                             "served_max_wait_days": None, "lapsed_or_declined": 0})

    for r in now_rows:
        since = r["since"]
        if isinstance(since, str):
            since = datetime.fromisoformat(since)
        t(r["space_type"]).update(waiting=r["n"], longest_wait_days=round((as_of - since).total_seconds() / 86400, 1))
    for r in served:
        t(r["space_type"]).update(served=r["n"], served_avg_wait_days=round(float(r["avg_s"] or 0) / 86400, 1),
                                  served_max_wait_days=round(float(r["max_s"] or 0) / 86400, 1))
    for r in lapsed:
        t(r["space_type"])["lapsed_or_declined"] = r["n"]
    rows = [types[k] for k in SPACE_TYPES if k in types]
    return {"project_id": project_id, "as_of": as_of, "waiting": sum(r["waiting"] for r in rows), "by_type": rows}


HANDLING_BUCKETS = ((0, 600, "≤10 min"), (600, 1200, "10–20 min"), (1200, 1800, "20–30 min"), (1800, None, ">30 min"))


async def handling_report(principal: Principal, project_id: int, *, since: datetime | None = None,
                          until: datetime | None = None) -> dict[str, Any]:
    """Handling time of signed applications (received → signed, waiting-list time left out) against the
    seed's target of 20 minutes (001), with its distribution."""
    await project_for(principal, project_id)
    target = int((await settings_for(principal.tenant_id, project_id))["handling_target_minutes"])
    base = (Application.project_id == project_id) & (Application.status == "signed") & \
        Application.handling_seconds.is_not_null()
    if since is not None:
        base = base & (Application.signed_at >= since)
    if until is not None:
        base = base & (Application.signed_at < until)
    scope = principal.scope
    agg = await scope.select(Application, Count(Application.id, alias="n"), Avg(Application.handling_seconds, alias="avg_s"),
                             Max(Application.handling_seconds, alias="max_s")).where(base).first()
    within = await scope.count(Application).where(base & (Application.handling_seconds <= target * 60))
    buckets = []
    for low, high, label in HANDLING_BUCKETS:
        clause = base & (Application.handling_seconds > low) if low else base
        if high is not None:
            clause = clause & (Application.handling_seconds <= high)
        buckets.append({"label": label, "count": await scope.count(Application).where(clause)})
    n = agg["n"] if agg else 0
    return {"project_id": project_id, "target_minutes": target, "seed": "001", "signed": n,
            "within_target": within, "over_target": n - within,
            "within_target_rate": round(within / n, 4) if n else None,
            "average_minutes": round(float(agg["avg_s"]) / 60, 1) if n else None,
            "max_minutes": round(agg["max_s"] / 60, 1) if n else None, "distribution": buckets}


async def income_report(principal: Principal, project_id: int, *, since_month: str | None = None,
                        until_month: str | None = None) -> dict[str, Any]:
    """Lease fees and deposits billed, by month of the period they cover (fen)."""
    await project_for(principal, project_id)
    where = Charge.project_id == project_id
    if since_month:
        where = where & (Charge.month >= since_month)
    if until_month:
        where = where & (Charge.month <= until_month)
    rows = await principal.scope.select(Charge, Charge.month, Charge.kind, Sum(Charge.amount_fen, alias="fen"),
                                        Count(Charge.id, alias="n")).where(where).group_by(
        Charge.month, Charge.kind).order_by(Charge.month)
    months: dict[str, dict[str, Any]] = {}
    for r in rows:
        m = months.setdefault(r["month"], {"month": r["month"], "fee_fen": 0, "deposit_fen": 0, "charges": 0})
        m[f"{r['kind']}_fen"] = int(r["fen"] or 0)
        m["charges"] += r["n"]
    out = list(months.values())
    return {"project_id": project_id, "months": out, "fee_total_fen": sum(m["fee_fen"] for m in out),
            "deposit_total_fen": sum(m["deposit_fen"] for m in out)}


# ---------------------------------------------------------------- the public page

async def public_plan(tenant_slug: str, project_id: int) -> dict[str, Any]:
    """What the public page of a project shows; 404 unless the company has the plugin on there and a plan."""
    tenant = await ct.Tenant.select(ct.Tenant.id, ct.Tenant.name).where(
        (ct.Tenant.slug == tenant_slug) & (ct.Tenant.is_active == True)).first()  # noqa: E712
    if tenant is None:
        raise not_found("page")
    scope = TenantScope(tenant["id"])
    project = await scope.get_or_none(ct.Project, project_id, ct.Project.id, ct.Project.name, ct.Project.address)
    if project is None or not await is_enabled(tenant["id"], project_id):
        raise not_found("page")
    plan = await plan_of(scope, project_id)
    if plan is None:
        raise not_found("page")
    counts = await scope.select(Space, Space.space_type, Count(Space.id, alias="n")).where(
        (Space.project_id == project_id) & (Space.status == "free")).group_by(Space.space_type)
    settings = await settings_for(tenant["id"], project_id)
    return {"tenant": tenant, "project": project, "plan": plan, "free": {r["space_type"]: r["n"] for r in counts},
            "target_minutes": int(settings["handling_target_minutes"]), "offer_days": int(settings["offer_days"])}

