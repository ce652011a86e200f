"""Request bodies of the elevator ledger."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta

from core import schemas


class ElevatorIn(schemas.Base):
    building_id: int
    code: Annotated[str, Meta(min_length=1, max_length=30)]
    maker: Annotated[str, Meta(max_length=100)] = ""
    contractor: Annotated[str, Meta(max_length=200)] = ""


class RecordIn(schemas.Base):
    elevator_id: int
    kind: Literal["maintenance", "inspection", "fault"]
    occurred_on: date
    description: Annotated[str, Meta(max_length=2000)] = ""
    contractor_notified: bool = False
    resolved_on: date | None = None
