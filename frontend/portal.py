"""The staff portal: server-rendered Jinja pages with htmx.

Login and a role-aware home, the ticket desk (create a ticket with the keyboard alone, the responsible
person shown before saving), the inbox, the ticket page with its timeline and moves, the dashboard
and the customer file. Every unsafe request passes the CSRF guard (`frontend.csrf`); pages speak
zh-CN by default and English on request (`frontend.i18n`).
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from core.attachments import MAX_BYTES as ATTACHMENT_MAX_BYTES
from core.auth import SESSION_COOKIE, login
from core.errors import Problem
from core.roles import ROLE_LABELS
from core.settings import get_settings
from core.workflow import NEEDS_REASON, OPEN_STATUSES, STATUS_LABELS, STATUSES, allowed_from
from frontend import csrf, i18n, services

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"
PRIORITY_LABELS = {"emergency": ("紧急", "Emergency"), "normal": ("一般", "Normal")}
UNIT_ROLE_LABELS = {"owner": ("业主", "Owner"), "renter": ("租户", "Renter"), "company": ("企业", "Company"),
                    "resident": ("住户", "Resident")}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
SEARCH_LIMIT = 8


# ---------------------------------------------------------------- templates

def _labels(group: str, key: str | None) -> tuple[str, str]:
    if key is None:
        return ("", "")
    if group == "status":
        return STATUS_LABELS.get(key, (key, key))
    if group == "role":
        return ROLE_LABELS.get(key, (key, key))
    if group == "unit_role":
        return UNIT_ROLE_LABELS.get(key, (key, key))
    if group == "priority":
        return PRIORITY_LABELS.get(key, (key, key))
    if group == "channel":
        from core.tickets import CHANNELS

        return CHANNELS.get(key, (key, key))
    if group == "kind":
        from core.tickets import ticket_kinds

        found = ticket_kinds().get(key)
        return (found[1].label_zh, found[1].label_en) if found else (key, key)
    return (key, key)


def _label(context: Any, group: str, key: str | None) -> str:
    zh, en = _labels(group, key)
    return en if i18n.language_of(context.get("request")) == "en" else zh


def _local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(services.BEIJING).strftime(fmt) if isinstance(value, datetime) else ""


def configure_engine(engine: Any) -> None:
    """Jinja: i18n (`_`, `{% trans %}`), labels, CSRF helpers and Beijing-time dates for every template."""
    from jinja2 import pass_context

    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(pick=i18n.pick, lang=i18n.current_language, languages=i18n.LANGUAGES,
                       csrf_token=csrf.csrf_token, csrf_field=csrf.csrf_field, label=pass_context(_label))
    env.filters["local"] = _local


def template_config() -> TemplateConfig:
    from litestar.contrib.jinja import JinjaTemplateEngine

    from core.plugins import get_registry

    dirs = [TEMPLATE_DIR, *[Path(d) for _, d in get_registry().collect("register_template_dirs")]]
    return TemplateConfig(directory=dirs, engine=JinjaTemplateEngine, engine_callback=configure_engine)


async def page(request: Request, template: str, *, status_code: int = 200, nav: str = "", **context: Any) -> Template:
    """A full portal page: the principal, its menu, the calendar banner and the CSRF cookie."""
    me = request.user
    ctx = {"me": me, "menu": await services.menu(me), "nav": nav,
           "banner": services.calendar_banner(me, services.today_in_china()), **context}
    return Template(template, context=ctx, status_code=status_code, cookies=csrf.ensure_cookie(request),
                    media_type=MediaType.HTML)


def partial(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Template:
    return Template(template, context={"me": getattr(request, "user", None), **context}, status_code=status_code,
                    media_type=MediaType.HTML)


def _form(data: dict[str, Any] | None) -> dict[str, str]:
    """Form values as short strings (a repeated field keeps its last value)."""
    out: dict[str, str] = {}
    for key, value in (data or {}).items():
        if isinstance(value, list):
            value = value[-1] if value else ""
        out[str(key)[:80]] = str(value)[:4000]
    return out


def _int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _safe_next(value: str | None, default: str = "/portal") -> str:
    value = (value or "").strip()
    if value.startswith("/") and not value.startswith("//") and "\\" not in value and "\n" not in value:
        return value
    return default


def _errors_of(exc: Problem) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in exc.errors:
        field = str(item.get("field") or "")
        message = str(item.get("message") or exc.detail)
        if field and message.startswith(field + ": "):
            message = message[len(field) + 2:]
        errors.setdefault(field or "_", message)
    if not errors:
        errors["_"] = exc.detail
    return errors


_MSGSPEC_FIELD = re.compile(r"at `\$\.([\w.]+)")


# ---------------------------------------------------------------- login, logout, language, home

@get("/", exclude_from_auth=True, include_in_schema=False)
async def root() -> Redirect:
    return Redirect("/portal")


@get("/portal/login", exclude_from_auth=True, include_in_schema=False)
async def login_page(request: Request, next: str | None = None) -> Template:  # noqa: A002
    return Template("portal/login.html", context={"error": "", "errors": {}, "form": {"next": _safe_next(next, "")}},
                    cookies=csrf.ensure_cookie(request), media_type=MediaType.HTML)


@post("/portal/login", exclude_from_auth=True, include_in_schema=False)
async def login_submit(request: Request, data: dict[str, Any] = FORM) -> Any:
    form = _form(data)
    form = {k: form.get(k, "")[:200] for k in ("login", "password", "tenant", "next", "new_password", "new_password2")}
    try:
        if form["new_password"] and form["new_password"] != form["new_password2"]:
            raise Problem(422, "Invalid input", i18n.translate(i18n.language_of(request), "两次输入的新密码不一致"),
                          field="new_password2")
        result = await login(form["login"], form["password"], form["tenant"] or None, kind="session",
                             address=request.client.host if request.client else "",
                             hours=get_settings().server.session_hours, new_password=form["new_password"] or None)
    except Problem as exc:
        kept = {k: form[k] for k in ("login", "tenant", "next")}  # never echo a password back
        errors = _errors_of(exc)
        change = bool(form["new_password"]) or "new_password" in errors or "new_password2" in errors
        return Template("portal/login.html", context={"error": exc.detail, "errors": errors, "form": kept,
                                                      "change": change},
                        status_code=exc.status, cookies=csrf.ensure_cookie(request), media_type=MediaType.HTML)
    response = Redirect(_safe_next(form["next"], "/portal"), status_code=303)
    response.set_cookie(SESSION_COOKIE, result["token"], httponly=True, samesite="lax", path="/",
                        max_age=get_settings().server.session_hours * 3600, secure=request.url.scheme == "https")
    return response


@post("/portal/logout", include_in_schema=False)
async def logout(request: Request) -> Redirect:
    from core.auth import revoke

    if request.user.token_id:
        await revoke(request.user.tenant_id, request.user.token_id)
    response = Redirect("/portal/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@post("/portal/lang", exclude_from_auth=True, include_in_schema=False)
async def set_language(data: dict[str, Any] = FORM) -> Redirect:
    """Switch the portal's language; the choice sticks in a cookie for a year."""
    form = _form(data)
    lang = form.get("lang", "")
    response = Redirect(_safe_next(form.get("next"), "/portal"), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(i18n.LANG_COOKIE, lang, max_age=365 * 24 * 3600, path="/", samesite="lax", httponly=True)
    return response


@get("/portal", include_in_schema=False)
async def home(request: Request) -> Redirect:
    """The role's home: the desk, its grids' tickets, its project, or every project."""
    return Redirect(services.role_home(request.user))


@get("/portal/menu", include_in_schema=False)
async def menu_partial(request: Request) -> Template:
    """The menu for pages that did not build it (plugin pages load it with htmx)."""
    return partial(request, "portal/_menu.html", menu=await services.menu(request.user), nav="")


# ---------------------------------------------------------------- the desk

async def _desk_context(request: Request, form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    from core.tickets import CHANNELS, kinds_for

    me = request.user
    projects = await services.visible_projects(me)
    project_id = _int(form.get("project_id")) or (projects[0]["id"] if projects else None)
    kinds = await kinds_for(me.tenant_id, None)
    kind = form.get("kind") or ("repair" if "repair" in kinds else next(iter(kinds), ""))
    customers = await services.find_customers(me, form["q"]) if form.get("q") else []
    return {"form": {**form, "kind": kind, "project_id": str(project_id or "")}, "errors": errors,
            "projects": projects, "kinds": kinds, "channels": CHANNELS, "priorities": PRIORITY_LABELS,
            "buildings": await services.buildings(me, project_id), "customers": customers,
            "picked": form.get("pick", ""), "kind_fields": kinds[kind].form_fields if kind in kinds else (),
            "preview": await _preview_for(request, form | {"kind": kind, "project_id": str(project_id or "")})}


async def _pick(request: Request, value: str | None) -> tuple[int | None, int | None]:
    """A picked customer and unit ("customer_id:unit_id")."""
    if not value or ":" not in value:
        return None, None
    customer, _, unit = value.partition(":")
    return _int(customer), _int(unit)


async def _preview_for(request: Request, form: dict[str, str]) -> dict[str, Any]:
    from core.tables import Unit

    me = request.user
    _, unit_id = await _pick(request, form.get("pick"))
    project_id = _int(form.get("project_id"))
    if unit_id:
        unit = await me.scope.get_or_none(Unit, unit_id)
        if unit is not None and me.sees_project(unit["project_id"]):
            project_id = unit["project_id"]
        else:
            unit_id = None
    return await services.responsible_preview(me, project_id=project_id, kind=form.get("kind", ""), unit_id=unit_id,
                                              building_id=_int(form.get("building_id")), channel=form.get("channel", ""),
                                              priority=form.get("priority") or "normal")


@get("/portal/desk", include_in_schema=False)
async def desk(request: Request, q: str | None = None) -> Template:
    """The front desk: the new-ticket form and the tickets received here."""
    from core.tickets import list_tickets

    ctx = await _desk_context(request, {"q": (q or "")[:50], "channel": "hotline", "priority": "normal"}, {})
    recent = await list_tickets(request.user, mine=True, status="open", limit=10)
    return await page(request, "portal/desk.html", nav="desk", recent=recent["items"], now=_now(), **ctx)


@get("/portal/desk/customers", include_in_schema=False)
async def desk_customers(request: Request, q: str | None = None, pick: str | None = None) -> Template:
    """Customers and their units matching what is typed (unit, phone or name)."""
    rows = await services.find_customers(request.user, (q or "")[:50], limit=SEARCH_LIMIT)
    response = partial(request, "portal/_customer_results.html", customers=rows, picked=pick or "", q=q or "")
    response.headers["HX-Trigger-After-Settle"] = "desk-changed"  # the responsible preview follows the pick
    return response


@get("/portal/desk/preview", include_in_schema=False)
async def desk_preview(request: Request) -> Template:
    """Who would answer for the ticket as the form stands (the `resolve_responsible` hook)."""
    form = {k: str(v)[:200] for k, v in request.query_params.items()}
    return partial(request, "portal/_preview.html", preview=await _preview_for(request, form))


@get("/portal/desk/fields", include_in_schema=False)
async def desk_fields(request: Request, kind: str | None = None) -> Template:
    """The extra fields a plugin's ticket kind asks for."""
    from core.tickets import kinds_for

    kinds = await kinds_for(request.user.tenant_id, None)
    found = kinds.get(kind or "")
    return partial(request, "portal/_kind_fields.html", kind_fields=found.form_fields if found else (), form={}, errors={})


@post("/portal/desk", include_in_schema=False)
async def desk_submit(request: Request, data: dict[str, Any] = FORM) -> Any:
    """Create the ticket; on a problem the form comes back with what was typed and the message by its field."""
    from core.api.schemas import TicketCreate, clean_text
    from core.tickets import create_ticket, kinds_for

    me = request.user
    form = _form(data)
    errors: dict[str, str] = {}
    customer_id, unit_id = await _pick(request, form.get("pick"))
    body: dict[str, Any] = {
        "project_id": _int(form.get("project_id")), "kind": form.get("kind", ""), "channel": form.get("channel", ""),
        "priority": form.get("priority") or "normal", "title": clean_text(form.get("title", "")).strip(),
        "description": clean_text(form.get("description", "")).strip(),
        "place_note": clean_text(form.get("place_note", "")).strip(), "contact_phone": form.get("contact_phone", "").strip(),
        "customer_id": customer_id, "unit_id": unit_id, "building_id": None if unit_id else _int(form.get("building_id")),
    }
    if unit_id:
        from core.tables import Unit

        unit = await me.scope.get_or_none(Unit, unit_id)
        if unit is not None:
            body["project_id"] = unit["project_id"]
    kinds = await kinds_for(me.tenant_id, body["project_id"])
    kind = kinds.get(body["kind"])
    extra = {f.name: form.get(f"data.{f.name}", "").strip() for f in (kind.form_fields if kind else ())}
    body["data"] = {k: (v == "on" if f.type == "checkbox" else v) for f in (kind.form_fields if kind else ())
                    for k, v in [(f.name, extra[f.name])] if v}
    if not body["title"]:
        errors["title"] = i18n.translate(i18n.language_of(request), "请填写标题")
    if not body["project_id"]:
        errors["project_id"] = i18n.translate(i18n.language_of(request), "请选择项目")
    ticket = None
    if not errors:
        try:
            validated = msgspec.convert({k: v for k, v in body.items() if v not in (None, "")} | {"data": body["data"]},
                                        TicketCreate, strict=False)
            ticket = await create_ticket(me, {k: v for k, v in msgspec.structs.asdict(validated).items()})
        except msgspec.ValidationError as exc:
            found = _MSGSPEC_FIELD.search(str(exc))
            errors[found.group(1) if found else "_"] = str(exc).split(" - at ")[0]
        except Problem as exc:
            errors.update(_errors_of(exc))
    if ticket is not None:
        return Redirect(f"/portal/tickets/{ticket['id']}?created=1", status_code=303)
    if "unit_id" in errors or "customer_id" in errors:
        errors["pick"] = errors.pop("unit_id", None) or errors.pop("customer_id")
    from core.tickets import list_tickets

    ctx = await _desk_context(request, form, errors)
    recent = await list_tickets(me, mine=True, status="open", limit=10)
    return await page(request, "portal/desk.html", status_code=422, nav="desk", recent=recent["items"], now=_now(), **ctx)


def _now() -> datetime:
    from core.tickets import utcnow

    return utcnow()


# ---------------------------------------------------------------- the inbox

@get("/portal/tickets", include_in_schema=False)
async def inbox(request: Request, view: str | None = Parameter(query="scope", default=None, max_length=20),
                status: str | None = Parameter(default="open", max_length=20),
                kind: str | None = Parameter(default=None, max_length=50),
                project: str | None = Parameter(query="project_id", default=None, max_length=20),
                grid: str | None = Parameter(query="grid_id", default=None, max_length=20),
                cursor: str | None = Parameter(default=None, max_length=40)) -> Template:
    """Mine / my grid / my project, filtered by status and kind, newest first, keyset-paged."""
    from core.tickets import kinds_for, list_tickets

    me = request.user
    project_id, grid_id = _int(project), _int(grid)
    scope = view if view in ("mine", "grid", "project") else services.default_scope(me)
    projects = await services.visible_projects(me)
    grids = await services.my_grids(me)
    status = status if status in ("open", "", *STATUSES) else "open"
    kinds = await kinds_for(me.tenant_id, None)
    kind = kind if kind in kinds else None
    filters: dict[str, Any] = {"status": status or None, "kind": kind, "cursor": cursor, "limit": 25}
    items_page: dict[str, Any] = {"items": [], "next_cursor": None}
    if scope == "mine":
        filters["mine"] = True
    elif scope == "grid":
        grid_ids = [g["id"] for g in grids]
        grid_id = grid_id if grid_id in grid_ids else (grid_ids[0] if grid_ids else None)
        filters["grid_id"] = grid_id
    if project_id is not None and not me.sees_project(project_id):
        project_id = None
    if scope == "project" and project_id is None and not me.sees_all_projects() and projects:
        project_id = projects[0]["id"]
    filters["project_id"] = project_id
    if scope != "grid" or filters.get("grid_id"):
        items_page = await list_tickets(me, **filters)
    query = {"scope": scope, "status": status, "kind": kind or "", "project_id": project_id or "",
             "grid_id": filters.get("grid_id") or ""}
    names = await services.staff_names(me, [t["responsible_id"] for t in items_page["items"]])
    return await page(request, "portal/tickets.html", nav="tickets", page=items_page, query=query, projects=projects,
                      grids=grids, kinds=kinds, statuses=STATUSES, now=_now(), names=names,
                      due_class=services.due_class)


# ---------------------------------------------------------------- one ticket

async def _ticket_context(request: Request, ticket_id: int) -> dict[str, Any]:
    from core import attachments
    from core.db import json_value
    from core.tables import Building, Customer, Grid, Project, Unit
    from core.tickets import events, get_ticket, ticket_kinds

    me = request.user
    ticket = await get_ticket(me, ticket_id)
    ticket["data"] = json_value(ticket["data"]) or {}  # the kind's extra fields, shown by name
    timeline = await events(me, ticket_id)
    names = await services.staff_names(me, [ticket["first_receiver_id"], ticket["responsible_id"], ticket["executor_id"]])
    project = await me.scope.get_or_none(Project, ticket["project_id"])
    unit = await me.scope.get_or_none(Unit, ticket["unit_id"]) if ticket["unit_id"] else None
    building = await me.scope.get_or_none(Building, ticket["building_id"]) if ticket["building_id"] else None
    grid = await me.scope.get_or_none(Grid, ticket["grid_id"]) if ticket["grid_id"] else None
    customer = None
    if ticket["customer_id"]:
        from core.places import present_customer

        row = await me.scope.get_or_none(Customer, ticket["customer_id"])
        customer = present_customer(me, row) if row else None
    kind = ticket_kinds().get(ticket["kind"])
    return {"ticket": ticket, "timeline": timeline, "names": names, "project": project, "unit": unit,
            "building": building, "grid": grid, "customer": customer,
            "allowed": list(allowed_from(ticket["status"], ticket["hold_from"])) if me.can("ticket.transition") else [],
            "needs_reason": NEEDS_REASON, "technicians": await services.technicians(me, ticket["project_id"]),
            "requires_return_visit": bool(kind and kind[1].requires_return_visit),
            "form_fields": kind[1].form_fields if kind else (), "now": _now(), "due_class": services.due_class,
            "attachments": await attachments.list_for(me, ticket_id), "can_attach": me.can("ticket.update"),
            "attachment_accept": attachments.ACCEPT, "attachment_max_bytes": attachments.MAX_BYTES}


@get("/portal/tickets/{ticket_id:int}", include_in_schema=False)
async def ticket_page(request: Request, ticket_id: int, created: int | None = None) -> Template:
    ctx = await _ticket_context(request, ticket_id)
    return await page(request, "portal/ticket.html", nav="tickets", created=bool(created), errors={}, form={}, **ctx)


@post("/portal/tickets/{ticket_id:int}/transitions", include_in_schema=False)
async def ticket_move(request: Request, ticket_id: int, data: dict[str, Any] = FORM) -> Any:
    """Move the ticket (with its reason, executor or satisfaction); a refusal is shown beside the field."""
    from core.api.schemas import clean_text
    from core.tickets import transition

    form = _form(data)
    to = form.get("to", "")
    satisfaction = form.get("satisfaction", "").strip()
    errors: dict[str, str] = {}
    score = None
    if satisfaction:
        score = _int(satisfaction)
        if score is None or not 1 <= score <= 5:
            errors["satisfaction"] = i18n.translate(i18n.language_of(request), "满意度为 1 到 5 分")
    if not errors:
        try:
            await transition(request.user, ticket_id, to, reason=clean_text(form.get("reason", "")).strip()[:2000],
                             executor_id=_int(form.get("executor_id")), satisfaction=score)
            return Redirect(f"/portal/tickets/{ticket_id}", status_code=303)
        except Problem as exc:
            if exc.status == 404:
                raise
            errors = _errors_of(exc)
            if "_" in errors:
                errors["to"] = errors.pop("_")
    ctx = await _ticket_context(request, ticket_id)
    return await page(request, "portal/ticket.html", status_code=422, nav="tickets", created=False, errors=errors,
                      form={**form, "to": to}, **ctx)


@post("/portal/tickets/{ticket_id:int}/comments", include_in_schema=False)
async def ticket_comment(request: Request, ticket_id: int, data: dict[str, Any] = FORM) -> Any:
    from core.api.schemas import clean_text
    from core.tickets import add_comment

    text = clean_text(_form(data).get("text", "")).strip()[:2000]
    if not text:
        ctx = await _ticket_context(request, ticket_id)
        return await page(request, "portal/ticket.html", status_code=422, nav="tickets", created=False,
                          errors={"text": i18n.translate(i18n.language_of(request), "请填写内容")}, form={}, **ctx)
    await add_comment(request.user, ticket_id, text)
    return Redirect(f"/portal/tickets/{ticket_id}", status_code=303)


@post("/portal/tickets/{ticket_id:int}/attachments", include_in_schema=False,
      request_max_body_size=ATTACHMENT_MAX_BYTES + 256 * 1024)
async def ticket_attach(request: Request, ticket_id: int) -> Any:
    """Upload a photo or a PDF to the ticket; a refused file is explained beside the field."""
    from core import attachments
    from core.tickets import get_ticket

    await get_ticket(request.user, ticket_id)
    try:
        filename, content, _ = await attachments.read_upload(request)
        await attachments.add(request.user, ticket_id, filename, content)
    except Problem as exc:
        if exc.status in (403, 404):
            raise
        ctx = await _ticket_context(request, ticket_id)
        return await page(request, "portal/ticket.html", status_code=exc.status, nav="tickets", created=False,
                          errors=_errors_of(exc), form={}, **ctx)
    return Redirect(f"/portal/tickets/{ticket_id}#attachments", status_code=303)


# ---------------------------------------------------------------- dashboard and customer file

@get("/portal/dashboard", include_in_schema=False)
async def dashboard(request: Request, project: str | None = Parameter(query="project_id", default=None, max_length=20),
                    trend: str | None = Parameter(default=None, max_length=10)) -> Template:
    """Tickets by kind and status, SLA near-breaches and breaches per project, KPIs, charts over time
    (created/closed, SLA breaches, satisfaction per week or day) and the plugins' cards."""
    from frontend.report_pages import dashboard_trends

    me = request.user
    project_id = _int(project)
    projects = await services.visible_projects(me)
    if project_id is not None and not me.sees_project(project_id):
        raise Problem(404, "Not found", "No such project.")
    figures = await services.dashboard_figures(me, project_id)
    english = i18n.language_of(request) == "en"
    name = lambda group, key: _labels(group, key)[1 if english else 0]  # noqa: E731
    chart = {"categories": [name("kind", k) for k in figures["kinds"]], "series": [
        {"name": name("status", s), "data": [figures["table"][k].get(s, 0) for k in figures["kinds"]]}
        for s in figures["statuses"]]}
    return await page(request, "portal/dashboard.html", nav="dashboard", projects=projects, project_id=project_id,
                      figures=figures, chart=chart, open_statuses=OPEN_STATUSES,
                      kpis=await services.kpi_figures(me, project_id, _now()),
                      trends=await dashboard_trends(me, project_id, trend, "en" if english else "zh", _now()),
                      widgets=await services.dashboard_widgets(me, project_id))


@get("/portal/customers/{customer_id:int}", include_in_schema=False)
async def customer_page(request: Request, customer_id: int) -> Template:
    """One household, one file: units over time and tickets (refused outside the staff member's scope)."""
    from core.places import customer_file

    return await page(request, "portal/customer.html", nav="", file=await customer_file(request.user, customer_id))


# ---------------------------------------------------------------- errors and assembly

def portal_error(request: Request, exc: Exception) -> Response:
    """Problems on portal pages as HTML (with the field at fault), or a redirect to log in."""
    status = getattr(exc, "status", None) or getattr(exc, "status_code", 500)
    if isinstance(exc, NotAuthorizedException) or status == 401:
        return Redirect("/portal/login", status_code=303)
    if isinstance(exc, Problem):
        detail = exc.detail
    elif isinstance(exc, NotFoundException):
        status, detail = 404, "No such page."
    elif isinstance(exc, HTTPException):
        detail = str(exc.detail)
    else:
        from core.errors import problem_handler

        return problem_handler(request, exc)
    user = request.scope.get("user")
    return Template("portal/error.html", context={"me": user, "status": status, "detail": detail, "menu": [],
                                                  "banner": None, "nav": ""}, status_code=status,
                    media_type=MediaType.HTML)


PORTAL_ROUTER = Router(
    path="/",
    route_handlers=[root, login_page, login_submit, logout, set_language, home, menu_partial, desk, desk_customers,
                    desk_preview, desk_fields, desk_submit, inbox, ticket_page, ticket_move, ticket_comment, ticket_attach, dashboard,
                    customer_page],
    guards=[csrf.csrf_guard],
    exception_handlers={Problem: portal_error, HTTPException: portal_error},
    include_in_schema=False,
)
PORTAL_HANDLERS = [PORTAL_ROUTER]


def login_redirect(request: Request, exc: Exception) -> Response:
    return Redirect("/portal/login")

