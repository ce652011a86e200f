"""Faults injected for real on PostgreSQL + Redis: a worker killed with SIGKILL in the middle of a batch,
and the database going away during a load of ticket creation. Each test has a database and Redis
namespace of its own and real `guanjia` processes."""
from __future__ import annotations

import asyncio
import os
import time

import asyncpg
import httpx
import pytest
import redis

from tests.deploy.procs import Proc, cli, free_port, make_site, wait_for, wait_ready

pytestmark = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")),
    reason="fault injection runs on PostgreSQL + Redis")

BATCH = 300


def _queued(extra: dict[str, str]) -> dict[str, int]:
    """Messages still in the namespace's queues, delay queues or dead-letter sets."""
    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    out = {}
    for k in r.scan_iter(f"{extra['GUANJIA_QUEUE_NAMESPACE']}-dramatiq:*"):
        kind = r.type(k)
        n = r.llen(k) if kind == b"list" else r.zcard(k) if kind == b"zset" and not k.endswith(b"__heartbeats__") else 0
        if n:
            out[k.decode()] = n
    return out


async def test_worker_killed_mid_batch_every_job_completes_once_after_restart(own_database, tmp_path):
    """300 ticket follow-ups are queued; the worker is SIGKILLed when some are done; a new worker finishes
    them all (the dead worker's taken messages are requeued) and no notice is sent twice."""
    extra = own_database
    cli(extra, "migrate")
    port = free_port()
    web = Proc("web", ["serve", "--port", str(port)], tmp_path, **extra)
    worker_env = {**extra, "GUANJIA_REDIS_HEARTBEAT_MS": "2000", "GUANJIA_REDIS_MAINTENANCE_CHANCE": "1000000"}
    conn = None
    try:
        wait_ready(port, web)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=30) as http:
            site = await make_site(http, [url], extra, 10)
            ids = []
            for i in range(BATCH):  # no worker yet: the jobs wait in Redis
                body = {"project_id": site.project["id"], "kind": "repair", "channel": "hotline",
                        "title": f"批量 {i}", "unit_id": site.units[i % 10]["id"]}
                ids.append((await site.post("tickets", body, site.desk))["id"])
        assert sum(_queued(extra).values()) >= BATCH
        conn = await asyncpg.connect(extra["DATABASE_URL"])

        async def notices() -> int:
            return await conn.fetchval("SELECT count(*) FROM core_notification WHERE template = 'ticket.assigned' "
                                       "AND ticket_id = ANY($1::bigint[])", ids)

        first = Proc("worker1", ["worker", "--threads", "1"], tmp_path, **worker_env)
        done_at_kill = await wait_for(notices, 120, "the first worker to get going", every=0.02)
        first.kill()
        assert 0 < done_at_kill < BATCH, f"the kill should land mid-batch, {done_at_kill} of {BATCH} were done"
        left = await notices()
        assert left < BATCH, "the batch finished before the kill; nothing was recovered"

        second = Proc("worker2", ["worker", "--threads", "2"], tmp_path, **worker_env)
        try:
            async def all_done():
                return await notices() >= BATCH and not _queued(extra)

            await wait_for(all_done, 180, "the restarted worker to finish the batch")
        finally:
            assert second.stop() == 0, second.output()
        per_ticket = await conn.fetch("SELECT ticket_id, count(*) AS n FROM core_notification "
                                      "WHERE template = 'ticket.assigned' AND ticket_id = ANY($1::bigint[]) "
                                      "GROUP BY ticket_id", ids)
        assert len(per_ticket) == BATCH and {r["n"] for r in per_ticket} == {1}
        assert _queued(extra) == {}
        print(f"\nfault: worker SIGKILLed after {done_at_kill} of {BATCH} jobs; after restart {BATCH} done, 0 twice")
    finally:
        if conn is not None:
            await conn.close()
        web.stop()


async def test_database_away_answers_503_recovers_and_loses_no_201(own_database, tmp_path):
    """During a load of ticket creation the app's database refuses connections and its sessions are killed
    for 2 s: requests answer 503 problem details meanwhile, the app recovers by itself, and every ticket
    that got a 201 is in the database."""
    extra = own_database
    cli(extra, "migrate")
    port = free_port()
    web = Proc("web", ["serve", "--port", str(port)], tmp_path, **extra, GUANJIA_DB_POOL_MIN="1", GUANJIA_DB_POOL_MAX="4")
    admin = await asyncpg.connect(os.environ["GUANJIA_TEST_ADMIN_URL"])
    db = extra["DATABASE_URL"].rpartition("/")[2]
    try:
        wait_ready(port, web)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=30) as http:
            site = await make_site(http, [url], extra, 4)
            results: list[tuple[str, int, dict]] = []
            phase = {"now": "before"}
            stop = asyncio.Event()

            async def client(k: int) -> None:
                i = 0
                while not stop.is_set():
                    body = {"project_id": site.project["id"], "kind": "inquiry", "channel": "hotline",
                            "title": f"负载 {k}-{i}", "unit_id": site.units[k]["id"]}
                    try:
                        r = await http.post(f"{url}/api/v1/tickets", json=body, headers=site.desk)
                        results.append((phase["now"], r.status_code, r.json() if r.content else {}))
                    except httpx.HTTPError as exc:  # a connection the server dropped: not a 201, so nothing promised
                        results.append((phase["now"], 0, {"error": str(exc)}))
                    i += 1

            clients = [asyncio.create_task(client(k)) for k in range(4)]
            await wait_for(lambda: _count(results, "before", 201, 20), 60, "the load to start")
            phase["now"] = "away"
            await admin.execute(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS false')
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", db)
            t0 = time.monotonic()
            while time.monotonic() - t0 < 2.0:  # sessions that slipped in are killed too
                await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", db)
                await asyncio.sleep(0.1)
            away_503 = await wait_for(lambda: _count(results, "away", 503, 1), 30, "a 503 while the database is away")
            phase["now"] = "back"
            await admin.execute(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS true')
            await wait_for(lambda: _count(results, "back", 201, 20), 60, "the app to recover by itself")
            stop.set()
            await asyncio.gather(*clients)
        statuses = {s for _, s, _ in results}
        assert statuses <= {201, 503, 0}, statuses
        problems = [b for _, s, b in results if s == 503]
        assert problems and all(b.get("status") == 503 and b.get("title") for b in problems)
        created = [b["id"] for _, s, b in results if s == 201]
        conn = await asyncpg.connect(extra["DATABASE_URL"])
        try:
            stored = await conn.fetchval("SELECT count(*) FROM core_ticket WHERE id = ANY($1::bigint[])", created)
        finally:
            await conn.close()
        assert stored == len(created), f"{len(created) - stored} tickets answered 201 but are not stored"
        print(f"\nfault: database away 2 s under load: {len(created)} created (all stored), {len(problems)} answered 503, "
              f"{sum(1 for _, s, _ in results if s == 0)} connections dropped, 0 lost; first 503 seen: {away_503}")
    finally:
        await admin.execute(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS true')
        await admin.close()
        web.stop()


def _count(results: list, phase: str, status: int, at_least: int):
    async def check():
        n = sum(1 for p, s, _ in results if p == phase and s == status)
        return n if n >= at_least else 0
    return check()
