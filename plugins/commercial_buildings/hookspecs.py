"""Hooks the commercial buildings plugin offers to other plugins.

Implement them in your plugin's ``hooks.py`` with ``@hookimpl`` (mark them ``optionalhook=True`` if
this plugin may be absent). Plugins reach this one only through these hooks, never by importing it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("guanjia")


@dataclass(frozen=True)
class ZoneKind:
    """A kind of zone of a commercial project, with the services its customers need (seed 001).

    A plugin may return instances of this class or plain dicts with the same keys.
    """

    name: str
    label_zh: str
    label_en: str
    services: tuple[str, ...] = ()


@hookspec
def register_zone_kinds() -> list[Any]:
    """Zone kinds this plugin adds to commercial projects (beside office, hotel, retail, lobby, garage).

    :return: a list of `ZoneKind` or dicts ``{"name", "label_zh", "label_en", "services"}``; names of
        another plugin's kinds should be prefixed with that plugin's name.
    """


@hookspec(firstresult=True)
def resolve_release_gate(tenant_id: int) -> Any:
    """The confirm-before-release service (放行): large items leave a unit only after its owner, renter or
    an authorised contact confirms, and every release is recorded. Stops at first non-None result.

    The commercial buildings plugin answers with a namespace of async functions (see the docstring of
    ``plugins.commercial_buildings.services``): ``request``, ``who_may_confirm``, ``send_link``,
    ``confirm_in_person``, ``confirm_by_token``, ``reject``, ``release``, ``get``. Residential
    "moving large items out" calls them with ``purpose="moving_out"`` and ``source=<its plugin name>``.

    Call it as ``await core.get_registry().first("resolve_release_gate", tenant_id=tenant_id)``.

    :param tenant_id: the tenant.
    :return: the gate, or None when no plugin offers one to this tenant.
    """
