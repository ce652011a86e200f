"""Values that plugins hand to the kernel through hooks. Plain frozen dataclasses: easy to build, easy to test."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Literal


@dataclass(frozen=True)
class PluginMeta:
    """The one metadata object a plugin package exports as `plugin` in its `__init__.py`.

    :param name: unique snake_case name; prefixes its tables, queues, actors, templates and routes.
    :param version: the plugin's own version.
    :param core_version: a PEP 440 specifier the kernel version must satisfy, e.g. ``">=0.1,<1"``.
    :param settings: setting names with their defaults; tenant → project fallback at run time.
    :param required_settings: names that must have a non-empty value once enabled.
    :param dependencies: names of plugins this one needs enabled (and may import the public API of).
    :param project_kinds: project kinds it serves (``None`` = all).
    """

    name: str
    version: str
    title: str = ""
    title_zh: str = ""
    description: str = ""
    core_version: str = ">=0.1,<1"
    settings: dict[str, Any] = field(default_factory=dict)
    required_settings: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    project_kinds: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TicketKind:
    """A kind of ticket. The kernel registers repair, complaint, inquiry and suggestion."""

    name: str
    label_zh: str
    label_en: str
    requires_return_visit: bool = False
    form_fields: tuple["FormField", ...] = ()


@dataclass(frozen=True)
class FormField:
    """An extra ticket-form field; its value is stored in the ticket's `data`."""

    name: str
    label_zh: str
    label_en: str
    type: Literal["text", "number", "date", "select", "checkbox"] = "text"
    options: tuple[str, ...] = ()
    required: bool = False


Clock = Literal["minutes", "hours", "days", "working_days"]


@dataclass(frozen=True)
class Deadline:
    """An amount of time on a named clock: minutes/hours/days are wall clock; working_days use the calendar."""

    amount: int
    clock: Clock

    def __str__(self) -> str:
        return f"{self.amount} {self.clock.replace('_', ' ')}"


@dataclass(frozen=True)
class SlaPolicy:
    """Due times for one kind of ticket. `None` = the ticket has no such clock."""

    name: str
    response: Deadline | None = None
    resolution: Deadline | None = None
    return_visit: Deadline | None = None
    seed: str = ""
    note: str = ""


@dataclass(frozen=True)
class MenuItem:
    key: str
    label_zh: str
    label_en: str
    href: str
    roles: tuple[str, ...] = ()
    order: int = 100
    plugin: str = ""


@dataclass(frozen=True)
class DashboardWidget:
    """A card on the dashboard. `load(tenant_id=, project_id=)` returns a dict for `template`."""

    key: str
    title_zh: str
    title_en: str
    template: str
    load: Callable[..., Awaitable[dict[str, Any]] | dict[str, Any]]
    roles: tuple[str, ...] = ()
    order: int = 100


@dataclass(frozen=True)
class Permission:
    name: str
    description: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeriodicJob:
    """A job the scheduler enqueues with an explicit `as_of`.

    :param name: namespaced ``plugin.job``.
    :param actor_name: the Dramatiq actor called as ``actor(as_of_iso)``.
    :param schedule: ``"every N minutes"``, ``"daily HH:MM"`` or ``"monthly D HH:MM"`` (Asia/Shanghai).
    """

    name: str
    actor_name: str
    schedule: str
    description: str = ""


@dataclass(frozen=True)
class NotificationChannel:
    """A way to reach people. `send(tenant_id=, recipient=, subject=, body=, settings=)` returns an
    outcome string ("sent", …) or raises; `configured(settings)` says whether it can send at all."""

    name: str
    label: str
    send: Callable[..., Awaitable[str] | str]
    configured: Callable[[dict[str, Any]], bool] = lambda settings: True
