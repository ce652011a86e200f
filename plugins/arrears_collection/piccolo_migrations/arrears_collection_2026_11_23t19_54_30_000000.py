"""Composite indexes of arrears collection, each leading with tenant_id (frozen here, not imported from live tables)."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T19:54:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "arrears collection composite and partial indexes"

INDEXES = (
    ("arrears_collection_fee_item_code", "arrears_collection_fee_item", "tenant_id, project_id, code", True, ""),
    ("arrears_collection_bill_key", "arrears_collection_bill", "tenant_id, unit_id, fee_item_id, period", True, ""),
    ("arrears_collection_bill_project", "arrears_collection_bill", "tenant_id, project_id, period_no", False, ""),
    ("arrears_collection_bill_customer", "arrears_collection_bill", "tenant_id, customer_id, project_id, period_no",
     False, ""),
    ("arrears_collection_bill_unpaid", "arrears_collection_bill", "tenant_id, project_id, customer_id, period_no",
     False, "paid_fen < amount_fen"),
    ("arrears_collection_receipt_counter_key", "arrears_collection_receipt_counter", "tenant_id, project_id", True, ""),
    ("arrears_collection_payment_receipt", "arrears_collection_payment", "tenant_id, project_id, receipt_seq", True, ""),
    ("arrears_collection_payment_customer", "arrears_collection_payment", "tenant_id, customer_id, id", False, ""),
    ("arrears_collection_allocation_payment", "arrears_collection_allocation", "tenant_id, payment_id", False, ""),
    ("arrears_collection_allocation_bill", "arrears_collection_allocation", "tenant_id, bill_id", False, ""),
    ("arrears_collection_case_open", "arrears_collection_case", "tenant_id, project_id, customer_id", True,
     "status = 'open'"),
    ("arrears_collection_case_customer", "arrears_collection_case", "tenant_id, customer_id, id", False, ""),
    ("arrears_collection_task_key", "arrears_collection_task", "tenant_id, case_id, kind, dedup_key", True, ""),
    ("arrears_collection_task_assignee", "arrears_collection_task", "tenant_id, assignee_id, status, due_date", False, ""),
    ("arrears_collection_task_project", "arrears_collection_task", "tenant_id, project_id, status, id", False, ""),
    ("arrears_collection_watch_key", "arrears_collection_watch", "tenant_id, case_id, unit_id", True, ""),
    ("arrears_collection_watch_unit", "arrears_collection_watch", "tenant_id, unit_id, ended_on", False, ""),
)


class _Ddl(Table, tablename="core_tenant"):
    """A handle to run DDL through the configured engine."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="arrears_collection", description=DESCRIPTION)

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
