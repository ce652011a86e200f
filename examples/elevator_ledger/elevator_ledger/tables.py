"""Tables of the elevator ledger. Composite indexes, each leading with tenant_id, are made by a raw migration step."""
from __future__ import annotations

from piccolo.columns import Boolean, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import tables as core_tables


class Elevator(Table, tablename="elevator_ledger_elevator"):
    """One elevator of a building, with its maker and maintenance contractor (维保单位)."""

    tenant_id = ForeignKey(core_tables.Tenant, null=False)
    project_id = ForeignKey(core_tables.Project, null=False)
    building_id = ForeignKey(core_tables.Building, null=False)
    code = Varchar(length=30, null=False)
    maker = Varchar(length=100, default="")
    contractor = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Record(Table, tablename="elevator_ledger_record"):
    """A ledger line: a maintenance visit, an inspection or a fault followed up with the contractor."""

    tenant_id = ForeignKey(core_tables.Tenant, null=False)
    elevator_id = ForeignKey(Elevator, null=False)
    kind = Varchar(length=20, null=False)  # maintenance | inspection | fault
    occurred_on = Date(null=False)
    description = Text(default="")
    contractor_notified = Boolean(default=False)
    resolved_on = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = (Elevator, Record)
