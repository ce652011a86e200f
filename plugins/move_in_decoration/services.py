"""Services of move-in and decoration (seed 001: 入伙办理作业指导书, 装修管理作业指导书, 装修登记管理要求).

Move-in: a batch per project with its document templates and appointment slots; per household the
documents generated from the templates, the notice delivered, and at the desk arrival → desk start →
done measured against the seed's ≤ 15 minutes of waiting and ≤ 30 minutes of processing; documents
verified, keys and access cards handed over, fees shown, the unit inspected (defects become in-warranty
repair tickets) and the customer linked to the unit from the move-in date.

Decoration: an application with its contractor, workers, scope, drawings, period and deposit; review
within 3 working days; problems told to the applicant the same day; a permit with rules and work
hours; patrols with photos and violations tracked to correction; acceptance within 3 working days of
the request; the deposit refunded within 1 day of passing. Each of these deadlines is a kernel ticket
of this plugin's kinds: the SLA engine computes its due time and the kernel's sweep escalates it.

Moving large items out of a residential unit goes through the release gate (`resolve_release_gate`).

Every function takes the acting `Principal` and an explicit `now`/`at`; rows of another tenant, or of
a project the principal does not see, are 404. Kernel tickets are opened and closed outside this
plugin's own transactions (their signals enqueue jobs that must find them committed).
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Avg, Count

from core import (Deadline, Principal, Problem, SlaPolicy, TenantScope, attachments, calendar_for, conflict, get_registry,
                  invalid, json_value, not_found, notify, places, principal_of, schemas, tables, tickets, transaction,
                  utcnow)
from plugins.move_in_decoration.tables import (
    Acceptance, Application, Attachment, Batch, Document, Household, HoursReport, InspectionItem, MovingOut, Notice,
    Patrol, Permit, Refund, Review, ReviewProblem, Slot, Template, Violation, Worker,
)

PLUGIN = "move_in_decoration"
TZ = ZoneInfo("Asia/Shanghai")

# ---------------------------------------------------------------- deadlines (kernel tickets of these kinds)

KIND_REVIEW = f"{PLUGIN}.review"
KIND_NOTICE = f"{PLUGIN}.problem_notice"
KIND_ACCEPTANCE = f"{PLUGIN}.acceptance"
KIND_REFUND = f"{PLUGIN}.deposit_refund"
KIND_VIOLATION = f"{PLUGIN}.violation"
KIND_LABELS: dict[str, tuple[str, str]] = {
    KIND_REVIEW: ("装修申报审核", "Decoration application review"),
    KIND_NOTICE: ("装修问题告知", "Decoration problems told to the applicant"),
    KIND_ACCEPTANCE: ("装修验收", "Decoration acceptance"),
    KIND_REFUND: ("装修押金退还", "Decoration deposit refund"),
    KIND_VIOLATION: ("装修违规整改", "Decoration violation correction"),
}
POLICIES: dict[str, SlaPolicy] = {
    KIND_REVIEW: SlaPolicy(KIND_REVIEW, resolution=Deadline(3, "working_days"), seed="001",
                           note="装修申报应当在三天内审理完毕: an application is reviewed within 3 working days."),
    KIND_NOTICE: SlaPolicy(KIND_NOTICE, resolution=Deadline(0, "working_days"), seed="001",
                           note="申报发现的问题当天与客户沟通和反馈: problems are told to the applicant the same day "
                                "(0 working days = by the end of the day they are found)."),
    KIND_ACCEPTANCE: SlaPolicy(KIND_ACCEPTANCE, resolution=Deadline(3, "working_days"), seed="001",
                               note="客户提出装修验收时,应在三天内组织验收: acceptance within 3 working days of the request."),
    KIND_REFUND: SlaPolicy(KIND_REFUND, resolution=Deadline(1, "days"), seed="001",
                           note="装修验收合格后,应在一天内办理押金退还手续: deposit refunded within 1 day of passing."),
    KIND_VIOLATION: SlaPolicy(KIND_VIOLATION, resolution=Deadline(1, "working_days"), seed="001",
                              note="违规整改: a violation is corrected by the time set on patrol (default 1 working day)."),
}

# ---------------------------------------------------------------- move-in documents

DOC_KINDS: dict[str, tuple[str, str]] = {
    "notice": ("入伙通知书", "Move-in notice"),
    "guide": ("入住指南", "Residents' guide"),
    "decoration_rules": ("装修须知", "Decoration rules"),
    "payment_notice": ("缴费通知单", "Payment notice"),
}
DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    "notice": ("入伙通知书 Move-in notice",
               "尊敬的{customer}:\n您购买的{project}{unit}已具备交付条件,请于{appointment}携带有效证件到客服中心办理入伙手续。"
               "随本通知附《入住指南》《装修须知》《缴费通知单》。\n入伙期间:{starts_on} 至 {ends_on}({batch})。\n"
               "Dear {customer}, your unit {unit} of {project} is ready. Please come to the service centre at "
               "{appointment} with your ID. The residents' guide, the decoration rules and the payment notice are attached."),
    "guide": ("入住指南 Residents' guide",
              "办理流程 How it works: 签到 check in → 资料核验 documents verified → 缴费 fees → 钥匙及门禁卡交接 keys and "
              "access cards → 验房 unit inspection → 完成 done。\n所需资料 Please bring: {documents}\n"
              "等候不超过15分钟,办理不超过30分钟 You wait at most 15 minutes and are served in at most 30 minutes."),
    "decoration_rules": ("装修须知 Decoration rules",
                         "装修前须申报并取得装修许可证 Apply for a decoration permit before any works.\n"
                         "禁止施工时段 Quiet hours: {quiet_hours}\n{rules}"),
    "payment_notice": ("缴费通知单 Payment notice",
                       "{customer}({unit}):\n{fees}\n合计 Total: {fees_total} 元"),
}
HOUSEHOLD_STATUSES = {"invited": "待办理 Invited", "arrived": "已签到 Arrived", "at_desk": "办理中 At the desk",
                      "done": "已完成 Done"}
APPLICATION_STATUSES = {
    "submitted": "审核中 In review", "needs_changes": "待整改资料 Problems told", "approved": "已发证施工中 Permit issued",
    "acceptance_requested": "待验收 Acceptance requested", "rectifying": "验收整改中 Rectifying",
    "passed": "验收合格待退押金 Passed, deposit due", "refunded": "押金已退 Deposit refunded",
    "completed": "已完成 Completed", "rejected": "未批准 Rejected",
}
DWG = "image/vnd.dwg"
DWG_MAGIC = re.compile(rb"^AC10[0-3][0-9]")  # AutoCAD drawings: AC1015 (2000) … AC1032 (2018)
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


# ---------------------------------------------------------------- helpers

def local_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(TZ).date()


def local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(TZ).strftime(fmt) if isinstance(moment, datetime) else ""


def aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise invalid(field, "needs a time zone (e.g. 2026-09-30T09:00:00+08:00)")
    return value.astimezone(timezone.utc)


def clean(value: str | None, limit: int = 5000) -> str:
    return schemas.clean_text(value or "").strip()[:limit]


def yuan(fen: int | None) -> str:
    return f"{(fen or 0) / 100:,.2f}"


def minutes(seconds: int | float | None) -> float | None:
    return None if seconds is None else round(float(seconds) / 60, 1)


MAX_ID = 2**31 - 1  # ids are 32-bit serials: a larger number names no row (and would upset PostgreSQL)


def real_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


async def fetch_row(scope: TenantScope, table: Any, row_id: Any, what: str) -> dict[str, Any]:
    """The tenant's row with this id, or a 404 problem (an id out of range included)."""
    if not real_id(row_id):
        raise not_found(what)
    return await scope.get(table, row_id, what=what)


async def is_enabled(tenant_id: int, project_id: int) -> bool:
    return PLUGIN in await get_registry().enabled(tenant_id, project_id)


async def settings_for(tenant_id: int, project_id: int | None) -> dict[str, Any]:
    return await get_registry().settings(tenant_id, PLUGIN, project_id)


async def project_for(principal: Principal, project_id: int, *, field: str | None = None,
                      permission: str = f"{PLUGIN}.view") -> dict[str, Any]:
    """A project this staff member sees with the plugin on (else 404, or 422 on a body field), then the permission."""
    project = await principal.scope.get_or_none(tables.Project, project_id) if real_id(project_id) else None
    if project is None or not principal.sees_project(project_id) or not await is_enabled(principal.tenant_id, project_id):
        if field:
            raise invalid(field, "no such project (or move-in and decoration is off there)")
        raise not_found("project")
    principal.require(permission)
    return project


async def _in_project(principal: Principal, table: Any, row_id: int, what: str,
                      permission: str = f"{PLUGIN}.view") -> dict[str, Any]:
    """A row of a visible project (else 404), then the role's permission (403)."""
    row = await fetch_row(principal.scope, table, row_id, what)
    if not principal.sees_project(row["project_id"]) or not await is_enabled(principal.tenant_id, row["project_id"]):
        raise not_found(what)
    principal.require(permission)
    return row


async def _unit_in_body(principal: Principal, unit_id: int, field: str = "unit_id") -> dict[str, Any]:
    unit = await principal.scope.get_or_none(tables.Unit, unit_id) if real_id(unit_id) else None
    if unit is None or not principal.sees_unit(unit) or not await is_enabled(principal.tenant_id, unit["project_id"]):
        raise invalid(field, "no such unit")
    return unit


async def unit_label(scope: TenantScope, unit_id: int) -> str:
    U = tables.Unit
    u = await scope.select(U, U.room, U.entrance, U.building_id.code.as_alias("building")).where(U.id == unit_id).first()
    if u is None:
        return ""
    return f"{u['building']}栋" + (f"{u['entrance']}单元" if u["entrance"] else "") + f"{u['room']}"


async def _customer_in_body(scope: TenantScope, customer_id: int, field: str = "customer_id") -> dict[str, Any]:
    customer = await scope.get_or_none(tables.Customer, customer_id, tables.Customer.id,
                                       tables.Customer.name) if real_id(customer_id) else None
    if customer is None:
        raise invalid(field, "no such customer")
    return customer


