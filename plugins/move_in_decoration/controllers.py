"""HTTP: the JSON API under /api/v1/move-in-decoration (the portal pages are in `portal.py`).
Handlers are thin: they call `services` with the principal and the current time."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post, put
from litestar.params import Parameter

from core import attachments, not_found, utcnow

from plugins.move_in_decoration import services as svc
from plugins.move_in_decoration.portal import PORTAL_ROUTES
from plugins.move_in_decoration.schemas import (
    ApplicationCreate, AtIn, BatchCreate, CorrectedIn, CustomerRef, DocumentsCheck, FinishIn, HandoverIn, HouseholdCreate,
    HoursReportIn, InspectIn, InspectionIn, MovingOutCreate, MovingOutReject, NoteIn, PatrolIn, ProblemsIn, RefundIn,
    RejectIn, ReleaseIn, SlotCreate, SlotPick, StructuralReviewIn, TemplateUpdate, ToldIn, WorkerIn,
)

API = "/api/v1/move-in-decoration"


UPLOAD_BODY = attachments.MAX_BYTES + 256 * 1024


def _label(others: dict[str, Any]) -> str:
    value = others.get("label", "")
    return value if isinstance(value, str) else ""


def file_response(row: dict[str, Any], content: bytes, media_type: str, *, inline: bool) -> Response:
    """The stored bytes with their checked type; never interpreted by the browser as anything else."""
    name = row["filename"]
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name) or "file"
    return Response(content=bytes(content), media_type=media_type, headers={
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; "
                               f"filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=86400"})


# ---------------------------------------------------------------- move-in

class BatchController(Controller):
    path = f"{API}/batches"
    tags = ["move_in_decoration"]

    @get("/")
    async def list_batches(self, request: Request, project_id: int) -> list[dict[str, Any]]:
        return await svc.list_batches(request.user, project_id)

    @post("/")
    async def create_batch(self, request: Request, data: BatchCreate) -> dict[str, Any]:
        """A move-in batch with its notice, residents' guide, decoration rules and payment notice templates."""
        return await svc.create_batch(request.user, data.set_fields(), now=utcnow())

    @get("/{batch_id:int}")
    async def get_batch(self, request: Request, batch_id: int) -> dict[str, Any]:
        return await svc.batch_view(request.user, batch_id)

    @get("/{batch_id:int}/report")
    async def report(self, request: Request, batch_id: int) -> dict[str, Any]:
        """Per day and batch: waiting ≤ 15 and processing ≤ 30 minutes (counts within target, averages), seed 001."""
        return await svc.batch_report(request.user, batch_id)

    @post("/{batch_id:int}/slots")
    async def add_slot(self, request: Request, batch_id: int, data: SlotCreate) -> dict[str, Any]:
        return await svc.add_slot(request.user, batch_id, data.set_fields())

    @post("/{batch_id:int}/households")
    async def add_household(self, request: Request, batch_id: int, data: HouseholdCreate) -> dict[str, Any]:
        """A unit handed over in the batch; its documents are generated from the batch's templates."""
        body = data.set_fields()
        body["fees"] = [f.set_fields() for f in data.fees]
        return await svc.add_household(request.user, batch_id, body, now=utcnow())


class TemplateController(Controller):
    path = f"{API}/templates"
    tags = ["move_in_decoration"]

    @put("/{template_id:int}")
    async def update_template(self, request: Request, template_id: int, data: TemplateUpdate) -> dict[str, Any]:
        return await svc.update_template(request.user, template_id, data.set_fields(), now=utcnow())


