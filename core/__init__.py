"""Guanjia's kernel. This module is the public API for plugins: import from `core`, nothing deeper.

Plugins get: the hook marker and the values they hand back (`hookimpl`, `PluginMeta`, `TicketKind`,
`SlaPolicy`, …), tenancy (`TenantScope`, `Principal`), errors (`Problem`, `not_found`, …), the
kernel's tables (read through `TenantScope`), services (tickets, notifications, jobs) and the
calendar.
"""
from core.calendar import CalendarOverride, ServiceHours, WorkCalendar
from core.contracts import (
    DashboardWidget, Deadline, FormField, MenuItem, NotificationChannel, PeriodicJob, Permission, PluginMeta,
    SlaPolicy, TicketKind,
)
from core.db import fetch, is_postgres, json_value, transaction
from core.errors import Problem, conflict, forbidden, invalid, not_found
from core.plugins import CORE_VERSION, hookimpl
from core.roles import ALL_ROLES, MANAGERS, PROJECT_STAFF, Role
from core.tenancy import Principal, TenantScope

__version__ = CORE_VERSION

__all__ = [
    "CORE_VERSION", "ALL_ROLES", "MANAGERS", "PROJECT_STAFF", "CalendarOverride", "DashboardWidget", "Deadline",
    "FormField", "MenuItem", "NotificationChannel", "PeriodicJob", "Permission", "PluginMeta", "Principal", "Problem",
    "Role", "ServiceHours", "SlaPolicy", "TenantScope", "TicketKind", "WorkCalendar", "conflict", "fetch", "forbidden",
    "hookimpl", "invalid", "is_postgres", "json_value", "not_found", "transaction", "actor", "enqueue", "notify",
    "tables", "tickets", "places", "sla", "calendar_for", "Controller", "get_registry", "present_customer",
    "principal_of", "admin", "workflow", "schemas", "utcnow", "scheduler", "kpi", "audit",
    "personal_data", "attachments", "reports", "pdf", "qr_svg",
]


def __getattr__(name: str):
    """Services that touch the database load on first use, so importing `core` stays cheap."""
    import importlib

    lazy = {
        "actor": ("core.jobs", "actor"), "enqueue": ("core.jobs", "enqueue"), "notify": ("core.notify", None),
        "tables": ("core.tables", None), "tickets": ("core.tickets", None), "places": ("core.places", None),
        "sla": ("core.sla", None), "calendar_for": ("core.sla", "calendar_for"),
        "Controller": ("litestar", "Controller"), "get_registry": ("core.plugins", "get_registry"),
        "present_customer": ("core.places", "present_customer"), "principal_of": ("core.admin", "principal_of"),
        "admin": ("core.admin", None), "workflow": ("core.workflow", None), "schemas": ("core.api.schemas", None),
        "utcnow": ("core.tickets", "utcnow"), "scheduler": ("core.scheduler", None), "kpi": ("core.kpi", None),
        "audit": ("core.audit", None), "personal_data": ("core.personal_data", None),
        "attachments": ("core.attachments", None), "reports": ("core.reports", None), "pdf": ("core.pdf", None),
        "qr_svg": ("core.qr", "qr_svg"),
    }
    if name in lazy:
        module, attr = lazy[name]
        mod = importlib.import_module(module)
        return getattr(mod, attr) if attr else mod
    raise AttributeError(f"module 'core' has no attribute {name!r}")
