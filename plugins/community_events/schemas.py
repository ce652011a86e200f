"""Request bodies of the community events API (msgspec; unknown fields refused, lengths limited)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from core import schemas

Id = Annotated[int, Meta(ge=1, le=2**53)]
Fen = Annotated[int, Meta(ge=0, le=1_000_000_000)]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Long = Annotated[str, Meta(max_length=5000)]


class EventCreate(schemas.Base):
    project_id: Id
    title: Title
    starts_at: datetime
    ends_at: datetime
    capacity: Annotated[int, Meta(ge=1, le=10000)]
    theme: Annotated[str, Meta(max_length=100)] = ""
    location: Annotated[str, Meta(max_length=200)] = ""
    budget_fen: Fen = 0
    plan: Long = ""
    safety_measures: Long = ""


class EventUpdate(schemas.Base):
    title: Title | UnsetType = UNSET
    theme: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    location: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    starts_at: datetime | UnsetType = UNSET
    ends_at: datetime | UnsetType = UNSET
    capacity: Annotated[int, Meta(ge=1, le=10000)] | UnsetType = UNSET
    budget_fen: Fen | UnsetType = UNSET
    plan: Long | UnsetType = UNSET
    safety_measures: Long | UnsetType = UNSET


class SurveyIn(schemas.Base):
    questions: Annotated[list[Annotated[str, Meta(min_length=1, max_length=300)]], Meta(min_length=1, max_length=10)]


class AnswerIn(schemas.Base):
    customer_id: Id
    answers: Annotated[list[Annotated[str, Meta(max_length=1000)]], Meta(max_length=10)]


class SignupIn(schemas.Base):
    customer_id: Id


class CheckInIn(schemas.Base):
    token: Annotated[str, Meta(max_length=40)] = ""
    signup_id: Id | None = None


class VisitIn(schemas.Base):
    score: Annotated[int, Meta(ge=1, le=5)]
    comment: Annotated[str, Meta(max_length=2000)] = ""


class SummaryIn(schemas.Base):
    cost_fen: Fen
    notes: Long = ""
