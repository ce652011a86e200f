"""Hooks that arrears collection offers to other plugins.

A plugin that bills through arrears collection (parking leases, utilities …) implements these in its
`hooks.py` with ``@hookimpl(optionalhook=True)``, so it still loads when arrears collection is not
installed. Arrears collection calls them with `core.get_registry().call(...)`: keyword arguments only,
and only for tenants (and projects) where the implementing plugin is enabled.
"""
from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("guanjia")


@hookspec
def arrears_charges(tenant_id: int, project: dict[str, Any], period: str) -> list[dict[str, Any]]:
    """Charges of one project for one month, billed beside the project's own fee items.

    Called by the monthly billing job (and by a billing run started from the API) once per project and
    period; the bills it yields are idempotent, so answering the same charges twice bills them once.

    :param tenant_id: the tenant.
    :param project: the project row (``id``, ``code``, ``name``, ``total_area`` …).
    :param period: the month billed, ``"YYYY-MM"``.
    :return: a list of dicts, one per charge: ``unit_id`` (a unit of the project), ``fee_code``
        (stable code of the fee item, e.g. ``"parking_leases.monthly"``), ``fee_name`` (its published
        name, e.g. ``"车位租赁费"``), ``amount_fen`` (a positive integer, fen), optionally
        ``customer_id`` (who pays; default the unit's owner in that month), ``basis_text`` (the
        published basis) and ``standard_fen`` (the published standard).
    """


@hookspec
def on_arrears_payment(tenant_id: int, payment: dict[str, Any], cleared: bool) -> None:
    """A payment was recorded and allocated to bills (after its transaction committed).

    :param tenant_id: the tenant.
    :param payment: the payment row (``id``, ``project_id``, ``customer_id``, ``amount_fen``, ``receipt_no`` …).
    :param cleared: True when the payment cleared the customer's arrears in the project (the ladder stopped).
    """