class HouseholdController(Controller):
    path = f"{API}/households"
    tags = ["move_in_decoration"]

    @get("/{household_id:int}")
    async def get_household(self, request: Request, household_id: int) -> dict[str, Any]:
        """The household at the desk: fees, documents, checklist, keys and cards, inspection, times."""
        return await svc.household_view(request.user, household_id)

    @post("/{household_id:int}/appointment", status_code=200)
    async def appointment(self, request: Request, household_id: int, data: SlotPick) -> dict[str, Any]:
        return await svc.book_slot(request.user, household_id, data.slot_id, now=utcnow())

    @post("/{household_id:int}/deliver", status_code=200)
    async def deliver(self, request: Request, household_id: int) -> dict[str, Any]:
        """Send the move-in notice with the guide, decoration rules and payment notice to the customer."""
        return await svc.deliver_notice(request.user, household_id, now=utcnow())

    @post("/{household_id:int}/arrive", status_code=200)
    async def arrive(self, request: Request, household_id: int, data: AtIn) -> dict[str, Any]:
        return await svc.arrive(request.user, household_id, at=data.at or utcnow())

    @post("/{household_id:int}/start", status_code=200)
    async def start(self, request: Request, household_id: int, data: AtIn) -> dict[str, Any]:
        return await svc.start_desk(request.user, household_id, at=data.at or utcnow())

    @post("/{household_id:int}/documents-check", status_code=200)
    async def documents(self, request: Request, household_id: int, data: DocumentsCheck) -> dict[str, Any]:
        return await svc.check_documents(request.user, household_id, data.documents, now=utcnow())

    @post("/{household_id:int}/handover", status_code=200)
    async def handover(self, request: Request, household_id: int, data: HandoverIn) -> dict[str, Any]:
        return await svc.hand_over(request.user, household_id, data.keys, data.access_cards, now=utcnow())

    @post("/{household_id:int}/inspection", status_code=200)
    async def inspection(self, request: Request, household_id: int, data: InspectionIn) -> dict[str, Any]:
        """The unit's inspection; each defect becomes an in-warranty repair ticket."""
        return await svc.record_inspection(request.user, household_id, [i.set_fields() for i in data.items], now=utcnow())

    @post("/{household_id:int}/finish", status_code=200)
    async def finish(self, request: Request, household_id: int, data: FinishIn) -> dict[str, Any]:
        return await svc.finish(request.user, household_id, at=data.at or utcnow(), move_in_date=data.move_in_date)


class DocumentController(Controller):
    path = f"{API}/documents"
    tags = ["move_in_decoration"]

    @get("/{document_id:int}")
    async def get_document(self, request: Request, document_id: int) -> dict[str, Any]:
        return await svc.get_document(request.user, document_id)


# ---------------------------------------------------------------- decoration

class ApplicationController(Controller):
    path = f"{API}/applications"
    tags = ["move_in_decoration"]

    @get("/")
    async def list_applications(self, request: Request, project_id: int,
                                status: str | None = Parameter(default=None, max_length=30)) -> list[dict[str, Any]]:
        return await svc.list_applications(request.user, project_id, status=status)

    @post("/")
    async def create_application(self, request: Request, data: ApplicationCreate) -> dict[str, Any]:
        """A decoration application; its review is due within 3 working days (seed 001)."""
        body = data.set_fields()
        body["workers"] = [w.set_fields() for w in data.workers]
        return await svc.create_application(request.user, body, now=utcnow())

    @get("/{application_id:int}")
    async def get_application(self, request: Request, application_id: int) -> dict[str, Any]:
        return await svc.application_view(request.user, application_id)

    @post("/{application_id:int}/workers")
    async def add_worker(self, request: Request, application_id: int, data: WorkerIn) -> dict[str, Any]:
        return await svc.add_worker(request.user, application_id, data.set_fields())

    @post("/{application_id:int}/drawings", request_max_body_size=UPLOAD_BODY)
    async def add_drawing(self, request: Request, application_id: int) -> dict[str, Any]:
        """Attach a drawing: multipart/form-data, field `file` (PDF, JPEG, PNG, WebP or DWG, type read from the
        bytes, at most the `max_upload_bytes` setting), optional field `label`."""
        await svc.get_application(request.user, application_id, f"{svc.PLUGIN}.register")  # 404 before the body
        filename, content, others = await attachments.read_upload(request)
        return await svc.add_attachment(request.user, application_id, kind="drawing", label=_label(others),
                                        filename=filename, content=content, now=utcnow())

    @post("/{application_id:int}/structural-review", status_code=200)
    async def structural(self, request: Request, application_id: int, data: StructuralReviewIn) -> dict[str, Any]:
        """The project manager's extra review of structural changes."""
        return await svc.structural_review(request.user, application_id, data.approve, data.note, now=utcnow())

    @post("/{application_id:int}/problems", status_code=200)
    async def problems(self, request: Request, application_id: int, data: ProblemsIn) -> dict[str, Any]:
        """Problems found in review; the applicant is told the same day (seed 001)."""
        return await svc.record_problems(request.user, application_id, list(data.problems), data.note, now=utcnow())

    @post("/{application_id:int}/resubmit", status_code=200)
    async def resubmit(self, request: Request, application_id: int, data: NoteIn) -> dict[str, Any]:
        return await svc.resubmit(request.user, application_id, now=utcnow(), note=data.note)

    @post("/{application_id:int}/approve", status_code=200)
    async def approve(self, request: Request, application_id: int, data: NoteIn) -> dict[str, Any]:
        """Approve and issue the permit with its rules and work hours."""
        return await svc.approve(request.user, application_id, now=utcnow(), note=data.note)

    @post("/{application_id:int}/reject", status_code=200)
    async def reject(self, request: Request, application_id: int, data: RejectIn) -> dict[str, Any]:
        return await svc.reject(request.user, application_id, data.reason, now=utcnow())

    @post("/{application_id:int}/patrols")
    async def patrol(self, request: Request, application_id: int, data: PatrolIn) -> dict[str, Any]:
        body = data.set_fields()
        body["violations"] = [v.set_fields() for v in data.violations]
        return await svc.record_patrol(request.user, application_id, body, now=utcnow())

    @post("/{application_id:int}/acceptance-requests")
    async def acceptance(self, request: Request, application_id: int) -> dict[str, Any]:
        """The applicant asks for acceptance (or re-inspection): organised within 3 working days (seed 001)."""
        return await svc.request_acceptance(request.user, application_id, now=utcnow())


