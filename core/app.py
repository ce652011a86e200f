"""The Litestar application: `create_app()` is the kernel's InitPlugin plus the plugins' routes."""
from __future__ import annotations

import logging
from typing import Any

from litestar import Litestar, Request, get
from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import InitPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

from core import db
from core.auth import AuthMiddleware
from core.errors import EXCEPTION_HANDLERS, Problem
from core.plugins import get_registry

log = logging.getLogger("guanjia.app")
PUBLIC_PATHS = ["^/healthz", "^/readyz", "^/schema", "^/static", "^/public", "^/api/v1/auth/login", "^/portal/login",
                "^/favicon", "^/metrics", "^/$"]


@get("/healthz", exclude_from_auth=True, include_in_schema=True, tags=["ops"])
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/readyz", exclude_from_auth=True, tags=["ops"])
async def readyz() -> dict[str, Any]:
    """The database answers; 503 with a problem body when it does not."""
    if not await db.ping():
        raise Problem(503, "Service unavailable", "The database is not reachable.")
    return {"status": "ready", "database": "postgresql" if db.is_postgres() else "sqlite"}


def plugin_guard(plugin_name: str):
    """A guard that answers 404 on a plugin's routes for a tenant that has the plugin disabled."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        principal = connection.scope.get("user")
        tenant_id = getattr(principal, "tenant_id", None) or connection.scope.get("state", {}).get("tenant_id")
        if tenant_id is None:
            return  # public routes resolve their tenant themselves and check `enabled` there
        if plugin_name not in await get_registry().enabled(tenant_id):
            raise NotFoundException()

    guard.__name__ = f"plugin_enabled_{plugin_name}"
    return guard


def plugin_routers() -> list[Router]:
    """One router per plugin (so a plugin's handlers may share a path with different methods), guarded."""
    handlers: dict[str, list[Any]] = {}
    for plugin_name, handler in get_registry().collect("register_routes"):
        handlers.setdefault(plugin_name, []).append(handler)
    from frontend.csrf import csrf_guard

    return [Router(path="/", route_handlers=items, guards=[plugin_guard(name), csrf_guard], opt={"plugin": name})
            for name, items in handlers.items()]


class KernelPlugin(InitPlugin):
    """Wires controllers, errors, auth, the portal and the plugins' routes into the app."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        from core.api.attachment_controllers import ATTACHMENT_CONTROLLERS
        from core.api.controllers import KERNEL_CONTROLLERS
        from core.api.report_controllers import REPORT_CONTROLLERS
        from core.api.ops_controllers import OPS_CONTROLLERS
        from core.api.sla_controllers import SLA_CONTROLLERS
        from core.api.personal_data_controllers import PERSONAL_DATA_CONTROLLERS
        from frontend.personal_data import PERSONAL_DATA_HANDLERS
        from core.onboarding.portal import ONBOARDING_HANDLERS
        from frontend.portal import PORTAL_HANDLERS, STATIC_DIR, template_config
        from frontend.report_pages import REPORT_HANDLERS

        from core.observability import metrics, observe_middleware

        app_config.route_handlers.extend([healthz, readyz, metrics, *KERNEL_CONTROLLERS, *ATTACHMENT_CONTROLLERS, *REPORT_CONTROLLERS, *SLA_CONTROLLERS, *OPS_CONTROLLERS, *PORTAL_HANDLERS, *REPORT_HANDLERS, *ONBOARDING_HANDLERS,
                                          *PERSONAL_DATA_CONTROLLERS, *PERSONAL_DATA_HANDLERS, *plugin_routers(),
                                          create_static_files_router(path="/static", directories=[STATIC_DIR],
                                                                     include_in_schema=False)])
        app_config.exception_handlers.update(EXCEPTION_HANDLERS)
        app_config.middleware.insert(0, observe_middleware)
        app_config.middleware.append(DefineMiddleware(AuthMiddleware, exclude=PUBLIC_PATHS))
        app_config.template_config = template_config()
        app_config.on_startup.append(db.start_pool)
        app_config.on_shutdown.append(db.close_pool)
        return app_config


def create_app(*, embedded_worker: bool | None = None) -> Litestar:
    from core.jobs import lifespan_hooks

    start, stop = lifespan_hooks(embedded_worker)
    return Litestar(
        plugins=[KernelPlugin()],
        on_startup=start,
        on_shutdown=stop,
        openapi_config=OpenAPIConfig(
            title="Guanjia API", version="0.1.0", path="/schema",
            components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
            security=[{"bearer": []}],
        ),
        debug=False,
    )


def create_served_app() -> Any:
    """The app as `guanjia serve` runs it, in each worker process of either server: logs configured as in
    the parent (after Litestar's own set-up, which would otherwise replace them), and the client address
    and scheme taken from X-Forwarded-* when the peer is a trusted proxy (`GUANJIA_FORWARDED_ALLOW_IPS`)."""
    import os

    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from core.observability import configure_logging
    from core.settings import get_settings

    app = create_app()
    configure_logging(json_logs=os.environ.get("GUANJIA_LOG_FORMAT", "json") == "json")
    trusted = [h.strip() for h in get_settings().server.forwarded_allow_ips.split(",") if h.strip()]
    return ProxyHeadersMiddleware(app, trusted_hosts=trusted)