async def _holders(scope: TenantScope, unit_id: int, on: date) -> list[int]:
    O = tables.Occupancy
    rows = await scope.select(O, O.customer_id).where(
        (O.unit_id == unit_id) & O.role.is_in(["owner", "renter", "company"]) & (O.start_date <= on)
        & (O.end_date.is_null() | (O.end_date >= on)))
    return list(dict.fromkeys(r["customer_id"] for r in rows))


def check_upload(kind: str, filename: str, content: bytes, limit: int) -> tuple[str, str, bytes | None]:
    """(stored name, content type, thumbnail) of an acceptable upload, else a 422 on `file`. The kernel's
    attachment check reads the type from the bytes (JPEG, PNG, WebP, PDF; images must decode); a drawing
    may also be an AutoCAD DWG, which it does not know. A patrol photo must be an image."""
    if not content:
        raise invalid("file", "is empty")
    if len(content) > limit:
        raise invalid("file", f"is {len(content)} bytes; at most {limit} bytes are accepted")
    if kind == "drawing" and DWG_MAGIC.match(content):
        stem = attachments.clean_filename(filename, "application/pdf").rsplit(".", 1)[0]
        stem = stem[:-4] if stem.lower().endswith(".dwg") else stem
        return f"{stem[:195] or 'drawing'}.dwg", DWG, None
    content_type, thumb = attachments.check(content, max_bytes=limit)
    if kind == "patrol_photo" and not content_type.startswith("image/"):
        raise invalid("file", "a patrol photo is a JPEG, PNG or WebP image")
    return attachments.clean_filename(filename, content_type), content_type, thumb


# ---------------------------------------------------------------- deadlines on kernel tickets

async def _acting(principal: Principal, project_id: int, ticket: dict[str, Any] | None = None) -> Principal:
    """Who opens or moves a deadline's ticket: the acting staff member when their role may and they see it;
    else the ticket's first receiver, else a CS supervisor or project manager of the project (so finance,
    who may not move tickets, can still close its refund task)."""
    if ticket is None:
        if principal.can("ticket.create") and principal.sees_project(project_id):
            return principal
    elif principal.can("ticket.transition") and principal.sees_ticket(ticket):
        return principal
    candidates = [ticket["first_receiver_id"]] if ticket else []
    candidates += await notify.staff_with_role(principal.tenant_id, ("supervisor", "project_manager", "company_cs"),
                                               project_id)
    for user_id in candidates:
        try:
            acting = await principal_of(principal.tenant_id, user_id)
        except Problem:
            continue
        if acting.can("ticket.create" if ticket is None else "ticket.transition") and acting.sees_project(project_id) \
                and (ticket is None or acting.sees_ticket(ticket)):
            return acting
    raise conflict("No staff member of this project may move the deadline's ticket; add a CS supervisor first.")


async def open_clock(principal: Principal, kind: str, *, project_id: int, unit_id: int | None, customer_id: int | None,
                     title: str, description: str = "", now: datetime, assignee_id: int | None = None,
                     promised_at: datetime | None = None, channel: str = "walk_in") -> dict[str, Any]:
    """A kernel ticket carrying one deadline: the SLA engine sets its due time (`resolution_due_at`) from this
    plugin's policy (or the promised time), and the kernel's sweep escalates it when it is near or past due."""
    acting = await _acting(principal, project_id)
    data = {"project_id": project_id, "kind": kind, "channel": channel, "title": title[:200],
            "description": description, "unit_id": unit_id, "customer_id": customer_id, "promised_at": promised_at,
            "data": {"assignee_id": assignee_id} if assignee_id else {}}
    return await tickets.create_ticket(acting, data, now=now)


async def close_clock(principal: Principal, ticket_id: int | None, reason: str, *, now: datetime) -> None:
    """The step is done: its ticket is resolved and closed (stopping its clock), with who did it in the reason."""
    if ticket_id is None:
        return
    ticket = await principal.scope.get_or_none(tables.Ticket, ticket_id)
    if ticket is None or ticket["status"] in ("closed", "cancelled"):
        return
    acting = await _acting(principal, ticket["project_id"], ticket)
    text = reason if acting.user_id == principal.user_id else f"{reason} ({principal.name or principal.role})"
    if ticket["status"] not in ("resolved", "visited"):
        if ticket["status"] == "on_hold":
            await tickets.transition(acting, ticket_id, ticket["hold_from"] or "received", now=now)
        await tickets.transition(acting, ticket_id, "resolved", reason=text, now=now)
    await tickets.transition(acting, ticket_id, "closed", reason=text, now=now)


async def due_of(scope: TenantScope, ticket_id: int) -> datetime | None:
    row = await scope.get_or_none(tables.Ticket, ticket_id, tables.Ticket.resolution_due_at)
    return row["resolution_due_at"] if row else None


def policy_for(ticket: dict[str, Any]) -> SlaPolicy | None:
    return POLICIES.get(ticket.get("kind", ""))


