"""Request bodies of the commercial buildings API (msgspec Structs; unknown fields are refused)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from core import schemas

Base = schemas.Base
Id = Annotated[int, Meta(ge=1, le=2**53)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Text200 = Annotated[str, Meta(max_length=200)]
Phone = Annotated[str, Meta(max_length=40, pattern=r"^[0-9+\-() ]*$")]
Floor = Annotated[int, Meta(ge=-10, le=300)]
IdNumber = Annotated[str, Meta(max_length=40, pattern=r"^[0-9A-Za-z\-]*$")]
IdType = Literal["id_card", "passport", "hk_macau_permit", "taiwan_permit", "driving_licence", "other"]
HHMM = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class ZoneCreate(Base):
    project_id: Id
    kind: Annotated[str, Meta(min_length=1, max_length=40)]
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    floor_from: Floor
    floor_to: Floor
    building_id: Id | None = None
    lead_id: Id | None = None
    member_ids: Annotated[list[Id], Meta(max_length=100)] = []


class ZoneUpdate(Base):
    name: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    kind: Annotated[str, Meta(min_length=1, max_length=40)] | UnsetType = UNSET
    floor_from: Floor | UnsetType = UNSET
    floor_to: Floor | UnsetType = UNSET
    lead_id: Id | None | UnsetType = UNSET
    member_ids: Annotated[list[Id], Meta(max_length=100)] | UnsetType = UNSET


class AfterHoursAcIn(Base):
    unit_id: Id
    date: date
    start: HHMM
    end: HHMM
    customer_id: Id | None = None
    contact_phone: Phone = ""
    area: Text200 = ""
    description: Annotated[str, Meta(max_length=2000)] = ""
    channel: Literal["walk_in", "hotline", "suggestion_box", "online", "wechat", "patrol"] = "walk_in"


class VisitorIn(Base):
    project_id: Id
    name: Name
    host_customer_id: Id
    purpose: Text200 = ""
    id_type: IdType = "id_card"
    id_number: IdNumber = ""
    lobby_id: Id | None = None
    time_in: datetime | None = None


class VisitorPreRegisterIn(Base):
    project_id: Id
    name: Name
    host_customer_id: Id
    expected_at: datetime
    purpose: Text200 = ""
    id_type: IdType = "id_card"
    id_number: IdNumber = ""
    lobby_id: Id | None = None


class VisitorArriveIn(Base):
    id_type: IdType | None = None
    id_number: IdNumber | None = None
    at: datetime | None = None


class AtIn(Base):
    at: datetime | None = None


class ContactIn(Base):
    unit_id: Id
    authorised_by_id: Id
    contact_id: Id
    valid_until: datetime | None = None


class PassOutItemIn(Base):
    description: Annotated[str, Meta(min_length=1, max_length=200)]
    quantity: Annotated[int, Meta(ge=1, le=10000)] = 1
    photo_url: Annotated[str, Meta(max_length=500, pattern=r"^(https?://\S+|/\S+)?$")] = ""


class PassOutIn(Base):
    unit_id: Id
    items: Annotated[list[PassOutItemIn], Meta(min_length=1, max_length=50)]
    carrier_name: Name
    window_start: datetime
    window_end: datetime
    carrier_phone: Phone = ""


class CustomerRef(Base):
    customer_id: Id


class RejectIn(Base):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class ReleaseItemIn(Base):
    description: Annotated[str, Meta(min_length=1, max_length=200)]
    quantity: Annotated[int, Meta(ge=1, le=10000)] = 1


class ReleaseIn(Base):
    note: Annotated[str, Meta(max_length=1000)] = ""
    items: Annotated[list[ReleaseItemIn], Meta(max_length=50)] | None = None


class StoredItemIn(Base):
    project_id: Id
    description: Annotated[str, Meta(min_length=1, max_length=200)]
    depositor_name: Name
    pieces: Annotated[int, Meta(ge=1, le=1000)] = 1
    depositor_phone: Phone = ""
    for_name: Annotated[str, Meta(max_length=100)] = ""
    customer_id: Id | None = None
    lobby_id: Id | None = None


class PickupIn(Base):
    code: Annotated[str, Meta(min_length=1, max_length=12)]
    picked_up_by_name: Name


class VipVehicleIn(Base):
    project_id: Id
    plate: Annotated[str, Meta(min_length=1, max_length=20)]
    owner_name: Annotated[str, Meta(max_length=100)] = ""
    customer_id: Id | None = None
    note: Text200 = ""


class ArrivalIn(Base):
    project_id: Id
    plate: Annotated[str, Meta(min_length=1, max_length=20)]
    at: datetime | None = None


class ChecklistIn(Base):
    unit_id: Id
    customer_id: Id
    kind: Literal["move_in", "move_out"]
    arrived_at: datetime | None = None
    items: Annotated[list[Annotated[str, Meta(min_length=1, max_length=200)]], Meta(max_length=50)] = []


class TickIn(Base):
    done: Annotated[dict[str, bool], Meta(max_length=50)]
