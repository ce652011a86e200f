"""Portal pages of parking leases for the front desk: plain POST forms with the CSRF field.

Each form posts to its own URL; on success the browser is sent to the page that shows the result (303),
on a problem the page comes back (422/409/403) with what was typed and the message beside its field.
A row of another company (or outside the staff member's projects) is a 404 before the form is read.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import MediaType, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from core import Principal, Problem, invalid, utcnow
from core import tables as ct
from plugins.parking_leases import services as svc
from plugins.parking_leases.tables import Space

BASE = "/portal/parking-leases"
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
MULTIPART = Body(media_type=RequestEncodingType.MULTI_PART)
MAX_UPLOAD = 20 * 1024 * 1024
CUSTOMER_MATCHES = 10


# ---------------------------------------------------------------- form helpers

def _form(data: dict[str, Any] | None) -> dict[str, str]:
    """Form values as trimmed strings (a repeated field keeps its last value; files are left out)."""
    out: dict[str, str] = {}
    for key, value in (data or {}).items():
        if isinstance(value, list):
            value = value[-1] if value else ""
        if isinstance(value, UploadFile):
            continue
        out[str(key)[:80]] = str(value)[:4000].strip()
    return out


def _many(data: dict[str, Any] | None, key: str) -> list[str]:
    value = (data or {}).get(key)
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _int(text: str | None) -> int | None:
    try:
        number = int(str(text or "").strip())
    except ValueError:
        return None
    return number if 0 < number < 2**53 else None


def _fen(text: str, field: str) -> int:
    """Yuan as typed ("500", "500.00", "1,200.5") → fen."""
    try:
        value = Decimal(text.replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        raise invalid(field, "is not an amount in yuan (e.g. 500.00)") from None
    if not value.is_finite() or value < 0 or value > Decimal("10000000"):
        raise invalid(field, "must be between 0 and 10,000,000 yuan")
    if value != value.quantize(Decimal("0.01")):
        raise invalid(field, "has more than 2 decimals")
    return int(value * 100)


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise invalid(field, "is not a date (YYYY-MM-DD)") from None


def _plates(text: str) -> list[str]:
    return [p for p in re.split(r"[,，;；\s]+", text) if p]


def _choice(value: str, allowed: dict[str, Any], field: str) -> str:
    if value not in allowed:
        raise invalid(field, f"choose one of {', '.join(allowed)}")
    return value


def _errors(exc: Problem, renames: dict[str, str] | None = None) -> dict[str, str]:
    """A problem as {form field: message}; `plates.1` → `plates`, no field → `_` (shown above the form)."""
    renames = renames or {}
    errors: dict[str, str] = {}
    for item in exc.errors:
        field = str(item.get("field") or "")
        message = str(item.get("message") or exc.detail)
        if field and message.startswith(field + ": "):
            message = message[len(field) + 2:]
        base = renames.get(field) or renames.get(field.split(".")[0]) or field.split(".")[0]
        errors.setdefault(field, message)
        errors.setdefault(base or "_", message)
    if not errors:
        errors["_"] = exc.detail
    return errors


def _status(exc: Problem) -> int:
    return exc.status if exc.status in (403, 409, 413) else 422


def _ctx(request: Request, **values: Any) -> dict[str, Any]:
    p: Principal = request.user
    return {"me": p, "types": svc.SPACE_TYPES, "statuses": svc.SPACE_STATUSES, "terms": svc.TERM_LABELS,
            "app_statuses": svc.APPLICATION_STATUSES, "yuan": lambda fen: f"{(fen or 0) / 100:,.2f}",
            "can_handle": p.can("parking_leases.handle"), "can_manage": p.can("parking_leases.manage"),
            "form_name": "", "form": {}, "errors": {}, **values}


# ---------------------------------------------------------------- customers of a project

async def find_customers(p: Principal, project_id: int, q: str, limit: int = CUSTOMER_MATCHES) -> list[dict[str, Any]]:
    """Customers holding a unit of the project now whose name, phone or room matches `q`
    (`101`, `1-101`, `1-1-101` = building-entrance-room)."""
    q = q.strip()[:50]
    if not q:
        return []
    O = ct.Occupancy
    query = p.scope.select(O, O.customer_id, O.customer_id.name.as_alias("name"), O.role,
                           O.unit_id.building_id.code.as_alias("building"), O.unit_id.entrance.as_alias("entrance"),
                           O.unit_id.room.as_alias("room")).where(
        (O.unit_id.project_id == project_id) & O.end_date.is_null())
    parts = [x for x in re.split(r"[-/\s]+", q) if x]
    like = "%" + q.replace("%", "").replace("_", "") + "%"
    if len(parts) == 3:
        clause = (O.unit_id.building_id.code == parts[0]) & (O.unit_id.entrance == parts[1]) & (O.unit_id.room == parts[2])
    elif len(parts) == 2:
        clause = (O.unit_id.building_id.code == parts[0]) & (O.unit_id.room == parts[1])
    elif q.isdigit():
        clause = (O.unit_id.room == q) | O.customer_id.phone.like(like)
    else:
        clause = O.customer_id.name.like(like)
    rows = await query.where(clause).order_by(O.customer_id).limit(limit * 3)
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        unit = "-".join(x for x in (r["building"], r["entrance"], r["room"]) if x)
        hit = out.setdefault(r["customer_id"], {"id": r["customer_id"], "name": r["name"], "units": []})
        hit["units"].append(f"{unit} ({r['role']})")
    return list(out.values())[:limit]


# ---------------------------------------------------------------- the project page and its forms

async def _project_context(request: Request, project_id: int, **extra: Any) -> dict[str, Any]:
    p: Principal = request.user
    project = await svc.project_for(p, project_id)
    now = utcnow()
    tenant = await ct.Tenant.select(ct.Tenant.slug).where(ct.Tenant.id == p.tenant_id).first()
    return _ctx(
        request, project=project, tenant_slug=tenant["slug"], plan=await svc.plan_of(p.scope, project_id),
        garages=await svc.list_garages(p, project_id), occupancy=await svc.occupancy_report(p, project_id),
        waitlist=await svc.list_waitlist(p, project_id), waitlist_report=await svc.waitlist_report(p, project_id, as_of=now),
        applications=(await svc.list_applications(p, project_id, limit=30))[:30],
        leases=(await svc.list_leases(p, project_id, status="active", limit=30))[:30],
        ending=(await svc.list_leases(p, project_id, status="active",
                                      ending_before=svc.local_date(now) + timedelta(days=30), limit=30))[:30],
        handling=await svc.handling_report(p, project_id), income=await svc.income_report(p, project_id),
        created=request.query_params.get("created", ""), **{"matches": [], **extra})


@get(f"{BASE}/projects/{{project_id:int}}", include_in_schema=False)
async def portal_project(request: Request, project_id: int) -> Template:
    """The project's parking: plan, occupancy, waiting list, applications, leases and the desk's forms."""
    ctx = await _project_context(request, project_id)
    return Template("parking_leases/project.html", media_type=MediaType.HTML, context=ctx)


async def _project_form_error(request: Request, project_id: int, name: str, form: dict[str, str], exc: Problem,
                              **extra: Any) -> Template:
    if exc.status == 404:
        raise exc
    ctx = await _project_context(request, project_id, form_name=name, form=form, errors=_errors(exc), **extra)
    return Template("parking_leases/project.html", media_type=MediaType.HTML, context=ctx, status_code=_status(exc))


@post(f"{BASE}/projects/{{project_id:int}}/applications", include_in_schema=False)
async def portal_create_application(request: Request, project_id: int, data: dict[str, Any] = FORM) -> Any:
    """A customer applies at the desk: find them (name, phone or room), then type, term and plates."""
    p: Principal = request.user
    await svc.project_for(p, project_id)  # another company's project: 404 before the form is read
    form = _form(data)
    matches: list[dict[str, Any]] = []
    try:
        p.require("parking_leases.handle")
        customer_id = _int(form.get("customer_id"))
        if customer_id is None:
            if not form.get("customer_q"):
                raise invalid("customer_q", "type the customer's name, phone or room (e.g. 1-1-101)")
            matches = await find_customers(p, project_id, form["customer_q"])
            if not matches:
                raise invalid("customer_q", "no customer of this project matches")
            if len(matches) >= CUSTOMER_MATCHES:
                raise invalid("customer_q", f"{CUSTOMER_MATCHES} or more customers match: pick one, or type a phone or room")
            if len(matches) > 1:
                raise invalid("customer_q", f"{len(matches)} customers match; pick one")
            customer_id = matches[0]["id"]
        body = {"project_id": project_id, "customer_id": customer_id,
                "space_type": _choice(form.get("space_type", ""), svc.SPACE_TYPES, "space_type"),
                "term": _choice(form.get("term", ""), svc.TERM_LABELS, "term"),
                "plates": _plates(form.get("plates", ""))[:5], "note": form.get("note", "")[:1000]}
        app = await svc.create_application(p, body, now=utcnow())
    except Problem as exc:
        if not matches and form.get("customer_q"):
            matches = await find_customers(p, project_id, form["customer_q"])
        errors_exc = exc
        if exc.errors and exc.errors[0].get("field") == "customer_id":
            errors_exc = Problem(exc.status, exc.title, exc.detail, field="customer_q")
        return await _project_form_error(request, project_id, "application", form, errors_exc, matches=matches)
    return Redirect(f"{BASE}/applications/{app['id']}", status_code=303)


@post(f"{BASE}/projects/{{project_id:int}}/garages", include_in_schema=False)
async def portal_create_garage(request: Request, project_id: int, data: dict[str, Any] = FORM) -> Any:
    p: Principal = request.user
    await svc.project_for(p, project_id)
    form = _form(data)
    try:
        p.require("parking_leases.manage")
        code, name = form.get("code", ""), svc.clean(form.get("name", ""))
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,30}", code):
            raise invalid("code", "letters, digits, dot, dash or underscore (at most 30), e.g. B3")
        if not name or len(name) > 100:
            raise invalid("name", "give a name of at most 100 characters")
        await svc.create_garage(p, {"project_id": project_id, "code": code, "name": name,
                                    "kind": _choice(form.get("kind", "garage"), {"garage": 1, "surface": 1}, "kind")})
    except Problem as exc:
        return await _project_form_error(request, project_id, "garage", form, exc)
    return Redirect(f"{BASE}/projects/{project_id}?created=garage", status_code=303)


@post(f"{BASE}/projects/{{project_id:int}}/spaces", include_in_schema=False)
async def portal_create_spaces(request: Request, project_id: int, data: dict[str, Any] = FORM) -> Any:
    """Bulk-create spaces of a garage from a range of numbers, e.g. B3-001 … B3-120 (all or nothing)."""
    p: Principal = request.user
    await svc.project_for(p, project_id)
    form = _form(data)
    try:
        p.require("parking_leases.manage")
        garage_id = _int(form.get("garage_id"))
        garage = None
        if garage_id is not None:
            try:
                garage = await svc.get_garage(p, garage_id)
            except Problem as exc:
                if exc.status != 404:
                    raise
        if garage is None or garage["project_id"] != project_id:
            raise invalid("garage_id", "choose a garage of this project")
        for field in ("first", "last"):
            if not form.get(field) or len(form[field]) > 30:
                raise invalid(field, "give a space number of at most 30 characters, e.g. B3-001")
        if len(form.get("zone", "")) > 30:
            raise invalid("zone", "at most 30 characters")
        result = await svc.create_space_range(p, garage["id"], {
            "first": form["first"], "last": form["last"], "zone": form.get("zone", ""),
            "space_type": _choice(form.get("space_type", ""), svc.SPACE_TYPES, "space_type")})
    except Problem as exc:
        return await _project_form_error(request, project_id, "spaces", form, exc)
    return Redirect(f"{BASE}/projects/{project_id}?created={result['created']}#spaces", status_code=303)


# ---------------------------------------------------------------- the application page and its forms

async def _application_context(request: Request, application_id: int, **extra: Any) -> dict[str, Any]:
    p: Principal = request.user
    app = await svc.get_application(p, application_id)
    customer = await p.scope.get(ct.Customer, app["customer_id"], ct.Customer.id, ct.Customer.name)
    plan = await svc.plan_of(p.scope, app["project_id"])
    fee = svc.fee_for(plan, app["space_type"], app["term"]) if plan else None
    free = []
    if app["status"] == "checked":
        free = (await svc.list_spaces(p, app["project_id"], status="free", space_type=app["space_type"], limit=100))[:100]
    offer_space = None
    if app["offer"]:
        offer_space = await p.scope.get_or_none(Space, app["offer"]["space_id"])
    return _ctx(request, app=app, customer=customer, fee=fee, free_spaces=free, offer_space=offer_space,
                attached={d["requirement"] for d in app["documents"]}, today=svc.local_date(utcnow()).isoformat(),
                **extra)


@get(f"{BASE}/applications/{{application_id:int}}", include_in_schema=False)
async def portal_application(request: Request, application_id: int) -> Template:
    ctx = await _application_context(request, application_id)
    return Template("parking_leases/application.html", media_type=MediaType.HTML, context=ctx)


async def _application_form_error(request: Request, application_id: int, name: str, form: dict[str, str],
                                  exc: Problem, renames: dict[str, str] | None = None) -> Template:
    if exc.status == 404:
        raise exc
    ctx = await _application_context(request, application_id, form_name=name, form=form,
                                     errors=_errors(exc, renames))
    return Template("parking_leases/application.html", media_type=MediaType.HTML, context=ctx, status_code=_status(exc))


def _back(application_id: int, anchor: str = "") -> Redirect:
    return Redirect(f"{BASE}/applications/{application_id}{anchor}", status_code=303)


@post(f"{BASE}/applications/{{application_id:int}}/checklist", include_in_schema=False)
async def portal_checklist(request: Request, application_id: int, data: dict[str, Any] = FORM) -> Any:
    """Tick the documents seen at the desk (a box left unticked is unticked)."""
    p: Principal = request.user
    app = await svc.get_application(p, application_id)
    ticked = set(_many(data, "doc"))
    form = {f"doc:{name}": "on" for name in ticked}
    try:
        unknown = ticked - set(app["checklist"])
        if unknown:
            raise invalid("doc", f"not a required document: {', '.join(sorted(unknown))}")
        await svc.check_documents(p, application_id, {name: name in ticked for name in app["checklist"]}, now=utcnow())
    except Problem as exc:
        return await _application_form_error(request, application_id, "checklist", form, exc)
    return _back(application_id)


@post(f"{BASE}/applications/{{application_id:int}}/documents", include_in_schema=False)
async def portal_document(request: Request, application_id: int, data: dict[str, Any] = MULTIPART) -> Any:
    """Attach a scanned document (PDF, JPEG or PNG) for one required item."""
    p: Principal = request.user
    await svc.get_application(p, application_id)
    form = _form(data)
    try:
        requirement = form.get("requirement", "")
        if not requirement:
            raise invalid("requirement", "choose the document this file is for")
        file = (data or {}).get("file")
        if isinstance(file, list):
            file = file[-1] if file else None
        if not isinstance(file, UploadFile) or not file.filename:
            raise invalid("file", "choose a file (PDF, JPEG or PNG)")
        content = await file.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            raise invalid("file", f"is larger than {MAX_UPLOAD} bytes")
        await svc.add_document(p, application_id, requirement, file.filename, file.content_type or "", content,
                               now=utcnow())
    except Problem as exc:
        return await _application_form_error(request, application_id, "document", form, exc)
    return _back(application_id, "#documents")


@post(f"{BASE}/applications/{{application_id:int}}/allocate", include_in_schema=False)
async def portal_allocate(request: Request, application_id: int, data: dict[str, Any] = FORM) -> Any:
    """Offer a free space (the one picked, or the first free one); with none free the applicant joins the
    waiting list and the written notice opens, ready to print."""
    p: Principal = request.user
    await svc.get_application(p, application_id)
    form = _form(data)
    try:
        space_id = None
        if form.get("space_id"):
            space_id = _int(form["space_id"])
            if space_id is None:
                raise invalid("space_id", "choose a space from the list")
        result = await svc.allocate(p, application_id, space_id, now=utcnow())
    except Problem as exc:
        return await _application_form_error(request, application_id, "allocate", form, exc)
    if result["outcome"] == "waiting":
        return Redirect(f"{BASE}/waitlist/{result['waitlist']['id']}", status_code=303)
    return _back(application_id, "#sign")


@post(f"{BASE}/applications/{{application_id:int}}/sign", include_in_schema=False)
async def portal_sign(request: Request, application_id: int, data: dict[str, Any] = FORM) -> Any:
    """Sign the lease of the offered space: start date, deposit and plates (the fee is the published one)."""
    p: Principal = request.user
    await svc.get_application(p, application_id)
    form = _form(data)
    try:
        body: dict[str, Any] = {"plates": _plates(form.get("plates", ""))}
        if len(body["plates"]) > 5:
            raise invalid("plates", "at most 5 plates")
        if form.get("start_date"):
            body["start_date"] = _date(form["start_date"], "start_date")
        if form.get("deposit"):
            body["deposit_fen"] = _fen(form["deposit"], "deposit")
        lease = await svc.sign_lease(p, application_id, body, now=utcnow())
    except Problem as exc:
        return await _application_form_error(request, application_id, "sign", form, exc,
                                             renames={"deposit_fen": "deposit"})
    return Redirect(f"{BASE}/leases/{lease['id']}?signed=1", status_code=303)


@post(f"{BASE}/offers/{{offer_id:int}}/accept", include_in_schema=False)
async def portal_accept_offer(request: Request, offer_id: int) -> Any:
    """The applicant accepts the offered space (before its deadline)."""
    p: Principal = request.user
    offer = await svc.get_offer(p, offer_id)
    try:
        await svc.accept_offer(p, offer_id, now=utcnow())
    except Problem as exc:
        return await _application_form_error(request, offer["application_id"], "offer", {}, exc)
    return _back(offer["application_id"], "#sign")


@post(f"{BASE}/offers/{{offer_id:int}}/decline", include_in_schema=False)
async def portal_decline_offer(request: Request, offer_id: int, data: dict[str, Any] = FORM) -> Any:
    """The applicant declines: the space is free for the next in line; the reason is kept."""
    p: Principal = request.user
    offer = await svc.get_offer(p, offer_id)
    form = _form(data)
    try:
        if len(form.get("reason", "")) > 500:
            raise invalid("reason", "at most 500 characters")
        await svc.decline_offer(p, offer_id, form.get("reason", ""), now=utcnow())
    except Problem as exc:
        return await _application_form_error(request, offer["application_id"], "offer", form, exc)
    return _back(offer["application_id"])


# ---------------------------------------------------------------- the lease page: renew and terminate

async def _lease_context(request: Request, lease_id: int, **extra: Any) -> dict[str, Any]:
    p: Principal = request.user
    lease = await svc.get_lease(p, lease_id)
    customer = await p.scope.get(ct.Customer, lease["customer_id"], ct.Customer.id, ct.Customer.name)
    plan = await svc.plan_of(p.scope, lease["project_id"])
    fees = {f["term"]: f for f in plan["fees"] if f["space_type"] == lease["space"]["space_type"]} if plan else {}
    return _ctx(request, lease=lease, customer=customer, fees=fees, today=svc.local_date(utcnow()).isoformat(),
                signed=bool(request.query_params.get("signed")), **extra)


@get(f"{BASE}/leases/{{lease_id:int}}", include_in_schema=False)
async def portal_lease(request: Request, lease_id: int) -> Template:
    ctx = await _lease_context(request, lease_id)
    return Template("parking_leases/lease.html", media_type=MediaType.HTML, context=ctx)


async def _lease_form_error(request: Request, lease_id: int, name: str, form: dict[str, str], exc: Problem) -> Template:
    if exc.status == 404:
        raise exc
    ctx = await _lease_context(request, lease_id, form_name=name, form=form, errors=_errors(exc))
    return Template("parking_leases/lease.html", media_type=MediaType.HTML, context=ctx, status_code=_status(exc))


@post(f"{BASE}/leases/{{lease_id:int}}/renew", include_in_schema=False)
async def portal_renew(request: Request, lease_id: int, data: dict[str, Any] = FORM) -> Any:
    """Extend the lease by one term at the published fee."""
    p: Principal = request.user
    await svc.get_lease(p, lease_id)
    form = _form(data)
    try:
        term = _choice(form["term"], svc.TERM_LABELS, "term") if form.get("term") else None
        await svc.renew_lease(p, lease_id, term, now=utcnow())
    except Problem as exc:
        return await _lease_form_error(request, lease_id, "renew", form, exc)
    return Redirect(f"{BASE}/leases/{lease_id}", status_code=303)


@post(f"{BASE}/leases/{{lease_id:int}}/terminate", include_in_schema=False)
async def portal_terminate(request: Request, lease_id: int, data: dict[str, Any] = FORM) -> Any:
    """End the lease early with a reason; the space is free again."""
    p: Principal = request.user
    await svc.get_lease(p, lease_id)
    form = _form(data)
    try:
        if not form.get("reason"):
            raise invalid("reason", "a termination needs a reason")
        if len(form["reason"]) > 500:
            raise invalid("reason", "at most 500 characters")
        end = _date(form["end_date"], "end_date") if form.get("end_date") else None
        await svc.terminate_lease(p, lease_id, form["reason"], end, now=utcnow())
    except Problem as exc:
        return await _lease_form_error(request, lease_id, "terminate", form, exc)
    return Redirect(f"{BASE}/leases/{lease_id}", status_code=303)


PORTAL_ROUTES = [portal_project, portal_create_application, portal_create_garage, portal_create_spaces,
                 portal_application, portal_checklist, portal_document, portal_allocate, portal_sign,
                 portal_accept_offer, portal_decline_offer, portal_lease, portal_renew, portal_terminate]
