"""Piccolo app of the elevator ledger."""
import os

from piccolo.conf.apps import AppConfig

from elevator_ledger.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="elevator_ledger",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "piccolo_migrations"),
    table_classes=list(TABLES),
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
