"""Hook implementations of move-in and decoration."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from core import ALL_ROLES, MANAGERS, PROJECT_STAFF, MenuItem, PeriodicJob, Permission, TicketKind, hookimpl

STAFF = tuple(PROJECT_STAFF)
LEADS = (*MANAGERS, "team_lead")


@hookimpl
def register_routes() -> list[Any]:
    from plugins.move_in_decoration.controllers import ROUTES

    return list(ROUTES)


@hookimpl
def register_template_dirs() -> list[str]:
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def register_menu_items() -> list[Any]:
    return [MenuItem("move_in_decoration", "入伙与装修", "Move-in & decoration", "/portal/move-in-decoration",
                     roles=ALL_ROLES, order=45, plugin="move_in_decoration")]


@hookimpl
def register_permissions() -> list[Any]:
    return [
        Permission("move_in_decoration.view", "See move-in batches, decoration applications and moving out", ALL_ROLES),
        Permission("move_in_decoration.manage_batches", "Create move-in batches, templates, slots and households", LEADS),
        Permission("move_in_decoration.desk", "Serve households at the move-in desk", STAFF),
        Permission("move_in_decoration.register", "Register decoration applications, workers, drawings, resubmissions, "
                   "acceptance requests and out-of-hours reports", STAFF),
        Permission("move_in_decoration.review", "Review decoration applications: problems, approval, permits", LEADS),
        Permission("move_in_decoration.structural_review", "The extra review of structural changes",
                   ("company_cs", "project_manager")),
        Permission("move_in_decoration.patrol", "Patrol decoration works; record and verify violations",
                   (*STAFF, "technician")),
        Permission("move_in_decoration.accept", "Carry out decoration acceptance inspections", (*LEADS, "technician")),
        Permission("move_in_decoration.refund", "Refund decoration deposits", ("finance", "project_manager", "company_cs")),
        Permission("move_in_decoration.moving_out", "Record moving large items out of residential units", STAFF),
        Permission("move_in_decoration.view_worker_ids", "See contractor workers' full ID numbers", MANAGERS),
    ]


@hookimpl
def register_ticket_kinds() -> list[Any]:
    from plugins.move_in_decoration.services import KIND_LABELS

    return [TicketKind(name, zh, en) for name, (zh, en) in KIND_LABELS.items()]


@hookimpl
def register_sla_policies() -> list[Any]:
    from plugins.move_in_decoration.services import POLICIES

    return list(POLICIES.values())


@hookimpl(tryfirst=True)
def resolve_sla_policy(tenant_id: int, project: dict[str, Any], ticket: dict[str, Any]) -> Any:
    """This plugin's deadlines (review, same-day notice, acceptance, refund, violation) on its ticket kinds."""
    from plugins.move_in_decoration.services import policy_for

    return policy_for(ticket)


@hookimpl(tryfirst=True)
def resolve_responsible(tenant_id: int, project: dict[str, Any], ticket: dict[str, Any]) -> int | None:
    """A deadline's ticket answers to whom it was opened for (finance for a deposit refund); asked first, it
    answers only for this plugin's kinds."""
    from plugins.move_in_decoration.services import responsible_for

    return responsible_for(ticket)


@hookimpl
def register_periodic_jobs() -> list[Any]:
    return [PeriodicJob("move_in_decoration.settle_notices", "move_in_decoration.settle_notices", "every 15 minutes",
                        "Problem notices whose notification has been delivered count as told (and their clock stops).")]


@hookimpl
async def seed_demo(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: Any) -> None:
    from plugins.move_in_decoration.demo import seed

    await seed(tenant_id, projects, staff, as_of)
