"""Composite indexes of the kernel, each leading with tenant_id (frozen here, not imported from live tables)."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "kernel composite indexes"

INDEXES = (
    ("core_membership_user", "core_membership", "tenant_id, user_id, role", True),
    ("core_api_token_hash", "core_api_token", "tenant_id, token_hash", True),
    ("core_project_code", "core_project", "tenant_id, code", True),
    ("core_building_code", "core_building", "tenant_id, project_id, code", True),
    ("core_grid_code", "core_grid", "tenant_id, project_id, code", True),
    ("core_grid_responsible", "core_grid", "tenant_id, responsible_id", False),
    ("core_unit_room", "core_unit", "tenant_id, building_id, entrance, room", True),
    ("core_unit_grid", "core_unit", "tenant_id, grid_id", False),
    ("core_unit_project", "core_unit", "tenant_id, project_id, id", False),
    ("core_customer_phone", "core_customer", "tenant_id, phone", False),
    ("core_customer_id_number", "core_customer", "tenant_id, id_number", False),
    ("core_occupancy_unit", "core_occupancy", "tenant_id, unit_id, end_date", False),
    ("core_occupancy_customer", "core_occupancy", "tenant_id, customer_id", False),
    ("core_ticket_inbox", "core_ticket", "tenant_id, project_id, status, id", False),
    ("core_ticket_project", "core_ticket", "tenant_id, project_id, id", False),
    ("core_ticket_responsible", "core_ticket", "tenant_id, responsible_id, status", False),
    ("core_ticket_executor", "core_ticket", "tenant_id, executor_id, status", False),
    ("core_ticket_grid", "core_ticket", "tenant_id, grid_id, status", False),
    ("core_ticket_customer", "core_ticket", "tenant_id, customer_id", False),
    ("core_ticket_due", "core_ticket", "tenant_id, next_due_at", False),
    ("core_ticket_event_ticket", "core_ticket_event", "tenant_id, ticket_id, id", False),
    ("core_plugin_state_key", "core_plugin_state", "tenant_id, plugin, project_id", False),
    ("core_notification_key", "core_notification", "tenant_id, idempotency_key", True),
    ("core_notification_inbox", "core_notification", "tenant_id, recipient_user_id, read_at, id", False),
    ("core_audit_log_at", "core_audit_log", "tenant_id, at, id", False),
    ("core_job_run_slot", "core_job_run", "job, slot", True),
    ("core_outbox_pending", "core_outbox", "sent_at, id", False),
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
