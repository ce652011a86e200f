"""Composite indexes of the residential grids plugin, each leading with tenant_id."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T19:53:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "residential grids composite indexes"

# Composite indexes, each leading with tenant_id (frozen here, not imported from the live tables).
INDEXES = (
    ("rg_assignment_grid", "residential_grids_assignment", "tenant_id, grid_id, started_at", False, ""),
    ("rg_assignment_current_grid", "residential_grids_assignment", "tenant_id, grid_id", True, "ended_at IS NULL"),
    ("rg_assignment_current_user", "residential_grids_assignment", "tenant_id, user_id", True, "ended_at IS NULL"),
    ("rg_assignment_project", "residential_grids_assignment", "tenant_id, project_id, started_at", False, ""),
    ("rg_gold_user", "residential_grids_gold_application", "tenant_id, user_id, status", False, ""),
    ("rg_gold_project", "residential_grids_gold_application", "tenant_id, project_id, id", False, ""),
    ("rg_answer_project", "residential_grids_prepared_answer", "tenant_id, project_id, is_active", False, ""),
    ("rg_register_project", "residential_grids_register_entry", "tenant_id, project_id, at", False, ""),
    ("rg_register_promised", "residential_grids_register_entry", "tenant_id, promised_reply_at", False, ""),
    ("rg_register_ticket", "residential_grids_register_entry", "tenant_id, ticket_id", False, ""),
    ("rg_parcel_tracking", "residential_grids_parcel", "tenant_id, project_id, carrier, tracking_no", True, ""),
    ("rg_parcel_waiting", "residential_grids_parcel", "tenant_id, status, received_at", False, ""),
    ("rg_parcel_project", "residential_grids_parcel", "tenant_id, project_id, received_at", False, ""),
    ("rg_parcel_unit", "residential_grids_parcel", "tenant_id, unit_id", False, ""),
    ("rg_signature_parcel", "residential_grids_signature", "tenant_id, parcel_id", True, ""),
    ("rg_evaluation_month", "residential_grids_evaluation", "tenant_id, project_id, user_id, month", True, ""),
    ("rg_public_request_address", "residential_grids_public_request", "tenant_id, address, created_at", False, ""),
    ("rg_public_request_grid", "residential_grids_public_request", "tenant_id, grid_id", False, ""),
)


class _Ddl(Table, tablename="core_tenant"):
    """A handle to run DDL through the configured engine."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="residential_grids", description=DESCRIPTION)

    async def create_indexes():
        for name, table, columns, unique, where in INDEXES:
            await _Ddl.raw(f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {name} ON {table} ({columns})"
                           + (f" WHERE {where}" if where else ""))

    async def drop_indexes():
        for name, *_ in INDEXES:
            await _Ddl.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
