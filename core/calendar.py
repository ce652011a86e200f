"""Working-day calendar for SLA deadlines (pure Python, no database, no I/O).

Statutory data comes from the ``chinesecalendar`` package (import name
``chinese_calendar``). Version 1.11.0 covers 2004–2026; each coming year's
schedule is published by the State Council around November/December, so the
next year is only available after a package upgrade. Outside the covered years
the calendar falls back to Monday–Friday, and :meth:`WorkCalendar.coverage_warning`
says so.

A working day is decided in this order:

1. tenant overrides (``CalendarOverride``), which work in both directions: an
   extra working day (e.g. a duty Sunday) or a day off (e.g. a local holiday);
2. statutory data: a public holiday is off, and a make-up working day
   (补班/调休, often a Saturday or Sunday) is working — the data lists both
   kinds of day explicitly, so a weekend can be a working day;
3. otherwise Monday–Friday.

All knowledge of the statutory-data package lives in ``_load_statutory``, so
another provider (e.g. the ``holidays`` package) can be swapped in there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "CalendarOverride",
    "ServiceHours",
    "StatutoryData",
    "WorkCalendar",
    "statutory_year_coverage",
]

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MIN_DAYS_PER_WEEK = 7
_MIN_HOURS_PER_DAY = 10.0


# --------------------------------------------------------------------------- statutory data


@dataclass(frozen=True)
class StatutoryData:
    """Official schedule: holidays and make-up working days, each mapped to the festival's name."""

    holidays: Mapping[date, str]
    workdays: Mapping[date, str]
    years: frozenset[int]


@lru_cache(maxsize=1)
def _load_statutory() -> StatutoryData:
    """The single place that reads the statutory-data package."""
    from chinese_calendar import constants

    def names(table: Mapping[date, object]) -> dict[date, str]:
        # Values are English festival names (or enum members in other releases).
        return {day: str(getattr(value, "value", value)) for day, value in table.items()}

    holidays = names(constants.holidays)
    workdays = names(constants.workdays)
    years = frozenset(day.year for day in (*holidays, *workdays))
    return StatutoryData(holidays=holidays, workdays=workdays, years=years)


def statutory_year_coverage() -> tuple[int, int]:
    """First and last year with official statutory data, computed from the installed package."""
    years = _load_statutory().years
    if not years:
        raise RuntimeError("the statutory calendar package contains no data")
    return min(years), max(years)


# --------------------------------------------------------------------------- service hours


def _seconds_of_day(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _format_hours(hours: float) -> str:
    return f"{hours:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class ServiceHours:
    """The service centre's opening hours, the same every open day.

    ``closes`` earlier than ``opens`` means the centre closes after midnight;
    ``closes == opens`` means it is open round the clock (24 hours).
    """

    opens: time = time(8, 0)
    closes: time = time(20, 0)
    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)

    def hours_per_day(self) -> float:
        span = _seconds_of_day(self.closes) - _seconds_of_day(self.opens)
        if span <= 0:
            span += 24 * 3600
        return span / 3600

    def problems(self) -> list[str]:
        """Violations of the seed rule (open 7 days a week, at least 10 hours a day); empty when compliant."""
        found: list[str] = []
        invalid = sorted({d for d in self.days if not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6}, key=repr)
        if invalid:
            found.append(
                "Invalid weekday numbers " + ", ".join(repr(d) for d in invalid)
                + " (use 0 = Monday … 6 = Sunday)."
            )
        open_days = {d for d in self.days if d not in invalid}
        if len(open_days) < _MIN_DAYS_PER_WEEK:
            closed = [_WEEKDAY_NAMES[d] for d in range(7) if d not in open_days]
            found.append(
                f"The service centre is open only {len(open_days)} days a week "
                f"(closed on {', '.join(closed)}); it must be open 7 days a week."
            )
        hours = self.hours_per_day()
        if hours < _MIN_HOURS_PER_DAY:
            found.append(
                f"The service centre is open only {_format_hours(hours)} hours a day "
                f"({self.opens:%H:%M}–{self.closes:%H:%M}); it must be open at least "
                f"{_format_hours(_MIN_HOURS_PER_DAY)} hours a day."
            )
        return found


# --------------------------------------------------------------------------- overrides


@dataclass(frozen=True)
class CalendarOverride:
    """A tenant's own calendar entry: an extra working day (``working=True``) or a day off."""

    day: date
    working: bool
    note: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.day, datetime) or not isinstance(self.day, date):
            raise TypeError("CalendarOverride.day must be a date (not a datetime)")


