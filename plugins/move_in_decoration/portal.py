"""Portal pages of move-in and decoration under /portal/move-in-decoration: the project overview, a batch,
a household at the desk, a generated document, an application, a permit and a moving-out record.

Every form posts here; on a problem the page comes back with what was typed and the message by its
field (status of the problem), on success the browser is sent back to the page (303)."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Awaitable, Callable

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Response, Template

from core import Problem, attachments, invalid, not_found, tables, utcnow

from plugins.move_in_decoration import services as svc

PORTAL = "/portal/move-in-decoration"
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
UPLOAD_BODY = attachments.MAX_BYTES + 256 * 1024


# ---------------------------------------------------------------- form helpers

def _form(data: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (data or {}).items():
        if isinstance(value, list):
            value = value[-1] if value else ""
        out[str(key)[:80]] = value if isinstance(value, UploadFile) else str(value)[:20000]
    return out


def _str(form: dict[str, Any], name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return svc.clean(value if isinstance(value, str) else "", limit)


def _int(form: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = _str(form, name, 30)
    if not value:
        if required:
            raise invalid(name, "is required")
        return None
    if not value.isdigit() or not svc.real_id(int(value)):
        raise invalid(name, "a number")
    return int(value)


def _moment(form: dict[str, Any], name: str, *, required: bool = False) -> datetime | None:
    value = _str(form, name, 40)
    if not value:
        if required:
            raise invalid(name, "is required")
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(name, "a date and time (YYYY-MM-DD HH:MM)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=svc.TZ)


def _day(form: dict[str, Any], name: str, *, required: bool = True) -> date | None:
    value = _str(form, name, 20)
    if not value:
        if required:
            raise invalid(name, "is required")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(name, "a date (YYYY-MM-DD)") from None


def _fen(form: dict[str, Any], name: str) -> int:
    value = _str(form, name, 20).replace(",", "") or "0"
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise invalid(name, "an amount in yuan, e.g. 2000.00") from None
    if amount < 0 or amount > Decimal("100000000") or amount != amount.quantize(Decimal("0.01")):
        raise invalid(name, "an amount in yuan with at most 2 decimals")
    return int(amount * 100)


def _lines(form: dict[str, Any], name: str) -> list[str]:
    return [line.strip() for line in _str(form, name, 20000).splitlines() if line.strip()]


def _fee_lines(form: dict[str, Any], name: str = "fees") -> list[dict[str, Any]]:
    """Lines like `物业费 2026年10-12月 1,200.00` (the last word is the amount in yuan)."""
    out = []
    for i, line in enumerate(_lines(form, name)):
        item, _, amount = line.rpartition(" ")
        if not item.strip():
            raise invalid(name, f"line {i + 1}: write the item, a space, then the amount in yuan")
        out.append({"item": item.strip()[:100], "amount_fen": _fen({"x": amount}, "x")})
    return out


def _errors(exc: Problem) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in exc.errors:
        field = str(item.get("field") or "")
        message = str(item.get("message") or exc.detail)
        if field and message.startswith(field + ": "):
            message = message[len(field) + 2:]
        errors.setdefault(field.split(".")[0] or "_", message)
    if not errors or exc.status != 422:
        errors.setdefault("_", exc.detail)
    return errors


async def _unit_from(request: Request, form: dict[str, Any], project_id: int, name: str = "unit") -> int:
    """A unit typed as `楼栋-房号`, `楼栋-单元-房号` or its number."""
    value = _str(form, name, 60).replace("栋", "-").replace("单元", "-").replace(" ", "")
    if not value:
        raise invalid(name, "is required (building-room, e.g. 1-101, or building-entrance-room, e.g. 1-1-101)")
    U = tables.Unit
    query = request.user.scope.select(U, U.id).where(U.project_id == project_id)
    if value.isdigit():
        query = query.where(U.id == int(value))
    else:
        parts = [p for p in value.split("-") if p]
        if len(parts) not in (2, 3):
            raise invalid(name, "write building-room (1-101) or building-entrance-room (1-1-101)")
        query = query.where((U.building_id.code == parts[0]) & (U.room == parts[-1]))
        if len(parts) == 3:
            query = query.where(U.entrance == parts[1])
    rows = await query.limit(2)
    if len(rows) != 1:
        raise invalid(name, "no such unit in this project" if not rows else "several units match; add the entrance")
    return rows[0]["id"]


async def _holder(request: Request, form: dict[str, Any], unit_id: int, name: str = "customer_id") -> int:
    """The customer typed, else the unit's current owner (or renter)."""
    given = _int(form, name, required=False)
    if given is not None:
        return given
    holders = await svc._holders(request.user.scope, unit_id, svc.local_date(utcnow()))
    if not holders:
        raise invalid(name, "the unit has no owner on file; give the customer's number")
    return holders[0]


