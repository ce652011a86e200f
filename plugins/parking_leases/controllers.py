"""HTTP: the JSON API under /api/v1/parking-leases, portal pages under /portal/parking-leases and the
public plan page under /public/{tenant_slug}/parking-leases. Handlers are thin; services hold the rules."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Template

from core import Principal, invalid, utcnow
from core import tables as ct
from plugins.parking_leases import services as svc
from plugins.parking_leases.portal import PORTAL_ROUTES
from plugins.parking_leases.schemas import (
    AllocateIn, ApplicationCreate, ChecklistIn, DeclineIn, GarageCreate, LeaseCreate, PlanIn, RenewIn, SignIn, SpaceRange,
    SpaceUpdate, TerminateIn,
)

API = "/api/v1/parking-leases"
Limit = Parameter(ge=1, le=200, default=50)
MAX_UPLOAD = 20 * 1024 * 1024


def _page(rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_after": rows[-1]["id"] if more and rows else None}


def _view(request: Request) -> Principal:
    """The staff member, who must be allowed to see parking leases (rows are checked by the services)."""
    p: Principal = request.user
    p.require("parking_leases.view")
    return p


def _strip_content(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "content"}


async def _upload(data: dict[str, Any]) -> tuple[str, bytes, str]:
    file = data.get("file")
    if not isinstance(file, UploadFile):
        raise invalid("file", "attach a file (multipart field `file`)")
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise invalid("file", f"is larger than {MAX_UPLOAD} bytes")
    return file.filename or "", content, file.content_type or ""


class GarageController(Controller):
    path = f"{API}/garages"
    tags = ["parking_leases"]

    @get("/")
    async def list_garages(self, request: Request, project_id: int) -> list[dict[str, Any]]:
        return await svc.list_garages(request.user, project_id)

    @post("/")
    async def create_garage(self, request: Request, data: GarageCreate) -> dict[str, Any]:
        return await svc.create_garage(request.user, {**data.set_fields(), "name": svc.clean(data.name)})

    @get("/{garage_id:int}")
    async def get_garage(self, request: Request, garage_id: int) -> dict[str, Any]:
        return await svc.get_garage(request.user, garage_id)

    @post("/{garage_id:int}/spaces/range")
    async def create_range(self, request: Request, garage_id: int, data: SpaceRange) -> dict[str, Any]:
        """Create spaces from a range of numbers, e.g. B3-001..B3-120 (all or nothing)."""
        return await svc.create_space_range(request.user, garage_id, data.set_fields())

    @post("/{garage_id:int}/spaces/import")
    async def import_sheet(self, request: Request, garage_id: int,
                           data: dict[str, Any] = Body(media_type=RequestEncodingType.MULTI_PART)) -> dict[str, Any]:
        """Create spaces from an Excel sheet (columns number, zone, type, status, note); every bad row is
        reported with its line number and nothing is imported unless all rows are good."""
        await svc.get_garage(request.user, garage_id)  # another company's garage is a 404 before the form is read
        _, content, _ = await _upload(data)
        return await svc.import_spaces(request.user, garage_id, content)


class SpaceController(Controller):
    path = f"{API}/spaces"
    tags = ["parking_leases"]

    @get("/")
    async def list_spaces(self, request: Request, project_id: int, garage_id: int | None = None,
                          status: str | None = Parameter(default=None, max_length=20),
                          space_type: str | None = Parameter(default=None, max_length=20),
                          after: int | None = None, limit: int = Limit) -> dict[str, Any]:
        rows = await svc.list_spaces(request.user, project_id, garage_id=garage_id, status=status,
                                     space_type=space_type, after=after, limit=limit)
        return _page(rows, limit)

    @get("/{space_id:int}")
    async def get_space(self, request: Request, space_id: int) -> dict[str, Any]:
        return await svc.get_space(request.user, space_id)

    @patch("/{space_id:int}")
    async def update_space(self, request: Request, space_id: int, data: SpaceUpdate) -> dict[str, Any]:
        return await svc.update_space(request.user, space_id, data.set_fields())


class ProjectController(Controller):
    path = f"{API}/projects"
    tags = ["parking_leases"]

    @get("/{project_id:int}/plan")
    async def get_plan(self, request: Request, project_id: int) -> dict[str, Any]:
        return await svc.get_plan(request.user, project_id)

    @put("/{project_id:int}/plan")
    async def publish_plan(self, request: Request, project_id: int, data: PlanIn) -> dict[str, Any]:
        """Publish the parking plan decided by the owners' general meeting, its documents, process and fees."""
        return await svc.publish_plan(request.user, project_id, {**data.set_fields(),
                                                                 "fees": [f.set_fields() for f in data.fees]},
                                      now=utcnow())

    @get("/{project_id:int}/waitlist")
    async def waitlist(self, request: Request, project_id: int,
                       space_type: str | None = Parameter(default=None, max_length=20)) -> list[dict[str, Any]]:
        return await svc.list_waitlist(request.user, project_id, space_type)

    @get("/{project_id:int}/reports/occupancy")
    async def occupancy(self, request: Request, project_id: int) -> dict[str, Any]:
        return await svc.occupancy_report(request.user, project_id)

    @get("/{project_id:int}/reports/waitlist")
    async def waitlist_report(self, request: Request, project_id: int, as_of: datetime | None = None) -> dict[str, Any]:
        if as_of is not None and as_of.tzinfo is None:
            raise invalid("as_of", "give a time zone (e.g. +08:00)")
        return await svc.waitlist_report(request.user, project_id, as_of=as_of or utcnow())

    @get("/{project_id:int}/reports/handling-time")
    async def handling(self, request: Request, project_id: int, since: datetime | None = None,
                       until: datetime | None = None) -> dict[str, Any]:
        """Handling time of each signed application against the seed's target of 20 minutes (001)."""
        for name, value in (("since", since), ("until", until)):
            if value is not None and value.tzinfo is None:
                raise invalid(name, "give a time zone (e.g. +08:00)")
        return await svc.handling_report(request.user, project_id, since=since, until=until)

    @get("/{project_id:int}/reports/income")
    async def income(self, request: Request, project_id: int,
                     since_month: str | None = Parameter(default=None, pattern=r"^\d{4}-\d{2}$"),
                     until_month: str | None = Parameter(default=None, pattern=r"^\d{4}-\d{2}$")) -> dict[str, Any]:
        return await svc.income_report(request.user, project_id, since_month=since_month, until_month=until_month)


