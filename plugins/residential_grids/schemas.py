"""Request bodies of the residential grids API (msgspec Structs; unknown fields are refused)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from core import schemas

Base = schemas.Base
Id = Annotated[int, Meta(ge=1, le=2**53)]
Code = Annotated[str, Meta(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, Meta(max_length=200)]
LongText = Annotated[str, Meta(max_length=5000)]
Phone = Annotated[str, Meta(max_length=40, pattern=r"^[0-9+\-() ]*$")]
PersonName = Annotated[str, Meta(min_length=1, max_length=100)]
Month = Annotated[str, Meta(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]


class DivisionEntrance(Base):
    building_id: Id
    entrance: Annotated[str, Meta(max_length=20)] = ""


class DivisionGrid(Base):
    code: Code
    name: Name
    entrances: list[DivisionEntrance]
    butler_id: Id | None = None


class AutoDivideIn(Base):
    """Without `apply`: a proposal. With `apply: true` and `grids` (the proposal, possibly adjusted): saved."""

    apply: bool = False
    grids: list[DivisionGrid] | None = None
    at: datetime | None = None


class AssignIn(Base):
    user_id: Id
    note: ShortText = ""
    move: bool = False
    at: datetime | None = None


class GoldApplyIn(Base):
    reason: Annotated[str, Meta(min_length=1, max_length=5000)]
    at: datetime | None = None


class GoldDecisionIn(Base):
    approve: bool
    reason: LongText = ""
    at: datetime | None = None


class AnswerCreate(Base):
    question: Annotated[str, Meta(min_length=1, max_length=300)]
    answer: Annotated[str, Meta(min_length=1, max_length=5000)]
    keywords: Annotated[str, Meta(max_length=300)] = ""


class AnswerUpdate(Base):
    question: Annotated[str, Meta(min_length=1, max_length=300)] | UnsetType = UNSET
    answer: Annotated[str, Meta(min_length=1, max_length=5000)] | UnsetType = UNSET
    keywords: Annotated[str, Meta(max_length=300)] | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET


class CloseWithAnswerIn(Base):
    prepared_answer_id: Id
    at: datetime | None = None


class RegisterCreate(Base):
    channel: Literal["call", "visit"]
    subject: Annotated[str, Meta(min_length=1, max_length=200)]
    content: LongText = ""
    unit_id: Id | None = None
    customer_id: Id | None = None
    phone: Phone = ""
    caller_name: Annotated[str, Meta(max_length=100)] = ""
    answer: LongText = ""
    prepared_answer_id: Id | None = None
    promised_reply_at: datetime | None = None
    ticket_kind: Literal["repair", "complaint", "inquiry", "suggestion"] | None = None
    ticket_id: Id | None = None
    at: datetime | None = None


class RegisterReplyIn(Base):
    answer: Annotated[str, Meta(min_length=1, max_length=5000)]
    at: datetime | None = None


class ParcelCreate(Base):
    unit_id: Id
    carrier: Annotated[str, Meta(min_length=1, max_length=50)]
    tracking_no: Annotated[str, Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9\-]+$")]
    recipient_name: Annotated[str, Meta(max_length=100)] = ""
    received_at: datetime | None = None


class DelegateIn(Base):
    name: PersonName
    phone: Phone = ""


class ReleaseIn(Base):
    picker: Literal["household", "delegate"]
    signature: Annotated[str, Meta(max_length=400_000)]
    name: Annotated[str, Meta(max_length=100)] = ""
    customer_id: Id | None = None
    at: datetime | None = None


class EvaluationComputeIn(Base):
    month: Month
    as_of: datetime | None = None


class EvaluationScoreIn(Base):
    score: Annotated[int, Meta(ge=0, le=100)]
    comment: LongText = ""
    at: datetime | None = None
