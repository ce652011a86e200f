"""Composite indexes of the parking leases plugin, each leading with tenant_id; the partial unique
indexes keep one active lease and one open offer per space (frozen here, not imported from live tables)."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T19:52:41:000000"
VERSION = "1.38.0"
DESCRIPTION = "parking leases composite indexes"

# (name, table, columns, unique, where)
INDEXES = (
    ('parking_leases_garage_code', 'parking_leases_garage', 'tenant_id, project_id, code', True, ''),
    ('parking_leases_space_number', 'parking_leases_space', 'tenant_id, garage_id, number', True, ''),
    ('parking_leases_space_free', 'parking_leases_space', 'tenant_id, project_id, space_type, status', False, ''),
    ('parking_leases_plan_project', 'parking_leases_plan', 'tenant_id, project_id', True, ''),
    ('parking_leases_fee_key', 'parking_leases_fee', 'tenant_id, plan_id, space_type, term', True, ''),
    ('parking_leases_application_project', 'parking_leases_application', 'tenant_id, project_id, status, id', False, ''),
    ('parking_leases_application_customer', 'parking_leases_application', 'tenant_id, customer_id', False, ''),
    ('parking_leases_document_application', 'parking_leases_document', 'tenant_id, application_id', False, ''),
    ('parking_leases_waitlist_application', 'parking_leases_waitlist', 'tenant_id, application_id', True, ''),
    ('parking_leases_waitlist_queue', 'parking_leases_waitlist', 'tenant_id, project_id, space_type, status, priority, joined_at', False, ''),
    ('parking_leases_offer_open_space', 'parking_leases_offer', 'tenant_id, space_id', True, "status = 'open'"),
    ('parking_leases_offer_due', 'parking_leases_offer', 'tenant_id, status, deadline_at', False, ''),
    ('parking_leases_lease_active_space', 'parking_leases_lease', 'tenant_id, space_id', True, "status = 'active'"),
    ('parking_leases_lease_end', 'parking_leases_lease', 'tenant_id, status, end_date', False, ''),
    ('parking_leases_lease_customer', 'parking_leases_lease', 'tenant_id, customer_id', False, ''),
    ('parking_leases_plate_lease', 'parking_leases_plate', 'tenant_id, lease_id', False, ''),
    ('parking_leases_plate_plate', 'parking_leases_plate', 'tenant_id, plate', False, ''),
    ('parking_leases_reminder_key', 'parking_leases_reminder', 'tenant_id, lease_id, end_date, days_before', True, ''),
    ('parking_leases_charge_key', 'parking_leases_charge', 'tenant_id, lease_id, kind, period_start', True, ''),
    ('parking_leases_charge_month', 'parking_leases_charge', 'tenant_id, project_id, month', False, ''),
)


class _Ddl(Table, tablename="parking_leases_garage"):
    """A handle to run DDL through the configured engine."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="parking_leases", description=DESCRIPTION)

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
