"""Hook specifications: the plugin author's reference.

A plugin implements hooks in its `hooks.py` with ``@hookimpl`` (``from core import hookimpl``).
Rules that hold for every hook:

* The kernel calls hooks with keyword arguments only; an implementation may accept any subset of
  the arguments, in any order. Specs grow by adding arguments, never by changing them.
* An implementation may return a value or an awaitable; the kernel awaits what needs it.
* Every hook that touches tenant data receives ``tenant_id``. Hooks of a plugin that is disabled for
  that tenant (or for the ticket's project) are not called.
* ``register_*`` hooks are collected once at start-up; ``on_*`` hooks are events (their return value
  is ignored); ``resolve_*`` hooks want one answer.
* Rows are handed to hooks as plain dicts (column name → value), never as ORM objects.
"""
from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("guanjia")


# ---------------------------------------------------------------- register_* (collected at start-up)

@hookspec
def register_ticket_kinds() -> list[Any]:
    """Ticket kinds this plugin adds.

    :return: a list of `core.TicketKind`. Names must be unique across plugins; a plugin's kinds
        should be prefixed with its name (``"commercial_buildings.after_hours_ac"``).
    """


@hookspec
def register_routes() -> list[Any]:
    """Litestar routers or route handlers for this plugin.

    The kernel mounts them as given (use paths under ``/api/v1/<plugin-name>`` for the API and
    ``/portal/<plugin-name>`` for pages) and answers 404 on them for a tenant that has the plugin
    disabled. Handlers reach tenant data only through `core.tenancy` helpers.

    :return: a list of `litestar.Router` or handlers.
    """


@hookspec
def register_menu_items() -> list[Any]:
    """Portal menu entries. Hidden for a tenant that has the plugin disabled.

    :return: a list of `core.MenuItem`.
    """


@hookspec
def register_dashboard_widgets() -> list[Any]:
    """Cards for the portal dashboard.

    :return: a list of `core.DashboardWidget`.
    """


@hookspec
def register_permissions() -> list[Any]:
    """Permissions this plugin checks, with the roles that hold them by default.

    :return: a list of `core.Permission`.
    """


@hookspec
def register_periodic_jobs() -> list[Any]:
    """Periodic jobs with their schedule. Each runs with an explicit ``as_of`` and must be idempotent.

    :return: a list of `core.PeriodicJob`.
    """


@hookspec
def register_notification_channels() -> list[Any]:
    """Ways to reach people (in-app, email, SMS, WeChat template message …).

    :return: a list of `core.NotificationChannel`.
    """


@hookspec
def register_sla_policies() -> list[Any]:
    """Named SLA policies this plugin offers (for the portal and the tenant configuration).

    :return: a list of `core.SlaPolicy`.
    """


@hookspec
def register_template_dirs() -> list[str]:
    """Folders of Jinja templates; put yours under ``templates/<plugin-name>/`` to avoid collisions.

    :return: a list of absolute paths.
    """


# ---------------------------------------------------------------- on_* (events)

@hookspec
def on_ticket_created(tenant_id: int, ticket: dict[str, Any]) -> None:
    """A ticket was created (its first event is written, due times are set).

    :param tenant_id: the tenant.
    :param ticket: the ticket row.
    """


@hookspec
def on_ticket_status_changed(
    tenant_id: int, ticket: dict[str, Any], from_status: str, to_status: str, reason: str, actor_id: int | None
) -> None:
    """A ticket moved through the state machine (after the change is stored).

    :param tenant_id: the tenant.
    :param ticket: the ticket row after the change.
    :param from_status: the status it left.
    :param to_status: the status it entered.
    :param reason: the reason given ("" when none is needed).
    :param actor_id: the staff user who did it (None for the system).
    """


@hookspec
def on_customer_moved_in(tenant_id: int, customer_id: int, unit_id: int, role: str, start_date: Any) -> None:
    """A customer started to hold a unit (owner, renter, company or resident).

    :param tenant_id: the tenant.
    :param customer_id: the customer.
    :param unit_id: the unit.
    :param role: ``owner``, ``renter``, ``company`` or ``resident``.
    :param start_date: the first day (a `datetime.date`).
    """


