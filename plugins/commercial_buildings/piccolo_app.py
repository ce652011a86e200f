"""Piccolo app of the commercial buildings plugin: its tables and migrations."""
import os

from piccolo.conf.apps import AppConfig

from plugins.commercial_buildings.tables import TABLES

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="commercial_buildings",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=list(TABLES),
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
