"""HTTP: the JSON API under /api/v1/community-events and portal pages under /portal/community-events.
Handlers are thin; services hold the rules."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Template

from core import Principal, invalid, utcnow
from core import tables as ct
from plugins.community_events import services as svc
from plugins.community_events.schemas import (
    AnswerIn, CheckInIn, EventCreate, EventUpdate, SignupIn, SummaryIn, SurveyIn, VisitIn,
)

API = "/api/v1/community-events"
Limit = Parameter(ge=1, le=200, default=50)
MAX_UPLOAD = 10 * 1024 * 1024


def _as_of(as_of: str | None) -> datetime:
    if not as_of:
        return utcnow()
    try:
        moment = datetime.fromisoformat(as_of)
    except ValueError:
        raise invalid("as_of", "an ISO date-time with a time zone") from None
    if moment.tzinfo is None:
        raise invalid("as_of", "give a time zone")
    return moment


class ProjectController(Controller):
    path = f"{API}/projects"
    tags = ["community_events"]

    @get("/{project_id:int}/plan")
    async def plan(self, request: Request, project_id: int, year: int | None = None,
                   as_of: str | None = None) -> dict[str, Any]:
        """The annual plan (default: the year of `as_of`): events by quarter with the one-themed-event-a-quarter
        check, festival tasks."""
        await svc.project_for(request.user, project_id)
        moment = _as_of(as_of)
        if year is not None and not 2000 <= year <= 2100:
            raise invalid("year", "a year from 2000 to 2100")
        return await svc.annual_plan(request.user, project_id, year or svc.local_date(moment).year, moment)

    @get("/{project_id:int}/tasks")
    async def tasks(self, request: Request, project_id: int) -> list[dict[str, Any]]:
        return await svc.list_tasks(request.user, project_id)

    @get("/{project_id:int}/events")
    async def events(self, request: Request, project_id: int, limit: int = Limit, after: int = 0) -> dict[str, Any]:
        rows = await svc.list_events(request.user, project_id, limit, after)
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": rows, "next_after": rows[-1]["id"] if more and rows else None}


class TaskController(Controller):
    path = f"{API}/tasks"
    tags = ["community_events"]

    @post("/{task_id:int}/done", status_code=200)
    async def done(self, request: Request, task_id: int) -> dict[str, Any]:
        return await svc.complete_task(request.user, task_id)


class EventController(Controller):
    path = f"{API}/events"
    tags = ["community_events"]

    @post("/")
    async def create(self, request: Request, data: EventCreate) -> dict[str, Any]:
        values = data.set_fields()
        for k in ("title", "theme", "location", "plan", "safety_measures"):
            if k in values:
                values[k] = svc.clean(values[k])
        return await svc.create_event(request.user, values)

    @get("/{event_id:int}")
    async def read(self, request: Request, event_id: int) -> dict[str, Any]:
        return await svc.event_report(request.user, event_id)

    @patch("/{event_id:int}")
    async def update(self, request: Request, event_id: int, data: EventUpdate) -> dict[str, Any]:
        values = {k: svc.clean(v) if isinstance(v, str) else v for k, v in data.set_fields().items()}
        return await svc.update_event(request.user, event_id, values)

    @post("/{event_id:int}/approve", status_code=200)
    async def approve(self, request: Request, event_id: int) -> dict[str, Any]:
        return await svc.approve_event(request.user, event_id, utcnow())

    @post("/{event_id:int}/publish", status_code=200)
    async def publish(self, request: Request, event_id: int) -> dict[str, Any]:
        return await svc.publish_event(request.user, event_id, utcnow())

    @post("/{event_id:int}/cancel", status_code=200)
    async def cancel(self, request: Request, event_id: int) -> dict[str, Any]:
        return await svc.cancel_event(request.user, event_id)

    @post("/{event_id:int}/survey", status_code=200)
    async def survey(self, request: Request, event_id: int, data: SurveyIn) -> dict[str, Any]:
        return await svc.send_survey(request.user, event_id, [svc.clean(q) for q in data.questions], utcnow())

    @get("/{event_id:int}/answers")
    async def answers(self, request: Request, event_id: int) -> list[dict[str, Any]]:
        return await svc.list_answers(request.user, event_id)

    @post("/{event_id:int}/answers")
    async def answer(self, request: Request, event_id: int, data: AnswerIn) -> dict[str, Any]:
        return await svc.record_answer(request.user, event_id, data.customer_id, [svc.clean(a) for a in data.answers])

    @get("/{event_id:int}/signups")
    async def signups(self, request: Request, event_id: int) -> list[dict[str, Any]]:
        return await svc.list_signups(request.user, event_id)

    @post("/{event_id:int}/signups")
    async def sign_up(self, request: Request, event_id: int, data: SignupIn) -> dict[str, Any]:
        return await svc.sign_up(request.user, event_id, data.customer_id, utcnow())

    @post("/{event_id:int}/check-in", status_code=200)
    async def check_in(self, request: Request, event_id: int, data: CheckInIn) -> dict[str, Any]:
        """Check in by the token of the participant's QR code, or by signup_id from the list."""
        return await svc.check_in(request.user, event_id, token=data.token or None, signup_id=data.signup_id,
                                  now=utcnow())

    @post("/{event_id:int}/return-visits", status_code=200)
    async def draw(self, request: Request, event_id: int) -> list[dict[str, Any]]:
        """Draw the return-visit sample (≥ 10 % of participants, at least one; reproducible)."""
        return await svc.draw_return_visits(request.user, event_id, utcnow())

    @get("/{event_id:int}/satisfaction")
    async def satisfaction(self, request: Request, event_id: int) -> dict[str, Any]:
        p: Principal = request.user
        await svc.event_for(p, event_id)
        return await svc.satisfaction(p.scope, event_id)

    @post("/{event_id:int}/summary", status_code=200)
    async def summary(self, request: Request, event_id: int, data: SummaryIn) -> dict[str, Any]:
        return await svc.save_summary(request.user, event_id, data.cost_fen, svc.clean(data.notes))

    @post("/{event_id:int}/photos")
    async def photo(self, request: Request, event_id: int,
                    data: dict[str, Any] = Body(media_type=RequestEncodingType.MULTI_PART)) -> dict[str, Any]:
        await svc.event_for(request.user, event_id, "community_events.handle")
        file = data.get("file")
        if not isinstance(file, UploadFile):
            raise invalid("file", "attach a photo (multipart field `file`)")
        content = await file.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            raise invalid("file", f"is larger than {MAX_UPLOAD} bytes")
        return await svc.add_photo(request.user, event_id, file.filename or "", content, file.content_type or "")


