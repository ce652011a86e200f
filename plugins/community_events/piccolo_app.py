"""Piccolo app of the community events plugin: its tables and migrations."""
import os

from piccolo.conf.apps import AppConfig

from plugins.community_events.tables import TABLES

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="community_events",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=list(TABLES),
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
