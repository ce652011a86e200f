"""Piccolo app of the kernel: its tables and migrations."""
import os

from piccolo.conf.apps import AppConfig

from core.tables import (
    ApiToken, AuditLog, Building, Customer, Grid, JobRun, Membership, Notification, Occupancy, Outbox, PluginState,
    Project, Tenant, Ticket, TicketAttachment, TicketEvent, Unit, User,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        Tenant, User, Membership, ApiToken, Project, Building, Grid, Unit, Customer, Occupancy, Ticket,
        TicketEvent, PluginState, Notification, JobRun, Outbox, AuditLog, TicketAttachment,
    ],
    migration_dependencies=[],
    commands=[],
)
