"""Staff authentication: argon2 password hashes, revocable tokens scoped to one tenant, the middleware."""
from __future__ import annotations

import hashlib
import secrets
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from core.db import json_value
from core.errors import Problem
from core.tables import ApiToken, Grid, Membership, Tenant, User
from core.tenancy import Principal

_hasher = PasswordHasher()
SESSION_COOKIE = "gj_session"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError, ValueError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginThrottle:
    """Refuses logins after too many failures per account and per address in a sliding window.

    With `REDIS_URL` set the failures are counted in Redis (a sorted set per key), so every web process
    shares one count; without it (the embedded default, one process) they are counted in memory."""

    def __init__(self, limit: int = 10, window_seconds: int = 900) -> None:
        self.limit, self.window = limit, window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._redis: Any = None

    def _store(self) -> Any:
        from core.settings import get_settings

        jobs = get_settings().jobs
        if not jobs.redis_url:
            return None
        import asyncio

        loop = asyncio.get_running_loop()
        if self._redis is None or self._redis[0] is not loop:  # a client belongs to one event loop
            import redis.asyncio as aioredis

            self._redis = (loop, aioredis.Redis.from_url(jobs.redis_url, socket_timeout=2))
            self._prefix = f"{jobs.namespace}:login-failures:"
        return self._redis[1]

    def _recent(self, key: str) -> deque[float]:
        q, cutoff = self._failures[key], time.monotonic() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        return q

    async def check(self, *keys: str) -> None:
        r = self._store()
        if r is None:
            counts = [len(self._recent(k)) for k in keys]
        else:
            try:
                now = time.time()
                async with r.pipeline(transaction=False) as p:
                    for k in keys:
                        p.zremrangebyscore(self._prefix + k, 0, now - self.window)
                        p.zcard(self._prefix + k)
                    counts = (await p.execute())[1::2]
            except Exception:  # noqa: BLE001 - Redis away: fall back to this process's count
                counts = [len(self._recent(k)) for k in keys]
        if any(n >= self.limit for n in counts):
            raise Problem(429, "Too many requests", "Too many failed logins; wait a few minutes and try again.")

    async def fail(self, *keys: str) -> None:
        for k in keys:
            self._recent(k).append(time.monotonic())
        r = self._store()
        if r is not None:
            try:
                now = time.time()
                async with r.pipeline(transaction=False) as p:
                    for k in keys:
                        p.zadd(self._prefix + k, {f"{now}:{secrets.token_hex(4)}": now})
                        p.expire(self._prefix + k, self.window)
                    await p.execute()
            except Exception:  # noqa: BLE001 - counted in memory meanwhile
                pass

    async def clear(self, *keys: str) -> None:
        for k in keys:
            self._failures.pop(k, None)
        r = self._store()
        if r is not None:
            try:
                await r.delete(*(self._prefix + k for k in keys))
            except Exception:  # noqa: BLE001
                pass


throttle = LoginThrottle()


MIN_PASSWORD = 8


async def login(login_name: str, password: str, tenant_slug: str | None = None, role: str | None = None,
                *, kind: str = "api", address: str = "", hours: int = 12,
                new_password: str | None = None) -> dict[str, Any]:
    """Check a password and issue a token for one membership. Raises 401/429 problems.

    A login with an initial password (`must_change_password`) gets no token until it sets `new_password`
    (403 naming `new_password`); the new password replaces the initial one in the same call."""
    keys = (f"login:{login_name.lower()}", f"addr:{address}")
    await throttle.check(*keys)
    user = await User.select().where(User.login == login_name).first()
    if user is None or not user["is_active"] or not verify_password(user["password_hash"], password):
        await throttle.fail(*keys)
        raise Problem(401, "Not authenticated", "Wrong login or password.", field="password")
    query = (Membership.select(Membership.all_columns(), Membership.tenant_id.slug.as_alias("tenant_slug"),
                               Membership.tenant_id.name.as_alias("tenant_name"))
             .where((Membership.user_id == user["id"]) & (Membership.is_active == True))  # noqa: E712
             .order_by(Membership.id))
    memberships = [m for m in await query if (tenant_slug is None or m["tenant_slug"] == tenant_slug)
                   and (role is None or m["role"] == role)]
    if not memberships:
        await throttle.fail(*keys)
        raise Problem(401, "Not authenticated", "This login has no access to that company.", field="tenant")
    await throttle.clear(*keys)
    if user.get("must_change_password"):
        if not new_password:
            raise Problem(403, "Password change required",
                          "This is an initial password: choose a new one to log in.", field="new_password")
        if len(new_password) < MIN_PASSWORD or len(new_password) > 200:
            raise Problem(422, "Invalid input", f"new_password: at least {MIN_PASSWORD} characters", field="new_password")
        if new_password == password:
            raise Problem(422, "Invalid input", "new_password: must differ from the initial password", field="new_password")
        await User.update({User.password_hash: hash_password(new_password), User.must_change_password: False}).where(
            User.id == user["id"])
    m = memberships[0]
    raw = f"gj_{m['tenant_id']}_{secrets.token_urlsafe(32)}"
    expires = datetime.now(timezone.utc) + timedelta(hours=hours)
    await ApiToken.insert(ApiToken(tenant_id=m["tenant_id"], user_id=user["id"], membership_id=m["id"],
                                   token_hash=_digest(raw), kind=kind, expires_at=expires))
    return {"token": raw, "expires_at": expires.isoformat(), "tenant": m["tenant_slug"], "tenant_name": m["tenant_name"],
            "role": m["role"], "user": {"id": user["id"], "login": user["login"], "name": user["name"]},
            "memberships": [{"tenant": x["tenant_slug"], "role": x["role"]} for x in memberships]}


