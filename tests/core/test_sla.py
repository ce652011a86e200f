"""Every SLA number of DOMAIN.md through the ticket service, with explicit `now` across weekends,
statutory holidays (2026 Mid-Autumn 09-25..27, National Day 10-01..10-07) and make-up working days
(Sunday 2026-09-20, Saturday 2026-10-10)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import sla, tickets
from core.tables import Notification
from core.tenancy import TenantScope
from tests.conftest import at, make_world

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def world():
    """A company without API logins: these rules are checked through the ticket service."""
    return await make_world(login=False)


def end_of(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.max.time(), tzinfo=SH)


async def _new(world, now, role="front_desk", **fields):
    p = await world.principal(role)
    data = {"project_id": world.project["id"], "kind": "repair", "channel": "hotline", "title": "厨房漏水",
            "unit_id": world.units[0]["id"], "customer_id": world.customers[0]["id"], **fields}
    created = await tickets.create_ticket(p, data, now=now)
    return await tickets.get_ticket(p, created["id"])


async def _move(world, ticket, to, now, role="supervisor", **kw):
    return await tickets.transition(await world.principal(role), ticket["id"], to, now=now, **kw)


# ---------------------------------------------------------------- repairs

async def test_emergency_repair_technician_on_site_within_10_minutes_seed_004(world):
    # 23:55 on the night before National Day's third holiday: the wall clock runs over midnight.
    t = await _new(world, at("2026-10-02 23:55"), priority="emergency", title="电梯困人")
    assert t["sla_policy"] == "repair.emergency"
    assert t["response_due_at"] == at("2026-10-03 00:05")
    assert t["resolution_due_at"] == at("2026-10-03 23:55")
    assert t["next_due_at"] == at("2026-10-03 00:05")
    # Dispatching is not being on site; starting work is.
    t = await _move(world, t, "dispatched", at("2026-10-02 23:57"), executor_id=world.staff["technician"])
    assert t["responded_at"] is None
    t = await _move(world, t, "in_progress", at("2026-10-03 00:04"), role="technician")
    assert t["responded_at"] == at("2026-10-03 00:04") and t["responded_at"] <= t["response_due_at"]
    assert t["next_due_at"] == at("2026-10-03 23:55")


async def test_park_repair_respond_within_30_minutes_seed_002():
    park = await make_world(kind="industrial", login=False)
    # Sunday 2026-09-20 is a make-up working day: the 30 minutes are wall clock either way.
    t = await _new(park, at("2026-09-20 17:45"), title="厂房照明故障")
    assert t["sla_policy"] == "repair.park"
    assert t["response_due_at"] == at("2026-09-20 18:15")
    assert t["resolution_due_at"] == at("2026-09-21 17:45")
    t = await _move(park, t, "dispatched", at("2026-09-20 18:00"), executor_id=park.staff["technician"])
    assert t["responded_at"] == at("2026-09-20 18:00")


async def test_residential_general_repair_has_no_30_minute_response_clock_seed_002_004(world):
    t = await _new(world, at("2026-09-20 17:45"))
    assert t["sla_policy"] == "repair.general" and t["response_due_at"] is None


async def test_general_repair_completed_within_24_hours_across_mid_autumn_seed_004(world):
    # Friday 2026-09-25 is a Mid-Autumn holiday: 24 hours are wall clock, not working days.
    t = await _new(world, at("2026-09-25 16:30"))
    assert t["resolution_due_at"] == at("2026-09-26 16:30")
    assert t["next_due_at"] == at("2026-09-26 16:30")


async def test_general_repair_needing_parts_promised_completion_replaces_resolution_due_seed_004(world):
    t = await _new(world, at("2026-09-30 10:00"))
    assert t["resolution_due_at"] == at("2026-10-01 10:00")
    t = await _move(world, t, "dispatched", at("2026-09-30 10:20"), executor_id=world.staff["technician"])
    # The part must be ordered; the customer is told it will be done after National Day.
    t = await _move(world, t, "in_progress", at("2026-09-30 11:00"), promised_at=at("2026-10-08 12:00"))
    assert t["promised_at"] == at("2026-10-08 12:00")
    assert t["resolution_due_at"] == at("2026-10-08 12:00")
    assert t["next_due_at"] == at("2026-10-08 12:00")
    events = await tickets.events(await world.principal("supervisor"), t["id"])
    assert events[-1]["data"]["promised_at"] == at("2026-10-08 12:00").isoformat()
    # A promise given when the request is taken counts from the start.
    t2 = await _new(world, at("2026-09-30 10:00"), promised_at=at("2026-10-09 18:00"))
    assert t2["resolution_due_at"] == at("2026-10-09 18:00")
    # Promising later through an edit moves the due time too.
    t3 = await _new(world, at("2026-09-30 10:00"))
    t3 = await tickets.update_ticket(await world.principal("supervisor"), t3["id"],
                                     {"promised_at": at("2026-10-08 09:00")}, now=at("2026-09-30 10:30"))
    assert t3["resolution_due_at"] == at("2026-10-08 09:00")


async def test_promised_time_without_time_zone_is_refused(world):
    with pytest.raises(Exception) as caught:
        await _new(world, at("2026-09-30 10:00"), promised_at=datetime(2026, 10, 8, 12, 0))
    assert caught.value.status == 422 and caught.value.errors[0]["field"] == "promised_at"


async def test_repair_return_visit_within_24_hours_after_completion_seed_000_004(world):
    t = await _new(world, at("2026-09-30 10:00"))
    t = await _move(world, t, "resolved", at("2026-09-30 18:00"))
    # Completed on the eve of National Day: the return visit is due the next evening, a holiday.
    assert t["return_visit_due_at"] == at("2026-10-01 18:00")
    assert t["next_due_at"] == at("2026-10-01 18:00")
    t = await _move(world, t, "visited", at("2026-10-01 09:30"), satisfaction=5)
    assert t["return_visited_at"] <= t["return_visit_due_at"]
    assert t["next_due_at"] is None


# ---------------------------------------------------------------- complaints

async def test_general_complaint_answered_within_2_working_days_over_weekend_seed_004(world):
    t = await _new(world, at("2026-03-13 15:00"), kind="complaint", title="楼上噪音")  # a Friday
    assert t["sla_policy"] == "complaint.general"
    assert t["resolution_due_at"] == end_of("2026-03-17")  # Mon, Tue


async def test_general_complaint_2_working_days_skip_mid_autumn_and_national_day_seed_004(world):
    t = await _new(world, at("2026-09-25 16:30"), kind="complaint", title="噪音")  # Mid-Autumn holiday
    assert t["resolution_due_at"] == end_of("2026-09-29")  # Mon 09-28, Tue 09-29
    t = await _new(world, at("2026-09-30 10:00"), kind="complaint", title="噪音")
    assert t["resolution_due_at"] == end_of("2026-10-09")  # 10-01..10-07 off: Thu 10-08, Fri 10-09


async def test_general_complaint_2_working_days_count_makeup_sunday_seed_004(world):
    t = await _new(world, at("2026-09-18 11:00"), kind="complaint", title="噪音")  # a Friday
    assert t["resolution_due_at"] == end_of("2026-09-21")  # Sun 09-20 (make-up working day), Mon 09-21


async def test_complex_complaint_at_most_7_working_days_counting_makeup_saturday_seed_004(world):
    t = await _new(world, at("2026-09-25 16:30"), kind="complaint", complexity="complex", title="外墙渗水")
    assert t["sla_policy"] == "complaint.complex"
    # 09-28, 09-29, 09-30, 10-08, 10-09, Sat 10-10 (make-up), Mon 10-12
    assert t["resolution_due_at"] == end_of("2026-10-12")


async def test_complaint_return_visit_within_3_working_days_after_handling_seed_000_001(world):
    t = await _new(world, at("2026-09-28 09:00"), kind="complaint", title="噪音")
    t = await _move(world, t, "resolved", at("2026-09-29 11:00"))
    assert t["return_visit_due_at"] == end_of("2026-10-09")  # 09-30, 10-08, 10-09
    t2 = await _new(world, at("2026-10-08 09:00"), kind="complaint", title="噪音")
    t2 = await _move(world, t2, "resolved", at("2026-10-09 17:00"))
    assert t2["return_visit_due_at"] == end_of("2026-10-13")  # Sat 10-10 (make-up), 10-12, 10-13
    assert t2["next_due_at"] == end_of("2026-10-13")


async def test_major_complaint_reported_at_once_to_project_manager_and_company_cs_seed_004(world):
    now = at("2026-10-03 20:00")
    t = await _new(world, now, kind="complaint", title="多户业主群诉停车收费", is_major=True)
    events = await tickets.events(await world.principal("supervisor"), t["id"])
    reported = [e for e in events if e["kind"] == "major_reported"]
    assert len(reported) == 1 and reported[0]["at"] == now
    rows = await TenantScope(world.tenant_id).select(Notification).where(
        (Notification.ticket_id == t["id"]) & (Notification.template == "ticket.major_complaint"))
    assert {r["recipient_user_id"] for r in rows} == {world.staff["project_manager"], world.staff["company_cs"]}
    assert all(r["channel"] == "in_app" and r["outcome"] == "sent" for r in rows)


async def test_complaint_becoming_major_is_reported_and_on_timeline_seed_004(world):
    t = await _new(world, at("2026-10-03 20:00"), kind="complaint", title="噪音")
    await tickets.update_ticket(await world.principal("supervisor"), t["id"], {"is_major": True},
                                now=at("2026-10-03 21:00"))
    kinds = [e["kind"] for e in await tickets.events(await world.principal("supervisor"), t["id"])]
    assert kinds == ["created", "updated", "major_reported"]
    count = await TenantScope(world.tenant_id).count(Notification).where(
        (Notification.ticket_id == t["id"]) & (Notification.template == "ticket.major_complaint"))
    assert count == 2


# ---------------------------------------------------------------- suggestions and inquiries

async def test_suggestion_answered_within_3_days_across_national_day_seed_001(world):
    t = await _new(world, at("2026-09-30 09:00"), kind="suggestion", channel="suggestion_box", title="增加充电桩")
    assert t["sla_policy"] == "suggestion"
    assert t["resolution_due_at"] == at("2026-10-03 09:00")  # 3 calendar days, holidays included


async def test_inquiry_closed_at_once_has_no_clock_seed_000_001(world):
    t = await _new(world, at("2026-10-10 10:00"), kind="inquiry", title="物业费怎么交")
    assert t["sla_policy"] == "inquiry"
    assert t["response_due_at"] is None and t["resolution_due_at"] is None and t["next_due_at"] is None
    t = await _move(world, t, "resolved", at("2026-10-10 10:03"))
    t = await _move(world, t, "closed", at("2026-10-10 10:03"))
    assert t["status"] == "closed"


async def test_inquiry_answered_by_agreed_reply_time_seed_000_001(world):
    # Asked on make-up Saturday 10-10; the operator agrees to reply by Monday noon.
    t = await _new(world, at("2026-10-10 10:00"), kind="inquiry", title="开发商维修基金", promised_at=at("2026-10-12 12:00"))
    assert t["resolution_due_at"] == at("2026-10-12 12:00")
    assert t["next_due_at"] == at("2026-10-12 12:00")


# ---------------------------------------------------------------- on hold

async def test_on_hold_pauses_the_resolution_clock_and_records_why_seed_004(world):
    t = await _new(world, at("2026-09-30 10:00"))
    assert t["resolution_due_at"] == at("2026-10-01 10:00")
    t = await _move(world, t, "on_hold", at("2026-09-30 12:00"), reason="业主外出, 无法入户")
    assert t["next_due_at"] is None  # no clock runs while on hold
    t = await _move(world, t, "received", at("2026-10-01 12:00"))  # back after 24 hours
    assert t["held_seconds"] == 24 * 3600
    assert t["resolution_due_at"] == at("2026-10-02 10:00")
    assert t["next_due_at"] == at("2026-10-02 10:00")
    events = await tickets.events(await world.principal("supervisor"), t["id"])
    assert [e["reason"] for e in events if e["to_status"] == "on_hold"] == ["业主外出, 无法入户"]


async def test_on_hold_pauses_the_complaint_working_day_clock_seed_004(world):
    t = await _new(world, at("2026-09-28 09:00"), kind="complaint", title="噪音")
    assert t["resolution_due_at"] == end_of("2026-09-30")
    t = await _move(world, t, "on_hold", at("2026-09-28 10:00"), reason="等待业主提供材料")
    t = await _move(world, t, "received", at("2026-09-29 10:00"))
    assert t["resolution_due_at"] == end_of("2026-09-30") + timedelta(days=1)


# ---------------------------------------------------------------- overrides

async def test_tenant_overrides_sla_numbers_in_its_settings_seed_004():
    w = await make_world(login=False, settings={"sla": {
        "complaint.general": {"resolution": "3 working_days"},
        "repair.emergency": {"response": "15 minutes"},
    }})
    t = await _new(w, at("2026-09-25 16:30"), kind="complaint", title="噪音")
    assert t["resolution_due_at"] == end_of("2026-09-30")  # 3 working days instead of 2
    t = await _new(w, at("2026-10-02 23:55"), priority="emergency")
    assert t["response_due_at"] == at("2026-10-03 00:10")
    assert t["resolution_due_at"] == at("2026-10-03 23:55")  # the seed's number where not overridden


async def test_project_overrides_its_tenant_seed_004():
    w = await make_world(login=False, settings={"sla": {"complaint.general": {"resolution": "3 working_days"}}})
    cs = await w.principal("company_cs")
    await sla.set_project_sla(cs, w.project["id"], {"complaint.general": {"resolution": "1 working_days"},
                                                     "suggestion": {"resolution": "2 days"}})
    t = await _new(w, at("2026-09-25 16:30"), kind="complaint", title="噪音")
    assert t["resolution_due_at"] == end_of("2026-09-28")
    t = await _new(w, at("2026-09-30 09:00"), kind="suggestion", title="建议")
    assert t["resolution_due_at"] == at("2026-10-02 09:00")
    # The other project keeps the tenant's number.
    other = await tickets.create_ticket(cs, {"project_id": w.other_project["id"], "kind": "complaint",
                                             "channel": "hotline", "title": "噪音"}, now=at("2026-09-25 16:30"))
    assert other["resolution_due_at"] == end_of("2026-09-30")


async def test_tenant_override_applies_to_plugin_policies_too():
    w = await make_world(login=False, plugins=["dummy"], settings={"sla": {"dummy.policy": {"resolution": "2 hours"}}})
    t = await _new(w, at("2026-10-01 10:00"), kind="dummy.thing", title="测试")
    assert t["sla_policy"] == "dummy.policy"
    assert t["resolution_due_at"] == at("2026-10-01 12:00")


async def test_tenant_calendar_day_off_and_extra_working_day_move_complaint_due_seed_004(world):
    cs = await world.principal("company_cs")
    await sla.set_calendar_override(cs, date(2026, 9, 29), working=False, note="台风停工")
    t = await _new(world, at("2026-09-25 16:30"), kind="complaint", title="噪音")
    assert t["resolution_due_at"] == end_of("2026-09-30")  # 09-28, (09-29 off), 09-30
    await sla.set_calendar_override(cs, date(2026, 10, 3), working=True, note="国庆值班日")
    t = await _new(world, at("2026-09-30 10:00"), kind="complaint", title="噪音")
    assert t["resolution_due_at"] == end_of("2026-10-08")  # Sat 10-03 (extra working day), 10-08
    await sla.delete_calendar_override(cs, date(2026, 10, 3))
    t = await _new(world, at("2026-09-30 10:00"), kind="complaint", title="噪音")
    assert t["resolution_due_at"] == end_of("2026-10-09")


async def test_changing_complexity_recomputes_due_from_creation_keeping_hold_time(world):
    t = await _new(world, at("2026-09-25 16:30"), kind="complaint", title="噪音")
    t = await tickets.update_ticket(await world.principal("supervisor"), t["id"], {"complexity": "complex"},
                                    now=at("2026-09-28 09:00"))
    assert t["sla_policy"] == "complaint.complex" and t["resolution_due_at"] == end_of("2026-10-12")


def test_override_values_are_validated():
    assert sla.validate_overrides({"inquiry": {"resolution": "30 minutes"}}) == {"inquiry": {"resolution": "30 minutes"}}
    assert sla.validate_overrides({"repair.general": {"resolution": {"amount": 2, "clock": "days"},
                                                      "return_visit": None}}) == {
        "repair.general": {"resolution": "2 days", "return_visit": None}}
    with pytest.raises(Exception) as caught:
        sla.validate_overrides({"complaint.bogus": {"resolution": "1 days"},
                                "complaint.general": {"resolution": "-1 working_days", "speed": "1 days"}})
    fields = [e["field"] for e in caught.value.errors]
    assert fields == ["complaint.bogus", "complaint.general.resolution", "complaint.general.speed"]
    for bad in ({"amount": True, "clock": "days"}, {"amount": 1, "clock": ["days"]}, {"amount": 1.5, "clock": "hours"},
                "367 working_days", ["1", "days"]):
        with pytest.raises(Exception) as caught:
            sla.validate_overrides({"suggestion": {"resolution": bad}})
        assert caught.value.status == 422 and caught.value.errors[0]["field"] == "suggestion.resolution"


async def test_expired_tenant_settings_are_read_by_one_request_while_the_others_keep_the_old(world, monkeypatch):
    """No stampede when a cached value expires under load: one request reads, the others answer at once."""
    import asyncio

    from core import sla
    from core.tables import Tenant

    reads = []
    original = Tenant.select

    def counting(*args, **kwargs):
        reads.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(Tenant, "select", counting)
    sla._settings_cache[world.tenant_id] = (0.0, {"old": True})  # expired long ago
    answers = await asyncio.gather(*(sla.tenant_settings_of(world.tenant_id) for _ in range(10)))
    assert len(reads) == 1
    assert answers.count({"old": True}) == 9 and answers[0] != {"old": True}
