"""API for customers' personal data (PIPL): a copy of the data, erasure, and the company's retention periods."""
from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from msgspec import UNSET, Meta, UnsetType

from core import personal_data
from core.api.schemas import Base, clean_text


class ErasureIn(Base):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]
    keep_records: bool = True


class RetentionIn(Base):
    closed_ticket_personal_data_days: Annotated[int, Meta(ge=1, le=100000)] | UnsetType = UNSET
    notification_log_days: Annotated[int, Meta(ge=1, le=100000)] | UnsetType = UNSET


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def download_response(data: dict[str, Any], customer_id: int) -> Response:
    """The export as a JSON file to save."""
    body = msgspec.json.format(msgspec.json.encode(data), indent=2)
    return Response(body, media_type="application/json; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="personal-data-customer-{customer_id}.json"'})


class PersonalDataController(Controller):
    path = "/api/v1"
    tags = ["personal data"]

    @get("/customers/{customer_id:int}/personal-data")
    async def personal_data(self, request: Request, customer_id: int, download: bool = False) -> Any:
        """Everything stored about the customer (company CS department; audited). `download=true`: as a file."""
        data = await personal_data.export(request.user, customer_id, address=_address(request), download=download)
        return download_response(data, customer_id) if download else data

    @post("/customers/{customer_id:int}/erase", status_code=200)
    async def erase(self, request: Request, customer_id: int, data: ErasureIn) -> dict[str, Any]:
        """Anonymise the customer: name, phone, ID number, e-mail and free text replaced; receipts, payments,
        tickets and leases kept, linked to ``已注销客户#<id>``. Company CS department, with a reason; audited."""
        return await personal_data.erase(request.user, customer_id, clean_text(data.reason),
                                         keep_records=data.keep_records, address=_address(request))

    @get("/retention")
    async def retention(self, request: Request) -> dict[str, Any]:
        """The company's retention periods (days) for personal data in closed tickets and the message log."""
        return await personal_data.retention_settings(request.user)

    @put("/retention")
    async def set_retention(self, request: Request, data: RetentionIn) -> dict[str, Any]:
        return await personal_data.set_retention(request.user, data.set_fields())


PERSONAL_DATA_CONTROLLERS: list = [PersonalDataController]
