"""Composite indexes of the move-in and decoration plugin, each leading with tenant_id (frozen here, not
imported from live tables): one household per unit and batch, one template and document per kind, one
permit per application, one refund per acceptance, one record per pass-out."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T22:37:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "move-in and decoration composite indexes"

# (name, table, columns, unique, where)
INDEXES = (
    ('move_in_decoration_batch_code', 'move_in_decoration_batch', 'tenant_id, project_id, code', True, ''),
    ('move_in_decoration_template_kind', 'move_in_decoration_template', 'tenant_id, batch_id, kind', True, ''),
    ('move_in_decoration_slot_batch', 'move_in_decoration_slot', 'tenant_id, batch_id, starts_at', False, ''),
    ('move_in_decoration_household_unit', 'move_in_decoration_household', 'tenant_id, batch_id, unit_id', True, ''),
    ('move_in_decoration_household_day', 'move_in_decoration_household', 'tenant_id, batch_id, local_day', False, ''),
    ('move_in_decoration_household_slot', 'move_in_decoration_household', 'tenant_id, slot_id', False, ''),
    ('move_in_decoration_household_project', 'move_in_decoration_household', 'tenant_id, project_id, local_day', False, ''),
    ('move_in_decoration_document_kind', 'move_in_decoration_document', 'tenant_id, household_id, kind', True, ''),
    ('move_in_decoration_inspection_household', 'move_in_decoration_inspection_item', 'tenant_id, household_id', False, ''),
    ('move_in_decoration_application_project', 'move_in_decoration_application', 'tenant_id, project_id, status, id', False, ''),
    ('move_in_decoration_application_unit', 'move_in_decoration_application', 'tenant_id, unit_id', False, ''),
    ('move_in_decoration_worker_application', 'move_in_decoration_worker', 'tenant_id, application_id', False, ''),
    ('move_in_decoration_attachment_application', 'move_in_decoration_attachment', 'tenant_id, application_id, kind', False, ''),
    ('move_in_decoration_attachment_patrol', 'move_in_decoration_attachment', 'tenant_id, patrol_id', False, ''),
    ('move_in_decoration_review_round', 'move_in_decoration_review', 'tenant_id, application_id, round', True, ''),
    ('move_in_decoration_notice_application', 'move_in_decoration_notice', 'tenant_id, application_id', False, ''),
    ('move_in_decoration_notice_untold', 'move_in_decoration_notice', 'tenant_id, told_at, notification_id', False, ''),
    ('move_in_decoration_problem_notice', 'move_in_decoration_problem', 'tenant_id, notice_id', False, ''),
    ('move_in_decoration_problem_application', 'move_in_decoration_problem', 'tenant_id, application_id', False, ''),
    ('move_in_decoration_permit_application', 'move_in_decoration_permit', 'tenant_id, application_id', True, ''),
    ('move_in_decoration_permit_number', 'move_in_decoration_permit', 'tenant_id, number', True, ''),
    ('move_in_decoration_patrol_application', 'move_in_decoration_patrol', 'tenant_id, application_id, at', False, ''),
    ('move_in_decoration_violation_application', 'move_in_decoration_violation', 'tenant_id, application_id, status', False, ''),
    ('move_in_decoration_violation_patrol', 'move_in_decoration_violation', 'tenant_id, patrol_id', False, ''),
    ('move_in_decoration_acceptance_round', 'move_in_decoration_acceptance', 'tenant_id, application_id, round', True, ''),
    ('move_in_decoration_refund_acceptance', 'move_in_decoration_refund', 'tenant_id, acceptance_id', True, ''),
    ('move_in_decoration_refund_open', 'move_in_decoration_refund', 'tenant_id, refunded_at, due_at', False, ''),
    ('move_in_decoration_hours_report_permit', 'move_in_decoration_hours_report', 'tenant_id, permit_id', False, ''),
    ('move_in_decoration_moving_out_project', 'move_in_decoration_moving_out', 'tenant_id, project_id, id', False, ''),
    ('move_in_decoration_moving_out_pass_out', 'move_in_decoration_moving_out', 'tenant_id, pass_out_id', True, ''),
)


class _Ddl(Table, tablename="move_in_decoration_batch"):
    """A handle to run DDL through the configured engine."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="move_in_decoration", description=DESCRIPTION)

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
