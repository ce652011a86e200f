"""API (/api/v1/arrears-collection) and portal pages (/portal/arrears-collection) of arrears collection."""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from core import Principal, Problem, schemas, utcnow
from plugins.arrears_collection import documents, services as svc
from plugins.arrears_collection.schemas import (
    BillingRunIn, FeeItemCreate, FeeItemUpdate, LadderRunIn, MeteredBillIn, OutcomeIn, PaymentIn,
)

Limit = Parameter(ge=1, le=100, default=25)
StatusQ = Parameter(default=None, max_length=20)
PeriodQ = Parameter(default=None, pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")


def _texts(data: dict[str, Any]) -> dict[str, Any]:
    return {k: schemas.clean_text(v) if isinstance(v, str) else v for k, v in data.items()}


def _today() -> date:
    return svc.local_date(utcnow())


def _file(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content=content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class ArrearsController(Controller):
    path = "/api/v1/arrears-collection"
    tags = ["arrears_collection"]

    # ------------------------------------------------------------ fee items
    @get("/fee-items")
    async def list_fee_items(self, request: Request, project_id: int | None = None) -> list[dict[str, Any]]:
        """Published fee items with their standard (fen) and basis."""
        return await svc.list_fee_items(request.user, project_id)

    @post("/fee-items")
    async def create_fee_item(self, request: Request, data: FeeItemCreate) -> dict[str, Any]:
        return await svc.create_fee_item(request.user, _texts(data.set_fields()))

    @get("/fee-items/{fee_item_id:int}")
    async def get_fee_item(self, request: Request, fee_item_id: int) -> dict[str, Any]:
        return await svc.get_fee_item(request.user, fee_item_id)

    @patch("/fee-items/{fee_item_id:int}")
    async def update_fee_item(self, request: Request, fee_item_id: int, data: FeeItemUpdate) -> dict[str, Any]:
        return await svc.update_fee_item(request.user, fee_item_id, _texts(data.set_fields()))

    # ------------------------------------------------------------ bills
    @get("/bills")
    async def list_bills(self, request: Request, project_id: int | None = None, customer_id: int | None = None,
                         unit_id: int | None = None, period: str | None = PeriodQ, unpaid: bool = False,
                         cursor: str | None = None, limit: int = Limit) -> dict[str, Any]:
        return await svc.list_bills(request.user, project_id=project_id, customer_id=customer_id, unit_id=unit_id,
                                    period=period, unpaid=unpaid, cursor=cursor, limit=limit)

    @post("/bills")
    async def add_metered_bill(self, request: Request, data: MeteredBillIn) -> dict[str, Any]:
        """A metered charge (water, electricity): quantity × the fee item's standard."""
        return await svc.add_metered_bill(request.user, data.set_fields(), utcnow())

    @get("/bills/{bill_id:int}")
    async def get_bill(self, request: Request, bill_id: int) -> dict[str, Any]:
        return await svc.get_bill(request.user, bill_id)

    @post("/billing-runs", status_code=200)
    async def billing_run(self, request: Request, data: BillingRunIn) -> dict[str, Any]:
        """Bill a project for a month now (idempotent; `unit_ids` back-bills only those units)."""
        return await svc.run_billing(request.user, data.project_id, data.period, data.unit_ids, utcnow())

    # ------------------------------------------------------------ payments
    @get("/payments")
    async def list_payments(self, request: Request, project_id: int | None = None, customer_id: int | None = None,
                            cursor: str | None = None, limit: int = Limit) -> dict[str, Any]:
        return await svc.list_payments(request.user, project_id=project_id, customer_id=customer_id, cursor=cursor,
                                       limit=limit)

    @post("/payments")
    async def record_payment(self, request: Request, data: PaymentIn) -> dict[str, Any]:
        """Receive a payment: a receipt numbered without gaps, allocated to the oldest bills first."""
        return await svc.record_payment(request.user, _texts(data.set_fields()), utcnow())

    @get("/payments/{payment_id:int}")
    async def get_payment(self, request: Request, payment_id: int) -> dict[str, Any]:
        return await svc.get_payment(request.user, payment_id)

    @get("/payments/{payment_id:int}/receipt.pdf", media_type="application/pdf")
    async def receipt(self, request: Request, payment_id: int) -> Response:
        payment = await svc.get_payment(request.user, payment_id)
        project = await request.user.scope.get(svc.tables.Project, payment["project_id"])
        return _file(documents.receipt_pdf(payment, project), "application/pdf", f"receipt-{payment['receipt_no']}.pdf")

    # ------------------------------------------------------------ ageing and the ladder
    @get("/ageing")
    async def ageing(self, request: Request, as_of: date, project_id: int | None = None, customer_id: int | None = None,
                     by: str = Parameter(default="customer", pattern="^(customer|unit)$"),
                     limit: int = Parameter(ge=1, le=500, default=50), offset: int = Parameter(ge=0, default=0)
                     ) -> dict[str, Any]:
        """Arrears per customer (or per customer and unit) as of a day: months overdue, owed, late fee."""
        return await svc.ageing(request.user, as_of=as_of, project_id=project_id, customer_id=customer_id, by=by,
                                limit=limit, offset=offset)

    @post("/ladder-runs", status_code=200)
    async def ladder_run(self, request: Request, data: LadderRunIn) -> dict[str, Any]:
        """Run the collection ladder as of a day now (the monthly job does the same; re-runs create nothing)."""
        return await svc.start_ladder(request.user, data.as_of, data.project_id, utcnow())

    @get("/cases")
    async def list_cases(self, request: Request, status: str | None = StatusQ, project_id: int | None = None,
                         customer_id: int | None = None, cursor: str | None = None, limit: int = Limit) -> dict[str, Any]:
        return await svc.list_cases(request.user, status=status, project_id=project_id, customer_id=customer_id,
                                    cursor=cursor, limit=limit)

    @get("/cases/{case_id:int}")
    async def get_case(self, request: Request, case_id: int) -> dict[str, Any]:
        return await svc.get_case(request.user, case_id)

    @get("/tasks")
    async def list_tasks(self, request: Request, status: str | None = StatusQ, kind: str | None = StatusQ,
                         project_id: int | None = None, customer_id: int | None = None, case_id: int | None = None,
                         mine: bool = False, cursor: str | None = None, limit: int = Limit) -> dict[str, Any]:
        """Ladder steps, each for a named staff member with a due date."""
        return await svc.list_tasks(request.user, status=status, kind=kind, project_id=project_id,
                                    customer_id=customer_id, case_id=case_id, mine=mine, cursor=cursor, limit=limit)

    @get("/tasks/{task_id:int}")
    async def get_task(self, request: Request, task_id: int) -> dict[str, Any]:
        return await svc.get_task(request.user, task_id)

    @post("/tasks/{task_id:int}/outcome", status_code=200)
    async def record_outcome(self, request: Request, task_id: int, data: OutcomeIn) -> dict[str, Any]:
        return await svc.record_outcome(request.user, task_id, _texts(data.set_fields()), utcnow())

    @get("/tasks/{task_id:int}/document.pdf", media_type="application/pdf")
    async def task_document(self, request: Request, task_id: int) -> Response:
        """The collection notice (费用催缴通知单), lawyer's letter or written instruction of a step, as a PDF."""
        ctx = await svc.notice_context(request.user, task_id)
        return _file(documents.notice_pdf(ctx), "application/pdf", f"{ctx['task']['kind']}-{task_id}.pdf")

    @get("/watches")
    async def list_watches(self, request: Request, active: bool = True, project_id: int | None = None,
                           cursor: str | None = None, limit: int = Limit) -> dict[str, Any]:
        return await svc.list_watches(request.user, active=active, project_id=project_id, cursor=cursor, limit=limit)

    @get("/watches/{watch_id:int}")
    async def get_watch(self, request: Request, watch_id: int) -> dict[str, Any]:
        return await svc.get_watch(request.user, watch_id)

    # ------------------------------------------------------------ reports
    @get("/reports/collection-rate")
    async def collection_rate(self, request: Request, project_id: int | None = None, from_period: str | None = PeriodQ,
                              to_period: str | None = PeriodQ) -> list[dict[str, Any]]:
        return await svc.collection_rate(request.user, project_id=project_id, from_period=from_period,
                                         to_period=to_period)

    @get("/reports/ageing-buckets")
    async def ageing_buckets(self, request: Request, as_of: date, project_id: int | None = None) -> list[dict[str, Any]]:
        return await svc.ageing_buckets(request.user, as_of=as_of, project_id=project_id)

    @get("/reports/ladder-actions")
    async def ladder_actions(self, request: Request, project_id: int | None = None,
                             period: str | None = PeriodQ) -> list[dict[str, Any]]:
        return await svc.ladder_actions(request.user, project_id=project_id, period=period)

    @get("/reports/export.xlsx")
    async def export(self, request: Request, as_of: date, project_id: int | None = None) -> Response:
        """Every report in one Excel workbook (the export is written to the audit log)."""
        content = await export_workbook(request.user, as_of, project_id)
        return _file(content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"arrears-{as_of.isoformat()}.xlsx")


async def export_workbook(p: Principal, as_of: date, project_id: int | None) -> bytes:
    buckets = await svc.ageing_buckets(p, as_of=as_of, project_id=project_id)
    rates = await svc.collection_rate(p, project_id=project_id)
    actions = await svc.ladder_actions(p, project_id=project_id)
    detail = await svc.ageing(p, as_of=as_of, project_id=project_id, limit=5000)
    await svc.audit(p, "arrears_collection.export", "report", None, {"as_of": as_of.isoformat(), "project_id": project_id})
    return documents.report_xlsx(as_of=as_of, buckets=buckets, rates=rates, actions=actions, ageing=detail["items"])


# ---------------------------------------------------------------- portal

def _ctx(request: Request, **values: Any) -> dict[str, Any]:
    return {"me": request.user, "fmt": svc.fmt_fen, "labels": svc.KIND_LABELS, **values}


class ArrearsPortal(Controller):
    path = "/portal/arrears-collection"
    include_in_schema = False

    @get("/")
    async def overview(self, request: Request, as_of: date | None = None, project_id: int | None = None) -> Template:
        as_of = as_of or _today()
        buckets = await svc.ageing_buckets(request.user, as_of=as_of, project_id=project_id)
        detail = await svc.ageing(request.user, as_of=as_of, project_id=project_id, limit=50)
        return Template("arrears_collection/overview.html",
                        context=_ctx(request, as_of=as_of, buckets=buckets, ageing=detail["items"], tab="overview"))

    @get("/fee-items")
    async def fee_items(self, request: Request) -> Template:
        items = await svc.list_fee_items(request.user)
        return Template("arrears_collection/fee_items.html", context=_ctx(request, items=items, tab="fees"))

    @get("/bills")
    async def bills(self, request: Request, customer_id: int | None = None, unpaid: bool = False,
                    cursor: str | None = None) -> Template:
        page = await svc.list_bills(request.user, customer_id=customer_id, unpaid=unpaid, cursor=cursor, limit=50)
        return Template("arrears_collection/bills.html",
                        context=_ctx(request, page=page, unpaid=unpaid, customer_id=customer_id, tab="bills"))

    @get("/payments")
    async def payments(self, request: Request, cursor: str | None = None) -> Template:
        page = await svc.list_payments(request.user, cursor=cursor, limit=50)
        return Template("arrears_collection/payments.html", context=_ctx(request, page=page, tab="payments"))

    @get("/tasks")
    async def tasks(self, request: Request, status: str | None = Parameter(default="open", max_length=20),
                    cursor: str | None = None, error: str | None = Parameter(default=None, max_length=300)) -> Template:
        page = await svc.list_tasks(request.user, status=status or None, cursor=cursor, limit=50)
        return Template("arrears_collection/tasks.html",
                        context=_ctx(request, page=page, status=status or "", outcomes=svc.KIND_OUTCOMES,
                                     error=error or "", tab="tasks"))

    @post("/tasks/{task_id:int}/outcome")
    async def task_outcome(self, request: Request, task_id: int,
                           data: dict[str, Any] = Body(media_type=RequestEncodingType.URL_ENCODED)) -> Redirect:
        await svc.get_task(request.user, task_id)  # another company's step is a 404 whatever the form says
        form = {k: schemas.clean_text(str(v))[:2000] for k, v in data.items() if str(v).strip()}
        try:
            body = msgspec.convert({k: form[k] for k in ("outcome", "promised_on", "tracking_no", "note") if k in form},
                                   OutcomeIn, strict=False)
            await svc.record_outcome(request.user, task_id, body.set_fields(), utcnow())
        except msgspec.ValidationError as exc:
            return Redirect(f"/portal/arrears-collection/tasks?error={quote(str(exc)[:200])}")
        except Problem as exc:  # shown on the page, nothing written
            if exc.status == 404:
                raise
            return Redirect(f"/portal/arrears-collection/tasks?error={quote(exc.detail[:200])}")
        return Redirect("/portal/arrears-collection/tasks")

    @get("/reports")
    async def reports(self, request: Request, as_of: date | None = None) -> Template:
        as_of = as_of or _today()
        return Template("arrears_collection/reports.html", context=_ctx(
            request, as_of=as_of, rates=await svc.collection_rate(request.user),
            buckets=await svc.ageing_buckets(request.user, as_of=as_of),
            actions=await svc.ladder_actions(request.user), tab="reports"))


ROUTES = [ArrearsController, ArrearsPortal]
