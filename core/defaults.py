"""The kernel's own plugin (name ``core``): the four ticket kinds and the default answers.

Its implementations are ``trylast`` so any enabled plugin can answer first.
"""
from __future__ import annotations

from typing import Any

from core.contracts import FormField, PluginMeta, TicketKind
from core.plugins import hookimpl

plugin = PluginMeta(name="core", version="0.1.0", title="Kernel", title_zh="内核",
                    description="Tickets, places, customers, grids and the seeds' default rules.")

# The trade of a repair, for the monthly repair classification summary (seed 000: 每月维修分类汇总).
REPAIR_CATEGORIES = ("给排水", "电气照明", "门窗锁具", "电梯", "土建墙地面", "公共设施", "家电设备", "其他")

KERNEL_KINDS = (
    TicketKind("repair", "报修", "Repair", requires_return_visit=True,
               form_fields=(FormField("category", "维修类别", "Repair category", "select", options=REPAIR_CATEGORIES),)),
    TicketKind("complaint", "投诉", "Complaint", requires_return_visit=True),
    TicketKind("inquiry", "咨询", "Inquiry"),
    TicketKind("suggestion", "建议", "Suggestion"),
)


@hookimpl(trylast=True)
def register_ticket_kinds() -> list[TicketKind]:
    return list(KERNEL_KINDS)

@hookimpl(trylast=True)
async def resolve_responsible(tenant_id: int, project: dict[str, Any], ticket: dict[str, Any],
                              grid: dict[str, Any] | None) -> int | None:
    """The grid's responsible staff member when the ticket is in a grid, else the first receiver."""
    from core.tables import Grid

    if grid is not None and grid["id"] == ticket.get("grid_id"):
        return grid["responsible_id"] or ticket.get("first_receiver_id")
    if ticket.get("grid_id"):
        grid = await Grid.select(Grid.responsible_id).where(
            (Grid.tenant_id == tenant_id) & (Grid.id == ticket["grid_id"])).first()
        if grid and grid["responsible_id"]:
            return grid["responsible_id"]
    return ticket.get("first_receiver_id")

@hookimpl(trylast=True)
async def resolve_sla_policy(tenant_id: int, project: dict[str, Any], ticket: dict[str, Any]) -> Any:
    from core.sla import default_policy

    return await default_policy(tenant_id=tenant_id, project=project, ticket=ticket)


@hookimpl(trylast=True)
def register_periodic_jobs() -> list[Any]:
    from core.contracts import PeriodicJob

    return [PeriodicJob("core.sla_sweep", "core.sla_sweep", "every 5 minutes",
                        "Find tickets near breach or breached and escalate them up the chain."),
            PeriodicJob("core.personal_data_retention", "core.personal_data_retention", "daily 03:10",
                        "Clear contact phones of long-closed tickets and old message addresses and texts (PIPL).")]


@hookimpl(trylast=True)
def register_sla_policies() -> list[Any]:
    from core.sla import DEFAULT_POLICIES

    return list(DEFAULT_POLICIES.values())


@hookimpl(trylast=True)
def register_notification_channels() -> list[Any]:
    from core.channels import KERNEL_CHANNELS

    return list(KERNEL_CHANNELS)
