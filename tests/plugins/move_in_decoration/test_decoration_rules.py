"""Decoration deadlines of seed 001 with their numbers, each on a kernel ticket the SLA sweep escalates:
review within 3 working days, problems told the same day, acceptance within 3 working days of the
request, the deposit refunded within 1 day of passing; violations tracked to correction; the permit's
work hours from the company's quiet hours."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core import Problem, TenantScope
from core import tables as ct
from plugins.move_in_decoration import services as svc
from plugins.move_in_decoration.tables import Acceptance, Notice, Refund, Review, ReviewProblem
from tests.conftest import at
from tests.plugins.move_in_decoration.helpers import application, escalations, set_settings, sweep, ticket

END_OF_DAY = timedelta(hours=23, minutes=59, seconds=59, microseconds=999999)


async def test_review_within_3_working_days_seed_001(world):
    """Submitted Wednesday 30 Sep 2026 16:00: the National Day holiday (1–7 Oct) does not count and the
    make-up Saturday 10 Oct does, so the review is due at the end of Saturday 10 Oct."""
    app = await application(world, at("2026-09-30 16:00"))
    review = app["reviews"][0]
    assert review["round"] == 1 and review["due_at"] == at("2026-10-10 00:00") + END_OF_DAY
    t = await ticket(world, review["ticket_id"])
    assert t["kind"] == svc.KIND_REVIEW and t["sla_policy"] == svc.KIND_REVIEW
    assert t["resolution_due_at"] == review["due_at"] and t["next_due_at"] == review["due_at"]
    # the kernel's sweep: near breach in the last hour, breached after, escalated to the PM after 24 h
    await sweep(world, at("2026-10-10 22:30"))
    assert await escalations(world, t["id"]) == []
    await sweep(world, at("2026-10-10 23:30"))
    assert await escalations(world, t["id"]) == ["near_breach"]
    await sweep(world, at("2026-10-11 09:00"))
    assert await escalations(world, t["id"]) == ["near_breach", "breached"]
    await sweep(world, at("2026-10-12 09:00"))
    assert (await escalations(world, t["id"]))[-1] == "escalated_project_manager"
    supervisor = world.staff["supervisor"]
    assert await TenantScope(world.tenant_id).count(ct.Notification).where(
        (ct.Notification.recipient_user_id == supervisor) & (ct.Notification.ticket_id == t["id"])) == 1

    # reviewed in time: the clock stops, the ticket is closed and nothing more is escalated
    on_time = await application(world, at("2026-09-30 16:00"), unit=1)
    sup = await world.principal("supervisor")
    done = await svc.approve(sup, on_time["id"], now=at("2026-10-09 11:00"))
    assert done["status"] == "approved" and done["reviews"][0]["outcome"] == "approved"
    closed = await ticket(world, on_time["reviews"][0]["ticket_id"])
    assert closed["status"] == "closed" and closed["next_due_at"] is None
    await sweep(world, at("2026-10-12 09:00"))
    assert await escalations(world, closed["id"]) == []
    report = await svc.deadline_report(sup, world.project["id"], as_of=at("2026-10-12 09:00"))
    assert report["review_3_working_days"]["done"] == 1 and report["review_3_working_days"]["in_time"] == 1
    assert report["review_3_working_days"]["open"] == 1 and report["review_3_working_days"]["overdue"] == 1


async def test_problems_told_the_same_day_seed_001(world):
    """Problems found at 16:00 are due to be told by the end of that day; SMS is not configured for the
    company, so the notification is recorded as not sent, the sweep escalates before midnight, and the
    desk's phone call at 17:00 counts as told the same day."""
    app = await application(world, at("2026-09-30 09:00"))
    sup = await world.principal("supervisor")
    out = await svc.record_problems(sup, app["id"], ["缺少水电图", "工人身份证复印件不全"], "", now=at("2026-09-30 16:00"))
    assert out["status"] == "needs_changes" and out["reviews"][0]["outcome"] == "problems"
    notice = out["notices"][0]
    assert notice["due_at"] == at("2026-09-30 00:00") + END_OF_DAY and notice["told_at"] is None
    assert [p["description"] for p in notice["problems"]] == ["缺少水电图", "工人身份证复印件不全"]
    message = await TenantScope(world.tenant_id).get(ct.Notification, notice["notification_id"])
    assert message["recipient_customer_id"] == world.customers[0]["id"] and message["channel"] == "sms"
    assert message["outcome"] == "not_configured" and "缺少水电图" in message["body"]
    t = await ticket(world, notice["ticket_id"])
    assert t["kind"] == svc.KIND_NOTICE and t["resolution_due_at"] == notice["due_at"]
    await sweep(world, at("2026-09-30 23:10"))
    assert await escalations(world, t["id"]) == ["near_breach"]
    # told by phone at 17:00 (recorded at 17:05): the same day
    with pytest.raises(Problem) as not_sent:
        await svc.mark_told(sup, notice["id"], "notification", at=at("2026-09-30 17:00"))
    assert not_sent.value.status == 409
    told = await svc.mark_told(sup, notice["id"], "phone", at=at("2026-09-30 17:00"))
    assert told["told_via"] == "phone" and told["told_at"] <= told["due_at"]
    assert (await ticket(world, t["id"]))["status"] == "closed"
    view = await svc.application_view(sup, app["id"])
    assert view["notices"][0]["told_same_day"] is True
    # resubmitted: the problems are addressed and a second review round starts with its own 3 working days
    desk = await world.principal("front_desk")
    again = await svc.resubmit(desk, app["id"], now=at("2026-10-09 10:00"))
    assert again["status"] == "submitted" and [r["round"] for r in again["reviews"]] == [1, 2]
    assert again["reviews"][1]["due_at"] == at("2026-10-13 00:00") + END_OF_DAY
    assert await TenantScope(world.tenant_id).count(ReviewProblem).where(ReviewProblem.addressed_at.is_null()) == 0