@hookspec
def on_customer_moved_out(tenant_id: int, customer_id: int, unit_id: int, role: str, end_date: Any) -> None:
    """A customer stopped holding a unit.

    :param tenant_id: the tenant.
    :param customer_id: the customer.
    :param unit_id: the unit.
    :param role: the role that ended.
    :param end_date: the last day (a `datetime.date`).
    """


@hookspec
def on_ownership_changed(
    tenant_id: int, unit_id: int, previous_owner_ids: list[int], new_owner_id: int, on_date: Any
) -> None:
    """The owner of a unit changed (a sale or transfer).

    :param tenant_id: the tenant.
    :param unit_id: the unit.
    :param previous_owner_ids: customers whose ownership ended.
    :param new_owner_id: the new owner.
    :param on_date: the date of the change.
    """


# ---------------------------------------------------------------- resolve_* (one answer)

@hookspec(firstresult=True)
def resolve_responsible(tenant_id: int, project: dict[str, Any], ticket: dict[str, Any],
                        grid: dict[str, Any] | None) -> int | None:
    """Who answers for a new ticket (负责人). Stops at first non-None result.

    The kernel's default (called last) answers the grid's responsible staff member, else the first receiver.

    :param tenant_id: the tenant.
    :param project: the ticket's project row.
    :param ticket: the ticket about to be stored (``unit_id``, ``building_id``, ``grid_id``, ``kind`` …).
    :param grid: the ticket's grid (``id``, ``responsible_id``) when the kernel read it with the unit, in the
        same statement as the project; None when it did not (no unit, or no grid). Use it rather than a query.
    :return: a user id, or None to let the next plugin answer.
    """


@hookspec(firstresult=True)
def resolve_sla_policy(tenant_id: int, project: dict[str, Any], ticket: dict[str, Any]) -> Any:
    """Which SLA policy applies to a ticket. Stops at first non-None result.

    The kernel's default (called last) answers the numbers of the seeds, with the tenant's and the
    project's overrides applied.

    :param tenant_id: the tenant.
    :param project: the ticket's project row.
    :param ticket: the ticket row (or the one about to be stored).
    :return: a `core.SlaPolicy`, or None to let the next plugin answer.
    """


# ---------------------------------------------------------------- the customer file

@hookspec
def customer_file_sections(tenant_id: int, customer_id: int, principal: Any) -> list[dict[str, Any]] | None:
    """Sections this plugin adds to a customer's file ("one household, one file": payments, events, leases …).

    Called for the plugins enabled for the tenant whenever staff open a customer's file, in the API
    (``GET /api/v1/customers/{id}/file``, under ``sections``) and on the portal's customer page, which shows
    each section as a table. The kernel has already checked that `principal` may read this customer.

    * Return a list of dicts ``{"title_zh", "title_en", "columns": [[zh, en], …], "rows": [[cell, …], …]}``
      and optionally ``"link"`` (a portal URL for the whole record) and ``"note"``; cells are strings or
      numbers, already formatted for people (money in yuan, dates in Beijing time). Return None or ``[]`` to
      show nothing (e.g. when the principal's role should not see this plugin's data).
    * Keep it to what staff need at the desk (say the latest 20 rows) and read with indexed queries.

    :param tenant_id: the tenant.
    :param customer_id: the customer (already checked to belong to the tenant and to be visible).
    :param principal: the staff member reading the file (`core.Principal`: role, scope, ``can()``).
    :return: this plugin's sections, or None.
    """


# ---------------------------------------------------------------- personal data (PIPL)

