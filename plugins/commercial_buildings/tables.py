"""Tables of the commercial buildings plugin. Every row belongs to a tenant and to one project."""
from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import tables as core_tables

Tenant, Project, Building, Unit, Customer, User = (core_tables.Tenant, core_tables.Project, core_tables.Building,
                                                   core_tables.Unit, core_tables.Customer, core_tables.User)


class Zone(Table, tablename="commercial_buildings_zone"):
    """A run of floors of one building (or the whole project) with one purpose: office, hotel, retail, lobby, garage."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    building_id = ForeignKey(Building, null=True, default=None)
    kind = Varchar(length=40, null=False)
    name = Varchar(length=200, null=False)
    floor_from = SmallInt(default=0)
    floor_to = SmallInt(default=0)
    lead_id = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ZoneMember(Table, tablename="commercial_buildings_zone_member"):
    """A staff member of a zone's team."""

    tenant_id = ForeignKey(Tenant, null=False)
    zone_id = ForeignKey(Zone, null=False)
    user_id = ForeignKey(User, null=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Visitor(Table, tablename="commercial_buildings_visitor"):
    """One visit registered at a lobby (来访登记); pre-registered visits are `expected` until they arrive."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    lobby_id = ForeignKey(Zone, null=True, default=None)
    name = Varchar(length=100, null=False)
    host_customer_id = ForeignKey(Customer, null=False)
    purpose = Varchar(length=200, default="")
    id_type = Varchar(length=20, default="id_card")
    id_number = Varchar(length=40, default="")
    status = Varchar(length=12, default="inside")  # expected | inside | left
    pre_registered = Boolean(default=False)
    expected_at = Timestamptz(null=True, default=None)
    time_in = Timestamptz(null=True, default=None)
    time_out = Timestamptz(null=True, default=None)
    flagged_at = Timestamptz(null=True, default=None)
    id_erased_at = Timestamptz(null=True, default=None)
    registered_by_id = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class AuthorisedContact(Table, tablename="commercial_buildings_authorised_contact"):
    """A person a unit's owner or renter allows to confirm pass-outs for that unit."""

    tenant_id = ForeignKey(Tenant, null=False)
    unit_id = ForeignKey(Unit, null=False)
    authorised_by_id = ForeignKey(Customer, null=False)
    contact_id = ForeignKey(Customer, null=False)
    valid_until = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    created_by_id = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class PassOut(Table, tablename="commercial_buildings_pass_out"):
    """A release slip (放行条): requested → confirmed → released, or rejected / expired."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    unit_id = ForeignKey(Unit, null=False)
    code = Varchar(length=16, null=False)
    purpose = Varchar(length=30, default="large_items")  # large_items | moving_out
    source = Varchar(length=60, default="commercial_buildings")
    carrier_name = Varchar(length=100, null=False)
    carrier_phone = Varchar(length=40, default="")
    window_start = Timestamptz(null=False)
    window_end = Timestamptz(null=False)
    status = Varchar(length=12, default="requested")
    requested_by_id = ForeignKey(User, null=True, default=None)
    confirmed_by_customer_id = ForeignKey(Customer, null=True, default=None)
    confirmed_via = Varchar(length=12, default="")  # in_person | link
    confirmation_recorded_by_id = ForeignKey(User, null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    rejected_at = Timestamptz(null=True, default=None)
    reject_reason = Text(default="")
    released_at = Timestamptz(null=True, default=None)
    expired_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class PassOutItem(Table, tablename="commercial_buildings_pass_out_item"):
    tenant_id = ForeignKey(Tenant, null=False)
    pass_out_id = ForeignKey(PassOut, null=False)
    description = Varchar(length=200, null=False)
    quantity = Integer(default=1)
    photo_url = Varchar(length=500, default="")


class PassOutLink(Table, tablename="commercial_buildings_pass_out_link"):
    """A one-time confirmation link sent to a customer who may confirm; only the token's hash is kept."""

    tenant_id = ForeignKey(Tenant, null=False)
    pass_out_id = ForeignKey(PassOut, null=False)
    customer_id = ForeignKey(Customer, null=False)
    token_hash = Varchar(length=64, null=False)
    expires_at = Timestamptz(null=False)
    used_at = Timestamptz(null=True, default=None)
    created_by_id = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Release(Table, tablename="commercial_buildings_release"):
    """The record of what left through the lobby on a pass-out: who released it, when, which items."""

    tenant_id = ForeignKey(Tenant, null=False)
    pass_out_id = ForeignKey(PassOut, null=False)
    released_by_id = ForeignKey(User, null=False)
    released_at = Timestamptz(null=False)
    items = JSON(default="[]")
    note = Text(default="")


class StoredItem(Table, tablename="commercial_buildings_stored_item"):
    """An item left at the lobby for pickup with a code; handed over once."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    lobby_id = ForeignKey(Zone, null=True, default=None)
    description = Varchar(length=200, null=False)
    pieces = Integer(default=1)
    depositor_name = Varchar(length=100, null=False)
    depositor_phone = Varchar(length=40, default="")
    for_name = Varchar(length=100, default="")
    customer_id = ForeignKey(Customer, null=True, default=None)
    code_hash = Varchar(length=64, null=False)
    deposited_at = Timestamptz(null=False)
    deposited_by_id = ForeignKey(User, null=True, default=None)
    picked_up_at = Timestamptz(null=True, default=None)
    picked_up_by_name = Varchar(length=100, default="")
    handed_over_by_id = ForeignKey(User, null=True, default=None)


class VipVehicle(Table, tablename="commercial_buildings_vip_vehicle"):
    """A vehicle on the garage's VIP list (贵宾车辆)."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    plate = Varchar(length=20, null=False)
    owner_name = Varchar(length=100, default="")
    customer_id = ForeignKey(Customer, null=True, default=None)
    note = Varchar(length=200, default="")
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class VehicleArrival(Table, tablename="commercial_buildings_vehicle_arrival"):
    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    vip_vehicle_id = ForeignKey(VipVehicle, null=False)
    arrived_at = Timestamptz(null=False)
    recorded_by_id = ForeignKey(User, null=True, default=None)
    notified = SmallInt(default=0)


class Checklist(Table, tablename="commercial_buildings_checklist"):
    """A move-in (入驻) or move-out checklist of a commercial tenant, timed against 15 / 30 minutes."""

    tenant_id = ForeignKey(Tenant, null=False)
    project_id = ForeignKey(Project, null=False)
    unit_id = ForeignKey(Unit, null=False)
    customer_id = ForeignKey(Customer, null=False)
    kind = Varchar(length=10, null=False)  # move_in | move_out
    items = JSON(default="[]")
    arrived_at = Timestamptz(null=False)
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    handled_by_id = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = (Zone, ZoneMember, Visitor, AuthorisedContact, PassOut, PassOutItem, PassOutLink, Release, StoredItem,
          VipVehicle, VehicleArrival, Checklist)

# Composite indexes created by the plugin's migrations; each leads with tenant_id.
TENANT_INDEXES: tuple[tuple[str, str, str, bool], ...] = (
    ("cb_zone_project", "commercial_buildings_zone", "tenant_id, project_id, building_id, floor_from", False),
    ("cb_zone_member_key", "commercial_buildings_zone_member", "tenant_id, zone_id, user_id", True),
    ("cb_visitor_day", "commercial_buildings_visitor", "tenant_id, project_id, time_in", False),
    ("cb_visitor_retention", "commercial_buildings_visitor", "tenant_id, id_erased_at, created_at", False),
    ("cb_contact_unit", "commercial_buildings_authorised_contact", "tenant_id, unit_id, contact_id", False),
    ("cb_pass_out_code", "commercial_buildings_pass_out", "tenant_id, code", True),
    ("cb_pass_out_status", "commercial_buildings_pass_out", "tenant_id, project_id, status, id", False),
    ("cb_pass_out_item", "commercial_buildings_pass_out_item", "tenant_id, pass_out_id", False),
    ("cb_pass_out_link_hash", "commercial_buildings_pass_out_link", "tenant_id, token_hash", True),
    ("cb_release_pass_out", "commercial_buildings_release", "tenant_id, pass_out_id", True),
    ("cb_stored_item_open", "commercial_buildings_stored_item", "tenant_id, project_id, picked_up_at", False),
    ("cb_vip_plate", "commercial_buildings_vip_vehicle", "tenant_id, project_id, plate", True),
    ("cb_arrival_vehicle", "commercial_buildings_vehicle_arrival", "tenant_id, vip_vehicle_id, arrived_at", False),
    ("cb_checklist_project", "commercial_buildings_checklist", "tenant_id, project_id, arrived_at", False),
)
