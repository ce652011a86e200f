"""Elevator ledger: composite indexes, each leading with tenant_id."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T21:20:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "elevator ledger indexes"
INDEXES = (
    ("elevator_ledger_elevator_code", "elevator_ledger_elevator", "tenant_id, building_id, code", True),
    ("elevator_ledger_elevator_project", "elevator_ledger_elevator", "tenant_id, project_id", False),
    ("elevator_ledger_record_elevator", "elevator_ledger_record", "tenant_id, elevator_id, occurred_on", False),
)


class _Ddl(Table, tablename="core_tenant"):
    """A handle to run DDL through the configured engine."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="elevator_ledger", description=DESCRIPTION)

    async def create_indexes():
        for name, table, columns, unique in INDEXES:
            await _Ddl.raw(f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {name} ON {table} ({columns})")

    async def drop_indexes():
        for name, *_ in INDEXES:
            await _Ddl.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