@hookspec
def collect_personal_data(tenant_id: int, customer_id: int) -> dict[str, Any] | None:
    """Everything this plugin stores about one customer, for the customer's copy of their data (PIPL art. 45).

    Called for every installed plugin (enabled or not: a plugin switched off still holds its rows) when the
    company CS department exports a customer's personal data (``GET /api/v1/customers/{id}/personal-data``).
    The kernel puts the answer under ``plugins.<plugin name>`` of the export.

    * Return a dict of JSON-friendly values (lists of row dicts, dates and datetimes are fine), or None
      when the plugin holds nothing about customers.
    * Include every row that names the customer (a ``customer_id``-like foreign key) and the rows that
      hang off them (a lease's plates, an application's documents, a parcel's signature).
    * Leave out other people's identifiers (a visitor's ID number), secrets and token hashes.
    * `core.personal_data.collect(tenant_id, customer_id, holdings)` does all of this from a list of
      `core.personal_data.Holding` (table, column naming the customer or the parent row, columns to omit).
    * Read only; the kernel writes the audit entry. A plugin that does not implement this hook still has
      its rows with a foreign key to ``core_customer`` exported, listed by table.

    :param tenant_id: the tenant.
    :param customer_id: the customer (already checked to belong to the tenant).
    :return: this plugin's section of the export.
    """


@hookspec
def erase_personal_data(tenant_id: int, customer_id: int, keep_records: bool, placeholder: str) -> dict[str, int] | None:
    """Anonymise one customer in this plugin's tables (PIPL art. 47, "right to deletion").

    Called for every installed plugin, inside the one transaction of the erasure and before the kernel
    anonymises its own tables and the customer row (so the customer row still holds the old values).

    * Records the law requires to be kept (payments, receipts, bills, contracts and leases, security logs)
      stay, still linked to the customer id; only their personal fields are replaced: names by
      `placeholder` (``"已注销客户#<id>"``), phones, ID numbers, plates, free-text notes, signatures and
      uploaded documents by empty values.
    * `keep_records` True (the default of the API): delete nothing. False: rows with no duty to keep
      (survey answers, greetings) may be deleted.
    * To refuse (the customer still has an active lease, an open arrears case), raise
      ``core.conflict("…")`` before changing anything: the whole erasure is rolled back and the
      message reaches the user.
    * Set-based updates only; `core.personal_data.erase_holdings(tenant_id, customer_id, holdings, keep_records=…,
      placeholder=…)` applies a list of `Holding`\\ s (their ``erase`` values, ``optional`` rows) and also
      replaces the customer's name, phone, ID number and e-mail inside every text column of those rows.
    * Idempotent: a second call changes nothing more.

    :param tenant_id: the tenant.
    :param customer_id: the customer.
    :param keep_records: True = keep every row, blank personal fields; False = also delete optional rows.
    :param placeholder: the text that replaces the customer's name.
    :return: rows changed per table (for the audit entry), or None.
    """


# ---------------------------------------------------------------- demo data

@hookspec
def seed_demo(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: Any) -> None:
    """Add this plugin's demo data to a demo company (called by ``guanjia demo`` and by tests).

    :param tenant_id: the demo tenant.
    :param projects: project rows by kind (``"residential"``, ``"commercial"``).
    :param staff: user ids by role name.
    :param as_of: the demo's "now" (an aware `datetime`).
    """


# ---------------------------------------------------------------- onboarding

@hookspec
def import_opening_balances(tenant_id: int, project: dict[str, Any], balances: list[dict[str, Any]]) -> dict[str, int] | None:
    """Take over what the units of a project owed when the company came on board (期初欠费).

    Called by onboarding once per project with rows in the ``opening_balances`` sheet, inside the import's
    one transaction (raise to import nothing), only for plugins enabled for the project. A re-import of the
    same rows must create nothing new (key: unit, fee name, month).

    :param tenant_id: the tenant.
    :param project: the project row.
    :param balances: dicts with ``unit_id``, ``customer_id`` (the payer), ``fee_name`` (e.g. ``"物业服务费"``),
        ``period`` (``"YYYY-MM"``), ``amount_fen`` (positive integer), ``due_date`` (a `date`), ``note`` and
        ``line`` (``"file:line"`` of the sheet row, for messages).
    :return: ``{"created": n, "updated": m}``: rows this plugin wrote.
    """
