"""Operator services: companies, staff logins and memberships (used by the CLI, the demo and onboarding)."""
from __future__ import annotations

from typing import Any, Iterable

from core.auth import hash_password, principal_for_membership
from core.errors import conflict, invalid
from core.plugins import get_registry
from core.roles import ALL_ROLES
from core.tables import Membership, PluginState, Tenant, User
from core.tenancy import Principal


async def create_tenant(slug: str, name: str, *, plugins: Iterable[str] | None = None, settings: dict | None = None,
                        contact_name: str = "", contact_phone: str = "") -> dict[str, Any]:
    """A new company with the given plugins enabled (default: every installed plugin)."""
    if await Tenant.exists().where(Tenant.slug == slug):
        raise conflict(f"A company with slug {slug!r} already exists.")
    tenant = Tenant(slug=slug, name=name, settings=settings or {}, contact_name=contact_name, contact_phone=contact_phone)
    await tenant.save()
    registry = get_registry()
    names = [p for p in (plugins if plugins is not None else registry.metas) if p != "core"]
    unknown = [p for p in names if p not in registry.metas]
    if unknown:
        raise invalid("plugins", f"unknown plugin(s): {', '.join(unknown)}")
    if names:
        await PluginState.insert(*[PluginState(tenant_id=tenant.id, plugin=p, enabled=True, settings={}) for p in names])
    return tenant.to_dict()


async def create_user(login: str, name: str, password: str, *, phone: str = "", email: str = "") -> dict[str, Any]:
    if len(password) < 8:
        raise invalid("password", "at least 8 characters")
    if await User.exists().where(User.login == login):
        raise conflict(f"A user with login {login!r} already exists.")
    user = User(login=login, name=name, password_hash=hash_password(password), phone=phone, email=email)
    await user.save()
    return user.to_dict()


async def add_membership(tenant_id: int, user_id: int, role: str, project_ids: Iterable[int] = (),
                         work_phone: str = "", title: str = "") -> dict[str, Any]:
    if role not in ALL_ROLES:
        raise invalid("role", f"one of {', '.join(ALL_ROLES)}")
    m = Membership(tenant_id=tenant_id, user_id=user_id, role=role, project_ids=list(project_ids),
                   work_phone=work_phone, title=title)
    await m.save()
    return m.to_dict()


async def principal_of(tenant_id: int, user_id: int, role: str | None = None) -> Principal:
    """Act as a staff member (for jobs, the demo and tests)."""
    query = Membership.select().where((Membership.tenant_id == tenant_id) & (Membership.user_id == user_id))
    if role:
        query = query.where(Membership.role == role)
    m = await query.first()
    if m is None:
        raise invalid("user_id", "no membership in this company")
    return await principal_for_membership(m)