# --------------------------------------------------------------------------- calendar


class WorkCalendar:
    """Working days for one tenant: overrides, then statutory data, then Monday–Friday."""

    def __init__(
        self,
        overrides: Iterable[CalendarOverride] = (),
        tz: str = "Asia/Shanghai",
        service_hours: ServiceHours | None = None,
    ) -> None:
        self.tz: ZoneInfo = ZoneInfo(tz)
        self.service_hours: ServiceHours = service_hours if service_hours is not None else ServiceHours()
        # A later override for the same day replaces an earlier one.
        self._overrides: dict[date, CalendarOverride] = {o.day: o for o in overrides}
        self._data = _load_statutory()

    # ----------------------------------------------------------------- days

    def _as_date(self, day: date) -> date:
        if isinstance(day, datetime):
            return day.astimezone(self.tz).date() if day.tzinfo is not None else day.date()
        return day

    def _local_date(self, moment: datetime) -> date:
        self._require_aware(moment)
        return moment.astimezone(self.tz).date()

    @staticmethod
    def _require_aware(moment: datetime) -> None:
        if not isinstance(moment, datetime):
            raise TypeError(f"expected a datetime, got {type(moment).__name__}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("naive datetime: pass a timezone-aware datetime")

    def day_kind(self, day: date) -> str:
        """One of override_working, override_off, holiday, makeup_workday, weekend, workday."""
        day = self._as_date(day)
        override = self._overrides.get(day)
        if override is not None:
            return "override_working" if override.working else "override_off"
        if day in self._data.holidays:
            return "holiday"
        if day in self._data.workdays:
            return "makeup_workday"
        return "weekend" if day.weekday() >= 5 else "workday"

    def is_working_day(self, day: date) -> bool:
        return self.day_kind(day) in ("override_working", "makeup_workday", "workday")

    def holiday_name(self, day: date) -> str | None:
        """Override note for overridden days; otherwise the festival a holiday or make-up day belongs to."""
        day = self._as_date(day)
        override = self._overrides.get(day)
        if override is not None and override.note:
            return override.note
        return self._data.holidays.get(day) or self._data.workdays.get(day)

    def working_days_in_range(self, first: date, last: date) -> list[date]:
        """Working days from ``first`` to ``last``, both inclusive."""
        first, last = self._as_date(first), self._as_date(last)
        result: list[date] = []
        day = first
        while day <= last:
            if self.is_working_day(day):
                result.append(day)
            day += timedelta(days=1)
        return result

    # ----------------------------------------------------------------- deadlines

    def _end_of_day(self, day: date) -> datetime:
        return datetime.combine(day, time.max, tzinfo=self.tz)

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """End of the n-th working day after ``start``'s local date (n=0: end of that day)."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError("n must be an integer number of working days")
        if n < 0:
            raise ValueError("n must not be negative")
        day = self._local_date(start)
        remaining = n
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return self._end_of_day(day)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days strictly after ``start``'s local date up to and including ``end``'s local date."""
        first = self._local_date(start) + timedelta(days=1)
        last = self._local_date(end)
        return len(self.working_days_in_range(first, last))

    def add_wall_clock(self, start: datetime, delta: timedelta) -> datetime:
        """Elapsed-time deadline ("within 10 minutes / 24 hours"), ignoring working days."""
        if start.tzinfo is None or start.utcoffset() is None:
            return start + delta
        return (start.astimezone(timezone.utc) + delta).astimezone(start.tzinfo)

    # ----------------------------------------------------------------- coverage

    def covered_years(self) -> tuple[int, int]:
        return statutory_year_coverage()

    def coverage_warning(self, as_of: date) -> str | None:
        """Warn when the year of ``as_of`` or the coming year has no official statutory data."""
        as_of = self._as_date(as_of)
        missing = [y for y in (as_of.year, as_of.year + 1) if y not in self._data.years]
        if not missing:
            return None
        years = " and ".join(str(y) for y in missing)
        schedule, verb, pronoun = ("schedules", "are", "they are") if len(missing) > 1 else ("schedule", "is", "it is")
        first, last = self.covered_years()
        return (
            f"The official public holiday {schedule} for {years} {verb} not loaded yet "
            f"(the installed calendar data covers {first}–{last}); working days in {years} "
            f"fall back to Monday–Friday until {pronoun}. Upgrade the chinesecalendar package "
            f"or add calendar overrides for {years}."
        )
