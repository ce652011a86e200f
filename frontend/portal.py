"""The staff portal (server-rendered Jinja + htmx): login and the ticket list for now."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, get, post
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from core.auth import SESSION_COOKIE, login
from core.errors import Problem
from core.settings import get_settings
from core.workflow import STATUS_LABELS

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"


def template_config() -> TemplateConfig:
    from core.plugins import get_registry

    dirs = [TEMPLATE_DIR, *[Path(d) for _, d in get_registry().collect("register_template_dirs")]]
    return TemplateConfig(directory=dirs, engine=JinjaTemplateEngine)


@get("/", exclude_from_auth=True, include_in_schema=False)
async def root() -> Redirect:
    return Redirect("/portal")


@get("/portal/login", exclude_from_auth=True, include_in_schema=False)
async def login_page() -> Template:
    return Template("portal/login.html", context={"error": "", "form": {}})


@post("/portal/login", exclude_from_auth=True, include_in_schema=False)
async def login_submit(request: Request, data: dict[str, Any] = Body(media_type=RequestEncodingType.URL_ENCODED)) -> Any:
    form = {k: str(v)[:200] for k, v in data.items()}
    try:
        result = await login(form.get("login", ""), form.get("password", ""), form.get("tenant") or None,
                             kind="session", address=request.client.host if request.client else "",
                             hours=get_settings().server.session_hours)
    except Problem as exc:
        return Template("portal/login.html", context={"error": exc.detail, "form": {"login": form.get("login", ""),
                                                                                     "tenant": form.get("tenant", "")}},
                        status_code=exc.status)
    response = Redirect("/portal")
    response.set_cookie(SESSION_COOKIE, result["token"], httponly=True, samesite="lax",
                        max_age=get_settings().server.session_hours * 3600, path="/")
    return response


@post("/portal/logout", include_in_schema=False)
async def logout(request: Request) -> Redirect:
    from core.auth import revoke

    if request.user.token_id:
        await revoke(request.user.tenant_id, request.user.token_id)
    response = Redirect("/portal/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/portal", include_in_schema=False)
async def home(request: Request, status: str | None = "open", cursor: str | None = None) -> Template:
    from core.tickets import list_tickets

    page = await list_tickets(request.user, status=status or None, cursor=cursor, limit=25)
    return Template("portal/tickets.html", context={"me": request.user, "page": page, "status": status or "",
                                                      "labels": STATUS_LABELS})


PORTAL_HANDLERS = [root, login_page, login_submit, logout, home]


def login_redirect(request: Request, exc: Exception) -> Response:
    return Redirect("/portal/login")
