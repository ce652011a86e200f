"""The ticket attachments' index, leading with tenant_id (a raw step: Piccolo has no composite indexes)."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T22:36:05:000000"
VERSION = "1.38.0"
DESCRIPTION = "ticket attachment index"

INDEXES = (
    ("core_ticket_attachment_ticket", "core_ticket_attachment", "tenant_id, ticket_id, id", False),
)


class _Ddl(Table, tablename="core_tenant"):
    """A handle to run DDL through the configured engine."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create_indexes():
        for name, table, columns, unique in INDEXES:
            await _Ddl.raw(f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {name} ON {table} ({columns})")

    async def drop_indexes():
        for name, *_ in INDEXES:
            await _Ddl.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
