"""Request bodies: msgspec Structs with Create and Update variants; unknown fields are refused."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Code = Annotated[str, Meta(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$")]
ShortText = Annotated[str, Meta(max_length=200)]
LongText = Annotated[str, Meta(max_length=5000)]
Phone = Annotated[str, Meta(max_length=40, pattern=r"^[0-9+\-() ]*$")]
Id = Annotated[int, Meta(ge=1, le=2**53)]
Area = Decimal  # checked in __post_init__: 0 ≤ area ≤ 100,000,000
Slug = Annotated[str, Meta(min_length=2, max_length=63, pattern=r"^[a-z0-9][a-z0-9\-]*$")]
Role = Literal["company_cs", "project_manager", "supervisor", "team_lead", "front_desk", "butler", "technician", "finance"]


class Base(Struct, forbid_unknown_fields=True, omit_defaults=False):
    def __post_init__(self) -> None:
        for name in ("area", "total_area"):
            value = getattr(self, name, UNSET)
            if isinstance(value, Decimal) and not (0 <= value <= 100_000_000):
                raise ValueError(f"{name} must be between 0 and 100000000 - at `$.{name}`")

    def set_fields(self) -> dict[str, Any]:
        """The fields the client actually sent (UNSET ones left out)."""
        return {f: getattr(self, f) for f in self.__struct_fields__ if getattr(self, f) is not UNSET}


class LoginIn(Base):
    login: Annotated[str, Meta(min_length=1, max_length=150)]
    password: Annotated[str, Meta(min_length=1, max_length=200)]
    tenant: Annotated[str, Meta(max_length=63)] | None = None
    role: Role | None = None
    new_password: Annotated[str, Meta(max_length=200)] | None = None  # required once for an initial password


class ProjectCreate(Base):
    code: Code
    name: Name
    kind: Literal["residential", "commercial", "industrial"]
    address: ShortText = ""
    total_area: Area = Decimal("0")


class ProjectUpdate(Base):
    name: Name | UnsetType = UNSET
    address: ShortText | UnsetType = UNSET
    total_area: Area | UnsetType = UNSET


class BuildingCreate(Base):
    project_id: Id
    code: Code
    name: ShortText = ""
    floors: Annotated[int, Meta(ge=0, le=300)] = 0


class BuildingUpdate(Base):
    name: ShortText | UnsetType = UNSET
    floors: Annotated[int, Meta(ge=0, le=300)] | UnsetType = UNSET


UnitUse = Literal["residential", "office", "retail", "hotel", "parking", "other"]
UnitStatus = Literal["vacant", "sold", "occupied"]


class UnitCreate(Base):
    building_id: Id
    room: Annotated[str, Meta(min_length=1, max_length=30)]
    entrance: Annotated[str, Meta(max_length=20)] = ""
    floor: Annotated[int, Meta(ge=-10, le=300)] = 0
    area: Area = Decimal("0")
    use: UnitUse = "residential"
    status: UnitStatus = "sold"
    grid_id: Id | None = None


class UnitUpdate(Base):
    area: Area | UnsetType = UNSET
    use: UnitUse | UnsetType = UNSET
    status: UnitStatus | UnsetType = UNSET
    grid_id: Id | None | UnsetType = UNSET


class GridCreate(Base):
    project_id: Id
    code: Code
    name: Name
    responsible_id: Id | None = None
    unit_ids: list[Id] = []


class GridUpdate(Base):
    name: Name | UnsetType = UNSET
    responsible_id: Id | None | UnsetType = UNSET
    unit_ids: list[Id] | UnsetType = UNSET


class CustomerCreate(Base):
    name: Name
    kind: Literal["person", "company"] = "person"
    phone: Phone = ""
    id_number: Annotated[str, Meta(max_length=40, pattern=r"^[0-9A-Za-z\-]*$")] = ""
    email: Annotated[str, Meta(max_length=200)] = ""
    birthday: date | None = None
    greetings_opt_in: bool = False
    note: LongText = ""


class CustomerUpdate(Base):
    name: Name | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    id_number: Annotated[str, Meta(max_length=40, pattern=r"^[0-9A-Za-z\-]*$")] | UnsetType = UNSET
    email: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    birthday: date | None | UnsetType = UNSET
    greetings_opt_in: bool | UnsetType = UNSET
    note: LongText | UnsetType = UNSET


class MoveIn(Base):
    unit_id: Id
    role: Literal["owner", "renter", "company", "resident"]
    start_date: date


class MoveOut(Base):
    end_date: date


class TicketCreate(Base):
    project_id: Id
    kind: Annotated[str, Meta(min_length=1, max_length=50)]
    channel: Literal["walk_in", "hotline", "suggestion_box", "online", "wechat", "patrol"]
    title: Name
    description: LongText = ""
    priority: Literal["emergency", "normal"] = "normal"
    unit_id: Id | None = None
    building_id: Id | None = None
    place_note: ShortText = ""
    customer_id: Id | None = None
    contact_phone: Phone = ""
    executor_id: Id | None = None
    repair_area: Literal["public", "private"] | None = None
    warranty: Literal["in", "out"] | None = None
    complexity: Literal["general", "complex"] = "general"
    is_major: bool = False
    promised_at: datetime | None = None
    received_at: datetime | None = None
    data: dict[str, Any] = {}


class TicketUpdate(Base):
    title: Name | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    executor_id: Id | None | UnsetType = UNSET
    repair_area: Literal["public", "private"] | None | UnsetType = UNSET
    warranty: Literal["in", "out"] | None | UnsetType = UNSET
    complexity: Literal["general", "complex"] | UnsetType = UNSET
    priority: Literal["emergency", "normal"] | UnsetType = UNSET
    is_major: bool | UnsetType = UNSET
    promised_at: datetime | None | UnsetType = UNSET
    own_fault: bool | None | UnsetType = UNSET
    customer_id: Id | None | UnsetType = UNSET
    contact_phone: Phone | UnsetType = UNSET
    place_note: ShortText | UnsetType = UNSET


class TransitionIn(Base):
    to: Annotated[str, Meta(min_length=1, max_length=20)]
    reason: LongText = ""
    executor_id: Id | None = None
    satisfaction: Annotated[int, Meta(ge=1, le=5)] | None = None
    promised_at: datetime | None = None
    own_fault: bool | None = None
    at: datetime | None = None


class CommentIn(Base):
    text: Annotated[str, Meta(min_length=1, max_length=5000)]


class PluginStateIn(Base):
    enabled: bool
    project_id: Id | None = None
    settings: dict[str, Any] = {}


_CONTROL = dict.fromkeys([*(c for c in range(32) if chr(c) not in "\n\t"), 127])


def clean_text(value: str) -> str:
    """Strip control characters (but keep newlines and tabs) from free text."""
    return value.translate(_CONTROL)


def to_builtins(struct: Struct) -> dict[str, Any]:
    return msgspec.structs.asdict(struct)