class ApplicationController(Controller):
    path = f"{API}/applications"
    tags = ["parking_leases"]

    @get("/")
    async def list_applications(self, request: Request, project_id: int,
                                status: str | None = Parameter(default=None, max_length=20),
                                after: int | None = None, limit: int = Limit) -> dict[str, Any]:
        rows = await svc.list_applications(request.user, project_id, status=status, after=after, limit=limit)
        return _page(rows, limit)

    @post("/")
    async def create_application(self, request: Request, data: ApplicationCreate) -> dict[str, Any]:
        """A customer of the project applies at the desk; the handling clock starts."""
        return await svc.create_application(request.user, data.set_fields(), now=utcnow())

    @get("/{application_id:int}")
    async def get_application(self, request: Request, application_id: int) -> dict[str, Any]:
        return await svc.get_application(request.user, application_id)

    @post("/{application_id:int}/documents")
    async def add_document(self, request: Request, application_id: int,
                           data: dict[str, Any] = Body(media_type=RequestEncodingType.MULTI_PART)) -> dict[str, Any]:
        """Attach a file (PDF, JPEG or PNG) for one required document (multipart: `requirement`, `file`)."""
        await svc.get_application(request.user, application_id)  # 404 before the form is read
        requirement = data.get("requirement")
        if not isinstance(requirement, str) or not requirement.strip():
            raise invalid("requirement", "name the required document this file is for")
        filename, content, content_type = await _upload(data)
        return await svc.add_document(request.user, application_id, requirement.strip(), filename, content_type, content,
                                      now=utcnow())

    @patch("/{application_id:int}/checklist")
    async def check(self, request: Request, application_id: int, data: ChecklistIn) -> dict[str, Any]:
        return await svc.check_documents(request.user, application_id, data.items, now=utcnow())

    @post("/{application_id:int}/allocate")
    async def allocate(self, request: Request, application_id: int, data: AllocateIn) -> dict[str, Any]:
        """Offer a free space, or put the applicant on the waiting list with the reason in writing."""
        return await svc.allocate(request.user, application_id, data.space_id, now=utcnow())

    @post("/{application_id:int}/sign")
    async def sign(self, request: Request, application_id: int, data: SignIn) -> dict[str, Any]:
        return await svc.sign_lease(request.user, application_id, data.set_fields(), now=utcnow())


class DocumentController(Controller):
    path = f"{API}/documents"
    tags = ["parking_leases"]

    @get("/{document_id:int}")
    async def download(self, request: Request, document_id: int) -> Response:
        doc = await svc.get_document(request.user, document_id)
        content = doc["content"]
        return Response(content=bytes(content), media_type=doc["content_type"],
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc['filename'])}"})


class WaitlistController(Controller):
    path = f"{API}/waitlist"
    tags = ["parking_leases"]

    @get("/{waitlist_id:int}")
    async def get_entry(self, request: Request, waitlist_id: int) -> dict[str, Any]:
        """A waiting-list entry with its current position and the reason given in writing."""
        return await svc.get_waitlist_entry(request.user, waitlist_id)