class SignupController(Controller):
    path = f"{API}/signups"
    tags = ["community_events"]

    @post("/{signup_id:int}/cancel", status_code=200)
    async def cancel(self, request: Request, signup_id: int) -> dict[str, Any]:
        """Cancel; a freed place goes to the first on the waiting list."""
        return await svc.cancel_signup(request.user, signup_id, utcnow())

    @get("/{signup_id:int}/qr")
    async def qr(self, request: Request, signup_id: int) -> dict[str, Any]:
        """What the participant's QR code encodes: the check-in endpoint and the sign-up's token."""
        signup, event = await svc._row_of_event(request.user, svc.Signup, signup_id, "signup")
        return {"signup_id": signup_id, "token": signup["token"],
                "check_in": f"{API}/events/{event['id']}/check-in", "payload": f"GJ-EVT:{event['id']}:{signup['token']}"}


    @get("/{signup_id:int}/qr.svg")
    async def qr_svg(self, request: Request, signup_id: int) -> Response:
        """The participant's QR code (SVG) to show at the entrance."""
        signup, event = await svc._row_of_event(request.user, svc.Signup, signup_id, "signup")
        return Response(content=qr_svg(f"GJ-EVT:{event['id']}:{signup['token']}"), media_type="image/svg+xml")


def qr_svg(payload: str) -> bytes:
    from core import qr_svg as svg

    return svg(payload, scale=8).encode()


class VisitController(Controller):
    path = f"{API}/visits"
    tags = ["community_events"]

    @post("/{visit_id:int}", status_code=200)
    async def record(self, request: Request, visit_id: int, data: VisitIn) -> dict[str, Any]:
        return await svc.record_visit(request.user, visit_id, data.score, svc.clean(data.comment), utcnow())


class PhotoController(Controller):
    path = f"{API}/photos"
    tags = ["community_events"]

    @get("/{photo_id:int}")
    async def read(self, request: Request, photo_id: int) -> Response:
        photo = await svc.get_photo(request.user, photo_id)
        return Response(content=bytes(photo["content"]), media_type=photo["content_type"] or "application/octet-stream")


def _ctx(request: Request, **values: Any) -> dict[str, Any]:
    return {"me": request.user, "festivals": svc.FESTIVALS, "yuan": lambda fen: f"{(fen or 0) / 100:,.2f}", **values}


@get("/portal/community-events", include_in_schema=False)
async def portal_index(request: Request, year: int | None = None) -> Template:
    p: Principal = request.user
    p.require("community_events.view")
    now = utcnow()
    year = year or svc.local_date(now).year
    query = p.scope.select(ct.Project, ct.Project.id, ct.Project.name, ct.Project.code)
    clause = p.project_filter(ct.Project.id)
    if clause is not None:
        query = query.where(clause)
    projects = []
    for project in await query.order_by(ct.Project.id).limit(200):
        if await svc.is_enabled(p.tenant_id, project["id"]):
            projects.append({**project, **await svc.annual_plan(p, project["id"], year, now)})
    return Template("community_events/index.html", context=_ctx(request, projects=projects, year=year))


@get("/portal/community-events/events/{event_id:int}", include_in_schema=False)
async def portal_event(request: Request, event_id: int) -> Template:
    p: Principal = request.user
    report = await svc.event_report(p, event_id)
    signups = await svc.list_signups(p, event_id)
    return Template("community_events/event.html", context=_ctx(request, signups=signups, **report))


ROUTES = [ProjectController, TaskController, EventController, SignupController, VisitController, PhotoController,
          portal_index, portal_event]
