"""The deployed topology for real: 2 web processes, 1 worker and 1 scheduler on PostgreSQL + Redis, on a
database of their own set up through `guanjia` and the API. Traffic goes to both web processes;
every job (the follow-up of each ticket, every periodic job of its slot) is done exactly once, and
everything stops gracefully on SIGTERM."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest

from tests.deploy.procs import Proc, cli as _cli, free_port, make_site, wait_for, wait_ready

pytestmark = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")),
    reason="the multi-process topology runs on PostgreSQL + Redis")

TICKETS = 40


async def test_two_web_one_worker_one_scheduler_do_every_job_once(own_database, tmp_path):
    extra = own_database
    _cli(extra, "migrate")

    ports = [free_port(), free_port()]
    procs = {f"web{i + 1}": Proc(f"web{i + 1}", ["serve", "--port", str(p)], tmp_path, **extra) for i, p in enumerate(ports)}
    procs["worker"] = Proc("worker", ["worker", "--threads", "2"], tmp_path, **extra)
    procs["scheduler"] = Proc("scheduler", ["scheduler"], tmp_path, **extra)
    try:
        for name, port in zip(("web1", "web2"), ports):
            wait_ready(port, procs[name])
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        async with httpx.AsyncClient(timeout=30) as http:
            site = await make_site(http, urls, extra, TICKETS)
            desk, project, units = site.desk, site.project, site.units

            async def create(i: int) -> dict:
                body = {"project_id": project["id"], "kind": "repair", "channel": "hotline", "title": f"拓扑测试 {i}",
                        "unit_id": units[i]["id"]}
                return await site.post("tickets", body, desk, urls[i % 2])

            created = []
            for start in range(0, TICKETS, 8):  # 8 requests in flight, spread over both web processes
                created += await asyncio.gather(*(create(i) for i in range(start, min(start + 8, TICKETS))))
        ids = [t["id"] for t in created]
        assert len(set(ids)) == TICKETS

        import asyncpg

        conn = await asyncpg.connect(extra["DATABASE_URL"])
        try:
            async def notices_done():
                rows = await conn.fetch(
                    "SELECT ticket_id, count(*) AS n, min(outcome) AS outcome FROM core_notification "
                    "WHERE template = 'ticket.assigned' AND ticket_id = ANY($1::bigint[]) GROUP BY ticket_id", ids)
                return rows if len(rows) == TICKETS else None

            rows = await wait_for(notices_done, 120, "every ticket's follow-up job")
            assert {r["n"] for r in rows} == {1}, "a ticket's follow-up ran more than once"
            assert {r["outcome"] for r in rows} == {"sent"}

            async def periodic_done():
                runs = await conn.fetch("SELECT job, slot, status FROM core_job_run")
                return runs if runs and all(r["status"] in ("done", "failed") for r in runs) else None

            runs = await wait_for(periodic_done, 300, "the scheduler's first round of periodic jobs")
            assert [dict(r) for r in runs if r["status"] != "done"] == []
            assert len({(r["job"], r["slot"]) for r in runs}) == len(runs)  # one run per job and slot
            jobs_declared = await conn.fetchval("SELECT count(DISTINCT job) FROM core_job_run")
            assert jobs_declared == len(runs) >= 10  # the kernel's and every plugin's periodic jobs, once each
        finally:
            await conn.close()

        import redis

        r = redis.Redis.from_url(os.environ["REDIS_URL"])
        ns = f"{extra['GUANJIA_QUEUE_NAMESPACE']}-dramatiq"
        leftovers = {k.decode(): r.llen(k) if r.type(k) == b"list" else r.zcard(k) if r.type(k) == b"zset" else r.hlen(k)
                     for k in r.scan_iter(f"{ns}:*")
                     if r.type(k) in (b"list", b"zset", b"hash") and not k.decode().endswith(":__heartbeats__")}
        assert {k: n for k, n in leftovers.items() if n} == {}, "messages left in queues or dead-lettered"
    finally:
        codes = {name: p.stop() for name, p in procs.items()}
    # uvicorn finishes in-flight requests and the app's shutdown, then re-raises the SIGTERM it caught (-15)
    graceful = {name: code in ((0, -15) if name.startswith("web") else (0,)) for name, code in codes.items()}
    assert all(graceful.values()), {n: (codes[n], procs[n].output()) for n in codes if not graceful[n]}