class OfferController(Controller):
    path = f"{API}/offers"
    tags = ["parking_leases"]

    @get("/{offer_id:int}")
    async def get_offer(self, request: Request, offer_id: int) -> dict[str, Any]:
        return await svc.get_offer(request.user, offer_id)

    @post("/{offer_id:int}/accept")
    async def accept(self, request: Request, offer_id: int) -> dict[str, Any]:
        return await svc.accept_offer(request.user, offer_id, now=utcnow())

    @post("/{offer_id:int}/decline")
    async def decline(self, request: Request, offer_id: int, data: DeclineIn) -> dict[str, Any]:
        return await svc.decline_offer(request.user, offer_id, data.reason, now=utcnow())


class LeaseController(Controller):
    path = f"{API}/leases"
    tags = ["parking_leases"]

    @get("/")
    async def list_leases(self, request: Request, project_id: int,
                          status: str | None = Parameter(default=None, max_length=20), customer_id: int | None = None,
                          ending_before: date | None = None, after: int | None = None,
                          limit: int = Limit) -> dict[str, Any]:
        rows = await svc.list_leases(request.user, project_id, status=status, customer_id=customer_id,
                                     ending_before=ending_before, after=after, limit=limit)
        return _page(rows, limit)

    @post("/")
    async def create_lease(self, request: Request, data: LeaseCreate) -> dict[str, Any]:
        return await svc.create_lease(request.user, data.set_fields(), now=utcnow())

    @get("/{lease_id:int}")
    async def get_lease(self, request: Request, lease_id: int) -> dict[str, Any]:
        return await svc.get_lease(request.user, lease_id)

    @post("/{lease_id:int}/renew")
    async def renew(self, request: Request, lease_id: int, data: RenewIn) -> dict[str, Any]:
        return await svc.renew_lease(request.user, lease_id, data.term, now=utcnow())

    @post("/{lease_id:int}/terminate")
    async def terminate(self, request: Request, lease_id: int, data: TerminateIn) -> dict[str, Any]:
        return await svc.terminate_lease(request.user, lease_id, data.reason, data.end_date, now=utcnow())


# ---------------------------------------------------------------- portal pages

def _ctx(request: Request, **values: Any) -> dict[str, Any]:
    return {"me": request.user, "types": svc.SPACE_TYPES, "statuses": svc.SPACE_STATUSES, "terms": svc.TERM_LABELS,
            "app_statuses": svc.APPLICATION_STATUSES, "yuan": lambda fen: f"{(fen or 0) / 100:,.2f}", **values}


@get("/portal/parking-leases", include_in_schema=False)
async def portal_index(request: Request) -> Template:
    p = _view(request)  # a page of its own: no row to look up first
    query = p.scope.select(ct.Project, ct.Project.id, ct.Project.name, ct.Project.code)
    clause = p.project_filter(ct.Project.id)
    if clause is not None:
        query = query.where(clause)
    projects = []
    for project in await query.order_by(ct.Project.id).limit(200):
        if await svc.is_enabled(p.tenant_id, project["id"]):
            project["occupancy"] = (await svc.occupancy_report(p, project["id"]))["total"]
            projects.append(project)
    return Template("parking_leases/index.html", context=_ctx(request, projects=projects))


@get("/portal/parking-leases/waitlist/{waitlist_id:int}", include_in_schema=False)
async def portal_waitlist_letter(request: Request, waitlist_id: int) -> Template:
    """The written notice given to an applicant who joins the waiting list (printable)."""
    p: Principal = request.user
    entry = await svc.get_waitlist_entry(p, waitlist_id)
    customer = await p.scope.get(ct.Customer, entry["customer_id"], ct.Customer.id, ct.Customer.name)
    project = await p.scope.get(ct.Project, entry["project_id"], ct.Project.id, ct.Project.name)
    return Template("parking_leases/waitlist_letter.html",
                    context=_ctx(request, entry=entry, customer=customer, project=project))


@get("/public/{tenant_slug:str}/parking-leases/projects/{project_id:int}", exclude_from_auth=True,
     include_in_schema=False)
async def public_plan(tenant_slug: str, project_id: int) -> Template:
    """The published parking plan, documents, process and fees of a project (no login; 404 when off)."""
    data = await svc.public_plan(tenant_slug[:63], project_id)
    return Template("parking_leases/public_plan.html",
                    context={"me": None, "types": svc.SPACE_TYPES, "terms": svc.TERM_LABELS,
                             "yuan": lambda fen: f"{(fen or 0) / 100:,.2f}", **data})


ROUTES = [GarageController, SpaceController, ProjectController, ApplicationController, DocumentController,
          WaitlistController, OfferController, LeaseController, portal_index, portal_waitlist_letter, public_plan,
          *PORTAL_ROUTES]

