"""Jobs on Dramatiq: the in-process broker with a worker started here, the real Redis broker with
`guanjia worker` as its own process, and the outbox that keeps jobs while the broker is away."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import dramatiq
import pytest

from core import jobs, tickets
from core.db import json_value
from core.tables import Notification, Outbox, Ticket
from tests.conftest import at

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")


@pytest.fixture
def stub_broker():
    """A fresh in-process broker for one test (whatever REDIS_URL says), then the previous one again."""
    jobs.load_actor_modules()
    broker = jobs.make_broker(None)
    previous = jobs.use_broker(broker)
    yield broker
    jobs.use_broker(previous)


async def run_queue(broker, queue: str, timeout_ms: int = 30_000) -> None:
    """Start a worker on `broker`, wait until `queue` is drained, stop the worker."""
    worker = jobs.make_worker(threads=1)
    worker.start()
    try:
        await asyncio.get_running_loop().run_in_executor(None, lambda: broker.join(queue, timeout=timeout_ms,
                                                                                   fail_fast=True))
    finally:
        await asyncio.get_running_loop().run_in_executor(None, worker.stop)


async def new_repair(world, title="厨房漏水", now=None) -> dict:
    p = await world.principal("front_desk")
    return await tickets.create_ticket(p, {"project_id": world.project["id"], "kind": "repair", "channel": "hotline",
                                           "title": title, "unit_id": world.units[0]["id"]},
                                       now=now or at("2026-09-30 17:00"))


async def assigned_notices(world, ticket_id: int) -> list[dict]:
    return await Notification.select().where((Notification.tenant_id == world.tenant_id)
                                             & (Notification.ticket_id == ticket_id)
                                             & (Notification.template == "ticket.assigned"))


def test_actor_names_and_queues_are_namespaced_by_plugin():
    jobs.load_actor_modules()
    sweep = jobs.get_actor("core.sla_sweep")
    assert (sweep.actor_name, sweep.queue_name) == ("core.sla_sweep", "core.periodic")
    assert jobs.get_actor("core.ticket_created").queue_name == "core.tickets"
    assert jobs.get_actor("dummy.tick").queue_name == "dummy.periodic"
    with pytest.raises(TypeError):
        jobs.actor("core", "not_async")(lambda tenant_id: None)
    with pytest.raises(ValueError):
        jobs.actor("core", "sla_sweep", queue="periodic")(jobs.get_actor("core.sla_sweep").fn)


async def test_enqueue_refuses_arguments_that_are_not_json_and_writes_nothing(world, stub_broker):
    before = await Outbox.count()
    with pytest.raises(TypeError):
        await jobs.enqueue("core.ticket_created", world.tenant_id, at("2026-09-30 17:00"))
    assert await Outbox.count() == before
    assert stub_broker.queues["core.tickets"].qsize() == 0


async def test_ticket_created_job_runs_on_in_process_broker(world, stub_broker):
    t = await new_repair(world)
    assert stub_broker.queues["core.tickets"].qsize() == 1
    message = dramatiq.Message.decode(stub_broker.queues["core.tickets"].queue[0])
    assert (message.actor_name, message.args) == ("core.ticket_created", (world.tenant_id, t["id"]))  # tenant first
    assert not await assigned_notices(world, t["id"])
    await run_queue(stub_broker, "core.tickets")
    rows = await assigned_notices(world, t["id"])
    assert [(r["recipient_user_id"], r["channel"], r["outcome"]) for r in rows] == [(world.staff["butler"], "in_app", "sent")]


async def test_enqueue_with_broker_away_keeps_job_in_outbox_and_sends_it_later(world, stub_broker):
    from dramatiq.brokers.redis import RedisBroker

    jobs.use_broker(RedisBroker(url="redis://127.0.0.1:9/0"))  # nothing listens there
    t = await new_repair(world, "停电")  # creating the ticket enqueues `core.ticket_created`
    kept = [r for r in await Outbox.select().where(Outbox.sent_at.is_null())
            if r["actor_name"] == "core.ticket_created" and json_value(r["args"]) == [world.tenant_id, t["id"]]]
    assert len(kept) == 1 and kept[0]["queue_name"] == "core.tickets" and kept[0]["last_error"]
    assert await jobs.send_outbox() == 0  # still away: the row stays
    assert (await Outbox.select(Outbox.sent_at, Outbox.attempts).where(Outbox.id == kept[0]["id"]).first()) == {
        "sent_at": None, "attempts": 2}
    jobs.use_broker(stub_broker)  # the broker is back
    assert await jobs.send_outbox() >= 1
    assert (await Outbox.select(Outbox.sent_at).where(Outbox.id == kept[0]["id"]).first())["sent_at"] is not None
    assert await jobs.send_outbox() == 0  # sent once, never again
    await run_queue(stub_broker, "core.tickets")
    assert len(await assigned_notices(world, t["id"])) == 1


@needs_redis
async def test_job_runs_on_redis_broker_in_a_guanjia_worker_process(world):
    from dramatiq.brokers.redis import RedisBroker

    jobs.use_broker(None)
    assert isinstance(jobs.get_broker(), RedisBroker)
    t = await new_repair(world, "电梯困人")
    assert not await assigned_notices(world, t["id"])
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "worker", "--threads", "2"], cwd=REPO, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        rows = []
        for _ in range(600):  # at most 60 s
            rows = await assigned_notices(world, t["id"])
            if rows or proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
        assert [(r["recipient_user_id"], r["outcome"]) for r in rows] == [(world.staff["butler"], "sent")]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