async def test_problem_notice_through_a_delivered_channel_counts_as_told_at_once_seed_001(world):
    """With a channel that delivers at once (in-app here), the applicant is told when the problems are
    recorded; a notice not told by midnight is breached by the sweep."""
    await set_settings(world, problem_notice_channel="in_app")
    sup = await world.principal("supervisor")
    app = await application(world, at("2026-09-29 09:00"))
    out = await svc.record_problems(sup, app["id"], ["图纸不清晰"], "", now=at("2026-09-29 15:00"))
    notice = out["notices"][0]
    assert notice["outcome"] == "sent" and notice["told_at"] == at("2026-09-29 15:00") and notice["told_same_day"]
    assert (await ticket(world, notice["ticket_id"]))["status"] == "closed"
    # another one, not told: breached after midnight
    await set_settings(world, problem_notice_channel="sms")
    late = await application(world, at("2026-09-29 09:00"), unit=1)
    late = await svc.record_problems(sup, late["id"], ["未附施工合同"], "", now=at("2026-09-29 18:00"))
    await sweep(world, at("2026-09-30 00:30"))
    assert await escalations(world, late["notices"][0]["ticket_id"]) == ["breached"]
    report = await svc.deadline_report(sup, world.project["id"], as_of=at("2026-09-30 00:30"))
    assert report["problems_told_same_day"] == {"done": 1, "in_time": 1, "open": 1, "overdue": 1}


async def test_structural_changes_need_the_project_managers_extra_review_and_the_permit_has_work_hours_seed_001(world):
    app = await application(world, at("2026-09-28 10:00"), structural=True)
    sup, pm = await world.principal("supervisor"), await world.principal("project_manager")
    with pytest.raises(Problem) as first:
        await svc.approve(sup, app["id"], now=at("2026-09-28 15:00"))
    assert first.value.status == 409 and "extra review" in first.value.detail
    with pytest.raises(Problem) as not_pm:
        await svc.structural_review(sup, app["id"], True, "", now=at("2026-09-28 15:00"))
    assert not_pm.value.status == 403
    await svc.structural_review(pm, app["id"], True, "非承重墙", now=at("2026-09-28 16:00"))
    done = await svc.approve(sup, app["id"], now=at("2026-09-29 09:00"))
    permit = await svc.get_permit(sup, done["permit"]["id"])
    # the defaults: quiet 12:00–14:00 and 18:00–08:00, so works 08:00–12:00 and 14:00–18:00
    assert permit["work_hours"] == [["08:00", "12:00"], ["14:00", "18:00"]]
    assert permit["valid_from"].isoformat() == "2026-10-12" and len(permit["rules"]) == 5
    assert permit["number"].endswith(f"{app['id']:05d}")


