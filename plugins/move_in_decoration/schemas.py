"""Request bodies of the move-in and decoration API (msgspec; unknown fields refused, lengths limited)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from core import schemas

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Fen = Annotated[int, Meta(ge=0, le=10_000_000_000)]
Text200 = Annotated[str, Meta(max_length=200)]
Text2000 = Annotated[str, Meta(max_length=2000)]
Required200 = Annotated[str, Meta(min_length=1, max_length=200)]
Required2000 = Annotated[str, Meta(min_length=1, max_length=2000)]
Phone = Annotated[str, Meta(max_length=40, pattern=r"^[0-9+\-() ]*$")]
Count = Annotated[int, Meta(ge=0, le=99)]


# ---------------------------------------------------------------- move-in

class BatchCreate(schemas.Base):
    project_id: Id
    code: Annotated[str, Meta(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_.\-]+$")]
    name: Required200
    starts_on: date
    ends_on: date


class TemplateUpdate(schemas.Base):
    """A document template; `{customer}`, `{unit}`, `{project}`, `{batch}`, `{appointment}`, `{fees}`,
    `{fees_total}`, `{documents}`, `{quiet_hours}`, `{rules}`, `{starts_on}`, `{ends_on}` are filled per unit."""

    title: Required200 | UnsetType = UNSET
    body: Annotated[str, Meta(max_length=20000)] | UnsetType = UNSET


class SlotCreate(schemas.Base):
    starts_at: datetime
    ends_at: datetime
    capacity: Annotated[int, Meta(ge=1, le=500)] = 1


class FeeLine(schemas.Base):
    item: Annotated[str, Meta(min_length=1, max_length=100)]
    amount_fen: Fen


class HouseholdCreate(schemas.Base):
    unit_id: Id
    customer_id: Id
    fees: Annotated[list[FeeLine], Meta(max_length=30)] = []
    slot_id: Id | None = None


class SlotPick(schemas.Base):
    slot_id: Id


class AtIn(schemas.Base):
    """The moment it happened (defaults to now)."""

    at: datetime | None = None


class DocumentsCheck(schemas.Base):
    documents: dict[Annotated[str, Meta(max_length=100)], bool]


class HandoverIn(schemas.Base):
    keys: Count
    access_cards: Count


class InspectionPoint(schemas.Base):
    location: Annotated[str, Meta(min_length=1, max_length=100)]
    description: Text2000 = ""
    defect: bool = False


class InspectionIn(schemas.Base):
    items: Annotated[list[InspectionPoint], Meta(min_length=1, max_length=100)]


class FinishIn(schemas.Base):
    at: datetime | None = None
    move_in_date: date | None = None


# ---------------------------------------------------------------- decoration

class WorkerIn(schemas.Base):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    id_number: Annotated[str, Meta(min_length=6, max_length=40)]
    phone: Phone = ""
    trade: Annotated[str, Meta(max_length=50)] = ""


class ApplicationCreate(schemas.Base):
    unit_id: Id
    customer_id: Id
    contractor_company: Required200
    contractor_manager: Annotated[str, Meta(min_length=1, max_length=100)]
    starts_on: date
    ends_on: date
    contractor_phone: Phone = ""
    scope: Annotated[str, Meta(max_length=5000)] = ""
    structural_change: bool = False
    deposit_fen: Fen = 0
    workers: Annotated[list[WorkerIn], Meta(max_length=100)] = []


class StructuralReviewIn(schemas.Base):
    approve: bool
    note: Text2000 = ""


class ProblemsIn(schemas.Base):
    problems: Annotated[list[Required2000], Meta(min_length=1, max_length=50)]
    note: Text2000 = ""


class NoteIn(schemas.Base):
    note: Text2000 = ""


class RejectIn(schemas.Base):
    reason: Required2000


class ToldIn(schemas.Base):
    via: Literal["phone", "in_person", "notification"]
    at: datetime | None = None
    note: Text2000 = ""


class ViolationIn(schemas.Base):
    description: Required2000
    correct_by: datetime | None = None


class PatrolIn(schemas.Base):
    at: datetime | None = None
    note: Text2000 = ""
    violations: Annotated[list[ViolationIn], Meta(max_length=30)] = []


class CorrectedIn(schemas.Base):
    at: datetime | None = None
    note: Text2000 = ""


class InspectIn(schemas.Base):
    passed: bool
    fixes: Annotated[list[Annotated[str, Meta(min_length=1, max_length=500)]], Meta(max_length=50)] = []
    reinspect_on: date | None = None
    note: Text2000 = ""
    at: datetime | None = None


class RefundIn(schemas.Base):
    method: Literal["bank_transfer", "cash", "wechat", "alipay", "original_route"]
    reference: Annotated[str, Meta(max_length=100)] = ""
    at: datetime | None = None


class HoursReportIn(schemas.Base):
    observed_at: datetime
    description: Text2000 = ""
    customer_id: Id | None = None
    channel: Literal["walk_in", "hotline", "wechat", "online", "patrol"] = "walk_in"


# ---------------------------------------------------------------- moving out

class ItemIn(schemas.Base):
    description: Required200
    quantity: Annotated[int, Meta(ge=1, le=999)] = 1


class MovingOutCreate(schemas.Base):
    unit_id: Id
    items: Annotated[list[ItemIn], Meta(min_length=1, max_length=50)]
    carrier_name: Annotated[str, Meta(min_length=1, max_length=100)]
    window_start: datetime
    window_end: datetime
    carrier_phone: Phone = ""


class CustomerRef(schemas.Base):
    customer_id: Id


class MovingOutReject(schemas.Base):
    reason: Required2000


class ReleaseIn(schemas.Base):
    note: Text2000 = ""
