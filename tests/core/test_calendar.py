"""Rules of the working-day calendar used for SLA deadlines (2026 dates from the official schedule)."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest


from core.calendar import (  # noqa: E402
    CalendarOverride,
    ServiceHours,
    WorkCalendar,
    statutory_year_coverage,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def at(y, m, d, hh=15, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def end_of(y, m, d):
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=SH)


# --------------------------------------------------------------------------- statutory data


def test_official_2026_schedule_is_read_from_the_package():
    # National Day 10-01..10-07 off; make-up Sunday 09-20 and Saturday 10-10 are working.
    for d in range(1, 8):
        assert CAL.day_kind(date(2026, 10, d)) == "holiday"
        assert not CAL.is_working_day(date(2026, 10, d))
    assert CAL.holiday_name(date(2026, 10, 1)) == "National Day"
    assert CAL.day_kind(date(2026, 9, 20)) == "makeup_workday"
    assert CAL.day_kind(date(2026, 10, 10)) == "makeup_workday"
    assert CAL.is_working_day(date(2026, 10, 10))
    # Spring Festival 02-15..02-23 off; make-up Saturdays 02-14 and 02-28.
    assert CAL.day_kind(date(2026, 2, 17)) == "holiday"
    assert CAL.holiday_name(date(2026, 2, 17)) == "Spring Festival"
    assert CAL.day_kind(date(2026, 2, 14)) == "makeup_workday"
    assert CAL.day_kind(date(2026, 2, 28)) == "makeup_workday"
    # Labour Day 05-01..05-05 off; make-up Saturday 05-09.
    assert CAL.holiday_name(date(2026, 5, 4)) == "Labour Day"
    assert CAL.day_kind(date(2026, 5, 9)) == "makeup_workday"
    # Plain days.
    assert CAL.day_kind(date(2026, 3, 14)) == "weekend"
    assert CAL.day_kind(date(2026, 3, 16)) == "workday"
    assert CAL.holiday_name(date(2026, 3, 16)) is None


def test_coverage_is_computed_from_package_data():
    first, last = statutory_year_coverage()
    assert first == 2004
    assert last >= 2026
    assert CAL.covered_years() == (first, last)


def test_years_without_official_data_fall_back_to_monday_to_friday():
    year = statutory_year_coverage()[1] + 5
    week = [date(year, 1, 5) + timedelta(days=i) for i in range(7)]
    assert [CAL.is_working_day(d) for d in week] == [d.weekday() < 5 for d in week]
    assert {CAL.day_kind(d) for d in week} == {"workday", "weekend"}


# --------------------------------------------------------------------------- working-day deadlines


def test_counting_across_a_plain_weekend_skips_saturday_and_sunday():
    friday = at(2026, 3, 13)
    assert CAL.add_working_days(friday, 1) == end_of(2026, 3, 16)  # Monday
    assert CAL.working_days_between(friday, at(2026, 3, 15)) == 0
    assert CAL.working_days_between(friday, at(2026, 3, 16, 9)) == 1


def test_counting_across_a_statutory_holiday_skips_labour_day():
    thursday = at(2026, 4, 30)  # Labour Day 05-01..05-05 follows
    assert CAL.add_working_days(thursday, 1) == end_of(2026, 5, 6)
    assert CAL.working_days_between(thursday, at(2026, 5, 6)) == 1


def test_counting_across_a_makeup_working_saturday_counts_it():
    assert CAL.add_working_days(at(2026, 5, 8), 1) == end_of(2026, 5, 9)  # Sat, make-up for Labour Day
    assert CAL.add_working_days(at(2026, 2, 13), 1) == end_of(2026, 2, 14)  # Sat, before Spring Festival
    assert CAL.add_working_days(at(2026, 2, 13), 2) == end_of(2026, 2, 24)  # after the 9-day break
    assert CAL.add_working_days(at(2026, 2, 27), 1) == end_of(2026, 2, 28)  # Sat, after Spring Festival
    assert CAL.working_days_between(at(2026, 5, 8), at(2026, 5, 11)) == 2  # Sat 05-09 + Mon 05-11


def test_counting_across_a_makeup_working_sunday_counts_it():
    friday = at(2026, 9, 18)  # Sun 09-20 is a make-up day for National Day
    assert CAL.add_working_days(friday, 1) == end_of(2026, 9, 20)
    assert CAL.add_working_days(friday, 2) == end_of(2026, 9, 21)


def test_deadlines_from_friday_afternoon_before_national_day():
    # Fri 2026-09-25 is itself a Mid-Autumn holiday; 09-28..09-30 work, 10-01..10-07 off,
    # 10-08, 10-09 and make-up Sat 10-10 work, Sun 10-11 off.
    friday = at(2026, 9, 25, 16, 30)
    assert CAL.add_working_days(friday, 2) == end_of(2026, 9, 29)
    assert CAL.add_working_days(friday, 3) == end_of(2026, 9, 30)
    assert CAL.add_working_days(friday, 4) == end_of(2026, 10, 8)
    assert CAL.add_working_days(friday, 6) == end_of(2026, 10, 10)
    assert CAL.add_working_days(friday, 7) == end_of(2026, 10, 12)
    assert CAL.working_days_between(friday, end_of(2026, 10, 12)) == 7


def test_deadline_is_end_of_day_in_calendar_timezone():
    deadline = CAL.add_working_days(at(2026, 3, 13), 1)
    assert deadline.tzinfo == SH
    assert deadline.timetz() == time(23, 59, 59, 999999, tzinfo=SH)


def test_start_is_converted_to_local_date_before_counting():
    # 2026-09-30 17:00 UTC is 2026-10-01 01:00 in Shanghai: already inside National Day.
    start = datetime(2026, 9, 30, 17, 0, tzinfo=timezone.utc)
    assert CAL.add_working_days(start, 0) == end_of(2026, 10, 1)
    assert CAL.add_working_days(start, 1) == end_of(2026, 10, 8)


def test_zero_working_days_is_end_of_start_local_day():
    assert CAL.add_working_days(at(2026, 10, 3, 10), 0) == end_of(2026, 10, 3)
    assert CAL.add_working_days(at(2026, 3, 16, 9), 0) == end_of(2026, 3, 16)


def test_negative_working_days_rejected():
    with pytest.raises(ValueError):
        CAL.add_working_days(at(2026, 3, 16), -1)


def test_naive_datetime_rejected():
    with pytest.raises(ValueError):
        CAL.add_working_days(datetime(2026, 9, 25, 15, 0), 2)
    with pytest.raises(ValueError):
        CAL.working_days_between(datetime(2026, 9, 25), at(2026, 9, 30))


def test_working_days_between_is_zero_when_end_not_after_start_day():
    assert CAL.working_days_between(at(2026, 3, 16, 9), at(2026, 3, 16, 18)) == 0
    assert CAL.working_days_between(at(2026, 3, 16), at(2026, 3, 10)) == 0


def test_working_days_in_range_lists_2026_national_day_fortnight():
    days = CAL.working_days_in_range(date(2026, 9, 28), date(2026, 10, 11))
    assert days == [
        date(2026, 9, 28), date(2026, 9, 29), date(2026, 9, 30),
        date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10),
    ]
    assert CAL.working_days_in_range(date(2026, 10, 2), date(2026, 10, 1)) == []


# --------------------------------------------------------------------------- tenant overrides


def test_tenant_override_makes_weekday_off_and_sunday_working():
    cal = WorkCalendar([
        CalendarOverride(date(2026, 3, 18), working=False, note="Staff training day"),
        CalendarOverride(date(2026, 3, 22), working=True, note="Duty Sunday"),
    ])
    assert cal.day_kind(date(2026, 3, 18)) == "override_off"
    assert cal.day_kind(date(2026, 3, 22)) == "override_working"
    assert not cal.is_working_day(date(2026, 3, 18))
    assert cal.is_working_day(date(2026, 3, 22))
    assert cal.holiday_name(date(2026, 3, 22)) == "Duty Sunday"
    tuesday = at(2026, 3, 17)
    assert cal.add_working_days(tuesday, 1) == end_of(2026, 3, 19)  # Wed off
    assert cal.add_working_days(tuesday, 3) == end_of(2026, 3, 22)  # Thu, Fri, Sun
    assert cal.add_working_days(tuesday, 4) == end_of(2026, 3, 23)
    # Without overrides the same counts land elsewhere.
    assert CAL.add_working_days(tuesday, 3) == end_of(2026, 3, 20)


def test_tenant_override_beats_statutory_data():
    cal = WorkCalendar([
        CalendarOverride(date(2026, 10, 2), working=True, note="Holiday duty"),
        CalendarOverride(date(2026, 10, 10), working=False),
    ])
    assert cal.is_working_day(date(2026, 10, 2))
    assert not cal.is_working_day(date(2026, 10, 10))
    assert cal.holiday_name(date(2026, 10, 2)) == "Holiday duty"
    assert cal.add_working_days(at(2026, 9, 30), 1) == end_of(2026, 10, 2)


# --------------------------------------------------------------------------- coverage warning


@pytest.mark.skipif(statutory_year_coverage()[1] >= 2027, reason="installed package already has 2027 data")
def test_coverage_warning_when_2027_not_loaded():
    warning = CAL.coverage_warning(date(2026, 11, 23))
    assert warning is not None
    assert "2027" in warning
    assert "not loaded yet" in warning
    assert "Monday–Friday" in warning
    assert "Upgrade" in warning and "overrides" in warning


def test_coverage_warning_for_coming_year_after_last_covered_year():
    last = statutory_year_coverage()[1]
    warning = CAL.coverage_warning(date(last, 11, 23))
    assert warning is not None and str(last + 1) in warning


def test_coverage_warning_when_own_year_not_covered():
    year = statutory_year_coverage()[1] + 2
    warning = CAL.coverage_warning(date(year, 1, 10))
    assert warning is not None
    assert str(year) in warning and str(year + 1) in warning


def test_no_coverage_warning_when_current_and_coming_year_loaded():
    assert CAL.coverage_warning(date(2025, 6, 1)) is None


# --------------------------------------------------------------------------- service hours


def test_service_hours_8_to_20_seven_days_compliant():
    hours = ServiceHours()
    assert hours.hours_per_day() == 12.0
    assert hours.problems() == []


def test_service_hours_9_hours_a_day_reported():
    problems = ServiceHours(opens=time(9, 0), closes=time(18, 0)).problems()
    assert len(problems) == 1
    assert "9 hours" in problems[0] and "10 hours" in problems[0]


def test_service_hours_six_day_week_reported():
    problems = ServiceHours(days=(0, 1, 2, 3, 4, 5)).problems()
    assert len(problems) == 1
    assert "6 days" in problems[0] and "Sunday" in problems[0]


# --------------------------------------------------------------------------- wall clock


def test_wall_clock_24_hours_across_holiday_is_exactly_24_hours():
    start = at(2026, 9, 30, 18, 0)
    due = CAL.add_wall_clock(start, timedelta(hours=24))
    assert due == at(2026, 10, 1, 18, 0)
    assert due - start == timedelta(hours=24)
    assert due.tzinfo is not None


def test_wall_clock_10_minutes_keeps_awareness():
    start = datetime(2026, 10, 1, 2, 0, tzinfo=timezone.utc)
    due = CAL.add_wall_clock(start, timedelta(minutes=10))
    assert due == datetime(2026, 10, 1, 2, 10, tzinfo=timezone.utc)
    assert due.tzinfo is timezone.utc


# --------------------------------------------------------------------------- tenant settings


def test_calendar_from_tenant_settings_overrides_and_service_hours_seed_004():
    from core.sla import calendar_from_settings

    cal = calendar_from_settings({
        "calendar": {"overrides": [{"day": "2026-10-03", "working": True, "note": "国庆值班"},
                                   {"day": "2026-09-29", "working": False}]},
        "service_hours": {"opens": "09:00", "closes": "18:00", "days": [0, 1, 2, 3, 4]},
    })
    assert cal.day_kind(date(2026, 10, 3)) == "override_working"
    assert cal.day_kind(date(2026, 9, 29)) == "override_off"
    assert cal.add_working_days(at(2026, 9, 28), 2) == end_of(2026, 10, 3)  # 09-30, Sat 10-03
    problems = cal.service_hours.problems()
    assert len(problems) == 2 and "5 days" in problems[0] and "9 hours" in problems[1]
    assert calendar_from_settings({}).service_hours.problems() == []


def test_service_hours_across_midnight_and_round_the_clock():
    assert ServiceHours(opens=time(20, 0), closes=time(8, 0)).hours_per_day() == 12.0
    assert ServiceHours(opens=time(0, 0), closes=time(0, 0)).hours_per_day() == 24.0


@pytest.mark.skipif(statutory_year_coverage()[1] >= 2027, reason="installed package already has 2027 data")
def test_calendar_warning_helper_for_the_portal_banner_as_of_2026_11_23():
    from core.sla import calendar_warning

    assert "2027" in calendar_warning(date(2026, 11, 23))
    # A moment late on 2026-12-31 UTC is already 2027 in Beijing: both 2027 and 2028 are missing.
    late = calendar_warning(datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc))
    assert "2027 and 2028" in late
    assert calendar_warning(date(2025, 3, 1)) is None


async def test_calendar_days_lists_kinds_for_a_half_open_range(world):
    from core.sla import calendar_days

    days = await calendar_days(world.tenant_id, date(2026, 9, 30), date(2026, 10, 2))
    assert [(d["date"], d["kind"], d["working"]) for d in days] == [
        ("2026-09-30", "workday", True), ("2026-10-01", "holiday", False)]
    with pytest.raises(Exception) as caught:
        await calendar_days(world.tenant_id, date(2026, 1, 1), date(2027, 6, 1))
    assert caught.value.errors[0]["field"] == "to"


@pytest.fixture
async def world():
    from tests.conftest import make_world

    return await make_world(login=False)