async def test_work_outside_the_permits_hours_is_reported_as_a_complaint_seed_001(world):
    await set_settings(world, quiet_hours=[["12:00", "13:30"], ["19:00", "07:30"]], works_on_rest_days=False)
    sup, desk = await world.principal("supervisor"), await world.principal("front_desk")
    app = await application(world, at("2026-09-28 10:00"))
    done = await svc.approve(sup, app["id"], now=at("2026-09-28 11:00"))
    permit = await svc.get_permit(sup, done["permit"]["id"])
    assert permit["work_hours"] == [["07:30", "12:00"], ["13:30", "19:00"]]
    row = await svc.report_outside_hours(desk, permit["id"], {"observed_at": at("2026-10-13 12:40"),
                                                              "description": "电钻噪音", "customer_id": world.customers[1]["id"]},
                                         now=at("2026-10-13 12:50"))
    complaint = await ticket(world, row["ticket_id"])
    assert complaint["kind"] == "complaint" and complaint["unit_id"] == world.units[0]["id"]
    assert complaint["customer_id"] == world.customers[1]["id"] and "quiet hours" in complaint["description"]
    # Saturday 17 Oct 2026 is a rest day and the company allows no works on rest days
    sat = await svc.report_outside_hours(desk, permit["id"], {"observed_at": at("2026-10-17 10:00")},
                                         now=at("2026-10-17 10:05"))
    assert "rest day" in sat["reason"]
    with pytest.raises(Problem) as inside:
        await svc.report_outside_hours(desk, permit["id"], {"observed_at": at("2026-10-13 10:00")}, now=at("2026-10-13 10:05"))
    assert inside.value.status == 422 and inside.value.errors[0]["field"] == "observed_at"
    assert len((await svc.get_permit(sup, permit["id"]))["hours_reports"]) == 2


async def test_violation_tracked_to_correction_and_acceptance_waits_for_it_seed_001(world):
    sup, tech = await world.principal("supervisor"), await world.principal("technician")
    app = await application(world, at("2026-10-09 09:00"))
    await svc.approve(sup, app["id"], now=at("2026-10-09 10:00"))
    patrol = await svc.record_patrol(tech, app["id"], {
        "at": at("2026-10-13 10:00"), "violations": [{"description": "楼道堆放建筑垃圾", "correct_by": at("2026-10-13 18:00")},
                                                     {"description": "未配灭火器"}]}, now=at("2026-10-13 10:00"))
    first, second = patrol["violations"]
    assert patrol["result"] == "violation" and first["correct_by"] == at("2026-10-13 18:00")
    assert second["correct_by"] == at("2026-10-14 00:00") + END_OF_DAY  # 1 working day by default
    await sweep(world, at("2026-10-13 19:00"))
    assert await escalations(world, first["ticket_id"]) == ["breached"]
    desk = await world.principal("front_desk")
    with pytest.raises(Problem) as blocked:
        await svc.request_acceptance(desk, app["id"], now=at("2026-10-14 09:00"))
    assert blocked.value.status == 409 and "2 violation" in blocked.value.detail
    for v in (first, second):
        fixed = await svc.correct_violation(tech, v["id"], at=at("2026-10-14 11:00"))
        assert fixed["status"] == "corrected"
        assert (await ticket(world, v["ticket_id"]))["status"] == "closed"
    assert (await svc.request_acceptance(desk, app["id"], now=at("2026-10-14 12:00")))["round"] == 1


