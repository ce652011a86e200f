"""The rules of seed 001 (车位租赁受理作业指导书) with their numbers."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from core import Problem, TenantScope
from core import tables as ct
from plugins.parking_leases import services as svc
from plugins.parking_leases.tables import Lease, Offer, Reminder, Space
from tests.conftest import at
from tests.plugins.parking_leases.helpers import checked_application, customer, garage, signed_lease


async def test_lease_handled_within_20_minutes_is_reported_seed_001(world):
    await garage(world, standard=3, now=at("2026-10-01 08:00"))
    a, b, c = world.customers[0]["id"], world.customers[1]["id"], await customer(world, "renter", 2, "租户甲")
    quick = await signed_lease(world, a, "standard", "yearly", at("2026-10-08 09:00"), minutes=18)
    await signed_lease(world, b, "standard", "quarterly", at("2026-10-08 10:00"), minutes=25)
    await signed_lease(world, c, "standard", "monthly", at("2026-10-09 14:00"), minutes=20)
    desk = await world.principal("front_desk")
    app = await svc.get_application(desk, quick["application_id"])
    assert app["handling_seconds"] == 18 * 60 and app["handling_minutes"] == 18.0
    report = await svc.handling_report(desk, world.project["id"])
    assert report["target_minutes"] == 20 and report["seed"] == "001"
    assert (report["signed"], report["within_target"], report["over_target"]) == (3, 2, 1)
    assert report["within_target_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["max_minutes"] == 25.0 and report["average_minutes"] == 21.0
    assert {b["label"]: b["count"] for b in report["distribution"]} == {
        "≤10 min": 0, "10–20 min": 2, "20–30 min": 1, ">30 min": 0}
    window = await svc.handling_report(desk, world.project["id"], since=at("2026-10-09 00:00"))
    assert (window["signed"], window["within_target"]) == (1, 1)


async def test_no_space_puts_applicant_on_waiting_list_with_written_reason_seed_001(world):
    await garage(world, standard=1, ev=1, now=at("2026-10-01 08:00"))
    await signed_lease(world, world.customers[0]["id"], "ev", "quarterly", at("2026-10-08 09:00"))
    desk = await world.principal("front_desk")
    app = await checked_application(world, world.customers[1]["id"], "ev", "quarterly", at("2026-10-08 11:00"))
    result = await svc.allocate(desk, app["id"], None, now=at("2026-10-08 11:06"))
    assert result["outcome"] == "waiting" and result["position"] == 1
    reason = result["reason"]
    assert "充电车位" in reason and "EV charging" in reason  # which type is full
    assert "共1个" in reason and "已租1个" in reason and "第1位" in reason and "number 1" in reason
    assert "3天内确认" in reason  # the deadline they will have
    entry = await svc.get_waitlist_entry(desk, result["waitlist"]["id"])
    assert entry["reason"] == reason and entry["position_at_join"] == 1 and entry["position"] == 1
    assert (await svc.get_application(desk, app["id"]))["status"] == "waiting"
    # the notice was given to the customer in writing and recorded
    notes = await TenantScope(world.tenant_id).select(ct.Notification).where(
        (ct.Notification.recipient_customer_id == world.customers[1]["id"])
        & (ct.Notification.template == "parking_leases.waitlisted"))
    assert len(notes) == 1 and notes[0]["body"] == reason
    # a free standard space does not help an EV applicant; a second EV applicant is number 2
    c3 = await customer(world, "owner", 2, "业主丙")
    app3 = await checked_application(world, c3, "ev", "quarterly", at("2026-10-08 15:00"))
    second = await svc.allocate(desk, app3["id"], None, now=at("2026-10-08 15:06"))
    assert second["outcome"] == "waiting" and second["position"] == 2 and "第2位" in second["reason"]


async def test_owner_waits_ahead_of_renter_configurable_priority_seed_001(world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    await signed_lease(world, world.customers[0]["id"], "standard", "yearly", at("2026-10-08 09:00"))
    desk = await world.principal("front_desk")
    renter = await customer(world, "renter", 2, "租户乙")
    r = await svc.allocate(desk, (await checked_application(world, renter, "standard", "monthly",
                                                            at("2026-10-08 10:00")))["id"], None, now=at("2026-10-08 10:06"))
    o = await svc.allocate(desk, (await checked_application(world, world.customers[1]["id"], "standard", "monthly",
                                                            at("2026-10-08 11:00")))["id"], None, now=at("2026-10-08 11:06"))
    assert r["position"] == 1 and o["position"] == 1  # the owner, later, goes ahead of the renter
    assert (await svc.get_waitlist_entry(desk, r["waitlist"]["id"]))["position"] == 2
    queue = await svc.list_waitlist(desk, world.project["id"], "standard")
    assert [w["customer_id"] for w in queue] == [world.customers[1]["id"], renter]


async def test_freed_space_offered_to_next_in_line_with_3_day_deadline_seed_001(world):
    await garage(world, standard=0, ev=1, now=at("2026-10-01 08:00"))
    lease = await signed_lease(world, world.customers[0]["id"], "ev", "quarterly", at("2026-10-08 09:00"))
    desk = await world.principal("front_desk")
    first = await checked_application(world, world.customers[1]["id"], "ev", "quarterly", at("2026-10-09 09:00"))
    c3 = await customer(world, "owner", 2, "业主丙")
    second = await checked_application(world, c3, "ev", "quarterly", at("2026-10-09 10:00"))
    for app, t in ((first, "2026-10-09 09:06"), (second, "2026-10-09 10:06")):
        assert (await svc.allocate(desk, app["id"], None, now=at(t)))["outcome"] == "waiting"
    # nothing is free yet: the job offers nothing
    assert await svc.offer_waiting(world.tenant_id, at("2026-10-10 09:00")) == {"expired": 0, "offered": 0}
    await svc.terminate_lease(desk, lease["id"], "客户搬离", date(2026, 10, 20), now=at("2026-10-20 16:00"))
    as_of = at("2026-10-20 16:15")
    assert await svc.offer_waiting(world.tenant_id, as_of) == {"expired": 0, "offered": 1}
    assert await svc.offer_waiting(world.tenant_id, as_of) == {"expired": 0, "offered": 0}  # idempotent
    offer = (await svc.get_application(desk, first["id"]))["offer"]
    assert offer["status"] == "open" and offer["space_id"] == lease["space_id"]
    assert offer["deadline_at"] == as_of + timedelta(days=3)  # the setting's default: 3 days
    assert (await svc.get_space(desk, lease["space_id"]))["status"] == "reserved"
    # the first does not accept in time: the next in line is offered the space, with a new deadline
    later = at("2026-10-23 16:16")
    assert await svc.offer_waiting(world.tenant_id, later) == {"expired": 1, "offered": 1}
    assert (await svc.get_application(desk, first["id"]))["status"] == "lapsed"
    offer2 = (await svc.get_application(desk, second["id"]))["offer"]
    assert offer2["space_id"] == lease["space_id"] and offer2["deadline_at"] == later + timedelta(days=3)
    with pytest.raises(Problem) as exc:
        await svc.accept_offer(desk, offer["id"], now=later)
    assert exc.value.status == 409
    # the second accepts at the desk and signs 12 minutes later: the waiting time is not handling time
    await svc.accept_offer(desk, offer2["id"], now=at("2026-10-24 10:00"))
    signed = await svc.sign_lease(desk, second["id"], {}, now=at("2026-10-24 10:12"))
    assert signed["status"] == "active" and signed["start_date"] == date(2026, 10, 24)
    app2 = await svc.get_application(desk, second["id"])
    assert app2["handling_seconds"] == 6 * 60 + 12 * 60  # 10:00→10:06 on joining, 10:00→10:12 on signing
    assert app2["waitlist"]["status"] == "accepted"


async def test_one_active_lease_per_space_enforced_in_database_seed_001(world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    lease = await signed_lease(world, world.customers[0]["id"], "standard", "yearly", at("2026-10-08 09:00"))
    manager = await world.principal("project_manager")
    with pytest.raises(Problem) as exc:
        await svc.create_lease(manager, {"space_id": lease["space_id"], "customer_id": world.customers[1]["id"],
                                         "term": "monthly", "start_date": date(2026, 10, 9)}, now=at("2026-10-09 09:00"))
    assert exc.value.status == 409
    # even a write that skips the service is refused by the database's unique index
    scope = TenantScope(world.tenant_id)
    with pytest.raises(Exception) as db_exc:
        await scope.insert(Lease, project_id=world.project["id"], space_id=lease["space_id"],
                           customer_id=world.customers[1]["id"], term="monthly", fee_fen=30000, start_date=date(2026, 10, 9),
                           end_date=date(2026, 11, 8), status="active", signed_at=at("2026-10-09 09:00"))
    assert "unique" in str(db_exc.value).lower() or "duplicate" in str(db_exc.value).lower()
    assert await scope.count(Lease).where(Lease.space_id == lease["space_id"]) == 1
    # once it ends, the space may be leased again
    await svc.terminate_lease(manager, lease["id"], "退租", date(2026, 10, 31), now=at("2026-10-31 17:00"))
    again = await svc.create_lease(manager, {"space_id": lease["space_id"], "customer_id": world.customers[1]["id"],
                                             "term": "monthly", "start_date": date(2026, 11, 1)}, now=at("2026-11-01 09:00"))
    assert again["status"] == "active" and again["end_date"] == date(2026, 11, 30)


async def test_renewal_reminders_30_and_7_days_before_end_never_twice_seed_001(world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    lease = await signed_lease(world, world.customers[0]["id"], "standard", "quarterly", at("2026-10-01 09:00"))
    assert lease["end_date"] == date(2026, 12, 31)
    tid, scope = world.tenant_id, TenantScope(world.tenant_id)

    async def sent() -> list[tuple[int, date]]:
        rows = await scope.select(Reminder).where(Reminder.lease_id == lease["id"]).order_by(Reminder.id)
        return [(r["days_before"], r["end_date"]) for r in rows]

    assert (await svc.lease_sweep(tid, at("2026-11-30 01:00")))["reminders"] == 0  # 31 days left
    assert (await svc.lease_sweep(tid, at("2026-12-01 01:00")))["reminders"] == 1  # 30 days left
    assert (await svc.lease_sweep(tid, at("2026-12-01 01:00")))["reminders"] == 0  # same as_of: nothing
    assert (await svc.lease_sweep(tid, at("2026-12-10 01:00")))["reminders"] == 0  # 21 days: already told
    assert await sent() == [(30, date(2026, 12, 31))]
    assert (await svc.lease_sweep(tid, at("2026-12-24 01:00")))["reminders"] == 1  # 7 days left
    assert (await svc.lease_sweep(tid, at("2026-12-27 01:00")))["reminders"] == 0
    assert await sent() == [(30, date(2026, 12, 31)), (7, date(2026, 12, 31))]
    notes = await scope.select(ct.Notification, ct.Notification.subject).where(
        (ct.Notification.template == "parking_leases.renewal_reminder")
        & (ct.Notification.recipient_customer_id == world.customers[0]["id"]))
    assert sorted(n["subject"][:8] for n in notes) == ["车位租约30天后", "车位租约7天后到"]
    # renewed for another term: the new end date gets its own reminders, and the next term is billed
    desk = await world.principal("front_desk")
    renewed = await svc.renew_lease(desk, lease["id"], None, now=at("2026-12-27 10:00"))
    assert renewed["end_date"] == date(2027, 3, 31) and renewed["charges"][-1]["month"] == "2027-01"
    assert (await svc.lease_sweep(tid, at("2027-03-01 01:00")))["reminders"] == 1


async def test_expired_lease_frees_its_space_seed_001(world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    lease = await signed_lease(world, world.customers[0]["id"], "standard", "monthly", at("2026-10-01 09:00"))
    assert lease["end_date"] == date(2026, 10, 31)
    desk = await world.principal("front_desk")
    assert (await svc.lease_sweep(world.tenant_id, at("2026-10-31 23:00")))["expired"] == 0  # its last day
    from plugins.parking_leases import actors

    result = await actors.lease_sweep.fn(at("2026-11-01 01:00").isoformat())  # the periodic job, every company
    assert result["expired"] >= 1
    assert (await svc.get_lease(desk, lease["id"]))["status"] == "expired"
    assert (await svc.get_space(desk, lease["space_id"]))["status"] == "free"
    assert (await svc.lease_sweep(world.tenant_id, at("2026-11-01 01:00")))["expired"] == 0
    # the freed space goes to the waiting list through the periodic job of every company
    occ = await svc.occupancy_report(desk, world.project["id"])
    assert occ["total"]["free"] == 1 and occ["total"]["leased"] == 0


async def test_termination_needs_a_reason_and_frees_the_space_seed_001(world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    lease = await signed_lease(world, world.customers[0]["id"], "standard", "yearly", at("2026-10-01 09:00"))
    desk = await world.principal("front_desk")
    with pytest.raises(Problem) as exc:
        await svc.terminate_lease(desk, lease["id"], "  ", None, now=at("2026-11-01 09:00"))
    assert exc.value.errors[0]["field"] == "reason"
    ended = await svc.terminate_lease(desk, lease["id"], "车辆出售", date(2026, 11, 15), now=at("2026-11-01 09:00"))
    assert ended["status"] == "terminated" and ended["termination_reason"] == "车辆出售"
    assert ended["end_date"] == date(2026, 11, 15) and ended["space"]["status"] == "free"


async def test_income_by_month_and_occupancy_by_type_seed_001(world):
    await garage(world, standard=2, ev=1, now=at("2026-10-01 08:00"))
    await signed_lease(world, world.customers[0]["id"], "standard", "yearly", at("2026-10-01 09:00"))
    await signed_lease(world, world.customers[1]["id"], "ev", "monthly", at("2026-11-03 09:00"))
    desk = await world.principal("finance")
    income = await svc.income_report(desk, world.project["id"])
    assert income["months"] == [
        {"month": "2026-10", "fee_fen": 330000, "deposit_fen": 50000, "charges": 2},
        {"month": "2026-11", "fee_fen": 45000, "deposit_fen": 80000, "charges": 2}]
    assert income["fee_total_fen"] == 375000
    occ = await svc.occupancy_report(desk, world.project["id"])
    by = {t["space_type"]: t for t in occ["by_type"]}
    assert (by["standard"]["leased"], by["standard"]["free"], by["standard"]["occupancy"]) == (1, 1, 0.5)
    assert by["ev"]["occupancy"] == 1.0 and occ["total"]["occupancy"] == pytest.approx(2 / 3, abs=1e-4)
    # waiting list: length and wait times
    app = await checked_application(world, await customer(world, "owner", 2, "业主丙"), "ev", "monthly",
                                    at("2026-11-10 09:00"))
    await svc.allocate(await world.principal("front_desk"), app["id"], None, now=at("2026-11-10 09:06"))
    wl = await svc.waitlist_report(desk, world.project["id"], as_of=at("2026-11-20 09:06"))
    assert wl["waiting"] == 1 and wl["by_type"][0]["longest_wait_days"] == 10.0


async def test_arrears_charges_hook_bills_lease_fees_of_the_month_seed_001(world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    lease = await signed_lease(world, world.customers[0]["id"], "standard", "quarterly", at("2026-10-08 09:00"))
    charges = await svc.arrears_charges(world.tenant_id, world.project["id"], "2026-10")
    assert len(charges) == 1
    c = charges[0]
    assert c["amount_fen"] == 87000 and c["fee_code"] == "parking_leases.quarterly"
    assert c["unit_id"] == world.units[0]["id"] and c["customer_id"] == world.customers[0]["id"]
    assert "HY-业主大会-2026-02号" in c["basis_text"] and c["lease_id"] == lease["id"]
    assert await svc.arrears_charges(world.tenant_id, world.project["id"], "2026-11") == []
    from core import get_registry

    registry = get_registry()
    if hasattr(registry.pm.hook, "arrears_charges"):
        answers = await registry.call("arrears_charges", tenant_id=world.tenant_id, project_id=world.project["id"],
                                      project=world.project, period="2026-10")
        assert charges in answers


async def test_application_only_for_customers_of_the_project_and_documents_checked_seed_001(world):
    await garage(world, standard=1, ev=0, now=at("2026-10-01 08:00"))
    desk = await world.principal("front_desk")
    stranger = (await TenantScope(world.tenant_id).insert(ct.Customer, name="路人"))["id"]
    with pytest.raises(Problem) as exc:
        await svc.create_application(desk, {"project_id": world.project["id"], "customer_id": stranger,
                                            "space_type": "standard", "term": "monthly"}, now=at("2026-10-08 09:00"))
    assert exc.value.errors[0]["field"] == "customer_id"
    with pytest.raises(Problem) as exc:
        await svc.create_application(desk, {"project_id": world.project["id"], "customer_id": world.customers[0]["id"],
                                            "space_type": "vip", "term": "monthly"}, now=at("2026-10-08 09:00"))
    assert exc.value.errors[0]["field"] == "term"  # no published fee for it
    app = await svc.create_application(desk, {"project_id": world.project["id"], "customer_id": world.customers[0]["id"],
                                              "space_type": "standard", "term": "monthly"}, now=at("2026-10-08 09:00"))
    assert app["checklist"] == {"身份证": False, "房产证或租赁合同": False, "行驶证": False}
    with pytest.raises(Problem) as exc:  # ticked without a file attached
        await svc.check_documents(desk, app["id"], {"身份证": True}, now=at("2026-10-08 09:03"))
    assert exc.value.errors[0]["field"] == "items.身份证"
    with pytest.raises(Problem) as exc:  # not checked yet: no space offered
        await svc.allocate(desk, app["id"], None, now=at("2026-10-08 09:04"))
    assert exc.value.status == 409
    assert await TenantScope(world.tenant_id).count(Offer) == 0
    assert await TenantScope(world.tenant_id).count(Space).where(Space.status == "free") == 1
