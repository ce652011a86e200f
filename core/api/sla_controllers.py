"""API for SLA policies and overrides, the working-day calendar, service hours and KPIs (/api/v1)."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from litestar import Controller, Request, delete, get, post, put
from litestar.params import Parameter
from msgspec import Meta, field

from core import kpi, sla
from core.calendar import statutory_year_coverage
from core.api.schemas import Base, clean_text
from core.tenancy import Principal

HourMinute = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Weekday = Annotated[int, Meta(ge=0, le=6)]


class CalendarOverrideIn(Base):
    day: date
    working: bool
    note: Annotated[str, Meta(max_length=100)] = ""


class ServiceHoursIn(Base):
    opens: HourMinute
    closes: HourMinute
    days: Annotated[list[Weekday], Meta(max_length=7)] = field(default_factory=lambda: [0, 1, 2, 3, 4, 5, 6])


def _beijing_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=sla.BEIJING)


def _today() -> date:
    from core.tickets import utcnow

    return utcnow().astimezone(sla.BEIJING).date()


class SlaController(Controller):
    path = "/api/v1/sla"
    tags = ["sla"]

    @get("/policies")
    async def policies(self, request: Request, project_id: int | None = None) -> dict[str, Any]:
        """The policies as they apply to the company (or to one project), with where each number comes from."""
        return await sla.sla_settings(request.user, project_id)

    @get("/overrides")
    async def tenant_overrides(self, request: Request) -> dict[str, Any]:
        return await sla.sla_settings(request.user)

    @put("/overrides")
    async def set_tenant_overrides(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        """Replace the company's overrides: ``{"complaint.general": {"resolution": "3 working_days"}}``."""
        return await sla.set_tenant_sla(request.user, data)

    @get("/projects/{project_id:int}/overrides")
    async def project_overrides(self, request: Request, project_id: int) -> dict[str, Any]:
        return await sla.sla_settings(request.user, project_id)

    @put("/projects/{project_id:int}/overrides")
    async def set_project_overrides(self, request: Request, project_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """Replace one project's overrides; they win over the company's."""
        return await sla.set_project_sla(request.user, project_id, data)


class CalendarController(Controller):
    path = "/api/v1/calendar"
    tags = ["sla"]

    @get("/")
    async def days(self, request: Request, first: date = Parameter(query="from"), end: date = Parameter(query="to"),
                   as_of: date | None = None) -> dict[str, Any]:
        """Days in [from, to) with their kind, and the warning when official data for the coming year is missing."""
        p: Principal = request.user
        as_of = as_of or _today()
        days = await sla.calendar_days(p.tenant_id, first, end)
        first_year, last_year = statutory_year_coverage()
        uncovered = sorted({int(d["date"][:4]) for d in days} - set(range(first_year, last_year + 1)))
        return {"from": first.isoformat(), "to": end.isoformat(), "days": days,
                "covered_years": [first_year, last_year], "uncovered_years": uncovered, "as_of": as_of.isoformat(),
                "warning": sla.calendar_warning(as_of)}

    @get("/warning")
    async def warning(self, request: Request, as_of: date | None = None) -> dict[str, Any]:
        as_of = as_of or _today()
        return {"as_of": as_of.isoformat(), "warning": sla.calendar_warning(as_of)}

    @get("/overrides")
    async def overrides(self, request: Request) -> list[dict[str, Any]]:
        return await sla.calendar_overrides(request.user)

    @post("/overrides", status_code=201)
    async def add_override(self, request: Request, data: CalendarOverrideIn) -> list[dict[str, Any]]:
        """An extra working day (``working: true``) or a day off (``false``); replaces that day's entry."""
        return await sla.set_calendar_override(request.user, data.day, data.working, clean_text(data.note))

    @delete("/overrides/{day:date}", status_code=204)
    async def delete_override(self, request: Request, day: date) -> None:
        await sla.delete_calendar_override(request.user, day)


class ServiceHoursController(Controller):
    path = "/api/v1/service-hours"
    tags = ["sla"]

    @get("/")
    async def get_hours(self, request: Request) -> dict[str, Any]:
        """The service centre's hours and how they fall short of the seed (7 days a week, ≥ 10 hours a day)."""
        p: Principal = request.user
        return await sla.service_hours(p.tenant_id)

    @put("/")
    async def set_hours(self, request: Request, data: ServiceHoursIn) -> dict[str, Any]:
        return await sla.set_service_hours(request.user, time.fromisoformat(data.opens), time.fromisoformat(data.closes),
                                           list(data.days))


class KpiController(Controller):
    path = "/api/v1/kpis"
    tags = ["sla"]

    @get("/")
    async def kpis(self, request: Request, first: date = Parameter(query="from"), end: date = Parameter(query="to"),
                   project_id: int | None = None, by: Literal["project", "staff"] = "project") -> dict[str, Any]:
        """KPIs for the Beijing days [from, to), per project or per responsible staff member."""
        return await kpi.kpis(request.user, _beijing_midnight(first), _beijing_midnight(end), by=by,
                              project_id=project_id)


SLA_CONTROLLERS: list = [SlaController, CalendarController, ServiceHoursController, KpiController]
