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


@hookimpl
async def customer_file_sections(tenant_id: int, customer_id: int, principal: Any) -> list[dict[str, Any]] | None:
    """The events the customer signed up for (latest 20), with check-in."""
    if not principal.can("community_events.view"):
        return None
    from core import TenantScope
    from plugins.community_events import tables as t

    rows = await (TenantScope(tenant_id).select(
        t.Signup, t.Signup.event_id, t.Signup.event_id.title.as_alias("title"), t.Signup.event_id.starts_at.as_alias("starts_at"),
        t.Signup.status, t.Signup.party_size, t.Signup.checked_in_at)
        .where(t.Signup.customer_id == customer_id).order_by(t.Signup.id, ascending=False).limit(20))
    status = {"confirmed": "已报名 / signed up", "waiting": "候补 / waiting", "cancelled": "已取消 / cancelled"}
    return [{"title_zh": "社区活动", "title_en": "Community events", "link": "/portal/community-events",
             "columns": [["活动", "Event"], ["时间", "When"], ["报名", "Sign-up"], ["人数", "Party"], ["签到", "Checked in"]],
             "rows": [[r["title"], _local(r["starts_at"]), status.get(r["status"], r["status"]), r["party_size"],
                       "✓" if r["checked_in_at"] else ""] for r in rows]}]


def _local(moment: Any) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") if moment else ""
