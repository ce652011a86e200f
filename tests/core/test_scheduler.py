"""The scheduler: slots of each schedule form, one run per slot however many schedulers tick at once,
`guanjia run-job`, and periodic jobs declared through the hook."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import dramatiq
import pytest

from core import jobs, tickets
from core.db import json_value
from core.scheduler import current_slot, periodic_jobs, tick
from core.tables import JobRun, TicketEvent
from tests.conftest import at

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def stub_broker():
    jobs.load_actor_modules()
    broker = jobs.make_broker(None)
    previous = jobs.use_broker(broker)
    yield broker
    jobs.use_broker(previous)


def utc(text: str) -> datetime:
    return at(text).astimezone(timezone.utc)


def test_every_n_minutes_slot_counts_from_beijing_midnight():
    assert current_slot("every 5 minutes", at("2026-09-30 17:07:59")) == utc("2026-09-30 17:05")
    assert current_slot("every 5 minutes", at("2026-09-30 17:05")) == utc("2026-09-30 17:05")
    assert current_slot("every 90 minutes", at("2026-09-30 00:10")) == utc("2026-09-30 00:00")
    assert current_slot("every 90 minutes", at("2026-09-30 02:59")) == utc("2026-09-30 01:30")
    assert current_slot("every 1 minute", at("2026-09-30 23:59:30")) == utc("2026-09-30 23:59")


def test_daily_slot_is_today_once_the_time_has_come_else_yesterday():
    assert current_slot("daily 02:00", at("2026-10-01 02:00")) == utc("2026-10-01 02:00")
    assert current_slot("daily 02:00", at("2026-10-01 01:59")) == utc("2026-09-30 02:00")
    assert current_slot("daily 02:00", at("2027-01-01 00:30")) == utc("2026-12-31 02:00")
    # the slot is in Beijing time whatever zone `now` is given in
    assert current_slot("daily 02:00", datetime(2026, 9, 30, 18, 30, tzinfo=timezone.utc)) == utc("2026-10-01 02:00")


def test_monthly_slot_uses_the_last_day_of_short_months():
    assert current_slot("monthly 1 06:00", at("2026-11-15 12:00")) == utc("2026-11-01 06:00")
    assert current_slot("monthly 1 06:00", at("2026-01-01 05:00")) == utc("2025-12-01 06:00")
    assert current_slot("monthly 31 09:00", at("2026-12-01 08:00")) == utc("2026-11-30 09:00")
    assert current_slot("monthly 31 09:00", at("2026-03-01 08:00")) == utc("2026-02-28 09:00")
    assert current_slot("monthly 31 09:00", at("2026-12-31 09:00")) == utc("2026-12-31 09:00")


@pytest.mark.parametrize("schedule", ["hourly", "every 0 minutes", "daily 25:00", "monthly 32 09:00", "weekly 1 09:00"])
def test_unknown_or_bad_schedule_is_refused(schedule):
    with pytest.raises(ValueError):
        current_slot(schedule, at("2026-09-30 17:00"))


def test_periodic_jobs_are_declared_through_the_hook():
    jobs_ = periodic_jobs()
    assert jobs_["core.sla_sweep"].schedule == "every 5 minutes"
    assert jobs_["core.sla_sweep"].actor_name == "core.sla_sweep"
    assert jobs_["dummy.tick"].schedule == "daily 03:00"  # the test plugin's hook


async def test_two_schedulers_ticking_at_once_enqueue_one_run_per_slot(stub_broker):
    now = at("2031-03-04 03:07")
    first, second = await asyncio.gather(tick(now), tick(now))
    assert sorted(first + second) == sorted(periodic_jobs())  # every declared job once, whoever claimed it
    assert {"core.sla_sweep", "dummy.tick"} <= set(first + second)
    runs = await JobRun.select(JobRun.job, JobRun.slot, JobRun.status).where(
        JobRun.job.is_in(["core.sla_sweep", "dummy.tick"]) & JobRun.slot.like("2031-03-%"))
    assert sorted((r["job"], r["slot"]) for r in runs) == [
        ("core.sla_sweep", utc("2031-03-04 03:05").isoformat()), ("dummy.tick", utc("2031-03-04 03:00").isoformat())]
    messages = [dramatiq.Message.decode(m) for m in stub_broker.queues["core.periodic"].queue]
    assert [(m.actor_name, m.args) for m in messages] == [("core.sla_sweep", (utc("2031-03-04 03:05").isoformat(),))]
    assert stub_broker.queues["dummy.periodic"].qsize() == 1
    assert await tick(at("2031-03-04 03:09")) == []  # same slots: nothing more
    assert "core.sla_sweep" in await tick(at("2031-03-04 03:10"))  # the next 5-minute slot
    assert stub_broker.queues["core.periodic"].qsize() == 2


async def test_a_job_that_cannot_be_enqueued_is_recorded_failed_and_the_others_still_run(stub_broker, monkeypatch):
    from core.contracts import PeriodicJob

    real = periodic_jobs()
    monkeypatch.setattr("core.scheduler.periodic_jobs", lambda: {
        "dummy.ghost": PeriodicJob("dummy.ghost", "dummy.no_such_actor", "daily 03:00"), **real})
    started = await tick(at("2031-07-08 04:00"))
    assert "dummy.ghost" not in started and "core.sla_sweep" in started
    run = await JobRun.select().where(JobRun.job == "dummy.ghost").first()
    assert run["status"] == "failed" and "dummy.no_such_actor" in json_value(run["result"])["error"]


async def test_scheduled_run_records_its_status_and_result(stub_broker):
    assert {"core.sla_sweep", "dummy.tick"} <= set(await tick(at("2031-05-06 04:00")))
    slot = utc("2031-05-06 04:00").isoformat()
    worker = jobs.make_worker(threads=1, queues={"core.periodic", "dummy.periodic"})
    worker.start()
    try:
        for queue in ("dummy.periodic", "core.periodic"):
            await asyncio.get_running_loop().run_in_executor(None, lambda: stub_broker.join(queue, timeout=30_000))
    finally:
        await asyncio.get_running_loop().run_in_executor(None, worker.stop)
    run = await JobRun.select().where((JobRun.job == "dummy.tick") & (JobRun.slot == utc("2031-05-06 03:00").isoformat())).first()
    assert run["status"] == "done" and run["finished_at"] is not None
    assert json_value(run["result"]) == {"as_of": utc("2031-05-06 03:00").isoformat()}
    sweep_run = await JobRun.select().where((JobRun.job == "core.sla_sweep") & (JobRun.slot == slot)).first()
    assert sweep_run["status"] == "done"
    assert set(json_value(sweep_run["result"])) == {"tenants", "due", "escalated", "events", "notifications"}


async def test_run_job_sla_sweep_by_hand_as_of_2026_12_01(world):
    p = await world.principal("front_desk")
    t = await tickets.create_ticket(p, {"project_id": world.project["id"], "kind": "repair", "channel": "hotline",
                                        "title": "水管爆裂", "unit_id": world.units[0]["id"]}, now=at("2026-11-20 10:00"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "core.cli", "run-job", "core.sla_sweep", "--as-of", "2026-12-01", cwd=REPO,
        env=dict(os.environ), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["events"] >= 3 and result["escalated"] >= 1
    events = await TicketEvent.select(TicketEvent.reason, TicketEvent.at).where(
        (TicketEvent.tenant_id == world.tenant_id) & (TicketEvent.ticket_id == t["id"]) & (TicketEvent.kind == "escalation")
    ).order_by(TicketEvent.id)
    # due 2026-11-21 10:00; on 2026-12-01 00:00 (Beijing) it is breached by more than 72 hours
    assert [e["reason"] for e in events] == ["breached", "escalated_project_manager", "escalated_company_cs"]
    assert {e["at"] for e in events} == {utc("2026-12-01 00:00")}

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "core.cli", "run-job", "core.nothing", "--as-of", "2026-12-01", cwd=REPO,
        env=dict(os.environ), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode != 0 and "unknown job" in err.decode()


@pytest.mark.skipif(not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL", "").startswith("postgres")),
                    reason="needs PostgreSQL and Redis (the scheduler runs as its own process)")
async def test_two_scheduler_processes_started_at_once_enqueue_one_run_per_slot():
    before = {(r["job"], r["slot"]) for r in await JobRun.select(JobRun.job, JobRun.slot)}
    procs = [await asyncio.create_subprocess_exec(sys.executable, "-m", "core.cli", "scheduler", "--once", cwd=REPO,
                                                  env=dict(os.environ), stdout=asyncio.subprocess.PIPE,
                                                  stderr=asyncio.subprocess.PIPE) for _ in range(2)]
    outs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), timeout=120)
    assert [p.returncode for p in procs] == [0, 0], [e.decode()[-2000:] for _, e in outs]
    enqueued = [name for out, _ in outs for name in json.loads(out.decode().strip().splitlines()[-1])]
    new = {(r["job"], r["slot"]) for r in await JobRun.select(JobRun.job, JobRun.slot)} - before
    # every new slot was claimed by exactly one of the two processes
    assert sorted(enqueued) == sorted(job for job, _ in new)
    assert "core.sla_sweep" in enqueued