def _ctx(request: Request, **values: Any) -> dict[str, Any]:
    return {"me": request.user, "form": {}, "errors": {}, "active": "", "yuan": svc.yuan, "minutes": svc.minutes,
            "app_statuses": svc.APPLICATION_STATUSES, "household_statuses": svc.HOUSEHOLD_STATUSES,
            "doc_kinds": svc.DOC_KINDS, "hours_text": svc.hours_text, "portal": PORTAL,
            "msg": request.query_params.get("msg", ""), **values}


def _page(request: Request, name: str, status: int = 200, **values: Any) -> Template:
    return Template(f"move_in_decoration/{name}.html", context=_ctx(request, **values), status_code=status)


async def _submit(action: Callable[[], Awaitable[str]], page: Callable[..., Awaitable[Template]],
                  form: dict[str, Any], active: str) -> Response:
    """Run the action; on a problem show the page again with what was typed and the message by its field."""
    try:
        url = await action()
    except Problem as exc:
        if exc.status == 404:
            raise
        kept = {k: v for k, v in form.items() if not isinstance(v, UploadFile) and k != "_csrf"}
        return await page(form=kept, errors=_errors(exc), active=active, status=exc.status)
    return Redirect(url, status_code=303)


# ---------------------------------------------------------------- pages

async def index_page(request: Request, project_id: int | None = None, status: int = 200, **extra: Any) -> Template:
    p = request.user
    p.require(f"{svc.PLUGIN}.view")
    projects = await svc.visible_projects(p)
    if project_id is not None and project_id not in {x["id"] for x in projects}:
        raise not_found("project")
    project = next((x for x in projects if x["id"] == project_id), projects[0] if projects else None)
    values: dict[str, Any] = {"projects": projects, "project": project}
    if project:
        pid = project["id"]
        values.update(batches=await svc.list_batches(p, pid), applications=await svc.list_applications(p, pid, limit=100),
                      moving_outs=(await svc.list_moving_outs(p, pid))[:50],
                      refunds=await svc.list_refunds(p, pid, open_only=True), deadlines=await svc.deadline_report(p, pid, as_of=utcnow()))
    return _page(request, "index", status, **values, **extra)


async def batch_page(request: Request, batch_id: int, status: int = 200, **extra: Any) -> Template:
    batch = await svc.batch_view(request.user, batch_id)
    project = await request.user.scope.get(tables.Project, batch["project_id"], tables.Project.id, tables.Project.name)
    return _page(request, "batch", status, batch=batch, project=project, **extra)


async def household_page(request: Request, household_id: int, status: int = 200, **extra: Any) -> Template:
    h = await svc.household_view(request.user, household_id)
    slots = await svc.batch_view(request.user, h["batch_id"]) if h["status"] == "invited" else {"slots": []}
    return _page(request, "household", status, h=h, slots=slots["slots"], **extra)


async def application_page(request: Request, application_id: int, status: int = 200, **extra: Any) -> Template:
    app = await svc.application_view(request.user, application_id)
    return _page(request, "application", status, app=app, now=utcnow(), **extra)


async def permit_page(request: Request, permit_id: int, status: int = 200, **extra: Any) -> Template:
    permit = await svc.get_permit(request.user, permit_id)
    return _page(request, "permit", status, permit=permit, **extra)


async def moving_out_page(request: Request, moving_out_id: int, status: int = 200, **extra: Any) -> Template:
    now = utcnow()
    row = await svc.get_moving_out(request.user, moving_out_id, now=now)
    people = await svc.who_may_confirm(request.user, moving_out_id, now=now)
    return _page(request, "moving_out", status, mo=row, people=people, **extra)


