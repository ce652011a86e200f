"""Composite indexes of the community events plugin, each leading with tenant_id (frozen here, not
imported from live tables)."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T21:08:57:000000"
VERSION = "1.38.0"
DESCRIPTION = "community events composite indexes"

# (name, table, columns, unique, where)
INDEXES = (
    ('community_events_event_project', 'community_events_event', 'tenant_id, project_id, starts_at', False, ''),
    ('community_events_answer_key', 'community_events_answer', 'tenant_id, event_id, customer_id', True, ''),
    ('community_events_signup_key', 'community_events_signup', 'tenant_id, event_id, customer_id', True, ''),
    ('community_events_signup_token', 'community_events_signup', 'tenant_id, token', True, ''),
    ('community_events_signup_queue', 'community_events_signup', 'tenant_id, event_id, status, signed_up_at', False, ''),
    ('community_events_visit_key', 'community_events_visit', 'tenant_id, event_id, signup_id', True, ''),
    ('community_events_summary_event', 'community_events_summary', 'tenant_id, event_id', True, ''),
    ('community_events_photo_event', 'community_events_photo', 'tenant_id, event_id', False, ''),
    ('community_events_task_key', 'community_events_task', 'tenant_id, project_id, festival, festival_date', True, ''),
    ('community_events_greeting_key', 'community_events_greeting', 'tenant_id, customer_id, occasion', True, ''),
)


class _Ddl(Table, tablename="community_events_event"):
    """A handle to run DDL through the configured engine."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="community_events", description=DESCRIPTION)

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