async def test_acceptance_within_3_working_days_of_the_request_and_reinspection_after_failing_seed_001(world):
    sup, tech, desk = (await world.principal("supervisor"), await world.principal("technician"),
                       await world.principal("front_desk"))
    app = await application(world, at("2026-09-21 09:00"))
    await svc.approve(sup, app["id"], now=at("2026-09-21 10:00"))
    first = await svc.request_acceptance(desk, app["id"], now=at("2026-09-30 10:00"))
    assert first["due_at"] == at("2026-10-10 00:00") + END_OF_DAY  # Wed 30 Sep + 3 working days over National Day
    t = await ticket(world, first["ticket_id"])
    assert t["kind"] == svc.KIND_ACCEPTANCE and t["resolution_due_at"] == first["due_at"]
    with pytest.raises(Problem) as no_fixes:
        await svc.inspect(tech, first["id"], {"passed": False}, at=at("2026-10-08 10:00"))
    assert no_fixes.value.status == 422 and no_fixes.value.errors[0]["field"] == "fixes"
    failed = await svc.inspect(tech, first["id"], {"passed": False, "fixes": ["卫生间闭水试验渗漏"],
                                                   "reinspect_on": at("2026-10-13 10:00").date()}, at=at("2026-10-08 10:00"))
    assert failed["outcome"] == "failed" and failed["fixes"] == ["卫生间闭水试验渗漏"]
    assert (await svc.get_application(desk, app["id"]))["status"] == "rectifying"
    assert (await ticket(world, t["id"]))["status"] == "closed"  # organised in time: the clock stopped
    second = await svc.request_acceptance(desk, app["id"], now=at("2026-10-09 16:00"))
    assert second["round"] == 2 and second["due_at"] == at("2026-10-13 00:00") + END_OF_DAY
    await sweep(world, at("2026-10-14 09:00"))
    assert await escalations(world, second["ticket_id"]) == ["breached"]
    passed = await svc.inspect(tech, second["id"], {"passed": True}, at=at("2026-10-14 10:00"))
    assert passed["outcome"] == "passed"
    report = await svc.deadline_report(sup, world.project["id"], as_of=at("2026-10-14 10:00"))
    assert report["acceptance_3_working_days"] == {"done": 2, "in_time": 1, "open": 0, "overdue": 0}
    assert await TenantScope(world.tenant_id).count(Acceptance) == 2


async def test_deposit_refunded_within_1_day_of_passing_by_finance_seed_001(world):
    """Passed Friday 9 Oct 2026 17:00: finance must refund by Saturday 10 Oct 17:00 (1 day, wall clock);
    finance is the task's responsible and is warned in the last hour."""
    sup, tech, desk, finance = (await world.principal("supervisor"), await world.principal("technician"),
                                await world.principal("front_desk"), await world.principal("finance"))
    app = await application(world, at("2026-09-21 09:00"), deposit_fen=500000)
    await svc.approve(sup, app["id"], now=at("2026-09-21 10:00"))
    acceptance = await svc.request_acceptance(desk, app["id"], now=at("2026-10-09 09:00"))
    with pytest.raises(Problem) as not_finance:
        await svc.inspect(finance, acceptance["id"], {"passed": True}, at=at("2026-10-09 17:00"))
    assert not_finance.value.status == 403
    await svc.inspect(tech, acceptance["id"], {"passed": True}, at=at("2026-10-09 17:00"))
    refund = await TenantScope(world.tenant_id).select(Refund).where(Refund.application_id == app["id"]).first()
    assert refund["amount_fen"] == 500000 and refund["due_at"] == at("2026-10-10 17:00")
    assert refund["assignee_id"] == world.staff["finance"]
    t = await ticket(world, refund["ticket_id"])
    assert t["kind"] == svc.KIND_REFUND and t["responsible_id"] == world.staff["finance"]
    assert (await svc.get_application(desk, app["id"]))["status"] == "passed"
    tasks = await svc.list_refunds(finance, world.project["id"], open_only=True)
    assert [r["id"] for r in tasks] == [refund["id"]]
    await sweep(world, at("2026-10-10 16:30"))
    assert await escalations(world, t["id"]) == ["near_breach"]
    assert await TenantScope(world.tenant_id).count(ct.Notification).where(
        (ct.Notification.recipient_user_id == world.staff["finance"]) & (ct.Notification.ticket_id == t["id"])
        & (ct.Notification.template == "sla.near_breach")) == 1
    with pytest.raises(Problem) as desk_refund:
        await svc.record_refund(desk, refund["id"], {"method": "cash"}, at=at("2026-10-10 10:00"))
    assert desk_refund.value.status == 403
    done = await svc.record_refund(finance, refund["id"], {"method": "bank_transfer", "reference": "TR1"},
                                   at=at("2026-10-10 16:45"))
    assert done["refunded_by"] == world.staff["finance"] and done["refunded_at"] <= done["due_at"]
    assert (await ticket(world, t["id"]))["status"] == "closed"
    assert (await svc.get_application(desk, app["id"]))["status"] == "refunded"
    report = await svc.deadline_report(sup, world.project["id"], as_of=at("2026-10-10 17:00"))
    assert report["deposit_refund_1_day"] == {"done": 1, "in_time": 1, "open": 0, "overdue": 0}
    # no deposit: passing completes the application, with no finance task
    free = await application(world, at("2026-09-21 09:00"), unit=1, deposit_fen=0)
    await svc.approve(sup, free["id"], now=at("2026-09-21 10:00"))
    second = await svc.request_acceptance(desk, free["id"], now=at("2026-10-09 09:00"))
    await svc.inspect(tech, second["id"], {"passed": True}, at=at("2026-10-09 11:00"))
    assert (await svc.get_application(desk, free["id"]))["status"] == "completed"
    assert await TenantScope(world.tenant_id).count(Refund) == 1


