"""Request bodies of the parking leases API (msgspec; unknown fields refused, lengths limited)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from core import schemas

Id = Annotated[int, Meta(ge=1, le=2**53)]
SpaceType = Literal["standard", "small", "accessible", "ev", "vip"]
Term = Literal["monthly", "quarterly", "yearly"]
Fen = Annotated[int, Meta(ge=0, le=1_000_000_000)]
PlateText = Annotated[str, Meta(min_length=1, max_length=20)]
Short = Annotated[str, Meta(max_length=30)]


class GarageCreate(schemas.Base):
    project_id: Id
    code: Annotated[str, Meta(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_.\-]+$")]
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    kind: Literal["garage", "surface"] = "garage"


class SpaceRange(schemas.Base):
    """Spaces `first`..`last`, e.g. B3-001..B3-120."""

    first: Annotated[str, Meta(min_length=1, max_length=30)]
    last: Annotated[str, Meta(min_length=1, max_length=30)]
    zone: Short = ""
    space_type: SpaceType = "standard"


class SpaceUpdate(schemas.Base):
    zone: Short | UnsetType = UNSET
    space_type: SpaceType | UnsetType = UNSET
    status: Literal["free", "out_of_service"] | UnsetType = UNSET
    note: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET


class FeeIn(schemas.Base):
    space_type: SpaceType
    term: Term
    amount_fen: Annotated[int, Meta(ge=1, le=1_000_000_000)]
    deposit_fen: Fen = 0


class PlanIn(schemas.Base):
    """The parking plan decided by the owners' general meeting, published with documents, process and fees."""

    title: Annotated[str, Meta(min_length=1, max_length=200)]
    decision_ref: Annotated[str, Meta(min_length=1, max_length=100)]
    decision_date: date
    required_documents: Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(min_length=1, max_length=20)]
    fees: Annotated[list[FeeIn], Meta(min_length=1, max_length=15)]
    process_steps: Annotated[list[Annotated[str, Meta(min_length=1, max_length=500)]], Meta(max_length=20)] = []
    summary: Annotated[str, Meta(max_length=5000)] = ""


class ApplicationCreate(schemas.Base):
    project_id: Id
    customer_id: Id
    space_type: SpaceType
    term: Term
    plates: Annotated[list[PlateText], Meta(max_length=5)] = []
    note: Annotated[str, Meta(max_length=1000)] = ""


class ChecklistIn(schemas.Base):
    items: Annotated[dict[Annotated[str, Meta(max_length=100)], bool], Meta(min_length=1, max_length=20)]


class AllocateIn(schemas.Base):
    space_id: Id | None = None


class SignIn(schemas.Base):
    start_date: date | None = None
    deposit_fen: Fen | None = None
    plates: Annotated[list[PlateText], Meta(max_length=5)] | None = None


class DeclineIn(schemas.Base):
    reason: Annotated[str, Meta(max_length=500)] = ""


class LeaseCreate(schemas.Base):
    """A lease signed outside an application (an existing contract)."""

    space_id: Id
    customer_id: Id
    term: Term
    start_date: date
    plates: Annotated[list[PlateText], Meta(max_length=5)] = []
    fee_fen: Annotated[int, Meta(ge=1, le=1_000_000_000)] | None = None
    deposit_fen: Fen | None = None


class RenewIn(schemas.Base):
    term: Term | None = None


class TerminateIn(schemas.Base):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]
    end_date: date | None = None
