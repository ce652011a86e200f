"""Piccolo app of the move-in and decoration plugin: its tables and migrations."""
import os

from piccolo.conf.apps import AppConfig

from plugins.move_in_decoration.tables import TABLES

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="move_in_decoration",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=list(TABLES),
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
