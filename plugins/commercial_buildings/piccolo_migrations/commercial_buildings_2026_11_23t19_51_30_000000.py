"""Composite indexes of the commercial buildings plugin, each leading with tenant_id (frozen here)."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T19:51:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "commercial buildings composite indexes"

INDEXES = (
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


class _Ddl(Table, tablename="core_tenant"):
    """A handle to run DDL through the configured engine."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="commercial_buildings", description=DESCRIPTION)

    async def create_indexes():
        for name, table, columns, unique in INDEXES:
            await _Ddl.raw(f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {name} ON {table} ({columns})")

    async def drop_indexes():
        for name, *_ in INDEXES:
            await _Ddl.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