async def test_tenant_override_of_the_review_deadline_applies(world):
    """The numbers are SLA policies: a company may set its own (here 2 working days for the review)."""
    from core.sla import update_tenant_settings

    await update_tenant_settings(world.tenant_id, lambda s: s.update(
        {"sla": {svc.KIND_REVIEW: {"resolution": "2 working_days"}}}))
    app = await application(world, at("2026-09-30 16:00"))
    assert app["reviews"][0]["due_at"] == at("2026-10-09 00:00") + END_OF_DAY
    assert await TenantScope(world.tenant_id).count(Review) == 1 and await TenantScope(world.tenant_id).count(Notice) == 0


async def test_notice_delivered_later_counts_as_told_when_the_periodic_job_settles_it_seed_001(company):
    """E-mail goes through the worker: the notice waits (pending) and counts as told at the delivery time
    the job finds; a second run for the same moment writes nothing."""
    from core.sla import update_tenant_settings
    from plugins.move_in_decoration.actors import settle_notices

    world = company
    await set_settings(world, problem_notice_channel="email")
    await update_tenant_settings(world.tenant_id, lambda s: s.update(
        {"notifications": {"email": {"host": "127.0.0.1", "port": 2525, "sender": "cs@example.com"}}}))
    await TenantScope(world.tenant_id).update(ct.Customer, {ct.Customer.email: "owner@example.com"}).where(
        ct.Customer.id == world.customers[0]["id"])
    sup = await world.principal("supervisor")
    app = await application(world, at("2026-09-29 09:00"))
    notice = (await svc.record_problems(sup, app["id"], ["图纸缺页"], "", now=at("2026-09-29 15:00")))["notices"][0]
    assert notice["outcome"] == "pending" and notice["told_at"] is None
    assert await svc.settle_notices(world.tenant_id, at("2026-09-29 15:05")) == {"settled": 0}
    scope = TenantScope(world.tenant_id)
    await scope.update(ct.Notification, {ct.Notification.outcome: "sent", ct.Notification.sent_at: at("2026-09-29 15:02")}
                       ).where(ct.Notification.id == notice["notification_id"])
    result = await settle_notices.fn(at("2026-09-29 15:15").isoformat())
    assert result["settled"] >= 1
    told = await svc.get_notice(sup, notice["id"])
    assert told["told_at"] == at("2026-09-29 15:02") and told["told_via"] == "email" and told["told_at"] <= told["due_at"]
    assert (await ticket(world, notice["ticket_id"]))["status"] == "closed"
    assert await svc.settle_notices(world.tenant_id, at("2026-09-29 15:15")) == {"settled": 0}


async def test_ids_out_of_range_are_404_not_errors(client, world):
    from tests.plugins.move_in_decoration.helpers import API

    for url in (f"{API}/applications/{2**40}", f"{API}/batches/{2**40}", f"{API}/refunds/{2**40}"):
        r = await client.get(url, headers=world.headers("company_cs"))
        assert r.status_code == 404, (url, r.text)
    r = await client.get(f"{API}/applications", params={"project_id": 2**40}, headers=world.headers("company_cs"))
    assert r.status_code == 404
