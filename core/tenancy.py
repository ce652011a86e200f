"""Scoped access to tenant data. Fails closed.

`TenantScope(tenant_id)` is the only way services reach tenant-owned tables: every query it builds is
filtered by the tenant, every insert is stamped with it, and a row of another tenant is simply not
found (404), never "forbidden". `Principal` narrows further to what one staff member may see.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from piccolo.columns import Column
from piccolo.columns.combination import Where
from piccolo.table import Table

from core.errors import forbidden, not_found
from core.roles import Role, roles_with


def _check_tenant_table(table: type[Table]) -> None:
    if "tenant_id" not in {c._meta.name for c in table._meta.columns}:
        raise TypeError(f"{table.__name__} is not a tenant-owned table")


class TenantScope:
    """Queries of one tenant."""

    __slots__ = ("tenant_id",)

    def __init__(self, tenant_id: int) -> None:
        if not isinstance(tenant_id, int) or tenant_id <= 0:
            raise ValueError("a tenant scope needs a tenant id")
        self.tenant_id = tenant_id

    def select(self, table: type[Table], *columns: Any):
        _check_tenant_table(table)
        return table.select(*columns).where(table.tenant_id == self.tenant_id)  # type: ignore[attr-defined]

    def count(self, table: type[Table]):
        _check_tenant_table(table)
        return table.count().where(table.tenant_id == self.tenant_id)  # type: ignore[attr-defined]

    def exists(self, table: type[Table]):
        _check_tenant_table(table)
        return table.exists().where(table.tenant_id == self.tenant_id)  # type: ignore[attr-defined]

    def update(self, table: type[Table], values: dict[Any, Any]):
        _check_tenant_table(table)
        return table.update(values).where(table.tenant_id == self.tenant_id)  # type: ignore[attr-defined]

    def delete(self, table: type[Table]):
        _check_tenant_table(table)
        return table.delete().where(table.tenant_id == self.tenant_id)  # type: ignore[attr-defined]

    async def get(self, table: type[Table], row_id: Any, *columns: Any, what: str | None = None) -> dict[str, Any]:
        """The row with this id in this tenant, or a 404 problem."""
        if not isinstance(row_id, int) or isinstance(row_id, bool):
            raise not_found(what or table._meta.tablename)
        row = await self.select(table, *columns).where(table._meta.primary_key == row_id).first()
        if row is None:
            raise not_found(what or _label(table))
        return row

    async def get_or_none(self, table: type[Table], row_id: Any, *columns: Any) -> dict[str, Any] | None:
        if row_id is None:
            return None
        return await self.select(table, *columns).where(table._meta.primary_key == row_id).first()

    async def insert(self, table: type[Table], **values: Any) -> dict[str, Any]:
        """Insert one row stamped with this tenant; returns the stored row."""
        _check_tenant_table(table)
        values["tenant_id"] = self.tenant_id
        row = table(**_by_name(table, values))
        await row.save()
        return row.to_dict()

    async def insert_many(self, table: type[Table], rows: Iterable[dict[str, Any]]) -> None:
        _check_tenant_table(table)
        objects = [table(**_by_name(table, {**r, "tenant_id": self.tenant_id})) for r in rows]
        if objects:
            await table.insert(*objects)


def _label(table: type[Table]) -> str:
    return table._meta.tablename.split("_", 1)[-1].replace("_", " ")


def _by_name(table: type[Table], values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - {c._meta.name for c in table._meta.columns}
    if unknown:
        raise TypeError(f"{table.__name__} has no column(s) {sorted(unknown)}")
    return values


@dataclass(frozen=True)
class Principal:
    """An authenticated staff member acting inside one tenant."""

    user_id: int
    tenant_id: int
    membership_id: int
    role: str
    name: str = ""
    login: str = ""
    project_ids: tuple[int, ...] | None = None  # None = every project of the tenant
    grid_ids: tuple[int, ...] = ()
    token_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> TenantScope:
        return TenantScope(self.tenant_id)

    def can(self, permission: str) -> bool:
        return self.role in roles_with(permission)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise forbidden(f"The role {self.role} may not {permission.replace('.', ' ')}.")

    def sees_all_projects(self) -> bool:
        return self.project_ids is None

    def sees_project(self, project_id: int | None) -> bool:
        return project_id is not None and (self.project_ids is None or project_id in self.project_ids)

    def project_filter(self, column: Column) -> Where | None:
        """A where-clause on a project column restricting to visible projects (None = no restriction)."""
        if self.project_ids is None:
            return None
        return column.is_in(list(self.project_ids) or [-1])

    def ticket_filter(self, table: Any) -> Any:
        """A where-clause restricting tickets to those this staff member may see (None = project scope only)."""
        if self.role == Role.BUTLER:
            clause = (table.responsible_id == self.user_id) | (table.first_receiver_id == self.user_id)
            if self.grid_ids:
                clause = clause | table.grid_id.is_in(list(self.grid_ids))
            return clause
        if self.role == Role.TECHNICIAN:
            return (table.executor_id == self.user_id) | (table.first_receiver_id == self.user_id)
        return None

    def sees_ticket(self, ticket: dict[str, Any]) -> bool:
        if not self.sees_project(ticket["project_id"]):
            return False
        if self.role == Role.BUTLER:
            return (ticket.get("grid_id") in self.grid_ids or ticket.get("responsible_id") == self.user_id
                    or ticket.get("first_receiver_id") == self.user_id)
        if self.role == Role.TECHNICIAN:
            return ticket.get("executor_id") == self.user_id or ticket.get("first_receiver_id") == self.user_id
        return True

    def sees_unit(self, unit: dict[str, Any]) -> bool:
        if not self.sees_project(unit["project_id"]):
            return False
        if self.role == Role.BUTLER:
            return unit.get("grid_id") in self.grid_ids
        return True