class PortalController(Controller):
    """The plugin's pages; forms post back here."""

    path = PORTAL
    include_in_schema = False

    # -------------------------------------------------------- overview

    @get("/")
    async def portal_index(self, request: Request, project_id: int | None = None) -> Template:
        """Batches, applications by state, deadlines, deposits to refund and moving out of one project."""
        return await index_page(request, project_id)

    @post("/batches")
    async def portal_create_batch(self, request: Request, data: dict[str, Any] = FORM) -> Response:
        form = _form(data)
        pid = _int(form, "project_id", required=False)

        async def run() -> str:
            batch = await svc.create_batch(request.user, {
                "project_id": _int(form, "project_id"), "code": _str(form, "code", 30), "name": _str(form, "name", 200),
                "starts_on": _day(form, "starts_on"), "ends_on": _day(form, "ends_on")}, now=utcnow())
            return f"{PORTAL}/batches/{batch['id']}"

        return await _submit(run, lambda **kw: index_page(request, pid, **kw), form, "batch")

    @post("/applications")
    async def portal_create_application(self, request: Request, data: dict[str, Any] = FORM) -> Response:
        form = _form(data)
        pid = _int(form, "project_id", required=False)

        async def run() -> str:
            unit_id = await _unit_from(request, form, _int(form, "project_id"))
            workers = []
            for i, line in enumerate(_lines(form, "workers")):
                parts = [x.strip() for x in re.split(r"[,，]", line)]
                if len(parts) < 2:
                    raise invalid("workers", f"line {i + 1}: name, ID number[, phone, trade]")
                workers.append({"name": parts[0], "id_number": parts[1], "phone": parts[2] if len(parts) > 2 else "",
                                "trade": parts[3] if len(parts) > 3 else ""})
            app = await svc.create_application(request.user, {
                "unit_id": unit_id, "customer_id": await _holder(request, form, unit_id),
                "contractor_company": _str(form, "contractor_company", 200),
                "contractor_manager": _str(form, "contractor_manager", 100),
                "contractor_phone": _str(form, "contractor_phone", 40), "scope": _str(form, "scope", 5000),
                "structural_change": form.get("structural_change") == "on", "starts_on": _day(form, "starts_on"),
                "ends_on": _day(form, "ends_on"), "deposit_fen": _fen(form, "deposit_yuan"), "workers": workers},
                now=utcnow())
            return f"{PORTAL}/applications/{app['id']}"

        return await _submit(run, lambda **kw: index_page(request, pid, **kw), form, "application")

    @post("/moving-outs")
    async def portal_create_moving_out(self, request: Request, data: dict[str, Any] = FORM) -> Response:
        form = _form(data)
        pid = _int(form, "project_id", required=False)

        async def run() -> str:
            items = []
            for line in _lines(form, "items"):
                desc, _, qty = line.partition("*")
                items.append({"description": desc.strip()[:200], "quantity": int(qty) if qty.strip().isdigit() else 1})
            row = await svc.request_moving_out(request.user, {
                "unit_id": await _unit_from(request, form, _int(form, "project_id")), "items": items,
                "carrier_name": _str(form, "carrier_name", 100), "carrier_phone": _str(form, "carrier_phone", 40),
                "window_start": _moment(form, "window_start", required=True),
                "window_end": _moment(form, "window_end", required=True)}, now=utcnow())
            return f"{PORTAL}/moving-outs/{row['id']}"

        return await _submit(run, lambda **kw: index_page(request, pid, **kw), form, "moving_out")

    # -------------------------------------------------------- move-in

    @get("/batches/{batch_id:int}")
    async def portal_batch(self, request: Request, batch_id: int) -> Template:
        """Templates, appointment slots, households and the per-day 15/30-minute report of a batch."""
        return await batch_page(request, batch_id)

    @post("/batches/{batch_id:int}/{action:str}")
    async def portal_batch_action(self, request: Request, batch_id: int, action: str,
                                  data: dict[str, Any] = FORM) -> Response:
        batch = await svc.get_batch(request.user, batch_id)  # another company's batch is a 404 before the form
        form, url, p = _form(data), f"{PORTAL}/batches/{batch_id}", request.user

        async def slot() -> str:
            await svc.add_slot(p, batch_id, {"starts_at": _moment(form, "starts_at", required=True),
                                             "ends_at": _moment(form, "ends_at", required=True),
                                             "capacity": _int(form, "capacity", required=False) or 1})
            return url

        async def household() -> str:
            unit_id = await _unit_from(request, form, batch["project_id"])
            row = await svc.add_household(p, batch_id, {
                "unit_id": unit_id, "customer_id": await _holder(request, form, unit_id),
                "fees": _fee_lines(form), "slot_id": _int(form, "slot_id", required=False)}, now=utcnow())
            return f"{PORTAL}/households/{row['id']}"

        actions = {"slots": slot, "households": household}
        if action not in actions:
            raise not_found("action")
        return await _submit(actions[action], lambda **kw: batch_page(request, batch_id, **kw), form, action)

    @post("/templates/{template_id:int}")
    async def portal_template(self, request: Request, template_id: int, data: dict[str, Any] = FORM) -> Response:
        row = await svc.fetch_row(request.user.scope, svc.Template, template_id, "template")
        await svc.get_batch(request.user, row["batch_id"])
        form = _form(data)

        async def run() -> str:
            await svc.update_template(request.user, template_id, {"title": _str(form, "title", 200),
                                                                  "body": _str(form, "body", 20000)}, now=utcnow())
            return f"{PORTAL}/batches/{row['batch_id']}"

        return await _submit(run, lambda **kw: batch_page(request, row["batch_id"], **kw), form, f"template{template_id}")

    @get("/households/{household_id:int}")
    async def portal_household(self, request: Request, household_id: int) -> Template:
        """The desk page of a household: check in, serve, verify, hand over, inspect, finish."""
        return await household_page(request, household_id)

    @post("/households/{household_id:int}/{action:str}")
    async def portal_household_action(self, request: Request, household_id: int, action: str,
                                      data: dict[str, Any] = FORM) -> Response:
        h = await svc.get_household(request.user, household_id)
        form, url, p = _form(data), f"{PORTAL}/households/{household_id}", request.user
        now = utcnow()

        async def run() -> str:
            if action == "appointment":
                await svc.book_slot(p, household_id, _int(form, "slot_id"), now=now)
            elif action == "deliver":
                await svc.deliver_notice(p, household_id, now=now)
            elif action == "arrive":
                await svc.arrive(p, household_id, at=_moment(form, "at") or now)
            elif action == "start":
                await svc.start_desk(p, household_id, at=_moment(form, "at") or now)
            elif action == "documents":
                names = (await svc.settings_for(p.tenant_id, h["project_id"]))["move_in_documents"]
                await svc.check_documents(p, household_id, {n: form.get(f"doc{i}") == "on" for i, n in enumerate(names)},
                                          now=now)
            elif action == "handover":
                cards = _str(form, "access_cards", 3) or "0"
                if not cards.isdigit():
                    raise invalid("access_cards", "a number")
                await svc.hand_over(p, household_id, _int(form, "keys") or 0, int(cards), now=now)
            elif action == "inspection":
                items = []
                for line in _lines(form, "items"):
                    defect = line.startswith(("!", "！"))
                    location, _, description = line.lstrip("!！ ").partition(":")
                    items.append({"location": location.strip(), "description": description.strip(), "defect": defect})
                await svc.record_inspection(p, household_id, items, now=now)
            elif action == "finish":
                await svc.finish(p, household_id, at=_moment(form, "at") or now,
                                 move_in_date=_day(form, "move_in_date", required=False))
            return url

        if action not in ("appointment", "deliver", "arrive", "start", "documents", "handover", "inspection", "finish"):
            raise not_found("action")
        return await _submit(run, lambda **kw: household_page(request, household_id, **kw), form, action)

    @get("/documents/{document_id:int}")
    async def portal_document(self, request: Request, document_id: int) -> Template:
        """A generated document, ready to print."""
        doc = await svc.get_document(request.user, document_id)
        return _page(request, "document", doc=doc)

    # -------------------------------------------------------- decoration

    @get("/applications/{application_id:int}")
    async def portal_application(self, request: Request, application_id: int) -> Template:
        """An application with every step: review, problems told, permit, patrols, acceptance, refund."""
        return await application_page(request, application_id)

    @post("/applications/{application_id:int}/drawings", request_max_body_size=UPLOAD_BODY)
    async def portal_drawing(self, request: Request, application_id: int) -> Response:
        await svc.get_application(request.user, application_id)
        form: dict[str, Any] = {}

        async def run() -> str:
            filename, content, others = await attachments.read_upload(request)
            form.update(_form(others))
            await svc.add_attachment(request.user, application_id, kind="drawing", label=_str(form, "label", 100),
                                     filename=filename, content=content, now=utcnow())
            return f"{PORTAL}/applications/{application_id}"

        return await _submit(run, lambda **kw: application_page(request, application_id, **kw), form, "drawing")

    @post("/applications/{application_id:int}/{action:str}")
    async def portal_application_action(self, request: Request, application_id: int, action: str,
                                        data: dict[str, Any] = FORM) -> Response:
        await svc.get_application(request.user, application_id)
        form, url, p = _form(data), f"{PORTAL}/applications/{application_id}", request.user
        now = utcnow()

        async def run() -> str:
            if action == "worker":
                await svc.add_worker(p, application_id, {"name": _str(form, "name", 100),
                                                         "id_number": _str(form, "id_number", 40),
                                                         "phone": _str(form, "phone", 40), "trade": _str(form, "trade", 50)})
            elif action == "structural":
                await svc.structural_review(p, application_id, form.get("approve") == "yes", _str(form, "note"), now=now)
            elif action == "problems":
                await svc.record_problems(p, application_id, _lines(form, "problems"), _str(form, "note"), now=now)
            elif action == "resubmit":
                await svc.resubmit(p, application_id, now=now, note=_str(form, "note"))
            elif action == "approve":
                await svc.approve(p, application_id, now=now, note=_str(form, "note"))
            elif action == "reject":
                await svc.reject(p, application_id, _str(form, "reason"), now=now)
            elif action == "patrol":
                violations = [{"description": line, "correct_by": _moment(form, "correct_by")}
                              for line in _lines(form, "violations")]
                await svc.record_patrol(p, application_id, {"at": _moment(form, "at") or now, "note": _str(form, "note"),
                                                            "violations": violations}, now=now)
            elif action == "acceptance":
                await svc.request_acceptance(p, application_id, now=now)
            return url

        if action not in ("worker", "structural", "problems", "resubmit", "approve", "reject", "patrol", "acceptance"):
            raise not_found("action")
        return await _submit(run, lambda **kw: application_page(request, application_id, **kw), form, action)

    @post("/notices/{notice_id:int}/told")
    async def portal_told(self, request: Request, notice_id: int, data: dict[str, Any] = FORM) -> Response:
        notice = await svc.get_notice(request.user, notice_id)
        form = _form(data)

        async def run() -> str:
            via = _str(form, "via", 20)
            if via not in ("phone", "in_person", "notification"):
                raise invalid("via", "phone, in_person or notification")
            await svc.mark_told(request.user, notice_id, via, at=_moment(form, "at") or utcnow(), note=_str(form, "note"))
            return f"{PORTAL}/applications/{notice['application_id']}"

        return await _submit(run, lambda **kw: application_page(request, notice["application_id"], **kw), form,
                             f"notice{notice_id}")

    @post("/patrols/{patrol_id:int}/photos", request_max_body_size=UPLOAD_BODY)
    async def portal_photo(self, request: Request, patrol_id: int) -> Response:
        patrol = await svc.get_patrol(request.user, patrol_id)
        form: dict[str, Any] = {}

        async def run() -> str:
            filename, content, others = await attachments.read_upload(request)
            form.update(_form(others))
            await svc.add_attachment(request.user, patrol["application_id"], kind="patrol_photo",
                                     label=_str(form, "label", 100), filename=filename, content=content, now=utcnow(),
                                     patrol_id=patrol_id)
            return f"{PORTAL}/applications/{patrol['application_id']}"

        return await _submit(run, lambda **kw: application_page(request, patrol["application_id"], **kw), form,
                             f"patrol{patrol_id}")

    @post("/violations/{violation_id:int}/corrected")
    async def portal_corrected(self, request: Request, violation_id: int, data: dict[str, Any] = FORM) -> Response:
        violation = await svc.fetch_row(request.user.scope, svc.Violation, violation_id, "violation")
        await svc.get_application(request.user, violation["application_id"])
        form = _form(data)

        async def run() -> str:
            await svc.correct_violation(request.user, violation_id, at=_moment(form, "at") or utcnow(),
                                        note=_str(form, "note"))
            return f"{PORTAL}/applications/{violation['application_id']}"

        return await _submit(run, lambda **kw: application_page(request, violation["application_id"], **kw), form,
                             f"violation{violation_id}")

    @post("/acceptances/{acceptance_id:int}/inspection")
    async def portal_inspection(self, request: Request, acceptance_id: int, data: dict[str, Any] = FORM) -> Response:
        acceptance = await svc.get_acceptance(request.user, acceptance_id)
        form = _form(data)

        async def run() -> str:
            await svc.inspect(request.user, acceptance_id, {
                "passed": form.get("passed") == "yes", "fixes": _lines(form, "fixes"), "note": _str(form, "note"),
                "reinspect_on": _day(form, "reinspect_on", required=False)}, at=_moment(form, "at") or utcnow())
            return f"{PORTAL}/applications/{acceptance['application_id']}"

        return await _submit(run, lambda **kw: application_page(request, acceptance["application_id"], **kw), form,
                             f"acceptance{acceptance_id}")

    @post("/refunds/{refund_id:int}/refunded")
    async def portal_refunded(self, request: Request, refund_id: int, data: dict[str, Any] = FORM) -> Response:
        refund = await svc.get_refund(request.user, refund_id)
        form = _form(data)

        async def run() -> str:
            method = _str(form, "method", 20)
            if method not in ("bank_transfer", "cash", "wechat", "alipay", "original_route"):
                raise invalid("method", "how the deposit was paid back")
            await svc.record_refund(request.user, refund_id, {"method": method, "reference": _str(form, "reference", 100)},
                                    at=_moment(form, "at") or utcnow())
            return f"{PORTAL}/applications/{refund['application_id']}"

        return await _submit(run, lambda **kw: application_page(request, refund["application_id"], **kw), form,
                             "refund")

    @get("/permits/{permit_id:int}")
    async def portal_permit(self, request: Request, permit_id: int) -> Template:
        """The decoration permit (printable) and the form to report works outside its hours."""
        return await permit_page(request, permit_id)

    @post("/permits/{permit_id:int}/hours-reports")
    async def portal_hours_report(self, request: Request, permit_id: int, data: dict[str, Any] = FORM) -> Response:
        await svc.get_permit(request.user, permit_id)
        form = _form(data)

        async def run() -> str:
            channel = _str(form, "channel", 20) or "walk_in"
            if channel not in ("walk_in", "hotline", "wechat", "online", "patrol"):
                raise invalid("channel", "walk_in, hotline, wechat, online or patrol")
            row = await svc.report_outside_hours(request.user, permit_id, {
                "observed_at": _moment(form, "observed_at", required=True), "description": _str(form, "description"),
                "customer_id": _int(form, "customer_id", required=False), "channel": channel}, now=utcnow())
            return f"{PORTAL}/permits/{permit_id}?msg=" + f"complaint%20%23{row['ticket_id']}"

        return await _submit(run, lambda **kw: permit_page(request, permit_id, **kw), form, "hours")

    # -------------------------------------------------------- moving out

    @get("/moving-outs/{moving_out_id:int}")
    async def portal_moving_out(self, request: Request, moving_out_id: int) -> Template:
        """A moving-out pass: the owner's confirmation, then the release (both recorded)."""
        return await moving_out_page(request, moving_out_id)

    @post("/moving-outs/{moving_out_id:int}/{action:str}")
    async def portal_moving_out_action(self, request: Request, moving_out_id: int, action: str,
                                       data: dict[str, Any] = FORM) -> Response:
        await svc.get_moving_out(request.user, moving_out_id)
        if action not in ("confirm", "link", "reject", "release"):
            raise not_found("action")
        form = _form(data)

        async def run() -> str:
            await svc.moving_out_action(request.user, moving_out_id, action, now=utcnow(),
                                        customer_id=_int(form, "customer_id", required=action in ("confirm", "link")),
                                        reason=_str(form, "reason", 500), note=_str(form, "note", 1000))
            return f"{PORTAL}/moving-outs/{moving_out_id}"

        return await _submit(run, lambda **kw: moving_out_page(request, moving_out_id, **kw), form, action)


PORTAL_ROUTES = [PortalController]
