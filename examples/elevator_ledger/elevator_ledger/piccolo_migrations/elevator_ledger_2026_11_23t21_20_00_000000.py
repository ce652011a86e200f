"""Elevator ledger: the elevator and record tables."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import Boolean, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-11-23T21:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "elevator ledger tables"


class Tenant(Table, tablename="core_tenant"):
    pass


class Project(Table, tablename="core_project"):
    pass


class Building(Table, tablename="core_building"):
    pass


class Elevator(Table, tablename="elevator_ledger_elevator"):
    pass


def _p(**params):
    base = {"null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree,
            "choices": None, "db_column_name": None, "secret": False}
    return {**base, **params}


def _fk(table):
    return _p(references=table, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)


TABLES = {
    ("Elevator", "elevator_ledger_elevator"): (
        ("tenant_id", ForeignKey, _fk(Tenant)),
        ("project_id", ForeignKey, _fk(Project)),
        ("building_id", ForeignKey, _fk(Building)),
        ("code", Varchar, _p(length=30, default="")),
        ("maker", Varchar, _p(length=100, default="")),
        ("contractor", Varchar, _p(length=200, default="")),
        ("created_at", Timestamptz, _p(default=TimestamptzNow())),
    ),
    ("Record", "elevator_ledger_record"): (
        ("tenant_id", ForeignKey, _fk(Tenant)),
        ("elevator_id", ForeignKey, _fk(Elevator)),
        ("kind", Varchar, _p(length=20, default="")),
        ("occurred_on", Date, _p(default=None)),
        ("description", Text, _p(default="")),
        ("contractor_notified", Boolean, _p(default=False)),
        ("resolved_on", Date, _p(null=True, default=None)),
        ("created_at", Timestamptz, _p(default=TimestamptzNow())),
    ),
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="elevator_ledger", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for column, cls, params in columns:
            manager.add_column(table_class_name=class_name, tablename=tablename, column_name=column,
                               db_column_name=column, column_class_name=cls.__name__, column_class=cls, params=params,
                               schema=None)
    return manager
