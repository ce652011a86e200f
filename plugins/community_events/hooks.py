"""Hook implementations of community events."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from core import MANAGERS, DashboardWidget, MenuItem, PeriodicJob, Permission, hookimpl

VIEWERS = (*MANAGERS, "team_lead", "front_desk", "butler")


async def _quarter_widget(tenant_id: int, project_id: int | None = None) -> dict[str, Any]:
    from core import utcnow
    from plugins.community_events import services

    return {"flags": await services.quarters_without_event(
        tenant_id, utcnow(), [project_id] if project_id else None)}


@hookimpl
def register_routes() -> list[Any]:
    from plugins.community_events.controllers import ROUTES

    return ROUTES


@hookimpl
def register_permissions() -> list[Any]:
    return [
        Permission("community_events.manage", "Plan, approve and publish community events", tuple(MANAGERS)),
        Permission("community_events.handle", "Run surveys, sign-ups, check-in, return visits and summaries",
                   VIEWERS),
        Permission("community_events.view", "See community events, plans and satisfaction", VIEWERS),
    ]


@hookimpl
def register_menu_items() -> list[Any]:
    return [MenuItem("community_events", "社区活动", "Community events", "/portal/community-events",
                     roles=VIEWERS, order=50, plugin="community_events")]


@hookimpl
def register_dashboard_widgets() -> list[Any]:
    return [DashboardWidget("community_events.quarter", "本季度主题活动", "Themed event this quarter",
                            "community_events/widget.html", _quarter_widget, roles=VIEWERS, order=60)]


@hookimpl
def register_periodic_jobs() -> list[Any]:
    return [PeriodicJob("community_events.daily", "community_events.daily", "daily 07:00",
                        "Festival decoration tasks and the day's birthday and festival greetings")]


@hookimpl
def register_template_dirs() -> list[str]:
    return [str(Path(__file__).parent / "templates")]


@hookimpl
async def seed_demo(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: Any) -> None:
    from plugins.community_events.demo import seed

    await seed(tenant_id, projects, staff, as_of)


@hookimpl
async def collect_personal_data(tenant_id: int, customer_id: int) -> dict[str, Any]:
    """Survey answers, sign-ups and check-ins, return visits and greetings sent."""
    from core import personal_data as pd
    from plugins.community_events import tables as t

    return await pd.collect(tenant_id, customer_id, [
        pd.Holding(t.Answer, "customer_id"), pd.Holding(t.Signup, "customer_id", omit=("token",)),
        pd.Holding(t.Visit, "customer_id"), pd.Holding(t.Greeting, "customer_id")])


@hookimpl
async def erase_personal_data(tenant_id: int, customer_id: int, keep_records: bool, placeholder: str) -> dict[str, int]:
    """Sign-ups stay (an event's participant count); survey answers and return-visit comments are cleared;
    without `keep_records` the answers and the greetings log are deleted."""
    from core import personal_data as pd
    from plugins.community_events import tables as t

    return await pd.erase_holdings(tenant_id, customer_id, [
        pd.Holding(t.Answer, "customer_id", erase={"answers": []}, optional=True), pd.Holding(t.Signup, "customer_id"),
        pd.Holding(t.Visit, "customer_id", erase={"comment": ""}), pd.Holding(t.Greeting, "customer_id", optional=True)],
        keep_records=keep_records, placeholder=placeholder)
