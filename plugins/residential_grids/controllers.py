"""Routes of the residential grids plugin: the JSON API, the portal pages and the public board."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, patch, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Template

from core import Principal, Problem, get_registry, invalid, tables
from plugins.residential_grids import services as svc
from plugins.residential_grids.schemas import (
    AnswerCreate, AnswerUpdate, AssignIn, AutoDivideIn, CloseWithAnswerIn, DelegateIn, EvaluationComputeIn,
    EvaluationScoreIn, GoldApplyIn, GoldDecisionIn, ParcelCreate, RegisterCreate, RegisterReplyIn, ReleaseIn,
)
from plugins.residential_grids.tables import Evaluation, GoldApplication, PreparedAnswer, RegisterEntry

API = "/api/v1/residential-grids"
PORTAL = "/portal/residential-grids"


def _day(value: str | None, field: str = "day") -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise invalid(field, "a date like 2026-09-30") from exc


def _moment(value: str | None, field: str = "as_of") -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise invalid(field, "a date-time like 2026-09-30T17:00:00+08:00") from exc
    return svc.aware(moment, field)


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content=content, media_type=media_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


class GridController(Controller):
    """Grids, auto-division, butler assignments, the role configuration and the printable board."""

    path = API
    tags = ["residential_grids"]

    @get("/projects/{project_id:int}/grids")
    async def list_grids(self, request: Request, project_id: int) -> list[dict[str, Any]]:
        """The project's grids with households, holder and flags (350–400 households per butler)."""
        return await svc.list_grids(request.user, project_id)

    @post("/projects/{project_id:int}/auto-divide", status_code=200)
    async def auto_divide(self, request: Request, project_id: int, data: AutoDivideIn | None = None) -> dict[str, Any]:
        """Propose a division into grids of 350–400 households; with `apply: true` and `grids`, save it."""
        data = data or AutoDivideIn()
        if not data.apply:
            return await svc.propose_division(request.user, project_id)
        grids = [{"code": g.code, "name": g.name, "butler_id": g.butler_id,
                  "entrances": [{"building_id": e.building_id, "entrance": e.entrance} for e in g.entrances]}
                 for g in (data.grids or [])]
        return await svc.apply_division(request.user, project_id, grids, now=svc.aware(data.at, "at"))

    @post("/grids/{grid_id:int}/assignment", status_code=201)
    async def assign(self, request: Request, grid_id: int, data: AssignIn) -> dict[str, Any]:
        """Make a butler (or the team lead) the grid's holder; the previous holder's time ends."""
        return await svc.assign(request.user, grid_id, data.user_id, note=data.note, move=data.move,
                                now=svc.aware(data.at, "at"))

    @get("/grids/{grid_id:int}/assignments")
    async def assignments(self, request: Request, grid_id: int) -> list[dict[str, Any]]:
        """Who held the grid when."""
        return await svc.assignment_history(request.user, grid_id)

    @get("/grids/{grid_id:int}/board.pdf", media_type="application/pdf")
    async def board_pdf(self, request: Request, grid_id: int) -> Response:
        """The grid's public board as a printable A4 PDF with a QR code to its public page."""
        grid = await svc.visible_grid(request.user, grid_id)
        tenant = await tables.Tenant.select(tables.Tenant.slug).where(tables.Tenant.id == request.user.tenant_id).first()
        board = await svc.public_board(tenant["slug"], grid["id"])
        url = f"{str(request.base_url).rstrip('/')}/public/{tenant['slug']}/residential-grids/grids/{grid_id}"
        return _download(svc.board_pdf(board, url), "application/pdf", f"网格公示-{grid['code']}.pdf")

    @get("/projects/{project_id:int}/role-configuration")
    async def role_configuration(self, request: Request, project_id: int,
                                 fmt: str = Parameter(query="format", default="json", pattern="^(json|csv|xlsx)$")) -> Any:
        """The butler role configuration for the company's record (备案): JSON, CSV or Excel."""
        config = await svc.role_configuration(request.user, project_id)
        name = f"岗位配置-{config['project']['code']}"
        if fmt == "csv":
            return _download(svc.export_csv(config), "text/csv; charset=utf-8", f"{name}.csv")
        if fmt == "xlsx":
            return _download(svc.export_xlsx(config),
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{name}.xlsx")
        return config


class GoldController(Controller):
    """Gold-butler (金牌管家) applications and decisions."""

    path = API
    tags = ["residential_grids"]

    @get("/projects/{project_id:int}/gold-applications")
    async def list_applications(self, request: Request, project_id: int) -> list[dict[str, Any]]:
        return await svc.list_gold(request.user, project_id)

    @post("/projects/{project_id:int}/gold-applications", status_code=201)
    async def apply(self, request: Request, project_id: int, data: GoldApplyIn) -> dict[str, Any]:
        """A butler applies for promotion to gold butler."""
        return await svc.apply_gold(request.user, project_id, data.reason, now=svc.aware(data.at, "at"))

    @get("/gold-applications/{gold_application_id:int}")
    async def get_application(self, request: Request, gold_application_id: int) -> dict[str, Any]:
        row = await request.user.scope.get(GoldApplication, gold_application_id, what="gold application")
        await svc.residential_project(request.user, row["project_id"])
        return row

    @post("/gold-applications/{gold_application_id:int}/decision", status_code=200)
    async def decide(self, request: Request, gold_application_id: int, data: GoldDecisionIn) -> dict[str, Any]:
        """The supervisor approves, or rejects with a reason."""
        return await svc.decide_gold(request.user, gold_application_id, data.approve, data.reason,
                                     now=svc.aware(data.at, "at"))


class FrontDeskController(Controller):
    """The call/visit register and prepared answers (答客问)."""

    path = API
    tags = ["residential_grids"]

    @get("/projects/{project_id:int}/lookup")
    async def lookup(self, request: Request, project_id: int,
                     phone: str = Parameter(default="", max_length=40), building: str = Parameter(default="", max_length=50),
                     room: str = Parameter(default="", max_length=30)) -> list[dict[str, Any]]:
        """Find the caller by phone, or by building code and room."""
        return await svc.lookup(request.user, project_id, phone=phone, building=building, room=room)

    @get("/projects/{project_id:int}/register")
    async def list_register(self, request: Request, project_id: int, overdue: bool = False,
                            as_of: str | None = Parameter(default=None, max_length=40),
                            day: str | None = Parameter(default=None, max_length=10),
                            before_id: int | None = Parameter(default=None, ge=1),
                            limit: int = Parameter(default=50, ge=1, le=200)) -> list[dict[str, Any]]:
        """The register, newest first; `overdue=true&as_of=…`: promised replies past due and unanswered."""
        return await svc.list_register(request.user, project_id, overdue=overdue, as_of=_moment(as_of),
                                       day=_day(day), before_id=before_id, limit=limit)

    @post("/projects/{project_id:int}/register", status_code=201)
    async def log_contact(self, request: Request, project_id: int, data: RegisterCreate) -> dict[str, Any]:
        """Log a call or visit (linked to the ticket it created, if any)."""
        return await svc.log_contact(request.user, project_id, data.set_fields())

    @get("/register/{register_entry_id:int}")
    async def get_entry(self, request: Request, register_entry_id: int) -> dict[str, Any]:
        row = await request.user.scope.get(RegisterEntry, register_entry_id, what="register entry")
        await svc.residential_project(request.user, row["project_id"])
        request.user.require("residential_grids.front_desk")
        return row

    @post("/register/{register_entry_id:int}/reply", status_code=200)
    async def reply(self, request: Request, register_entry_id: int, data: RegisterReplyIn) -> dict[str, Any]:
        """Record the promised reply."""
        return await svc.reply(request.user, register_entry_id, data.answer, now=svc.aware(data.at, "at"))

    @get("/projects/{project_id:int}/prepared-answers")
    async def search_answers(self, request: Request, project_id: int,
                             q: str = Parameter(default="", max_length=100), all: bool = False) -> list[dict[str, Any]]:
        """Prepared answers containing every word of `q`, most used first."""
        return await svc.search_answers(request.user, project_id, q, include_inactive=all)

    @post("/projects/{project_id:int}/prepared-answers", status_code=201)
    async def create_answer(self, request: Request, project_id: int, data: AnswerCreate) -> dict[str, Any]:
        return await svc.create_answer(request.user, project_id, data.set_fields())

    @get("/prepared-answers/{prepared_answer_id:int}")
    async def get_answer(self, request: Request, prepared_answer_id: int) -> dict[str, Any]:
        row = await request.user.scope.get(PreparedAnswer, prepared_answer_id, what="prepared answer")
        await svc.residential_project(request.user, row["project_id"])
        return row

    @patch("/prepared-answers/{prepared_answer_id:int}")
    async def update_answer(self, request: Request, prepared_answer_id: int, data: AnswerUpdate) -> dict[str, Any]:
        return await svc.update_answer(request.user, prepared_answer_id, data.set_fields())

    @post("/tickets/{ticket_id:int}/close-with-answer", status_code=200)
    async def close_with_answer(self, request: Request, ticket_id: int, data: CloseWithAnswerIn) -> dict[str, Any]:
        """Answer an inquiry with a prepared answer and close it at once."""
        return await svc.close_with_answer(request.user, ticket_id, data.prepared_answer_id, now=svc.aware(data.at, "at"))


class ParcelController(Controller):
    """Parcels (快递): register, daily list by building, delegate, release with signature."""

    path = API
    tags = ["residential_grids"]

    @post("/projects/{project_id:int}/parcels", status_code=201)
    async def register(self, request: Request, project_id: int, data: ParcelCreate) -> dict[str, Any]:
        """Register a parcel; the household is notified."""
        return await svc.register_parcel(request.user, project_id, data.set_fields())

    @get("/projects/{project_id:int}/parcels/daily")
    async def daily(self, request: Request, project_id: int,
                    day: str | None = Parameter(default=None, max_length=10)) -> dict[str, Any]:
        """The day's list sorted by building (default: today in Beijing)."""
        return await svc.daily_list(request.user, project_id, _day(day) or svc.local_day(svc.utcnow()))

    @get("/parcels/{parcel_id:int}")
    async def get_parcel(self, request: Request, parcel_id: int) -> dict[str, Any]:
        return await svc.get_parcel(request.user, parcel_id)

    @post("/parcels/{parcel_id:int}/delegate", status_code=200)
    async def delegate(self, request: Request, parcel_id: int, data: DelegateIn) -> dict[str, Any]:
        """Record the delegate the household named."""
        return await svc.set_delegate(request.user, parcel_id, data.name, data.phone)

    @post("/parcels/{parcel_id:int}/release", status_code=200)
    async def release(self, request: Request, parcel_id: int, data: ReleaseIn) -> dict[str, Any]:
        """Hand the parcel over: only to the household or its named delegate, only with a signature."""
        return await svc.release_parcel(request.user, parcel_id, data.set_fields())

    @get("/parcels/{parcel_id:int}/signature.png", media_type="image/png")
    async def signature(self, request: Request, parcel_id: int) -> Response:
        sig, png = await svc.signature_of(request.user, parcel_id)
        return Response(content=png, media_type="image/png",
                        headers={"X-Signed-At": sig["signed_at"].isoformat(), "X-Signer": quote(sig["signer_name"])})


class EvaluationController(Controller):
    """Monthly butler evaluation (月度考评)."""

    path = API
    tags = ["residential_grids"]

    @post("/projects/{project_id:int}/evaluations/compute", status_code=200)
    async def compute(self, request: Request, project_id: int, data: EvaluationComputeIn) -> list[dict[str, Any]]:
        """Compute every grid holder's figures for a month as of a moment (the score is kept)."""
        return await svc.compute_evaluations(request.user, project_id, data.month, data.as_of)

    @get("/projects/{project_id:int}/evaluations")
    async def list_evaluations(self, request: Request, project_id: int,
                               month: str | None = Parameter(default=None, pattern=r"^[0-9]{4}-[0-9]{2}$"),
                               user_id: int | None = Parameter(default=None, ge=1)) -> list[dict[str, Any]]:
        return await svc.list_evaluations(request.user, project_id, month=month, user_id=user_id)

    @get("/projects/{project_id:int}/evaluations/series")
    async def series(self, request: Request, project_id: int,
                     user_id: int | None = Parameter(default=None, ge=1)) -> dict[str, Any]:
        """One butler's figures over the months, for a chart."""
        return await svc.evaluation_series(request.user, project_id, user_id)

    @get("/evaluations/{evaluation_id:int}")
    async def get_evaluation(self, request: Request, evaluation_id: int) -> dict[str, Any]:
        row = await request.user.scope.get(Evaluation, evaluation_id, what="evaluation")
        await svc.residential_project(request.user, row["project_id"])
        if request.user.role == "butler" and row["user_id"] != request.user.user_id:
            raise Problem(404, "Not found", "No such evaluation.")
        return svc.present_evaluation(row)

    @patch("/evaluations/{evaluation_id:int}")
    async def score(self, request: Request, evaluation_id: int, data: EvaluationScoreIn) -> dict[str, Any]:
        """The supervisor's score (0–100) and comment."""
        return await svc.score_evaluation(request.user, evaluation_id, data.score, data.comment, now=data.at)


# ---------------------------------------------------------------- portal pages

async def _portal_project(principal: Principal, project_id: int | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The chosen residential project (default: the first this staff member sees) and the choices."""
    P = tables.Project
    query = principal.scope.select(P, P.id, P.name, P.kind).where(P.kind == "residential")
    clause = principal.project_filter(P.id)
    if clause is not None:
        query = query.where(clause)
    enabled = []
    for p in await query.order_by(P.id):
        if svc.PLUGIN in await get_registry().enabled(principal.tenant_id, p["id"]):
            enabled.append(p)
    if not enabled:
        raise Problem(404, "Not found", "No residential project with grids.")
    chosen = next((p for p in enabled if p["id"] == project_id), None) if project_id else enabled[0]
    if chosen is None:
        raise Problem(404, "Not found", "No such project.")
    return chosen, enabled


def _page(request: Request, name: str, **context: Any) -> Template:
    return Template(f"residential_grids/{name}", context={"me": request.user, **context})


class PortalController(Controller):
    path = PORTAL
    include_in_schema = False

    @get("/")
    async def grids(self, request: Request, project_id: int | None = None) -> Template:
        """Grids of a project: households, butler, flags; auto-divide, assignment, exports, boards."""
        project, projects = await _portal_project(request.user, project_id)
        grids = await svc.list_grids(request.user, project["id"])
        M = tables.Membership
        holders = await request.user.scope.select(M, M.user_id, M.role, M.project_ids, M.user_id.name.as_alias("name")).where(
            M.role.is_in(list(svc.HOLDER_ROLES)) & (M.is_active == True))  # noqa: E712
        holders = [h for h in holders if project["id"] in (svc.json_value(h["project_ids"]) or [])]
        tenant = await tables.Tenant.select(tables.Tenant.slug).where(tables.Tenant.id == request.user.tenant_id).first()
        return _page(request, "grids.html", project=project, projects=projects, grids=grids, holders=holders,
                     slug=tenant["slug"], can_divide=request.user.can("residential_grids.divide"))

    @get("/front-desk")
    async def front_desk(self, request: Request, project_id: int | None = None) -> Template:
        """The call/visit register with overdue replies, and the prepared answers."""
        project, projects = await _portal_project(request.user, project_id)
        entries = await svc.list_register(request.user, project["id"], limit=50)
        answers = await svc.search_answers(request.user, project["id"])
        return _page(request, "front_desk.html", project=project, projects=projects, entries=entries, answers=answers)

    @get("/parcels")
    async def parcels(self, request: Request, project_id: int | None = None,
                      day: str | None = Parameter(default=None, max_length=10)) -> Template:
        """The day's parcels by building; release with a signature drawn on the screen."""
        project, projects = await _portal_project(request.user, project_id)
        listing = await svc.daily_list(request.user, project["id"], _day(day) or svc.local_day(svc.utcnow()))
        return _page(request, "parcels.html", project=project, projects=projects, listing=listing)

    @get("/evaluations")
    async def evaluations(self, request: Request, project_id: int | None = None,
                          user_id: int | None = Parameter(default=None, ge=1)) -> Template:
        """Monthly evaluations, a chart per butler over the months, gold-butler applications."""
        project, projects = await _portal_project(request.user, project_id)
        rows = await svc.list_evaluations(request.user, project["id"])
        people = {r["user_id"]: r["name"] for r in rows}
        chosen = user_id or (request.user.user_id if request.user.role == "butler" else next(iter(people), None))
        series = await svc.evaluation_series(request.user, project["id"], chosen) if chosen else None
        gold = await svc.list_gold(request.user, project["id"])
        return _page(request, "evaluations.html", project=project, projects=projects, rows=rows, people=people,
                     chosen=chosen, series=series, gold=gold, can_evaluate=request.user.can("residential_grids.evaluate"))


# ---------------------------------------------------------------- public board (no login)

PUBLIC = "/public/{tenant_slug:str}/residential-grids/grids/{grid_id:int}"


@get(PUBLIC, exclude_from_auth=True, include_in_schema=False)
async def public_board(tenant_slug: str, grid_id: int) -> Template:
    """The grid's public board: butler's name, photo, work phone and the grid — and a request form."""
    board = await svc.public_board(tenant_slug, grid_id)
    return Template("residential_grids/public_board.html", context={"board": board, "form": {}, "error": "", "done": None})


@post(PUBLIC + "/requests", exclude_from_auth=True, include_in_schema=False, status_code=201)
async def public_request(request: Request, tenant_slug: str, grid_id: int,
                         data: dict[str, Any] = Body(media_type=RequestEncodingType.URL_ENCODED)) -> Any:
    """File an inquiry or repair into the grid (rate-limited per address); answers with the ticket number."""
    form = {k: str(v)[:1000] for k, v in data.items() if k in ("kind", "name", "phone", "room", "description")}
    address = request.client.host if request.client else ""
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        done = await svc.file_public_request(tenant_slug, grid_id, form, address)
    except Problem as exc:
        if exc.status == 404 or wants_json:
            raise
        board = await svc.public_board(tenant_slug, grid_id)
        return Template("residential_grids/public_board.html", status_code=exc.status,
                        context={"board": board, "form": form, "error": exc.detail, "done": None})
    if wants_json:
        return Response(content={**done, "message": f"已提交, 工单号 {done['ticket_id']}"}, status_code=201)
    board = await svc.public_board(tenant_slug, grid_id)
    return Template("residential_grids/public_board.html", status_code=201,
                    context={"board": board, "form": {}, "error": "", "done": done})


ROUTES = [GridController, GoldController, FrontDeskController, ParcelController, EvaluationController, PortalController,
          public_board, public_request]