class AttachmentController(Controller):
    path = f"{API}/attachments"
    tags = ["move_in_decoration"]

    @get("/{attachment_id:int}")
    async def download(self, request: Request, attachment_id: int) -> Response:
        """The file (photos shown inline, drawings downloaded)."""
        row = await svc.get_attachment(request.user, attachment_id)
        return file_response(row, row["content"], row["content_type"], inline=row["kind"] == "patrol_photo")

    @get("/{attachment_id:int}/thumbnail")
    async def thumbnail(self, request: Request, attachment_id: int) -> Response:
        """A JPEG of at most 320 × 320 pixels of a photo (404 for a drawing without one)."""
        row = await svc.get_attachment(request.user, attachment_id)
        if row["thumbnail"] is None:
            raise not_found("thumbnail")
        return file_response({**row, "filename": f"thumb-{row['filename']}.jpg"}, row["thumbnail"], "image/jpeg",
                             inline=True)


class NoticeController(Controller):
    path = f"{API}/notices"
    tags = ["move_in_decoration"]

    @get("/{notice_id:int}")
    async def get_notice(self, request: Request, notice_id: int) -> dict[str, Any]:
        return await svc.get_notice(request.user, notice_id)

    @post("/{notice_id:int}/told", status_code=200)
    async def told(self, request: Request, notice_id: int, data: ToldIn) -> dict[str, Any]:
        """Record that the applicant was told (phone, in person, or the notification was delivered)."""
        return await svc.mark_told(request.user, notice_id, data.via, at=data.at or utcnow(), note=data.note)


class PermitController(Controller):
    path = f"{API}/permits"
    tags = ["move_in_decoration"]

    @get("/{permit_id:int}")
    async def get_permit(self, request: Request, permit_id: int) -> dict[str, Any]:
        return await svc.get_permit(request.user, permit_id)

    @post("/{permit_id:int}/hours-reports")
    async def hours_report(self, request: Request, permit_id: int, data: HoursReportIn) -> dict[str, Any]:
        """Works seen outside the permit's hours: a complaint ticket of the unit."""
        return await svc.report_outside_hours(request.user, permit_id, data.set_fields(), now=utcnow())


class PatrolController(Controller):
    path = f"{API}/patrols"
    tags = ["move_in_decoration"]

    @get("/{patrol_id:int}")
    async def get_patrol(self, request: Request, patrol_id: int) -> dict[str, Any]:
        return await svc.get_patrol(request.user, patrol_id)

    @post("/{patrol_id:int}/photos", request_max_body_size=UPLOAD_BODY)
    async def add_photo(self, request: Request, patrol_id: int) -> dict[str, Any]:
        """A photo of the patrol: multipart/form-data, field `file` (JPEG, PNG or WebP), optional `label`."""
        patrol = await svc.get_patrol(request.user, patrol_id)  # 404 before the body
        filename, content, others = await attachments.read_upload(request)
        return await svc.add_attachment(request.user, patrol["application_id"], kind="patrol_photo", label=_label(others),
                                        filename=filename, content=content, now=utcnow(), patrol_id=patrol_id)


class ViolationController(Controller):
    path = f"{API}/violations"
    tags = ["move_in_decoration"]

    @post("/{violation_id:int}/corrected", status_code=200)
    async def corrected(self, request: Request, violation_id: int, data: CorrectedIn) -> dict[str, Any]:
        return await svc.correct_violation(request.user, violation_id, at=data.at or utcnow(), note=data.note)