def responsible_for(ticket: dict[str, Any]) -> int | None:
    """The staff member a deadline's ticket was opened for (finance for a refund), else the kernel decides."""
    if ticket.get("kind") not in POLICIES:
        return None
    value = (json_value(ticket.get("data")) or {}).get("assignee_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ---------------------------------------------------------------- move-in: batches, templates, slots

def render(body: str, values: dict[str, str]) -> str:
    """Fill `{name}` placeholders (unknown names are left as they are; nothing else is interpreted)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def _hhmm(value: Any, field: str) -> int:
    if not isinstance(value, str) or not HHMM.match(value):
        raise invalid(field, "a time HH:MM")
    return int(value[:2]) * 60 + int(value[3:])


def quiet_ranges(quiet: Any) -> list[tuple[int, int]]:
    """Quiet hours as minute ranges [a, b) of a day; a range crossing midnight is split in two."""
    out: list[tuple[int, int]] = []
    for i, pair in enumerate(quiet or []):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise invalid(f"quiet_hours.{i}", "a pair [from, to] of HH:MM times")
        a, b = _hhmm(pair[0], f"quiet_hours.{i}"), _hhmm(pair[1], f"quiet_hours.{i}")
        if a == b:
            continue
        out += [(a, b)] if a < b else [(a, 1440), (0, b)]
    return sorted(out)


def work_hours(quiet: Any) -> list[list[str]]:
    """The day's hours outside the quiet hours: when the works may go on."""
    free, cursor = [], 0
    for a, b in quiet_ranges(quiet):
        if a > cursor:
            free.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < 1440:
        free.append((cursor, 1440))
    return [[f"{a // 60:02d}:{a % 60:02d}", "24:00" if b == 1440 else f"{b // 60:02d}:{b % 60:02d}"] for a, b in free]


def hours_text(pairs: Any) -> str:
    return "、".join(f"{a}–{b}" for a, b in pairs or []) or "—"


async def create_batch(principal: Principal, data: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """A move-in batch of a project with the four document templates, ready to edit."""
    project = await project_for(principal, data["project_id"], field="project_id", permission=f"{PLUGIN}.manage_batches")
    if data["ends_on"] < data["starts_on"]:
        raise invalid("ends_on", "is before starts_on")
    scope = principal.scope
    if await scope.exists(Batch).where((Batch.project_id == project["id"]) & (Batch.code == data["code"])):
        raise conflict(f"A batch with code {data['code']!r} already exists in this project.")
    async with transaction():
        batch = await scope.insert(Batch, project_id=project["id"], code=data["code"], name=clean(data["name"], 200),
                                   starts_on=data["starts_on"], ends_on=data["ends_on"], created_by=principal.user_id,
                                   created_at=now)
        await scope.insert_many(Template, [{"batch_id": batch["id"], "kind": kind, "title": title, "body": body,
                                            "updated_at": now} for kind, (title, body) in DEFAULT_TEMPLATES.items()])
    return batch


async def get_batch(principal: Principal, batch_id: int, permission: str = f"{PLUGIN}.view") -> dict[str, Any]:
    return await _in_project(principal, Batch, batch_id, "batch", permission)


async def list_batches(principal: Principal, project_id: int) -> list[dict[str, Any]]:
    await project_for(principal, project_id)
    H = Household
    batches = await principal.scope.select(Batch).where(Batch.project_id == project_id).order_by(Batch.id, ascending=False)
    counts = await principal.scope.select(H, H.batch_id, H.status, Count(H.id, alias="n")).where(
        H.project_id == project_id).group_by(H.batch_id, H.status)
    for b in batches:
        b["households"] = {c["status"]: c["n"] for c in counts if c["batch_id"] == b["id"]}
        b["total"] = sum(b["households"].values())
    return batches


async def batch_view(principal: Principal, batch_id: int) -> dict[str, Any]:
    """A batch with its templates, slots (booked / capacity), households and the 15/30-minute report."""
    batch = await get_batch(principal, batch_id)
    scope, H = principal.scope, Household
    batch["templates"] = await scope.select(Template).where(Template.batch_id == batch_id).order_by(Template.id)
    slots = await scope.select(Slot).where(Slot.batch_id == batch_id).order_by(Slot.starts_at)
    booked = await scope.select(H, H.slot_id, Count(H.id, alias="n")).where(
        (H.batch_id == batch_id) & H.slot_id.is_not_null()).group_by(H.slot_id)
    used = {b["slot_id"]: b["n"] for b in booked}
    for s in slots:
        s["booked"] = used.get(s["id"], 0)
    batch["slots"] = slots
    rows = await scope.select(H, H.all_columns(exclude=[H.fees, H.documents_checked]),
                              H.customer_id.name.as_alias("customer_name"), H.unit_id.room.as_alias("room"),
                              H.unit_id.building_id.code.as_alias("building"),
                              H.slot_id.starts_at.as_alias("slot_starts_at")).where(
        H.batch_id == batch_id).order_by(H.id).limit(2000)
    for r in rows:
        r["waiting_minutes"], r["processing_minutes"] = minutes(r["waiting_seconds"]), minutes(r["processing_seconds"])
    batch["households"] = rows
    batch["report"] = await batch_report(principal, batch_id)
    return batch


async def update_template(principal: Principal, template_id: int, data: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    row = await fetch_row(principal.scope, Template, template_id, "template")
    await get_batch(principal, row["batch_id"], f"{PLUGIN}.manage_batches")
    changes = {k: clean(v, 200 if k == "title" else 20000) for k, v in data.items() if k in ("title", "body")}
    if "title" in changes and not changes["title"]:
        raise invalid("title", "is required")
    changes["updated_at"] = now
    await principal.scope.update(Template, {getattr(Template, k): v for k, v in changes.items()}).where(
        Template.id == template_id)
    return {**row, **changes}


async def add_slot(principal: Principal, batch_id: int, data: dict[str, Any]) -> dict[str, Any]:
    batch = await get_batch(principal, batch_id, f"{PLUGIN}.manage_batches")
    starts, ends = aware(data["starts_at"], "starts_at"), aware(data["ends_at"], "ends_at")
    if ends <= starts:
        raise invalid("ends_at", "must be after starts_at")
    if not batch["starts_on"] <= local_date(starts) <= batch["ends_on"]:
        raise invalid("starts_at", f"is outside the batch's days ({batch['starts_on']} – {batch['ends_on']})")
    capacity = int(data.get("capacity") or 1)
    if not 1 <= capacity <= 500:
        raise invalid("capacity", "from 1 to 500 households")
    return await principal.scope.insert(Slot, batch_id=batch_id, starts_at=starts, ends_at=ends, capacity=capacity)


async def _slot_free(scope: TenantScope, batch_id: int, slot_id: int, field: str = "slot_id",
                     household_id: int | None = None) -> dict[str, Any]:
    slot = await scope.get_or_none(Slot, slot_id) if real_id(slot_id) else None
    if slot is None or slot["batch_id"] != batch_id:
        raise invalid(field, "no such slot in this batch")
    query = scope.count(Household).where(Household.slot_id == slot_id)
    if household_id is not None:
        query = query.where(Household.id != household_id)
    if await query >= slot["capacity"]:
        raise conflict(f"The slot of {local(slot['starts_at'])} is full ({slot['capacity']} households).")
    return slot


# ---------------------------------------------------------------- move-in: households and documents

async def _values(scope: TenantScope, household: dict[str, Any], batch: dict[str, Any], settings: dict[str, Any]) -> dict[str, str]:
    customer = await scope.get(tables.Customer, household["customer_id"], tables.Customer.name)
    project = await scope.get(tables.Project, household["project_id"], tables.Project.name)
    slot = await scope.get_or_none(Slot, household["slot_id"]) if household.get("slot_id") else None
    fees = json_value(household.get("fees")) or []
    return {
        "customer": customer["name"], "project": project["name"], "unit": await unit_label(scope, household["unit_id"]),
        "batch": batch["name"], "starts_on": str(batch["starts_on"]), "ends_on": str(batch["ends_on"]),
        "appointment": f"{local(slot['starts_at'])}–{local(slot['ends_at'], '%H:%M')}" if slot else "预约时间另行通知 (to be booked)",
        "fees": "\n".join(f"{f['item']}: {yuan(f['amount_fen'])} 元" for f in fees) or "—",
        "fees_total": yuan(household.get("fees_total_fen")),
        "documents": "、".join(settings.get("move_in_documents") or []),
        "quiet_hours": hours_text(settings.get("quiet_hours")),
        "rules": "\n".join(f"{i + 1}. {r}" for i, r in enumerate(settings.get("permit_rules") or [])),
    }


async def generate_documents(scope: TenantScope, household: dict[str, Any], *, now: datetime) -> list[dict[str, Any]]:
    """(Re)generate the household's documents from its batch's templates: the notice with its attachments."""
    batch = await scope.get(Batch, household["batch_id"])
    settings = await settings_for(scope.tenant_id, household["project_id"])
    values = await _values(scope, household, batch, settings)
    templates = await scope.select(Template).where(Template.batch_id == batch["id"]).order_by(Template.id)
    async with transaction():
        await scope.delete(Document).where(Document.household_id == household["id"])
        await scope.insert_many(Document, [{"household_id": household["id"], "kind": t["kind"],
                                            "title": render(t["title"], values), "body": render(t["body"], values),
                                            "generated_at": now} for t in templates])
    return await scope.select(Document).where(Document.household_id == household["id"]).order_by(Document.id)


async def add_household(principal: Principal, batch_id: int, data: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """A unit handed over in the batch, the customer taking it, its fees and (optionally) its slot."""
    batch = await get_batch(principal, batch_id, f"{PLUGIN}.manage_batches")
    scope = principal.scope
    unit = await _unit_in_body(principal, data["unit_id"])
    if unit["project_id"] != batch["project_id"]:
        raise invalid("unit_id", "is not a unit of the batch's project")
    await _customer_in_body(scope, data["customer_id"])
    if await scope.exists(Household).where((Household.batch_id == batch_id) & (Household.unit_id == unit["id"])):
        raise conflict("This unit is already in the batch.")
    fees = [{"item": clean(f["item"], 100), "amount_fen": int(f["amount_fen"])} for f in data.get("fees") or []]
    for i, f in enumerate(fees):
        if not f["item"]:
            raise invalid(f"fees.{i}.item", "is required")
    if data.get("slot_id") is not None:
        await _slot_free(scope, batch_id, data["slot_id"])
    async with transaction():
        household = await scope.insert(Household, batch_id=batch_id, project_id=batch["project_id"], unit_id=unit["id"],
                                       customer_id=data["customer_id"], slot_id=data.get("slot_id"), fees=fees,
                                       fees_total_fen=sum(f["amount_fen"] for f in fees), created_at=now)
        await generate_documents(scope, household, now=now)
    return await household_view(principal, household["id"])


async def get_household(principal: Principal, household_id: int, permission: str = f"{PLUGIN}.view") -> dict[str, Any]:
    return await _in_project(principal, Household, household_id, "household", permission)


async def household_view(principal: Principal, household_id: int) -> dict[str, Any]:
    """The household at the desk: customer, unit, fees, documents, checklist, handover, inspection and times."""
    h = await get_household(principal, household_id)
    scope = principal.scope
    settings = await settings_for(principal.tenant_id, h["project_id"])
    h["fees"] = json_value(h["fees"]) or []
    checked = json_value(h["documents_checked"]) or {}
    h["documents_checked"] = {name: bool(checked.get(name)) for name in settings.get("move_in_documents") or []}
    h["customer"] = places.present_customer(principal, await scope.get(tables.Customer, h["customer_id"]))
    h["unit"] = await unit_label(scope, h["unit_id"])
    h["batch"] = await scope.get(Batch, h["batch_id"])
    h["slot"] = await scope.get_or_none(Slot, h["slot_id"]) if h["slot_id"] else None
    h["documents"] = await scope.select(Document, Document.id, Document.kind, Document.title, Document.generated_at).where(
        Document.household_id == household_id).order_by(Document.id)
    h["inspection"] = await scope.select(InspectionItem).where(InspectionItem.household_id == household_id).order_by(
        InspectionItem.id)
    h["waiting_minutes"], h["processing_minutes"] = minutes(h["waiting_seconds"]), minutes(h["processing_seconds"])
    wait_t, proc_t = int(settings["wait_target_minutes"]), int(settings["processing_target_minutes"])
    h["targets"] = {"waiting_minutes": wait_t, "processing_minutes": proc_t}
    h["waiting_within_target"] = None if h["waiting_seconds"] is None else h["waiting_seconds"] <= wait_t * 60
    h["processing_within_target"] = None if h["processing_seconds"] is None else h["processing_seconds"] <= proc_t * 60
    return h


async def get_document(principal: Principal, document_id: int) -> dict[str, Any]:
    doc = await fetch_row(principal.scope, Document, document_id, "document")
    household = await get_household(principal, doc["household_id"])
    doc["unit"] = await unit_label(principal.scope, household["unit_id"])
    doc["project_id"] = household["project_id"]
    return doc


async def book_slot(principal: Principal, household_id: int, slot_id: int, *, now: datetime) -> dict[str, Any]:
    h = await get_household(principal, household_id, f"{PLUGIN}.desk")
    if h["status"] != "invited":
        raise conflict(f"The household is {h['status']}; the appointment can no longer change.")
    await _slot_free(principal.scope, h["batch_id"], slot_id, household_id=household_id)
    await principal.scope.update(Household, {Household.slot_id: slot_id}).where(Household.id == household_id)
    await generate_documents(principal.scope, {**h, "slot_id": slot_id}, now=now)
    return await household_view(principal, household_id)


async def deliver_notice(principal: Principal, household_id: int, *, now: datetime) -> dict[str, Any]:
    """Send the move-in notice with its attachments (guide, decoration rules, payment notice) to the customer."""
    h = await get_household(principal, household_id, f"{PLUGIN}.desk")
    scope = principal.scope
    docs = await scope.select(Document).where(Document.household_id == household_id).order_by(Document.id)
    notice = next((d for d in docs if d["kind"] == "notice"), None)
    if notice is None:
        raise conflict("The household has no move-in notice; regenerate its documents first.")
    channel = (await settings_for(principal.tenant_id, h["project_id"]))["notice_channel"]
    if channel not in notify.channels():
        raise conflict(f"The setting notice_channel names no channel ({channel!r}); known: "
                       f"{', '.join(sorted(notify.channels()))}.")
    attached = "\n".join(f"附件 Attached: {d['title']}" for d in docs if d["kind"] != "notice")
    await notify.send(principal.tenant_id, template=f"{PLUGIN}.move_in_notice", subject=notice["title"],
                      body=f"{notice['body']}\n\n{attached}", key=f"{PLUGIN}:household:{household_id}:notice:{now.isoformat()}",
                      customer_id=h["customer_id"], channel=channel)
    await scope.update(Household, {Household.delivered_at: now, Household.delivered_via: channel}).where(
        Household.id == household_id)
    return await household_view(principal, household_id)


async def arrive(principal: Principal, household_id: int, *, at: datetime) -> dict[str, Any]:
    """The household checks in at the desk: the waiting clock starts."""
    h = await get_household(principal, household_id, f"{PLUGIN}.desk")
    if h["status"] != "invited":
        raise conflict(f"The household has already checked in ({h['status']}).")
    at = aware(at, "at")
    await principal.scope.update(Household, {Household.status: "arrived", Household.arrived_at: at,
                                             Household.local_day: local_date(at)}).where(
        (Household.id == household_id) & (Household.status == "invited"))
    return await household_view(principal, household_id)


async def start_desk(principal: Principal, household_id: int, *, at: datetime) -> dict[str, Any]:
    """A desk starts serving the household: waiting = arrival → now; the processing clock starts."""
    h = await get_household(principal, household_id, f"{PLUGIN}.desk")
    if h["status"] != "arrived":
        raise conflict(f"The household is {h['status']}; only an arrived household can be served.")
    at = aware(at, "at")
    if at < h["arrived_at"]:
        raise invalid("at", "is before the household arrived")
    await principal.scope.update(Household, {
        Household.status: "at_desk", Household.desk_started_at: at, Household.handled_by: principal.user_id,
        Household.waiting_seconds: int((at - h["arrived_at"]).total_seconds())}).where(
        (Household.id == household_id) & (Household.status == "arrived"))
    return await household_view(principal, household_id)


def _at_desk(h: dict[str, Any]) -> None:
    if h["status"] != "at_desk":
        raise conflict(f"The household is {h['status']}; this is done while it is served at the desk.")


async def check_documents(principal: Principal, household_id: int, checked: dict[str, bool], *,
                          now: datetime) -> dict[str, Any]:
    """Tick the documents verified; all ticked = verified."""
    h = await get_household(principal, household_id, f"{PLUGIN}.desk")
    _at_desk(h)
    names = list((await settings_for(principal.tenant_id, h["project_id"]))["move_in_documents"])
    unknown = [n for n in checked if n not in names]
    if unknown:
        raise invalid("documents", f"not a document of the checklist: {unknown[0]} ({' / '.join(names)})")
    current = {**(json_value(h["documents_checked"]) or {}), **{k: bool(v) for k, v in checked.items()}}
    verified = now if all(current.get(n) for n in names) else None
    await principal.scope.update(Household, {Household.documents_checked: current, Household.verified_at: verified}).where(
        Household.id == household_id)
    return await household_view(principal, household_id)


async def hand_over(principal: Principal, household_id: int, keys: int, cards: int, *, now: datetime) -> dict[str, Any]:
    """Record the keys and access cards handed over, with their counts."""
    h = await get_household(principal, household_id, f"{PLUGIN}.desk")
    _at_desk(h)
    if not 1 <= keys <= 99:
        raise invalid("keys", "at least one key is handed over (at most 99)")
    if not 0 <= cards <= 99:
        raise invalid("access_cards", "from 0 to 99 access cards")
    await principal.scope.update(Household, {Household.keys_handed: keys, Household.cards_handed: cards,
                                             Household.handed_over_at: now}).where(Household.id == household_id)
    return await household_view(principal, household_id)


async def record_inspection(principal: Principal, household_id: int, items: list[dict[str, Any]], *,
                            now: datetime) -> dict[str, Any]:
    """The unit's inspection at handover; each defect becomes a repair ticket of the unit, in warranty."""
    h = await get_household(principal, household_id, f"{PLUGIN}.desk")
    _at_desk(h)
    if not items:
        raise invalid("items", "record at least one inspected point")
    scope = principal.scope
    label = await unit_label(scope, h["unit_id"])
    points = []
    for i, item in enumerate(items):
        location, description = clean(item["location"], 100), clean(item.get("description", ""), 2000)
        if not location:
            raise invalid(f"items.{i}.location", "is required")
        points.append((location, description, bool(item.get("defect"))))
    rows = []
    for location, description, defect in points:
        ticket_id = None
        if defect:
            acting = await _acting(principal, h["project_id"])
            ticket = await tickets.create_ticket(acting, {
                "project_id": h["project_id"], "kind": "repair", "channel": "walk_in",
                "title": f"入伙验房 {label} {location}: {description or '缺陷 defect'}"[:200],
                "description": description, "unit_id": h["unit_id"], "customer_id": h["customer_id"],
                "repair_area": "private", "warranty": "in"}, now=now)
            ticket_id = ticket["id"]
        rows.append({"household_id": household_id, "location": location, "description": description,
                     "defect": defect, "ticket_id": ticket_id, "recorded_by": principal.user_id, "recorded_at": now})
    async with transaction():
        await scope.insert_many(InspectionItem, rows)
        defects = await scope.count(InspectionItem).where(
            (InspectionItem.household_id == household_id) & (InspectionItem.defect == True))  # noqa: E712
        await scope.update(Household, {Household.inspected_at: now, Household.defects: defects}).where(
            Household.id == household_id)
    return await household_view(principal, household_id)


async def finish(principal: Principal, household_id: int, *, at: datetime, move_in_date: date | None = None) -> dict[str, Any]:
    """Done: processing = desk start → now; the customer holds the unit from the move-in date (the kernel's
    occupancy history, which fires `on_customer_moved_in`)."""
    h = await get_household(principal, household_id, f"{PLUGIN}.desk")
    _at_desk(h)
    missing = [name for name, value in (("documents verified", h["verified_at"]), ("keys handed over", h["handed_over_at"]),
                                         ("unit inspected", h["inspected_at"])) if value is None]
    if missing:
        raise conflict(f"Not done yet: {', '.join(missing)}.", missing=missing)
    at = aware(at, "at")
    if at < h["desk_started_at"]:
        raise invalid("at", "is before the desk started")
    move_in_date = move_in_date or local_date(at)
    O = tables.Occupancy
    held = await principal.scope.select(O, O.id).where(
        (O.customer_id == h["customer_id"]) & (O.unit_id == h["unit_id"]) & (O.role == "owner") & O.end_date.is_null()
    ).first()
    occupancy_id = held["id"] if held else None
    if occupancy_id is None:
        occupancy = await places.move_in(principal, h["customer_id"], h["unit_id"], "owner", move_in_date)
        occupancy_id = occupancy["id"]
    await principal.scope.update(Household, {
        Household.status: "done", Household.done_at: at, Household.move_in_date: move_in_date,
        Household.occupancy_id: occupancy_id,
        Household.processing_seconds: int((at - h["desk_started_at"]).total_seconds())}).where(
        (Household.id == household_id) & (Household.status == "at_desk"))
    return await household_view(principal, household_id)


async def batch_report(principal: Principal, batch_id: int) -> dict[str, Any]:
    """Per day and for the batch: households arrived, served and done; how many waited ≤ 15 minutes and were
    processed ≤ 30 minutes (seed 001), and the averages. Counted in SQL."""
    batch = await get_batch(principal, batch_id)
    settings = await settings_for(principal.tenant_id, batch["project_id"])
    wait_s, proc_s = int(settings["wait_target_minutes"]) * 60, int(settings["processing_target_minutes"]) * 60
    H, scope = Household, principal.scope
    base = (H.batch_id == batch_id) & H.local_day.is_not_null()
    columns = (Count(H.id, alias="arrived"), Count(H.waiting_seconds, alias="served"),
               Count(H.processing_seconds, alias="done"), Avg(H.waiting_seconds, alias="avg_wait"),
               Avg(H.processing_seconds, alias="avg_proc"))
    per_day = await scope.select(H, H.local_day, *columns).where(base).group_by(H.local_day).order_by(H.local_day)
    total = await scope.select(H, *columns).where(base).first()
    wait_ok = await scope.select(H, H.local_day, Count(H.id, alias="n")).where(
        base & (H.waiting_seconds <= wait_s)).group_by(H.local_day)
    proc_ok = await scope.select(H, H.local_day, Count(H.id, alias="n")).where(
        base & (H.processing_seconds <= proc_s)).group_by(H.local_day)
    wait_by, proc_by = {str(r["local_day"]): r["n"] for r in wait_ok}, {str(r["local_day"]): r["n"] for r in proc_ok}

    def shaped(row: dict[str, Any], waited_ok: int, processed_ok: int) -> dict[str, Any]:
        return {"arrived": row["arrived"] or 0, "served": row["served"] or 0, "done": row["done"] or 0,
                "waiting_within_target": waited_ok, "waiting_over_target": (row["served"] or 0) - waited_ok,
                "processing_within_target": processed_ok, "processing_over_target": (row["done"] or 0) - processed_ok,
                "average_waiting_minutes": minutes(row["avg_wait"]),
                "average_processing_minutes": minutes(row["avg_proc"])}

    days = [{"day": str(r["local_day"]), **shaped(r, wait_by.get(str(r["local_day"]), 0), proc_by.get(str(r["local_day"]), 0))}
            for r in per_day]
    return {"batch_id": batch_id, "seed": "001",
            "targets": {"waiting_minutes": wait_s // 60, "processing_minutes": proc_s // 60},
            "days": days, "batch": shaped(total or {"arrived": 0, "served": 0, "done": 0, "avg_wait": None,
                                                     "avg_proc": None},
                                          sum(wait_by.values()), sum(proc_by.values()))}


# ---------------------------------------------------------------- decoration: applications

def present_worker(principal: Principal, row: dict[str, Any]) -> dict[str, Any]:
    """A worker as this staff member may see it: the ID number masked unless the role needs it (as core masks
    customers' numbers), the phone masked unless the role may see phones."""
    out = dict(row)
    if not principal.can(f"{PLUGIN}.view_worker_ids"):
        out["id_number"] = places.mask_id_number(out.get("id_number") or "")
    if not principal.can("customer.view_phone"):
        out["phone"] = places.mask_phone(out.get("phone") or "")
    return out


async def get_application(principal: Principal, application_id: int, permission: str = f"{PLUGIN}.view") -> dict[str, Any]:
    return await _in_project(principal, Application, application_id, "application", permission)


async def _open_review(principal: Principal, app: dict[str, Any], round_no: int, *, now: datetime) -> dict[str, Any]:
    label = await unit_label(principal.scope, app["unit_id"])
    ticket = await open_clock(principal, KIND_REVIEW, project_id=app["project_id"], unit_id=app["unit_id"],
                              customer_id=app["customer_id"], now=now,
                              title=f"装修申报审核 Review #{app['id']} {label} (第{round_no}次 round {round_no})",
                              description=app["scope"])
    return await principal.scope.insert(Review, application_id=app["id"], round=round_no, submitted_at=now,
                                        due_at=ticket["resolution_due_at"], ticket_id=ticket["id"])


async def create_application(principal: Principal, data: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """A decoration application of a unit's owner or renter; its review is due in 3 working days."""
    unit = await _unit_in_body(principal, data["unit_id"])
    await project_for(principal, unit["project_id"], field="unit_id", permission=f"{PLUGIN}.register")
    scope = principal.scope
    await _customer_in_body(scope, data["customer_id"])
    if data["customer_id"] not in await _holders(scope, unit["id"], local_date(now)):
        raise invalid("customer_id", "does not hold this unit (an owner or renter applies)")
    if data["ends_on"] < data["starts_on"]:
        raise invalid("ends_on", "is before starts_on")
    for field in ("contractor_company", "contractor_manager"):
        if not clean(data[field], 200):
            raise invalid(field, "is required")
    async with transaction():
        app = await scope.insert(
            Application, project_id=unit["project_id"], unit_id=unit["id"], customer_id=data["customer_id"],
            contractor_company=clean(data["contractor_company"], 200), contractor_manager=clean(data["contractor_manager"], 100),
            contractor_phone=clean(data.get("contractor_phone"), 40), scope=clean(data.get("scope")),
            structural_change=bool(data.get("structural_change")), starts_on=data["starts_on"], ends_on=data["ends_on"],
            deposit_fen=int(data.get("deposit_fen") or 0), status="submitted", submitted_at=now,
            created_by=principal.user_id, created_at=now, updated_at=now)
        for w in data.get("workers") or []:
            await _insert_worker(scope, app["id"], w)
    await _open_review(principal, app, 1, now=now)
    return await application_view(principal, app["id"])


async def _insert_worker(scope: TenantScope, application_id: int, w: dict[str, Any]) -> dict[str, Any]:
    name, id_number = clean(w["name"], 100), clean(w["id_number"], 40).upper()
    if not name:
        raise invalid("name", "is required")
    if not re.fullmatch(r"[0-9A-Z]{6,40}", id_number):
        raise invalid("id_number", "an ID number (digits and letters)")
    return await scope.insert(Worker, application_id=application_id, name=name, id_number=id_number,
                              phone=clean(w.get("phone"), 40), trade=clean(w.get("trade"), 50))


async def add_worker(principal: Principal, application_id: int, data: dict[str, Any]) -> dict[str, Any]:
    app = await get_application(principal, application_id, f"{PLUGIN}.register")
    if app["status"] in ("refunded", "completed", "rejected"):
        raise conflict(f"The application is {app['status']}.")
    return present_worker(principal, await _insert_worker(principal.scope, application_id, data))


async def add_attachment(principal: Principal, application_id: int, *, kind: str, label: str, filename: str,
                         content: bytes, now: datetime, patrol_id: int | None = None) -> dict[str, Any]:
    """Store a drawing (PDF, JPEG, PNG, WebP or DWG) or a patrol photo (JPEG, PNG or WebP) in the database, its
    type read from the bytes (never from what the browser declared) and its size limited by the
    `max_upload_bytes` setting (and the kernel's upload limit)."""
    app = await get_application(principal, application_id,
                                f"{PLUGIN}.patrol" if kind == "patrol_photo" else f"{PLUGIN}.register")
    limit = min(int((await settings_for(principal.tenant_id, app["project_id"]))["max_upload_bytes"]),
                attachments.MAX_BYTES)
    name, ctype, thumb = check_upload(kind, filename, content, limit)
    row = await principal.scope.insert(Attachment, application_id=application_id, patrol_id=patrol_id, kind=kind,
                                       label=clean(label, 100), filename=name, content_type=ctype,
                                       size_bytes=len(content), content=content, thumbnail=thumb,
                                       uploaded_by=principal.user_id, uploaded_at=now)
    row.pop("content", None)
    row.pop("thumbnail", None)
    return row


async def get_attachment(principal: Principal, attachment_id: int) -> dict[str, Any]:
    row = await fetch_row(principal.scope, Attachment, attachment_id, "attachment")
    await get_application(principal, row["application_id"])
    return row


def _changed_meanwhile(done: list[dict[str, Any]]) -> None:
    """A step's compare-and-set update found nothing to change: another request did it first."""
    if not done:
        raise conflict("The application changed meanwhile; reload it and try again.")


def _pending(app: dict[str, Any], *statuses: str) -> None:
    if app["status"] not in statuses:
        allowed = " or ".join(APPLICATION_STATUSES.get(s, s) for s in statuses)
        raise conflict(f"The application is {APPLICATION_STATUSES.get(app['status'], app['status'])}; "
                       f"this needs it {allowed}.", status=app["status"])


async def _current_review(scope: TenantScope, application_id: int) -> dict[str, Any]:
    row = await scope.select(Review).where((Review.application_id == application_id) & (Review.outcome == "")).order_by(
        Review.round, ascending=False).first()
    if row is None:
        raise conflict("The application has no review waiting.")
    return row


async def structural_review(principal: Principal, application_id: int, approve: bool, note: str, *,
                            now: datetime) -> dict[str, Any]:
    """The extra review of structural changes (project manager); an application with them is approved only after it."""
    app = await get_application(principal, application_id, f"{PLUGIN}.structural_review")
    _pending(app, "submitted")
    if not app["structural_change"]:
        raise conflict("The application changes no structure; it needs no extra review.")
    note = clean(note, 2000)
    if not approve:
        if not note:
            raise invalid("note", "say what is wrong with the structural changes")
        return await record_problems(principal, application_id, [f"结构改动未通过 Structural changes not accepted: {note}"],
                                     note, now=now)
    await principal.scope.update(Application, {Application.structural_reviewed_at: now,
                                               Application.structural_reviewed_by: principal.user_id,
                                               Application.structural_note: note, Application.updated_at: now}).where(
        Application.id == application_id)
    return await application_view(principal, application_id)


async def record_problems(principal: Principal, application_id: int, problems: list[str], note: str, *,
                          now: datetime) -> dict[str, Any]:
    """Problems found in review: the review round is done and the applicant is told the same day (a notice
    through `core.notify`, due by the end of the day, on a ticket the sweep watches)."""
    app = await get_application(principal, application_id, f"{PLUGIN}.review")
    _pending(app, "submitted")
    texts = [clean(p, 2000) for p in problems]
    if not texts or not all(texts):
        raise invalid("problems", "list each problem found")
    scope = principal.scope
    review = await _current_review(scope, application_id)
    label = await unit_label(scope, app["unit_id"])
    channel = (await settings_for(principal.tenant_id, app["project_id"]))["problem_notice_channel"]
    if channel not in notify.channels():
        raise conflict(f"The setting problem_notice_channel names no channel ({channel!r}); known: "
                       f"{', '.join(sorted(notify.channels()))}.")
    async with transaction():
        done = await scope.update(Review, {
            Review.outcome: "problems", Review.reviewed_at: now, Review.reviewer_id: principal.user_id,
            Review.note: clean(note, 2000)}).where((Review.id == review["id"]) & (Review.outcome == "")).returning(Review.id)
        _changed_meanwhile(done)
        await scope.update(Application, {Application.status: "needs_changes", Application.updated_at: now}).where(
            Application.id == application_id)
    await close_clock(principal, review["ticket_id"], "审核发现问题 Problems found", now=now)
    ticket = await open_clock(principal, KIND_NOTICE, project_id=app["project_id"], unit_id=app["unit_id"],
                              customer_id=app["customer_id"], now=now,
                              title=f"装修问题当天告知 Tell the applicant today #{app['id']} {label}",
                              description="\n".join(texts))
    async with transaction():
        notice = await scope.insert(Notice, application_id=application_id, review_id=review["id"], found_at=now,
                                    due_at=ticket["resolution_due_at"], ticket_id=ticket["id"], channel=channel,
                                    note=clean(note, 2000))
        await scope.insert_many(ReviewProblem, [{"application_id": application_id, "notice_id": notice["id"],
                                                 "description": t} for t in texts])
    body = (f"您的装修申报({label})审核发现以下问题,请修改后重新提交:\n" + "\n".join(f"{i + 1}. {t}" for i, t in enumerate(texts))
            + "\nWe found these problems in your decoration application; please correct them and resubmit.")
    ids = await notify.send(principal.tenant_id, template=f"{PLUGIN}.review_problems",
                            subject=f"装修申报问题告知 Problems in your decoration application ({label})", body=body,
                            key=f"{PLUGIN}:notice:{notice['id']}", customer_id=app["customer_id"], channel=channel,
                            ticket_id=ticket["id"])
    outcome = ""
    if ids:
        sent = await scope.get_or_none(tables.Notification, ids[0], tables.Notification.outcome)
        outcome = sent["outcome"] if sent else ""
    await scope.update(Notice, {Notice.notification_id: ids[0] if ids else None, Notice.outcome: outcome}).where(
        Notice.id == notice["id"])
    if outcome == "sent":
        await _told(principal, notice, channel, now)
    return await application_view(principal, application_id)


async def _told(principal: Principal, notice: dict[str, Any], via: str, at: datetime, note: str = "") -> None:
    changes = {Notice.told_at: at, Notice.told_via: via, Notice.told_by: principal.user_id}
    if note:
        changes[Notice.note] = note
    await principal.scope.update(Notice, changes).where((Notice.id == notice["id"]) & Notice.told_at.is_null())
    await close_clock(principal, notice["ticket_id"], f"已告知申请人 Applicant told ({via})", now=at)


async def get_notice(principal: Principal, notice_id: int) -> dict[str, Any]:
    notice = await fetch_row(principal.scope, Notice, notice_id, "notice")
    await get_application(principal, notice["application_id"])
    return notice


async def mark_told(principal: Principal, notice_id: int, via: str, *, at: datetime, note: str = "") -> dict[str, Any]:
    """Staff record that the applicant was told (by phone, in person, or the notification reached them)."""
    notice = await get_notice(principal, notice_id)
    principal.require(f"{PLUGIN}.review")
    if notice["told_at"] is not None:
        raise conflict(f"The applicant was already told at {local(notice['told_at'])}.")
    at = aware(at, "at")
    if at < notice["found_at"]:
        raise invalid("at", "is before the problems were found")
    if via == "notification":
        outcome = None
        if notice["notification_id"]:
            row = await principal.scope.get_or_none(tables.Notification, notice["notification_id"], tables.Notification.outcome)
            outcome = row["outcome"] if row else None
        if outcome != "sent":
            raise conflict(f"The notification was not delivered ({outcome or 'none'}); tell the applicant by phone "
                           "or in person and record that.")
        via = notice["channel"]
    await _told(principal, notice, via, at, clean(note, 2000))
    return await get_notice(principal, notice_id)


async def settle_notices(tenant_id: int, as_of: datetime) -> dict[str, int]:
    """Notices whose notification has since been delivered count as told at its delivery (idempotent)."""
    scope = TenantScope(tenant_id)
    rows = await scope.select(Notice, Notice.id, Notice.ticket_id, Notice.channel, Notice.application_id,
                              Notice.notification_id.outcome.as_alias("outcome"),
                              Notice.notification_id.sent_at.as_alias("sent_at")).where(
        Notice.told_at.is_null() & Notice.notification_id.is_not_null() & (Notice.notification_id.outcome == "sent"))
    settled = 0
    for r in rows:
        app = await scope.get(Application, r["application_id"], Application.project_id)
        staff = await notify.staff_with_role(tenant_id, ("supervisor", "project_manager", "company_cs"), app["project_id"])
        if not staff:
            continue
        acting = await principal_of(tenant_id, staff[0])
        at = r["sent_at"] or as_of
        await scope.update(Notice, {Notice.told_at: at, Notice.told_via: r["channel"], Notice.outcome: "sent"}).where(
            (Notice.id == r["id"]) & Notice.told_at.is_null())
        await close_clock(acting, r["ticket_id"], f"通知已送达 Notification delivered ({r['channel']})", now=at)
        settled += 1
    return {"settled": settled}


async def resubmit(principal: Principal, application_id: int, *, now: datetime, note: str = "") -> dict[str, Any]:
    """The applicant corrected the application: its problems are addressed and a new review round starts."""
    app = await get_application(principal, application_id, f"{PLUGIN}.register")
    _pending(app, "needs_changes")
    scope = principal.scope
    rounds = await scope.count(Review).where(Review.application_id == application_id)
    async with transaction():
        await scope.update(ReviewProblem, {ReviewProblem.addressed_at: now}).where(
            (ReviewProblem.application_id == application_id) & ReviewProblem.addressed_at.is_null())
        await scope.update(Application, {Application.status: "submitted", Application.submitted_at: now,
                                         Application.updated_at: now}).where(Application.id == application_id)
    await _open_review(principal, {**app, "scope": clean(note) or app["scope"]}, rounds + 1, now=now)
    return await application_view(principal, application_id)


async def approve(principal: Principal, application_id: int, *, now: datetime, note: str = "") -> dict[str, Any]:
    """Approve and issue the decoration permit: its rules, and the work hours left by the quiet hours."""
    app = await get_application(principal, application_id, f"{PLUGIN}.review")
    _pending(app, "submitted")
    if app["structural_change"] and app["structural_reviewed_at"] is None:
        raise conflict("The application changes the structure: the project manager's extra review comes first.")
    scope = principal.scope
    review = await _current_review(scope, application_id)
    settings = await settings_for(principal.tenant_id, app["project_id"])
    quiet = settings.get("quiet_hours") or []
    hours = work_hours(quiet)
    project = await scope.get(tables.Project, app["project_id"], tables.Project.code)
    async with transaction():
        done = await scope.update(Review, {
            Review.outcome: "approved", Review.reviewed_at: now, Review.reviewer_id: principal.user_id,
            Review.note: clean(note, 2000)}).where((Review.id == review["id"]) & (Review.outcome == "")).returning(Review.id)
        _changed_meanwhile(done)
        await scope.insert(Permit, application_id=application_id, project_id=app["project_id"],
                           number=f"{project['code']}-ZX-{local_date(now).year}-{application_id:05d}", issued_at=now,
                           issued_by=principal.user_id, valid_from=app["starts_on"], valid_to=app["ends_on"],
                           work_hours=hours, quiet_hours=[list(p) for p in quiet],
                           works_on_rest_days=bool(settings.get("works_on_rest_days", True)),
                           rules=list(settings.get("permit_rules") or []))
        await scope.update(Application, {Application.status: "approved", Application.approved_at: now,
                                         Application.updated_at: now}).where(Application.id == application_id)
    await close_clock(principal, review["ticket_id"], "审核通过 Approved", now=now)
    return await application_view(principal, application_id)


async def reject(principal: Principal, application_id: int, reason: str, *, now: datetime) -> dict[str, Any]:
    app = await get_application(principal, application_id, f"{PLUGIN}.review")
    _pending(app, "submitted")
    reason = clean(reason, 2000)
    if not reason:
        raise invalid("reason", "say why the application is not approved")
    review = await _current_review(principal.scope, application_id)
    async with transaction():
        done = await principal.scope.update(Review, {Review.outcome: "rejected", Review.reviewed_at: now,
                                                     Review.reviewer_id: principal.user_id, Review.note: reason}).where(
            (Review.id == review["id"]) & (Review.outcome == "")).returning(Review.id)
        _changed_meanwhile(done)
        await principal.scope.update(Application, {Application.status: "rejected", Application.reject_reason: reason,
                                                   Application.updated_at: now}).where(Application.id == application_id)
    await close_clock(principal, review["ticket_id"], f"未批准 Rejected: {reason}"[:500], now=now)
    return await application_view(principal, application_id)


# ---------------------------------------------------------------- permits and work outside the hours

async def get_permit(principal: Principal, permit_id: int) -> dict[str, Any]:
    permit = await _in_project(principal, Permit, permit_id, "permit")
    for key in ("work_hours", "quiet_hours", "rules"):
        permit[key] = json_value(permit[key]) or []
    app = await principal.scope.get(Application, permit["application_id"])
    permit["application"] = app
    permit["unit"] = await unit_label(principal.scope, app["unit_id"])
    permit["hours_reports"] = await principal.scope.select(HoursReport).where(HoursReport.permit_id == permit_id).order_by(
        HoursReport.id)
    return permit


async def outside_hours(tenant_id: int, permit: dict[str, Any], moment: datetime) -> str | None:
    """Why works at `moment` break the permit (quiet hours, a rest day, outside its dates), or None."""
    day, clock = local_date(moment), moment.astimezone(TZ)
    if not permit["valid_from"] <= day <= permit["valid_to"]:
        return f"outside the permit's dates ({permit['valid_from']} – {permit['valid_to']})"
    if not permit["works_on_rest_days"] and not (await calendar_for(tenant_id)).is_working_day(day):
        return "on a rest day, when no works are allowed"
    m = clock.hour * 60 + clock.minute
    for a, b in quiet_ranges(permit["quiet_hours"]):
        if a <= m < b:
            return f"in the quiet hours ({hours_text(permit['quiet_hours'])})"
    return None


async def report_outside_hours(principal: Principal, permit_id: int, data: dict[str, Any], *,
                               now: datetime) -> dict[str, Any]:
    """Works seen outside the permit's hours become a complaint ticket of the unit, listed on the permit."""
    permit = await get_permit(principal, permit_id)
    principal.require(f"{PLUGIN}.register")
    observed = aware(data["observed_at"], "observed_at")
    if observed > now + timedelta(minutes=5):
        raise invalid("observed_at", "is in the future")
    why = await outside_hours(principal.tenant_id, permit, observed)
    if why is None:
        raise invalid("observed_at", f"is within the permit's work hours ({hours_text(permit['work_hours'])}); "
                                     "file an ordinary complaint instead")
    if data.get("customer_id") is not None:
        await _customer_in_body(principal.scope, data["customer_id"])
    app = permit["application"]
    description = clean(data.get("description"), 2000)
    ticket = await tickets.create_ticket(await _acting(principal, app["project_id"]), {
        "project_id": app["project_id"], "kind": "complaint", "channel": data.get("channel") or "walk_in",
        "title": f"装修超时施工 Works outside permitted hours: {permit['unit']} ({local(observed)})"[:200],
        "description": f"{description}\n许可证 Permit {permit['number']}: {why}".strip(), "unit_id": app["unit_id"],
        "customer_id": data.get("customer_id")}, now=now)
    row = await principal.scope.insert(HoursReport, permit_id=permit_id, application_id=app["id"], observed_at=observed,
                                       description=description, ticket_id=ticket["id"], reported_by=principal.user_id,
                                       reported_at=now)
    return {**row, "reason": why}


# ---------------------------------------------------------------- patrols and violations

async def record_patrol(principal: Principal, application_id: int, data: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """A patrol of the works; each violation found is tracked to correction on a ticket the sweep watches."""
    app = await get_application(principal, application_id, f"{PLUGIN}.patrol")
    _pending(app, "approved", "rectifying", "acceptance_requested")
    at = aware(data.get("at") or now, "at")
    violations = data.get("violations") or []
    label = await unit_label(principal.scope, app["unit_id"])
    scope = principal.scope
    found = []
    for i, v in enumerate(violations):
        description = clean(v["description"], 2000)
        if not description:
            raise invalid(f"violations.{i}.description", "is required")
        correct_by = aware(v["correct_by"], f"violations.{i}.correct_by") if v.get("correct_by") else None
        if correct_by is not None and correct_by <= at:
            raise invalid(f"violations.{i}.correct_by", "must be after the patrol")
        found.append((description, correct_by))
    patrol = await scope.insert(Patrol, application_id=application_id, at=at, inspector_id=principal.user_id,
                                result="violation" if found else "ok", note=clean(data.get("note"), 2000))
    for description, correct_by in found:
        ticket = await open_clock(principal, KIND_VIOLATION, project_id=app["project_id"], unit_id=app["unit_id"],
                                  customer_id=app["customer_id"], now=at, promised_at=correct_by, channel="patrol",
                                  title=f"装修违规整改 Violation #{application_id} {label}: {description}"[:200],
                                  description=description)
        await scope.insert(Violation, application_id=application_id, patrol_id=patrol["id"], description=description,
                           found_at=at, correct_by=ticket["resolution_due_at"], ticket_id=ticket["id"])
    return await get_patrol(principal, patrol["id"])


async def get_patrol(principal: Principal, patrol_id: int) -> dict[str, Any]:
    patrol = await fetch_row(principal.scope, Patrol, patrol_id, "patrol")
    await get_application(principal, patrol["application_id"])
    patrol["violations"] = await principal.scope.select(Violation).where(Violation.patrol_id == patrol_id).order_by(Violation.id)
    patrol["photos"] = await principal.scope.select(Attachment, *_attachment_meta()).where(
        Attachment.patrol_id == patrol_id).order_by(Attachment.id)
    return patrol


def _attachment_meta() -> tuple[Any, ...]:
    A = Attachment
    return (A.id, A.application_id, A.patrol_id, A.kind, A.label, A.filename, A.content_type, A.size_bytes, A.uploaded_at)


async def correct_violation(principal: Principal, violation_id: int, *, at: datetime, note: str = "") -> dict[str, Any]:
    """The correction is verified on site; the violation's clock stops."""
    violation = await fetch_row(principal.scope, Violation, violation_id, "violation")
    await get_application(principal, violation["application_id"], f"{PLUGIN}.patrol")
    if violation["status"] != "open":
        raise conflict("The violation is already corrected.")
    at = aware(at, "at")
    if at < violation["found_at"]:
        raise invalid("at", "is before the violation was found")
    await principal.scope.update(Violation, {Violation.status: "corrected", Violation.corrected_at: at,
                                             Violation.verified_by: principal.user_id, Violation.note: clean(note, 2000)}
                                 ).where((Violation.id == violation_id) & (Violation.status == "open"))
    await close_clock(principal, violation["ticket_id"], "整改完成 Corrected", now=at)
    return await principal.scope.get(Violation, violation_id)


# ---------------------------------------------------------------- acceptance and the deposit refund

async def request_acceptance(principal: Principal, application_id: int, *, now: datetime) -> dict[str, Any]:
    """The applicant asks for acceptance (or a re-inspection after failing): organised within 3 working days."""
    app = await get_application(principal, application_id, f"{PLUGIN}.register")
    _pending(app, "approved", "rectifying")
    scope = principal.scope
    open_violations = await scope.count(Violation).where(
        (Violation.application_id == application_id) & (Violation.status == "open"))
    if open_violations:
        raise conflict(f"{open_violations} violation(s) are not corrected yet; acceptance comes after their correction.")
    rounds = await scope.count(Acceptance).where(Acceptance.application_id == application_id)
    label = await unit_label(scope, app["unit_id"])
    ticket = await open_clock(principal, KIND_ACCEPTANCE, project_id=app["project_id"], unit_id=app["unit_id"],
                              customer_id=app["customer_id"], now=now,
                              title=f"装修验收 Acceptance #{application_id} {label} (第{rounds + 1}次 round {rounds + 1})")
    async with transaction():
        row = await scope.insert(Acceptance, application_id=application_id, round=rounds + 1, requested_at=now,
                                 due_at=ticket["resolution_due_at"], ticket_id=ticket["id"])
        await scope.update(Application, {Application.status: "acceptance_requested", Application.updated_at: now}).where(
            Application.id == application_id)
    return row


async def get_acceptance(principal: Principal, acceptance_id: int) -> dict[str, Any]:
    row = await fetch_row(principal.scope, Acceptance, acceptance_id, "acceptance")
    await get_application(principal, row["application_id"])
    row["fixes"] = json_value(row["fixes"]) or []
    return row


async def inspect(principal: Principal, acceptance_id: int, data: dict[str, Any], *, at: datetime) -> dict[str, Any]:
    """The acceptance inspection. Passing: the deposit refund becomes a finance task due within 1 day.
    Failing: what must be fixed is listed and the applicant asks for a re-inspection once it is."""
    acceptance = await get_acceptance(principal, acceptance_id)
    app = await get_application(principal, acceptance["application_id"], f"{PLUGIN}.accept")
    if acceptance["outcome"]:
        raise conflict(f"This acceptance was already {acceptance['outcome']}.")
    at = aware(at, "at")
    if at < acceptance["requested_at"]:
        raise invalid("at", "is before the acceptance was requested")
    passed = bool(data["passed"])
    fixes = [clean(f, 500) for f in data.get("fixes") or []]
    if not passed and (not fixes or not all(fixes)):
        raise invalid("fixes", "list what must be fixed before the re-inspection")
    scope = principal.scope
    label = await unit_label(scope, app["unit_id"])
    status = "rectifying" if not passed else "passed" if app["deposit_fen"] > 0 else "completed"
    async with transaction():
        done = await scope.update(Acceptance, {
            Acceptance.outcome: "passed" if passed else "failed", Acceptance.inspected_at: at,
            Acceptance.inspector_id: principal.user_id, Acceptance.fixes: [] if passed else fixes,
            Acceptance.reinspect_on: data.get("reinspect_on"), Acceptance.note: clean(data.get("note"), 2000)}).where(
            (Acceptance.id == acceptance_id) & (Acceptance.outcome == "")).returning(Acceptance.id)
        _changed_meanwhile(done)
        await scope.update(Application, {Application.status: status, Application.updated_at: at}).where(
            Application.id == app["id"])
    await close_clock(principal, acceptance["ticket_id"], "验收合格 Passed" if passed else "验收不合格 Failed", now=at)
    if status == "passed":
        finance = await notify.staff_with_role(principal.tenant_id, ("finance",), app["project_id"])
        ticket = await open_clock(principal, KIND_REFUND, project_id=app["project_id"], unit_id=app["unit_id"],
                                  customer_id=app["customer_id"], now=at, assignee_id=finance[0] if finance else None,
                                  title=f"装修押金退还 Refund the deposit #{app['id']} {label}: {yuan(app['deposit_fen'])} 元")
        await scope.insert(Refund, application_id=app["id"], acceptance_id=acceptance_id, amount_fen=app["deposit_fen"],
                           due_at=ticket["resolution_due_at"], ticket_id=ticket["id"],
                           assignee_id=finance[0] if finance else None, created_at=at)
        if finance:
            await notify.send(principal.tenant_id, template=f"{PLUGIN}.refund_due",
                              subject=f"装修押金待退还 Deposit to refund: {label} {yuan(app['deposit_fen'])} 元",
                              body=f"验收合格,请在 {local(ticket['resolution_due_at'])} 前退还押金。"
                                   f"Acceptance passed; refund the deposit by {local(ticket['resolution_due_at'])}.",
                              key=f"{PLUGIN}:refund:{acceptance_id}", user_ids=finance[:1], ticket_id=ticket["id"])
    return await get_acceptance(principal, acceptance_id)


async def get_refund(principal: Principal, refund_id: int) -> dict[str, Any]:
    row = await fetch_row(principal.scope, Refund, refund_id, "refund")
    await get_application(principal, row["application_id"])
    return row


async def record_refund(principal: Principal, refund_id: int, data: dict[str, Any], *, at: datetime) -> dict[str, Any]:
    """Finance refunded the deposit; the task's clock stops."""
    refund = await get_refund(principal, refund_id)
    principal.require(f"{PLUGIN}.refund")
    if refund["refunded_at"] is not None:
        raise conflict("The deposit was already refunded.")
    at = aware(at, "at")
    if at < refund["created_at"]:
        raise invalid("at", "is before the acceptance passed")
    async with transaction():
        done = await principal.scope.update(Refund, {
            Refund.refunded_at: at, Refund.refunded_by: principal.user_id, Refund.method: data["method"],
            Refund.reference: clean(data.get("reference"), 100)}).where(
            (Refund.id == refund_id) & Refund.refunded_at.is_null()).returning(Refund.id)
        _changed_meanwhile(done)
        await principal.scope.update(Application, {Application.status: "refunded", Application.updated_at: at}).where(
            (Application.id == refund["application_id"]) & (Application.status == "passed"))
    await close_clock(principal, refund["ticket_id"], f"押金已退还 Deposit refunded ({data['method']})", now=at)
    return await get_refund(principal, refund_id)


async def list_refunds(principal: Principal, project_id: int, *, open_only: bool = False) -> list[dict[str, Any]]:
    """The finance task list: deposits to refund with their due times."""
    await project_for(principal, project_id)
    R, A = Refund, Application
    query = principal.scope.select(R).where(R.application_id.project_id == project_id)
    if open_only:
        query = query.where(R.refunded_at.is_null())
    rows = await query.order_by(R.id, ascending=False).limit(500)
    # one join level at a time: PostgreSQL cuts longer join aliases to 63 characters
    apps = await principal.scope.select(A, A.id, A.unit_id.room.as_alias("room"),
                                        A.customer_id.name.as_alias("customer_name")).where(
        A.id.is_in([r["application_id"] for r in rows] or [-1]))
    by_id = {a["id"]: a for a in apps}
    return [{**r, "room": by_id[r["application_id"]]["room"], "customer_name": by_id[r["application_id"]]["customer_name"]}
            for r in rows]


# ---------------------------------------------------------------- application pages and lists

async def application_view(principal: Principal, application_id: int) -> dict[str, Any]:
    """The application with its workers (ID numbers masked by role), drawings, reviews, notices, permit,
    patrols, violations, acceptances and refund."""
    app = await get_application(principal, application_id)
    scope = principal.scope
    app["customer"] = places.present_customer(principal, await scope.get(tables.Customer, app["customer_id"]))
    app["unit"] = await unit_label(scope, app["unit_id"])
    app["status_label"] = APPLICATION_STATUSES.get(app["status"], app["status"])
    if not principal.can("customer.view_phone"):
        app["contractor_phone"] = places.mask_phone(app["contractor_phone"] or "")
    app["workers"] = [present_worker(principal, w) for w in
                      await scope.select(Worker).where(Worker.application_id == application_id).order_by(Worker.id)]
    app["drawings"] = await scope.select(Attachment, *_attachment_meta()).where(
        (Attachment.application_id == application_id) & (Attachment.kind == "drawing")).order_by(Attachment.id)
    app["reviews"] = await scope.select(Review).where(Review.application_id == application_id).order_by(Review.round)
    notices = await scope.select(Notice).where(Notice.application_id == application_id).order_by(Notice.id)
    problems = await scope.select(ReviewProblem).where(ReviewProblem.application_id == application_id).order_by(
        ReviewProblem.id)
    for n in notices:
        n["problems"] = [p for p in problems if p["notice_id"] == n["id"]]
        n["told_same_day"] = None if n["told_at"] is None else n["told_at"] <= n["due_at"]
    app["notices"] = notices
    permit = await scope.select(Permit, Permit.id, Permit.number, Permit.issued_at, Permit.valid_from, Permit.valid_to,
                                Permit.work_hours).where(Permit.application_id == application_id).first()
    if permit:
        permit["work_hours"] = json_value(permit["work_hours"]) or []
    app["permit"] = permit
    patrols = await scope.select(Patrol).where(Patrol.application_id == application_id).order_by(Patrol.at)
    photos = await scope.select(Attachment, *_attachment_meta()).where(
        (Attachment.application_id == application_id) & (Attachment.kind == "patrol_photo")).order_by(Attachment.id)
    for p in patrols:
        p["photos"] = [ph for ph in photos if ph["patrol_id"] == p["id"]]
    app["patrols"] = patrols
    app["violations"] = await scope.select(Violation).where(Violation.application_id == application_id).order_by(Violation.id)
    acceptances = await scope.select(Acceptance).where(Acceptance.application_id == application_id).order_by(Acceptance.round)
    for a in acceptances:
        a["fixes"] = json_value(a["fixes"]) or []
    app["acceptances"] = acceptances
    app["refund"] = await scope.select(Refund).where(Refund.application_id == application_id).first()
    return app


async def list_applications(principal: Principal, project_id: int, *, status: str | None = None,
                            limit: int = 200) -> list[dict[str, Any]]:
    await project_for(principal, project_id)
    A = Application
    query = principal.scope.select(A, A.id, A.unit_id, A.customer_id, A.contractor_company, A.structural_change, A.status,
                                   A.starts_on, A.ends_on, A.deposit_fen, A.submitted_at,
                                   A.unit_id.room.as_alias("room"), A.unit_id.building_id.code.as_alias("building"),
                                   A.customer_id.name.as_alias("customer_name")).where(A.project_id == project_id)
    if status:
        if status not in APPLICATION_STATUSES:
            raise invalid("status", f"one of {', '.join(APPLICATION_STATUSES)}")
        query = query.where(A.status == status)
    return await query.order_by(A.id, ascending=False).limit(limit)


async def deadline_report(principal: Principal, project_id: int, *, as_of: datetime) -> dict[str, Any]:
    """Each decoration deadline of the project: done, done in time, still open and overdue at `as_of` (SQL counts)."""
    await project_for(principal, project_id)
    scope, now = principal.scope, aware(as_of, "as_of")

    async def step(table: Any, done_col: str, parent_project: Any) -> dict[str, int]:
        base = parent_project == project_id
        done = getattr(table, done_col)
        return {
            "done": await scope.count(table).where(base & done.is_not_null()),
            "in_time": await scope.count(table).where(base & done.is_not_null() & WhereRaw(f"{done_col} <= due_at")),
            "open": await scope.count(table).where(base & done.is_null()),
            "overdue": await scope.count(table).where(base & done.is_null() & (table.due_at < now)),
        }

    return {"project_id": project_id, "seed": "001", "as_of": now.isoformat(),
            "review_3_working_days": await step(Review, "reviewed_at", Review.application_id.project_id),
            "problems_told_same_day": await step(Notice, "told_at", Notice.application_id.project_id),
            "acceptance_3_working_days": await step(Acceptance, "inspected_at", Acceptance.application_id.project_id),
            "deposit_refund_1_day": await step(Refund, "refunded_at", Refund.application_id.project_id)}


# ---------------------------------------------------------------- moving large items out (the release gate)

async def release_gate(tenant_id: int) -> Any:
    """The confirm-before-release service another plugin offers (`resolve_release_gate`), or a 409 saying it is missing."""
    try:
        gate = await get_registry().first("resolve_release_gate", tenant_id=tenant_id)
    except AttributeError:  # no installed plugin declares the hook
        gate = None
    if gate is None:
        raise Problem(409, "Release gate missing",
                      "Moving large items out needs the release gate (放行: owner confirmation before release, every "
                      "release recorded) of the commercial buildings plugin, which is not enabled for this company. "
                      "Enable commercial buildings to record moving out.")
    return gate


async def _sync(scope: TenantScope, row: dict[str, Any], pass_out: dict[str, Any], now: datetime) -> dict[str, Any]:
    changes = {"status": pass_out["status"], "confirmed_by_customer_id": pass_out.get("confirmed_by_customer_id"),
               "confirmed_at": pass_out.get("confirmed_at"), "released_at": pass_out.get("released_at")}
    if any(row.get(k) != v for k, v in changes.items()):
        changes["updated_at"] = now
        await scope.update(MovingOut, {getattr(MovingOut, k): v for k, v in changes.items()}).where(MovingOut.id == row["id"])
        row = {**row, **changes}
    return {**row, "items": json_value(row["items"]) or [], "pass_out": pass_out}


async def request_moving_out(principal: Principal, data: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """Large items of a residential unit to move out: a pass-out waiting for the owner's confirmation."""
    unit = await _unit_in_body(principal, data["unit_id"])
    await project_for(principal, unit["project_id"], field="unit_id", permission=f"{PLUGIN}.moving_out")
    if unit["use"] != "residential":
        raise invalid("unit_id", "is not a residential unit; use the lobby pass-outs of commercial buildings")
    gate = await release_gate(principal.tenant_id)
    items = [{"description": clean(i["description"], 200), "quantity": int(i.get("quantity") or 1)} for i in data["items"]]
    if not items or not all(i["description"] for i in items):
        raise invalid("items", "name every item")
    pass_out = await gate.request(principal, unit_id=unit["id"], items=items, carrier_name=clean(data["carrier_name"], 100),
                                  carrier_phone=clean(data.get("carrier_phone"), 40), window_start=data["window_start"],
                                  window_end=data["window_end"], purpose="moving_out", source=PLUGIN, now=now)
    row = await principal.scope.insert(MovingOut, project_id=unit["project_id"], unit_id=unit["id"],
                                       pass_out_id=pass_out["id"], code=pass_out["code"], status=pass_out["status"],
                                       items=items, carrier_name=pass_out["carrier_name"],
                                       window_start=pass_out["window_start"], window_end=pass_out["window_end"],
                                       requested_by=principal.user_id, requested_at=now, updated_at=now)
    return await _sync(principal.scope, row, pass_out, now)


async def get_moving_out(principal: Principal, moving_out_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """The record with the gate's pass-out (status, confirmation, release) as it stands."""
    row = await _in_project(principal, MovingOut, moving_out_id, "moving out")
    gate = await release_gate(principal.tenant_id)
    row["unit"] = await unit_label(principal.scope, row["unit_id"])
    return await _sync(principal.scope, row, await gate.get(principal, row["pass_out_id"]), now or utcnow())


async def moving_out_action(principal: Principal, moving_out_id: int, action: str, *, now: datetime,
                            customer_id: int | None = None, reason: str = "", note: str = "") -> dict[str, Any]:
    """confirm (the owner confirmed in person), link (send the owner a one-time link), reject or release.
    Release is refused (409) unless the owner confirmed; the release is recorded by the gate."""
    row = await _in_project(principal, MovingOut, moving_out_id, "moving out", f"{PLUGIN}.moving_out")
    gate = await release_gate(principal.tenant_id)
    pid = row["pass_out_id"]
    if action in ("confirm", "link") and customer_id is None:
        raise invalid("customer_id", "the owner (or renter, or a contact they authorised) who confirms")
    if action == "confirm":
        await gate.confirm_in_person(principal, pid, customer_id, now=now)
    elif action == "link":
        await gate.send_link(principal, pid, customer_id, now=now)
    elif action == "reject":
        if not clean(reason, 500):
            raise invalid("reason", "say why the items may not leave")
        await gate.reject(principal, pid, clean(reason, 500), now=now)
    elif action == "release":
        await gate.release(principal, pid, note=clean(note, 1000), now=now)
        await principal.scope.update(MovingOut, {MovingOut.released_by: principal.user_id}).where(MovingOut.id == moving_out_id)
    else:
        raise not_found("action")
    return await get_moving_out(principal, moving_out_id, now=now)


async def who_may_confirm(principal: Principal, moving_out_id: int, *, now: datetime) -> list[dict[str, Any]]:
    row = await _in_project(principal, MovingOut, moving_out_id, "moving out")
    gate = await release_gate(principal.tenant_id)
    ids = await gate.who_may_confirm(principal.tenant_id, row["unit_id"], now=now)
    C = tables.Customer
    return await principal.scope.select(C, C.id, C.name).where(C.id.is_in(ids or [-1])).order_by(C.id)


async def list_moving_outs(principal: Principal, project_id: int, *, status: str | None = None) -> list[dict[str, Any]]:
    await project_for(principal, project_id)
    M = MovingOut
    query = principal.scope.select(M, M.all_columns(), M.unit_id.room.as_alias("room"),
                                   M.unit_id.building_id.code.as_alias("building")).where(M.project_id == project_id)
    if status:
        query = query.where(M.status == status)
    rows = await query.order_by(M.id, ascending=False).limit(500)
    for r in rows:
        r["items"] = json_value(r["items"]) or []
    return rows


# ---------------------------------------------------------------- projects for the portal

async def visible_projects(principal: Principal) -> list[dict[str, Any]]:
    P = tables.Project
    query = principal.scope.select(P, P.id, P.code, P.name, P.kind)
    clause = principal.project_filter(P.id)
    if clause is not None:
        query = query.where(clause)
    return [p for p in await query.order_by(P.id).limit(200) if await is_enabled(principal.tenant_id, p["id"])]


async def tenants_with_plugin() -> list[int]:
    S = tables.PluginState
    rows = await S.select(S.tenant_id).where((S.plugin == PLUGIN) & (S.enabled == True)).distinct()  # noqa: E712
    return sorted({r["tenant_id"] for r in rows})
