"""Staff roles of the seeds and what each may do.

Scope: `company_cs` sees every project of its company; project roles see the projects of their
membership; a butler sees its grids (and the tickets it received or answers for); a technician sees
the tickets it executes or received.
"""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    COMPANY_CS = "company_cs"
    PROJECT_MANAGER = "project_manager"
    SUPERVISOR = "supervisor"
    TEAM_LEAD = "team_lead"
    FRONT_DESK = "front_desk"
    BUTLER = "butler"
    TECHNICIAN = "technician"
    FINANCE = "finance"


ROLE_LABELS: dict[str, tuple[str, str]] = {
    Role.COMPANY_CS: ("公司客户服务部", "Company CS department"),
    Role.PROJECT_MANAGER: ("管理处经理", "Project manager"),
    Role.SUPERVISOR: ("客服主管", "CS supervisor"),
    Role.TEAM_LEAD: ("客服组长", "Team lead"),
    Role.FRONT_DESK: ("客服前台", "Front desk"),
    Role.BUTLER: ("客服管家", "Butler"),
    Role.TECHNICIAN: ("维修人员", "Technician"),
    Role.FINANCE: ("财务", "Finance"),
}

ALL_ROLES: tuple[str, ...] = tuple(r.value for r in Role)
MANAGERS: tuple[str, ...] = (Role.COMPANY_CS, Role.PROJECT_MANAGER, Role.SUPERVISOR)
PROJECT_STAFF: tuple[str, ...] = (*MANAGERS, Role.TEAM_LEAD, Role.FRONT_DESK, Role.BUTLER)

# permission -> roles holding it. Plugins add theirs through `register_permissions`.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "project.write": (Role.COMPANY_CS,),
    "place.write": MANAGERS,
    "grid.write": MANAGERS,
    "customer.write": PROJECT_STAFF,
    "customer.view_phone": (*PROJECT_STAFF, Role.FINANCE),
    "customer.view_id_number": (*MANAGERS, Role.FINANCE),
    "ticket.create": (*PROJECT_STAFF, Role.TECHNICIAN),
    "ticket.update": (*PROJECT_STAFF, Role.TECHNICIAN),
    "ticket.transition": (*PROJECT_STAFF, Role.TECHNICIAN),
    "ticket.read": ALL_ROLES,
    "staff.manage": (Role.COMPANY_CS,),
    "plugin.manage": (Role.COMPANY_CS,),
    "sla.manage": (Role.COMPANY_CS, Role.PROJECT_MANAGER),
    "kpi.read": (*MANAGERS, Role.TEAM_LEAD),
    "audit.read": (Role.COMPANY_CS,),
    "customer.personal_data": (Role.COMPANY_CS,),  # export a customer's data, erase it, set retention (PIPL)
}


def roles_with(permission: str) -> tuple[str, ...]:
    """Roles holding a permission: the kernel's, then those plugins declare with `register_permissions`."""
    if permission in PERMISSIONS:
        return PERMISSIONS[permission]
    return plugin_permissions().get(permission, ())


_plugin_permissions: dict[str, tuple[str, ...]] | None = None


def plugin_permissions() -> dict[str, tuple[str, ...]]:
    global _plugin_permissions
    if _plugin_permissions is None:
        from core.plugins import get_registry

        _plugin_permissions = {p.name: tuple(p.roles) for _, p in get_registry().collect("register_permissions")}
    return _plugin_permissions


def forget_plugin_permissions() -> None:
    global _plugin_permissions
    _plugin_permissions = None
