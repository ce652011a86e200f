"""CSRF protection for the portal: a signed double-submit token.

The browser holds a random nonce in the HttpOnly cookie `gj_csrf`; every page renders
`nonce.signature` (HMAC with the server secret) into its forms (`_csrf`) and into htmx requests
(header `X-CSRF-Token`). An unsafe request is accepted only when the token's nonce matches the cookie
and its signature is ours. Requests carrying a bearer token (API clients) are exempt: a browser never
adds that header on its own.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from jinja2 import pass_context
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.handlers.base import BaseRouteHandler
from markupsafe import Markup, escape

from core.errors import Problem
from core.settings import get_settings

COOKIE = "gj_csrf"
FIELD = "_csrf"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _signature(nonce: str) -> str:
    key = get_settings().server.secret_key.encode()
    return hmac.new(key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()[:32]


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def token_for(nonce: str) -> str:
    return f"{nonce}.{_signature(nonce)}"


def valid(cookie_nonce: str | None, token: str | None) -> bool:
    """True when `token` was made for `cookie_nonce` with our secret."""
    if not cookie_nonce or not token or "." not in token:
        return False
    nonce, _, signature = token.rpartition(".")
    return hmac.compare_digest(nonce, cookie_nonce) and hmac.compare_digest(signature, _signature(nonce))


def nonce_of(request: Any) -> str:
    """The request's nonce: the cookie, or the one minted for this response (see `ensure_cookie`)."""
    state = getattr(request, "state", None)
    minted = getattr(state, "csrf_nonce", None) if state is not None else None
    return minted or request.cookies.get(COOKIE, "")


def ensure_cookie(request: Any) -> list[Cookie]:
    """Cookies to add to a page response: a fresh nonce when the browser has none yet."""
    if request.cookies.get(COOKIE):
        return []
    nonce = getattr(request.state, "csrf_nonce", None) or new_nonce()
    request.state.csrf_nonce = nonce
    return [Cookie(key=COOKIE, value=nonce, httponly=True, samesite="lax", path="/",
                   secure=request.url.scheme == "https")]


@pass_context
def csrf_token(context: Any) -> str:
    request = context.get("request")
    nonce = nonce_of(request) if request is not None else ""
    return token_for(nonce) if nonce else ""


@pass_context
def csrf_field(context: Any) -> Markup:
    """The hidden form field every portal form carries: `{{ csrf_field() }}`."""
    return Markup('<input type="hidden" name="%s" value="%s">') % (FIELD, escape(csrf_token(context)))


def _needs_check(connection: ASGIConnection) -> bool:
    if connection.scope.get("method", "GET") in SAFE_METHODS:
        return False
    if connection.headers.get("authorization", "").lower().startswith("bearer "):
        return False  # API clients: bearer tokens are never sent by a browser on its own
    path = connection.scope["path"]
    if path.startswith("/portal"):
        return True
    from core.auth import SESSION_COOKIE

    return path.startswith("/api") and bool(connection.cookies.get(SESSION_COOKIE))


async def csrf_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Refuse an unsafe portal request (or a cookie-authenticated API call) without a valid token."""
    if handler.opt.get("exclude_from_csrf") or not _needs_check(connection):
        return
    token = connection.headers.get(HEADER)
    if not token:
        form = await connection.form()  # type: ignore[attr-defined]  # cached: the handler reads it again
        token = form.get(FIELD)
    if not valid(connection.cookies.get(COOKIE), token if isinstance(token, str) else None):
        raise Problem(403, "Forbidden", "The form has expired (CSRF check failed); reload the page and try again.",
                      field=FIELD)
