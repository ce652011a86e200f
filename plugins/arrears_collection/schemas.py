"""Request bodies of arrears collection (msgspec Structs; unknown fields refused, money in integer fen)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from core import schemas

Base = schemas.Base
Id = Annotated[int, Meta(ge=1, le=2**53)]
Fen = Annotated[int, Meta(ge=1, le=10**12)]
Standard = Annotated[int, Meta(ge=0, le=10**9)]
Period = Annotated[str, Meta(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")]
Code = Annotated[str, Meta(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$")]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Basis = Literal["area_month", "unit_month", "metered"]
UnitUse = Literal["", "residential", "office", "retail", "hotel", "parking", "other"]
Method = Literal["cash", "wechat", "alipay", "bank_card", "transfer"]
Outcome = Literal["reached", "promised", "refused", "unreachable", "paid", "signed", "delivered", "mailed", "returned",
                  "sent", "filed", "won", "lost", "settled", "applied", "granted", "rejected", "handled"]
Delivery = Literal["phone", "sms", "visit", "in_person", "mail", "express", "in_writing", "in_app"]


class FeeItemCreate(Base):
    project_id: Id
    code: Code
    name: Name
    basis: Basis
    standard_fen: Standard
    published_on: date
    unit_label: Annotated[str, Meta(max_length=20)] = ""
    basis_text: Annotated[str, Meta(max_length=300)] = ""
    unit_use: UnitUse = ""


class FeeItemUpdate(Base):
    name: Name | UnsetType = UNSET
    standard_fen: Standard | UnsetType = UNSET
    unit_label: Annotated[str, Meta(max_length=20)] | UnsetType = UNSET
    basis_text: Annotated[str, Meta(max_length=300)] | UnsetType = UNSET
    unit_use: UnitUse | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET
    published_on: date | UnsetType = UNSET


class BillingRunIn(Base):
    project_id: Id
    period: Period
    unit_ids: Annotated[list[Id], Meta(max_length=5000)] | None = None


class MeteredBillIn(Base):
    fee_item_id: Id
    unit_id: Id
    period: Period
    quantity: Annotated[int, Meta(ge=1, le=10**7)]


class PaymentIn(Base):
    project_id: Id
    customer_id: Id
    amount_fen: Fen
    method: Method
    paid_on: date
    note: Annotated[str, Meta(max_length=200)] = ""


class LadderRunIn(Base):
    as_of: date
    project_id: Id | None = None


class OutcomeIn(Base):
    outcome: Outcome
    promised_on: date | None = None
    delivery: Delivery | None = None
    tracking_no: Annotated[str, Meta(max_length=60)] = ""
    signed: bool | None = None
    note: Annotated[str, Meta(max_length=2000)] = ""