_cache: dict[str, tuple[float, Principal | None]] = {}
_CACHE_SECONDS = 5.0


async def principal_for_token(raw: str) -> Principal | None:
    """The principal a token stands for, or None when unknown, expired or revoked."""
    now = time.monotonic()
    hit = _cache.get(raw)
    if hit and hit[0] > now:
        return hit[1]
    if hit and hit[1] is not None:  # expired: the others keep it while this request reads it again (no stampede)
        _cache[raw] = (now + _CACHE_SECONDS, hit[1])
    principal = await _load_principal(raw)
    if len(_cache) > 10000:
        _cache.clear()
    _cache[raw] = (now + _CACHE_SECONDS, principal)
    return principal


def forget_token(raw: str) -> None:
    _cache.pop(raw, None)


async def _load_principal(raw: str) -> Principal | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "gj" or not parts[1].isdigit():
        return None
    tenant_id = int(parts[1])
    tok = await (ApiToken.select(ApiToken.id, ApiToken.membership_id, ApiToken.expires_at, ApiToken.revoked_at)
                 .where((ApiToken.tenant_id == tenant_id) & (ApiToken.token_hash == _digest(raw))).first())
    if tok is None or tok["revoked_at"] is not None:
        return None
    if tok["expires_at"] is not None and tok["expires_at"] < datetime.now(timezone.utc):
        return None
    m = await (Membership.select(Membership.all_columns(), Membership.user_id.name.as_alias("user_name"),
                                 Membership.user_id.login.as_alias("user_login"),
                                 Membership.user_id.is_active.as_alias("user_active"),
                                 Membership.tenant_id.is_active.as_alias("tenant_active"))
               .where((Membership.tenant_id == tenant_id) & (Membership.id == tok["membership_id"])).first())
    if m is None or not m["is_active"] or not m["user_active"] or not m["tenant_active"]:
        return None
    return await principal_for_membership(m, token_id=tok["id"])


async def principal_for_membership(m: dict[str, Any], token_id: int | None = None) -> Principal:
    project_ids = json_value(m["project_ids"]) or []
    grids = await (Grid.select(Grid.id).where((Grid.tenant_id == m["tenant_id"]) & (Grid.responsible_id == m["user_id"])))
    return Principal(
        user_id=m["user_id"], tenant_id=m["tenant_id"], membership_id=m["id"], role=m["role"],
        name=m.get("user_name", ""), login=m.get("user_login", ""),
        project_ids=None if m["role"] == "company_cs" else tuple(int(p) for p in project_ids),
        grid_ids=tuple(g["id"] for g in grids), token_id=token_id,
    )


async def revoke(tenant_id: int, token_id: int) -> None:
    await ApiToken.update({ApiToken.revoked_at: datetime.now(timezone.utc)}).where(
        (ApiToken.tenant_id == tenant_id) & (ApiToken.id == token_id))
    for raw, (_, p) in list(_cache.items()):
        if p is not None and p.token_id == token_id:
            _cache.pop(raw, None)


def token_from(connection: ASGIConnection) -> tuple[str | None, bool]:
    """The request's token and whether it came from the session cookie (else the bearer header)."""
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    return connection.cookies.get(SESSION_COOKIE), True


_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolves the bearer token or session cookie to a `Principal`; public paths are excluded.

    An unsafe API call authenticated by the session cookie (the portal's htmx calls) must carry the page's
    CSRF token in `X-CSRF-Token`; portal routes check it (header or form field) in `frontend.csrf.csrf_guard`."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        scope = connection.scope
        raw, by_cookie = token_from(connection)
        principal = await principal_for_token(raw) if raw else None
        if principal is None:
            if scope["path"].startswith("/portal"):
                from litestar.exceptions import NotAuthorizedException
                raise NotAuthorizedException("Please log in.")
            raise Problem(401, "Not authenticated", "Log in first: send 'Authorization: Bearer <token>'.")
        if by_cookie and scope["method"] in _UNSAFE and scope["path"].startswith("/api"):
            from frontend import csrf

            if not csrf.valid(connection.cookies.get(csrf.COOKIE), connection.headers.get(csrf.HEADER)):
                raise Problem(403, "Forbidden", "The page has expired (CSRF check failed); reload it and try again.",
                              field=csrf.FIELD)
        return AuthenticationResult(user=principal, auth=raw)


async def tenant_by_slug(slug: str) -> dict[str, Any] | None:
    return await Tenant.select().where(Tenant.slug == slug).first()