class AcceptanceController(Controller):
    path = f"{API}/acceptances"
    tags = ["move_in_decoration"]

    @get("/{acceptance_id:int}")
    async def get_acceptance(self, request: Request, acceptance_id: int) -> dict[str, Any]:
        return await svc.get_acceptance(request.user, acceptance_id)

    @post("/{acceptance_id:int}/inspection", status_code=200)
    async def inspect(self, request: Request, acceptance_id: int, data: InspectIn) -> dict[str, Any]:
        """Pass (the deposit refund is due within 1 day) or fail (what must be fixed, then a re-inspection)."""
        body = data.set_fields()
        body["fixes"] = list(data.fixes)
        return await svc.inspect(request.user, acceptance_id, body, at=data.at or utcnow())


class RefundController(Controller):
    path = f"{API}/refunds"
    tags = ["move_in_decoration"]

    @get("/")
    async def list_refunds(self, request: Request, project_id: int, open_only: bool = False) -> list[dict[str, Any]]:
        """Finance's task list: deposits to refund and their due times."""
        return await svc.list_refunds(request.user, project_id, open_only=open_only)

    @get("/{refund_id:int}")
    async def get_refund(self, request: Request, refund_id: int) -> dict[str, Any]:
        return await svc.get_refund(request.user, refund_id)

    @post("/{refund_id:int}/refunded", status_code=200)
    async def refunded(self, request: Request, refund_id: int, data: RefundIn) -> dict[str, Any]:
        return await svc.record_refund(request.user, refund_id, data.set_fields(), at=data.at or utcnow())


class ReportController(Controller):
    path = f"{API}/reports"
    tags = ["move_in_decoration"]

    @get("/deadlines")
    async def deadlines(self, request: Request, project_id: int, as_of: datetime | None = None) -> dict[str, Any]:
        """Decoration deadlines of a project: done, done in time, open and overdue at `as_of` (default now), seed 001."""
        return await svc.deadline_report(request.user, project_id, as_of=as_of or utcnow())


# ---------------------------------------------------------------- moving out

class MovingOutController(Controller):
    path = f"{API}/moving-outs"
    tags = ["move_in_decoration"]

    @get("/")
    async def list_moving_outs(self, request: Request, project_id: int,
                               status: str | None = Parameter(default=None, max_length=20)) -> list[dict[str, Any]]:
        return await svc.list_moving_outs(request.user, project_id, status=status)

    @post("/")
    async def request_moving_out(self, request: Request, data: MovingOutCreate) -> dict[str, Any]:
        """Large items to move out of a residential unit: released only after the owner confirms (seed 001)."""
        body = data.set_fields()
        body["items"] = [i.set_fields() for i in data.items]
        return await svc.request_moving_out(request.user, body, now=utcnow())

    @get("/{moving_out_id:int}")
    async def get_moving_out(self, request: Request, moving_out_id: int) -> dict[str, Any]:
        return await svc.get_moving_out(request.user, moving_out_id)

    @post("/{moving_out_id:int}/confirm", status_code=200)
    async def confirm(self, request: Request, moving_out_id: int, data: CustomerRef) -> dict[str, Any]:
        """The owner (renter, or a contact they authorised) confirmed in person."""
        return await svc.moving_out_action(request.user, moving_out_id, "confirm", customer_id=data.customer_id,
                                           now=utcnow())

    @post("/{moving_out_id:int}/links", status_code=200)
    async def link(self, request: Request, moving_out_id: int, data: CustomerRef) -> dict[str, Any]:
        """Send the owner a one-time confirmation link (the token goes only to them)."""
        return await svc.moving_out_action(request.user, moving_out_id, "link", customer_id=data.customer_id,
                                           now=utcnow())

    @post("/{moving_out_id:int}/reject", status_code=200)
    async def reject(self, request: Request, moving_out_id: int, data: MovingOutReject) -> dict[str, Any]:
        return await svc.moving_out_action(request.user, moving_out_id, "reject", reason=data.reason, now=utcnow())

    @post("/{moving_out_id:int}/release", status_code=200)
    async def release(self, request: Request, moving_out_id: int, data: ReleaseIn) -> dict[str, Any]:
        """Let the items out: refused (409) unless the owner confirmed; the release is recorded."""
        return await svc.moving_out_action(request.user, moving_out_id, "release", note=data.note, now=utcnow())


ROUTES = [
    BatchController, TemplateController, HouseholdController, DocumentController, ApplicationController,
    AttachmentController, NoticeController, PermitController, PatrolController, ViolationController,
    AcceptanceController, RefundController, ReportController, MovingOutController, *PORTAL_ROUTES,
]
