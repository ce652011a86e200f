"""Scoped access to tenant data. Fails closed.

`TenantScope(tenant_id)` is the only way services reach tenant-owned tables: every query it builds is
filtered by the tenant, every insert is stamped with it, and a row of another tenant is simply not
found (404), never "forbidden". `Principal` narrows further to what one staff member may see.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from piccolo.columns import JSON, JSONB, Column
from piccolo.columns.combination import Where
from piccolo.columns.defaults.base import Default
from piccolo.table import Table
from piccolo.utils.encoding import dump_json
from piccolo.utils.sql_values import convert_to_sql_value

from core.errors import forbidden, not_found
from core.roles import Role, roles_with


class _Shape:
    """What the scoped fast paths need to know of one table, worked out once per table."""

    __slots__ = ("names", "tenant_owned", "pk", "select_all", "insert_sql", "insert_columns", "json_names", "selects",
                 "linked_sql")

    def __init__(self, table: type[Table]) -> None:
        columns = table._meta.columns
        self.names = frozenset(c._meta.name for c in columns)
        self.tenant_owned = "tenant_id" in self.names
        pk = table._meta.primary_key
        self.pk = pk._meta.name
        self.select_all = _select_list(table, columns)
        self.insert_columns = [(c._meta.name, c, _default_of(c), c._meta.null, isinstance(c, (JSON, JSONB)))
                               for c in columns if c is not pk]
        self.json_names = frozenset(c._meta.name for c in columns if isinstance(c, (JSON, JSONB)))
        name = _quote(table._meta.tablename)
        self.insert_sql = (f"INSERT INTO {name} ({', '.join(_quote(c[1]._meta.db_column_name) for c in self.insert_columns)}) "
                           f"VALUES ({', '.join('{}' for _ in self.insert_columns)}) "
                           f"RETURNING {_quote(pk._meta.db_column_name)} AS {_quote(self.pk)}")
        self.selects: dict[tuple[Any, ...], str] = {}
        self.linked_sql: dict[tuple[str, str], str] = {}

    def by_id_sql(self, table: type[Table], columns: tuple[Any, ...]) -> str | None:
        """`SELECT … WHERE tenant_id = {} AND pk = {} LIMIT 1` for plain columns of this table (None otherwise)."""
        return self.first_sql(table, columns, ((self.pk, False),))

    def first_sql(self, table: type[Table], columns: tuple[Any, ...], conditions: tuple[tuple[str, bool], ...]) -> str | None:
        """`SELECT … WHERE tenant_id = {} AND a = {} AND b IS NULL … ORDER BY pk LIMIT 1`; None unless every
        column is a plain column of this table (joins and aliases go through the query builder)."""
        key = (tuple(c._meta.name if isinstance(c, Column) and not c._meta.call_chain and c._alias is None
                     and c._meta.table is table else "\0" for c in columns), conditions)
        sql = self.selects.get(key)
        if sql is None:
            if "\0" in key[0]:
                return None
            picked = _select_list(table, columns) if columns else self.select_all
            where = " AND ".join([f"{_quote('tenant_id')} = {{}}"] + [
                f"{_quote(getattr(table, name)._meta.db_column_name)} {'IS NULL' if is_null else '= {}'}"
                for name, is_null in conditions])
            pk = _quote(table._meta.primary_key._meta.db_column_name)
            sql = f"SELECT {picked} FROM {_quote(table._meta.tablename)} WHERE {where} ORDER BY {pk} LIMIT 1"
            if len(self.selects) < 256:
                self.selects[key] = sql
        return sql


def _quote(name: str) -> str:
    return f'"{name}"'


def _select_list(table: type[Table], columns: Iterable[Column]) -> str:
    out = []
    for c in columns:
        db_name, name = c._meta.db_column_name, c._meta.name
        out.append(_quote(db_name) if db_name == name else f"{_quote(db_name)} AS {_quote(name)}")
    return ", ".join(out)


_shapes: dict[type[Table], _Shape] = {}


def _shape(table: type[Table]) -> _Shape:
    shape = _shapes.get(table)
    if shape is None:
        shape = _shapes[table] = _Shape(table)
    return shape


def _check_tenant_table(table: type[Table]) -> _Shape:
    """The table's shape; a TypeError unless it is tenant-owned."""
    shape = _shape(table)
    if not shape.tenant_owned:
        raise TypeError(f"{table.__name__} is not a tenant-owned table")
    return shape


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
        row = await self.get_or_none(table, row_id, *columns)
        if row is None:
            raise not_found(what or _label(table))
        return row

    async def get_or_none(self, table: type[Table], row_id: Any, *columns: Any) -> dict[str, Any] | None:
        if row_id is None:
            return None
        shape = _check_tenant_table(table)
        sql = shape.by_id_sql(table, columns)
        if sql is None or not isinstance(row_id, int):  # joined or aliased columns: the query builder
            return await self.select(table, *columns).where(table._meta.primary_key == row_id).first()
        from core.db import query

        rows = await query(sql, self.tenant_id, row_id)
        return rows[0] if rows else None

    async def first(self, table: type[Table], *columns: Any, **equals: Any) -> dict[str, Any] | None:
        """The first row (lowest id) of this tenant whose columns equal `equals` (None means IS NULL)."""
        shape = _check_tenant_table(table)
        _by_name(table, equals)
        sql = shape.first_sql(table, columns, tuple((name, value is None) for name, value in equals.items()))
        if sql is None:
            query = self.select(table, *columns)
            for name, value in equals.items():
                column = getattr(table, name)
                query = query.where(column.is_null() if value is None else column == value)
            return await query.order_by(table._meta.primary_key).first()
        from core.db import query as run

        args = [v.value if isinstance(v, Enum) else v for v in equals.values() if v is not None]
        rows = await run(sql, self.tenant_id, *args)
        return rows[0] if rows else None

    async def insert(self, table: type[Table], **values: Any) -> dict[str, Any]:
        """Insert one row stamped with this tenant; returns the stored row (column defaults filled in)."""
        shape = _check_tenant_table(table)
        values["tenant_id"] = self.tenant_id
        _by_name(table, values)
        if shape.pk in values:  # an explicit primary key: the ORM's own insert
            row = table(**values)
            await row.save()
            return row.to_dict()
        from core.db import query

        stored, args = _insert_values(shape, values)
        returned = await query(shape.insert_sql, *args)
        return {shape.pk: returned[0][shape.pk], **stored}

    async def insert_linked(self, table: type[Table], values: dict[str, Any], child: type[Table],
                            child_values: dict[str, Any], link: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Insert a row and one `child` row whose column `link` points at it, both or neither. On PostgreSQL
        this is one statement (one round trip, no BEGIN/COMMIT); elsewhere, two inside a transaction."""
        from core.db import is_postgres, query, transaction

        parent, kid = _check_tenant_table(table), _check_tenant_table(child)
        values = _by_name(table, {**values, "tenant_id": self.tenant_id})
        child_values = _by_name(child, {**child_values, "tenant_id": self.tenant_id, link: 0})
        if parent.pk in values or kid.pk in child_values:
            raise TypeError("insert_linked gives both rows their ids; leave the primary keys out")
        if not is_postgres():
            async with transaction():
                row = await self.insert(table, **values)
                return row, await self.insert(child, **{**child_values, link: row[parent.pk]})
        stored, args = _insert_values(parent, values)
        child_stored, child_args = _insert_values(kid, child_values)
        sql = kid.linked_sql.get((parent.insert_sql, link))
        if sql is None:
            columns = [c[1] for c in kid.insert_columns]
            cells = ", ".join(f'(SELECT "{parent.pk}" FROM parent)' if c._meta.name == link else "{}" for c in columns)
            sql = (f"WITH parent AS ({parent.insert_sql}) INSERT INTO {_quote(child._meta.tablename)} "
                   f"({', '.join(_quote(c._meta.db_column_name) for c in columns)}) VALUES ({cells}) "
                   f"RETURNING {_quote(child._meta.primary_key._meta.db_column_name)} AS {_quote(kid.pk)}, "
                   f"{_quote(getattr(child, link)._meta.db_column_name)} AS {_quote(link)}")
            kid.linked_sql[(parent.insert_sql, link)] = sql
        position = [c[0] for c in kid.insert_columns].index(link)
        del child_args[position]
        returned = (await query(sql, *args, *child_args))[0]
        child_stored[link] = returned[link]
        return {parent.pk: returned[link], **stored}, {kid.pk: returned[kid.pk], **child_stored}

    async def insert_many(self, table: type[Table], rows: Iterable[dict[str, Any]]) -> None:
        _check_tenant_table(table)
        objects = [table(**_by_name(table, {**r, "tenant_id": self.tenant_id})) for r in rows]
        if objects:
            await table.insert(*objects)


_PLAIN = frozenset({str, int, float, bool, type(None), datetime, date, Decimal})
_NO_DEFAULT, _STATIC, _CALL = 0, 1, 2


def _default_of(column: Column) -> tuple[int, Any]:
    """How a column left out of an insert gets its value: none (NULL), a constant worked out once, or a call
    per row (callables, `Default` objects, and mutable values, which each row gets a fresh copy of)."""
    default = getattr(column, "default", ...)
    if default is ... or default is None:
        return _NO_DEFAULT, None
    value = default.value if isinstance(default, Enum) else default
    if callable(value) or isinstance(value, Default) or type(value) not in _PLAIN:
        return _CALL, default
    return _STATIC, value


def _call_default(default: Any) -> Any:
    value = default.value if isinstance(default, Enum) else default
    if callable(value):
        value = value()
    if isinstance(value, Default):
        value = value.python()
    if isinstance(value, (dict, list)):
        import copy

        value = copy.deepcopy(value)
    return value


def _insert_values(shape: _Shape, values: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The stored row (given values, else the columns' defaults) and the statement's arguments."""
    stored: dict[str, Any] = {}
    args: list[Any] = []
    for name, column, (how, default), nullable, is_json in shape.insert_columns:
        if name in values:
            value = values[name]
        elif how == _STATIC:
            stored[name] = default
            args.append(default)
            continue
        elif how == _NO_DEFAULT:
            value = None
        else:
            value = _call_default(default)
        if value is None and not nullable:
            raise ValueError(f"{name} wasn't provided")
        stored[name] = value
        if is_json:
            args.append(value if value is None or type(value) is str else dump_json(value))
        elif type(value) in _PLAIN or not isinstance(value, (Enum, Table, list)):
            args.append(value)
        else:
            args.append(convert_to_sql_value(value, column))
    return stored, args


def _label(table: type[Table]) -> str:
    return table._meta.tablename.split("_", 1)[-1].replace("_", " ")


def _by_name(table: type[Table], values: dict[str, Any]) -> dict[str, Any]:
    unknown = values.keys() - _shape(table).names
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
