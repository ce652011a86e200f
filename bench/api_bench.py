"""Benchmark of the HTTP API and a web worker's memory on PostgreSQL + Redis, beside ceilings from the same run.

Run it (not a test; it drops and rebuilds its own database, the one named in DATABASE_URL):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/guanjia_bench_api REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/api_bench.py

Figures: create ticket (POST /api/v1/tickets, 16 connections), staff inbox (GET /api/v1/tickets?project_id=…
&status=open&limit=25 over the bulk-loaded tickets: sequential p50 and 16-connection throughput), RSS of one web
worker. Ceilings measured in the same run: a bare Litestar app (served by the same server) validating the same
msgspec body, a raw asyncpg transaction inserting one ticket and one event, and the raw inbox SELECT.
Load comes from `wrk` (Debian package) on 127.0.0.1 only; the whole run stops itself after about six minutes.
Results go to bench/results/api_bench-<time>.json and .md.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent
CONNECTIONS = 16
TARGETS = {"create_rps": 1400, "create_p99_ms": 50, "inbox_p50_ms": 5, "inbox_rps": 2000, "rss_mb": 200}
WRK_LUA = r"""
wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
if body and body ~= "" then wrk.body = body; wrk.headers["Content-Type"] = "application/json" end
local token = os.getenv("WRK_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"max_ms":%.3f,"non_2xx":%d,"err_socket":%d}\n', summary.requests, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def bare_app():
    """The framework ceiling: a Litestar app with no middleware that validates the create-ticket body."""
    import itertools

    from litestar import Litestar, post

    from core.api.schemas import TicketCreate

    ids = itertools.count(1)

    @post("/api/v1/tickets")
    async def create(data: TicketCreate) -> dict:
        return {"id": next(ids), "project_id": data.project_id, "status": "received"}

    return Litestar(route_handlers=[create], debug=False, signature_namespace={"TicketCreate": TicketCreate})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server subprocess on 127.0.0.1 (the product's `guanjia serve`, or uvicorn on the bare app)."""

    def __init__(self, argv: list[str], port: int, env: dict[str, str], log: Path):
        self.port = port
        self.log = log.open("w")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     start_new_session=True)

    async def wait_ready(self, path: str, timeout: float = 60) -> None:
        import httpx

        end = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited ({self.proc.returncode}); see {self.log.name}")
                try:
                    r = await client.request("GET" if path != "/api/v1/tickets" else "POST",
                                             f"http://127.0.0.1:{self.port}{path}", json={})
                    if r.status_code < 500:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
        raise RuntimeError(f"server not ready after {timeout} s; see {self.log.name}")

    def worker_pids(self) -> list[int]:
        """The processes that answer requests: the server itself (one worker) or its children (several)."""
        kids: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            kids += [int(p) for p in (task / "children").read_text().split()]
        # uvicorn's multi-worker supervisor also spawns a resource tracker; workers are the big ones
        return [p for p in kids if rss_mb(p) > 40] or [self.proc.pid]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(25)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_snapshot() -> dict:
    """CPU time used so far: the machine's (busy, from /proc/stat) and each process's (utime + stime), in ticks."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    procs: dict[int, tuple[str, int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                head, _, tail = Path(f"/proc/{d}/stat").read_text().rpartition(")")
                f = tail.split()
                procs[int(d)] = (head.split("(", 1)[1], int(f[11]) + int(f[12]))
            except (OSError, IndexError, ValueError):
                pass
    return {"busy": fields[0] + fields[1] + fields[2] + fields[5] + fields[6], "idle": fields[3] + fields[4],
            "procs": procs}


def cpu_per_request(before: dict, after: dict, requests: int, web_pids: list[int]) -> dict:
    """Milliseconds of CPU per request: the whole machine, and split into the web workers, PostgreSQL, Redis
    and the rest (the load generator, the kernel's threads; processes that ended during the run are not seen)."""
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    groups = {"web_workers": 0, "postgresql": 0, "redis": 0, "other": 0}
    for pid, (name, ticks) in after["procs"].items():
        used = ticks - before["procs"].get(pid, (name, 0))[1]
        group = ("web_workers" if pid in web_pids else "postgresql" if name.startswith("postgres")
                 else "redis" if name.startswith("redis") else "other")
        groups[group] += used
    n = max(requests, 1)
    out = {"machine_ms": round((after["busy"] - before["busy"]) * tick_ms / n, 3)}
    out.update({f"{k}_ms": round(v * tick_ms / n, 3) for k, v in groups.items()})
    total = (after["busy"] - before["busy"]) + (after["idle"] - before["idle"])
    out["idle_pct"] = round(100 * (after["idle"] - before["idle"]) / max(total, 1), 1)
    return out


async def wrk(url: str, seconds: int, *, token: str = "", body: str = "", lua: Path) -> dict:
    env = dict(os.environ, WRK_METHOD="POST" if body else "GET", WRK_BODY=body, WRK_TOKEN=token)
    proc = await asyncio.create_subprocess_exec(
        "wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency", "-s", str(lua), url,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    for line in out.decode().splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[8:])
    raise RuntimeError("wrk printed no result:\n" + out.decode())


async def sequential(url: str, token: str, n: int) -> dict:
    """Unloaded latency: one request at a time over one kept-alive connection."""
    import httpx

    times = []
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        for i in range(n + 20):
            t = time.perf_counter()
            r = await client.get(url)
            elapsed = (time.perf_counter() - t) * 1000
            r.raise_for_status()
            if i >= 20:  # warm-up requests are not counted
                times.append(elapsed)
    times.sort()
    return {"requests": n, "p50_ms": round(statistics.median(times), 3), "p99_ms": round(times[int(n * 0.99) - 1], 3)}


async def closed_loop(seconds: float, fn, concurrency: int = CONNECTIONS) -> dict:
    """`concurrency` tasks calling `fn` back to back for `seconds`: throughput and latency percentiles."""
    times: list[float] = []
    end = time.perf_counter() + seconds

    async def one():
        while time.perf_counter() < end:
            t = time.perf_counter()
            await fn()
            times.append((time.perf_counter() - t) * 1000)

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    times.sort()
    return {"requests": len(times), "rps": round(len(times) / wall, 1), "p50_ms": round(statistics.median(times), 3),
            "p99_ms": round(times[max(0, int(len(times) * 0.99) - 1)], 3)}


async def rebuild_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()


async def bulk_load(conn, template: dict, demo: dict, tenants: int, target: int, budget_s: float) -> dict:
    """Copy tickets into core_ticket for `tenants` companies (the demo company is one of them) for at most
    `budget_s` seconds, with the table's secondary indexes dropped for the load and built after it."""
    t0 = time.perf_counter()
    await conn.execute(
        """INSERT INTO core_tenant (slug, name, contact_name, contact_phone, settings, is_active, created_at)
           SELECT 'bench-' || n, '物业公司 ' || n, '', '', '{}', true, now() FROM generate_series(1, $1) n""",
        tenants - 1)
    await conn.execute(
        """INSERT INTO core_project (tenant_id, code, name, kind, address, total_area, settings, created_at)
           SELECT id, 'P1', '项目一', 'residential', '', 100000, '{}', now() FROM core_tenant WHERE slug LIKE 'bench-%'""")
    owners = [(r["tenant_id"], r["id"]) for r in await conn.fetch(
        "SELECT tenant_id, id FROM core_project WHERE tenant_id <> $1 ORDER BY tenant_id", demo["tenant_id"])]
    owners.insert(0, (demo["tenant_id"], demo["project_id"]))
    indexes = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'core_ticket' "
                               "AND indexname <> 'core_ticket_pkey'")
    for i in indexes:
        await conn.execute(f'DROP INDEX "{i["indexname"]}"')
    columns = [c for c in template if c != "id"]
    pos = {c: n for n, c in enumerate(columns)}
    base = [template[c] for c in columns]
    statuses = ["received", "dispatched", "in_progress", "closed", "closed"]  # 3 in 5 open
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    loaded, chunk = 0, 50_000
    while loaded < target and time.perf_counter() - t0 < budget_s:
        rows = []
        for g in range(loaded, min(target, loaded + chunk)):
            row = base.copy()
            tenant_id, project_id = owners[g % len(owners)]
            created = start + timedelta(seconds=g * 20)
            status = statuses[g % 5]
            row[pos["tenant_id"]], row[pos["project_id"]] = tenant_id, project_id
            row[pos["title"]] = f"报修 {g}"
            row[pos["status"]] = status
            row[pos["created_at"]] = row[pos["updated_at"]] = created
            if "closed_at" in pos:
                row[pos["closed_at"]] = created + timedelta(hours=20) if status == "closed" else None
            if "next_due_at" in pos and status == "closed":
                row[pos["next_due_at"]] = None
            for col in ("unit_id", "building_id", "customer_id", "grid_id", "responsible_id", "executor_id"):
                if col in pos and tenant_id != demo["tenant_id"]:
                    row[pos[col]] = None
            rows.append(tuple(row))
        await conn.copy_records_to_table("core_ticket", records=rows, columns=columns)
        loaded += len(rows)
        print(f"  copied {loaded:,} tickets ({time.perf_counter() - t0:.0f} s)", flush=True)
    copy_s = time.perf_counter() - t0
    t = time.perf_counter()
    for i in indexes:
        await conn.execute(i["indexdef"])
    index_s = time.perf_counter() - t
    await conn.execute("VACUUM ANALYZE core_ticket")
    return {"tenants": len(owners), "tickets_copied": loaded, "copy_s": round(copy_s, 1),
            "index_build_s": round(index_s, 1), "total_s": round(time.perf_counter() - t0, 1),
            "demo_project_tickets": await conn.fetchval("SELECT count(*) FROM core_ticket WHERE project_id = $1",
                                                        demo["project_id"])}


async def run(args, out: dict) -> dict:
    import asyncpg
    import httpx

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database this benchmark may drop, e.g. "
                         "postgresql://postgres@127.0.0.1:5432/guanjia_bench_api")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("set REDIS_URL (the create path enqueues jobs on Redis), e.g. redis://127.0.0.1:6379/0")
    base, name = url.rsplit("/", 1)
    os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
    out.update({"started_at": datetime.now(timezone.utc).isoformat(), "database": name,
                 "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                             "platform": platform.platform(), "loadavg_at_start": os.getloadavg()},
                 "note": "load generator (wrk) and servers share the same cores; other work on the machine adds noise"})
    lua = Path(tempfile.mkstemp(suffix=".lua")[1])
    lua.write_text(WRK_LUA)
    logs = Path(tempfile.mkdtemp(prefix="api_bench-"))
    servers: list[Server] = []
    env = dict(os.environ, GUANJIA_LOG_FORMAT="json")

    def serve(workers: int, http_server: str = "granian") -> Server:
        """`guanjia serve` as deployed: granian (the default) or uvicorn."""
        port = free_port()
        s = Server([str(VENV_BIN / "guanjia"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                    str(workers)], port, dict(env, GUANJIA_HTTP_SERVER=http_server),
                   logs / f"guanjia-{http_server}-w{workers}.log")
        servers.append(s)
        return s

    try:
        # set-up: a fresh database, migrations, one company with projects, staff and units
        t = time.perf_counter()
        await rebuild_database(f"{base}/postgres", name)
        from core.settings import get_settings

        get_settings.cache_clear()
        from core.cli import migrate_all
        from core.db import close_pool, start_pool
        from core.demo import ensure_demo

        await migrate_all(quiet=True)
        await start_pool()
        password = "bench-password-1"
        demo = await ensure_demo(password, tickets=0)
        await close_pool()
        out["setup_s"] = round(time.perf_counter() - t, 1)
        conn = await asyncpg.connect(url)
        out["postgres"] = await conn.fetchval("SHOW server_version")
        tenant_id = demo["tenant"]["id"]
        project_id, unit_id = (await conn.fetchrow(
            "SELECT p.id, u.id FROM core_project p JOIN core_unit u ON u.project_id = p.id "
            "WHERE p.tenant_id = $1 ORDER BY p.id, u.id LIMIT 1", tenant_id)).values()
        print(f"set-up: database {name} migrated, company {demo['tenant']['slug']} ({out['setup_s']} s)", flush=True)

        server = serve(1)
        await server.wait_ready("/healthz")
        api = f"http://127.0.0.1:{server.port}/api/v1"
        async with httpx.AsyncClient() as client:
            r = await client.post(f"{api}/auth/login", json={"login": demo["logins"]["front_desk"],
                                                              "password": password, "tenant": demo["tenant"]["slug"]})
            r.raise_for_status()
            token = r.json()["token"]
            body = json.dumps({"project_id": project_id, "kind": "repair", "channel": "hotline",
                               "title": "厨房水龙头漏水", "description": "周一开始滴水，请派维修工。",
                               "unit_id": unit_id, "contact_phone": "13800138000"}, ensure_ascii=False)
            r = await client.post(f"{api}/tickets", content=body.encode(),
                                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            r.raise_for_status()
            first = r.json()
        template = dict(await conn.fetchrow("SELECT * FROM core_ticket WHERE id = $1", first["id"]))
        event = dict(await conn.fetchrow("SELECT * FROM core_ticket_event WHERE ticket_id = $1 ORDER BY id LIMIT 1",
                                         first["id"]))

        # keep about 200 s for the load runs so that the whole run ends within --timeout on a busy machine
        load_budget = max(5.0, min(args.load_seconds, args.timeout - (time.perf_counter() - args.t0) - 200))
        print(f"bulk load: up to {args.tickets:,} tickets over {args.tenants:,} companies, {load_budget:.0f} s budget",
              flush=True)
        out["load"] = await bulk_load(conn, template, {"tenant_id": tenant_id, "project_id": project_id},
                                      args.tenants, args.tickets, load_budget)
        print(f"  {out['load']}", flush=True)

        d = args.seconds
        results: dict[str, dict] = out.setdefault("results", {})
        inbox_url = f"{api}/tickets?project_id={project_id}&status=open&limit=25"
        # the product (granian, its default server), one worker: create ticket under load, then the inbox, then memory after warm-up
        results["create_w1"] = await wrk(f"{api}/tickets", d, token=token, body=body, lua=lua)
        print(f"create ticket, 1 worker: {results['create_w1']}", flush=True)
        results["inbox_seq_w1"] = await sequential(inbox_url, token, 300)
        results["inbox_w1"] = await wrk(inbox_url, d, token=token, lua=lua)
        print(f"inbox, 1 worker: {results['inbox_seq_w1']} {results['inbox_w1']}", flush=True)
        pid = server.worker_pids()[0]
        out["memory"] = {"worker_pid": pid, "rss_mb_after_warmup": rss_mb(pid),
                         "plugins": sorted(__import__("core.plugins", fromlist=["get_registry"]).get_registry().metas)}
        if args.profile:
            out["profile"] = await profile_create(env, body, token, api, d)
        server.stop()

        # the product, two workers
        server = serve(2)
        await server.wait_ready("/healthz")
        api2 = f"http://127.0.0.1:{server.port}/api/v1"
        before = cpu_snapshot()
        results["create_w2"] = await wrk(f"{api2}/tickets", d, token=token, body=body, lua=lua)
        out["create_cpu_w2"] = cpu_per_request(before, cpu_snapshot(), results["create_w2"]["requests"],
                                               server.worker_pids())
        print(f"create ticket, 2 workers: {results['create_w2']}; CPU per request: {out['create_cpu_w2']}", flush=True)
        results["inbox_seq_w2"] = await sequential(inbox_url.replace(api, api2), token, 300)
        results["inbox_w2"] = await wrk(inbox_url.replace(api, api2), d, token=token, lua=lua)
        print(f"inbox, 2 workers: {results['inbox_seq_w2']} {results['inbox_w2']}", flush=True)
        out["memory"]["rss_mb_two_workers"] = [rss_mb(p) for p in server.worker_pids()]
        server.stop()

        # the server choice: the product under uvicorn (`GUANJIA_HTTP_SERVER=uvicorn`), one and two workers, same runs
        for w in (1, 2):
            u = serve(w, "uvicorn")
            await u.wait_ready("/healthz")
            api_u = f"http://127.0.0.1:{u.port}/api/v1"
            results[f"create_uvicorn_w{w}"] = await wrk(f"{api_u}/tickets", d, token=token, body=body, lua=lua)
            results[f"inbox_seq_uvicorn_w{w}"] = await sequential(inbox_url.replace(api, api_u), token, 300)
            results[f"inbox_uvicorn_w{w}"] = await wrk(inbox_url.replace(api, api_u), d, token=token, lua=lua)
            print(f"uvicorn, {w} worker(s): create {results[f'create_uvicorn_w{w}']}, inbox "
                  f"{results[f'inbox_seq_uvicorn_w{w}']} {results[f'inbox_uvicorn_w{w}']}", flush=True)
            u.stop()

        # ceiling: the bare Litestar app on the product's server (granian), one and two workers
        for w in (1, 2):
            port = free_port()
            bare = Server([str(VENV_BIN / "granian"), "--interface", "asgi", "--factory", "--working-dir", str(HERE),
                           "--host", "127.0.0.1", "--port", str(port), "--workers", str(w), "--log-level", "warning",
                           "api_bench:bare_app"], port, env, logs / f"bare-w{w}.log")
            servers.append(bare)
            await bare.wait_ready("/api/v1/tickets")
            results[f"bare_post_w{w}"] = await wrk(f"http://127.0.0.1:{port}/api/v1/tickets", d, body=body, lua=lua)
            print(f"bare Litestar POST, {w} worker(s): {results[f'bare_post_w{w}']}", flush=True)
            bare.stop()

        # ceilings: raw asyncpg, 16 concurrent connections
        results.update(await raw_ceilings(url, template, event, tenant_id, project_id, d))
        print(f"raw asyncpg insert ticket + event: {results['raw_insert']}; pgbench: {results['pgbench_insert']}",
              flush=True)
        print(f"raw inbox SELECT: sequential {results['raw_inbox_seq']}, 16 concurrent {results['raw_inbox']}",
              flush=True)
        out["rows_after"] = await conn.fetchval("SELECT count(*) FROM core_ticket")
        await conn.close()
        out["results"] = results
        out["loadavg_at_end"] = os.getloadavg()
    finally:
        for s in servers:
            s.stop()
        lua.unlink(missing_ok=True)
    out["server_logs"] = str(logs)
    return out


async def raw_ceilings(url: str, template: dict, event: dict, tenant_id: int, project_id: int, seconds: int) -> dict:
    """The database alone: one ticket + one event per transaction, and the inbox SELECT."""
    import asyncpg

    from core.tickets import LIST_COLUMNS
    from core.workflow import OPEN_STATUSES

    pool = await asyncpg.create_pool(url, min_size=CONNECTIONS, max_size=CONNECTIONS)
    tcols = [c for c in template if c != "id"]
    ecols = [c for c in event if c not in ("id", "ticket_id")]
    ins_ticket = (f"INSERT INTO core_ticket ({', '.join(tcols)}) VALUES "
                  f"({', '.join(f'${i}' for i in range(1, len(tcols) + 1))}) RETURNING id")
    ins_event = (f"INSERT INTO core_ticket_event (ticket_id, {', '.join(ecols)}) VALUES "
                 f"({', '.join(f'${i}' for i in range(1, len(ecols) + 2))})")
    tvals = [template[c] for c in tcols]
    evals = [event[c] for c in ecols]

    async def insert():
        async with pool.acquire() as c:
            async with c.transaction():
                tid = await c.fetchval(ins_ticket, *tvals)
                await c.execute(ins_event, tid, *evals)

    cols = ", ".join(c._meta.db_column_name for c in LIST_COLUMNS)
    select = (f"SELECT {cols} FROM core_ticket WHERE tenant_id = $1 AND project_id = $2 AND status = ANY($3) "
              f"ORDER BY id DESC LIMIT 26")
    wanted = list(OPEN_STATUSES)

    async def inbox():
        async with pool.acquire() as c:
            await c.fetch(select, tenant_id, project_id, wanted)

    out = {"raw_insert": await closed_loop(seconds, insert)}
    before = cpu_snapshot()
    out["pgbench_insert"] = await pgbench_insert(url, template, event, seconds)
    if "tps" in out["pgbench_insert"]:
        done = round(out["pgbench_insert"]["tps"] * seconds)
        out["pgbench_insert"]["cpu"] = cpu_per_request(before, cpu_snapshot(), done, [])
    for _ in range(20):
        await inbox()
    times = []
    for _ in range(300):
        t = time.perf_counter()
        await inbox()
        times.append((time.perf_counter() - t) * 1000)
    out["raw_inbox_seq"] = {"requests": 300, "p50_ms": round(statistics.median(times), 3)}
    out["raw_inbox"] = await closed_loop(seconds, inbox)
    async with pool.acquire() as c:
        out["raw_inbox_plan"] = [r[0] for r in await c.fetch("EXPLAIN ANALYZE " + select, tenant_id, project_id, wanted)]
    await pool.close()
    return out


def sql_literal(value) -> str:
    """A value as an SQL literal for a pgbench script."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return str(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return "'" + str(value).replace("'", "''") + "'"


async def pgbench_insert(url: str, template: dict, event: dict, seconds: int) -> dict:
    """The issue's ceiling: pgbench, 16 clients, each transaction inserting one ticket and one event (prepared)."""
    import shutil

    if shutil.which("pgbench") is None:
        return {"skipped": "pgbench not installed (Debian: postgresql-client)"}
    tcols = [c for c in template if c != "id"]
    ecols = [c for c in event if c not in ("id", "ticket_id")]
    script = Path(tempfile.mkstemp(suffix=".sql")[1])
    script.write_text(
        "BEGIN;\n"
        f"INSERT INTO core_ticket ({', '.join(tcols)}) VALUES ({', '.join(sql_literal(template[c]) for c in tcols)}) "
        "RETURNING id AS ticket_id \\gset\n"
        f"INSERT INTO core_ticket_event (ticket_id, {', '.join(ecols)}) VALUES "
        f"(:ticket_id, {', '.join(sql_literal(event[c]) for c in ecols)});\n"
        "END;\n", encoding="utf-8")
    try:
        proc = await asyncio.create_subprocess_exec(
            "pgbench", "-n", "-M", "prepared", "-c", str(CONNECTIONS), "-j", "2", "-T", str(seconds), "-f", str(script),
            url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        text = (await proc.communicate())[0].decode()
    finally:
        script.unlink(missing_ok=True)
    found = {}
    for line in text.splitlines():
        if line.startswith("tps = "):
            found["tps"] = round(float(line.split()[2]), 1)
        elif line.startswith("latency average = "):
            found["latency_avg_ms"] = float(line.split()[3])
        elif line.startswith("number of failed transactions"):
            found["failed"] = int(line.split(":")[1].split()[0])
    if "tps" not in found:
        return {"error": text[-1500:]}
    return found


async def profile_create(env: dict, body: str, token: str, api: str, seconds: int) -> dict:
    """cProfile of one web worker serving create-ticket under load: the functions with most own time."""
    import pstats

    prof = Path(tempfile.mkstemp(suffix=".prof")[1])
    port = free_port()
    # the worker counts the statements it sends to PostgreSQL (asyncpg's extended-protocol calls and
    # argument-less simple queries such as BEGIN/COMMIT) while the profiler is on
    code = ("import cProfile, json, os, signal, sys, uvicorn\n"
            "import asyncpg.connection as C\n"
            "n = {'statements': 0}\n"
            "_execute, _plain = C.Connection._execute, C.Connection.execute\n"
            "async def counted(self, *a, **k):\n    n['statements'] += 1\n    return await _execute(self, *a, **k)\n"
            "async def plain(self, query, *args, **k):\n"
            "    n['statements'] += 0 if args else 1\n    return await _plain(self, query, *args, **k)\n"
            "C.Connection._execute, C.Connection.execute = counted, plain\n"
            "p = cProfile.Profile()\n"
            "def start(*_):\n    n['statements'] = 0; p.enable()\n"
            "def stop(*_):\n    p.disable(); p.dump_stats(sys.argv[2])\n"
            "    open(sys.argv[2] + '.json', 'w').write(json.dumps(n)); os._exit(0)\n"
            "signal.signal(signal.SIGUSR1, stop)\n"
            "signal.signal(signal.SIGUSR2, start)\n"
            "uvicorn.run('core.app:create_app', factory=True, host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')\n")
    s = Server([sys.executable, "-c", code, str(port), str(prof)], port, env, Path(tempfile.mkstemp(suffix=".log")[1]))
    try:
        await s.wait_ready("/healthz", timeout=90)
        lua = Path(tempfile.mkstemp(suffix=".lua")[1])
        lua.write_text(WRK_LUA)
        await wrk(f"http://127.0.0.1:{port}/api/v1/tickets", 2, token=token, body=body, lua=lua)  # warm-up
        os.kill(s.proc.pid, signal.SIGUSR2)  # profile requests only, not start-up
        run = await wrk(f"http://127.0.0.1:{port}/api/v1/tickets", seconds, token=token, body=body, lua=lua)
        os.kill(s.proc.pid, signal.SIGUSR1)
        s.proc.wait(30)
        stats = pstats.Stats(str(prof))
        rows = []
        for (file, line, fn), (cc, nc, tt, ct, _) in stats.stats.items():
            rows.append({"function": f"{Path(file).name}:{line}({fn})", "file": file, "calls": nc,
                         "own_s": round(tt, 3), "cumulative_s": round(ct, 3)})
        own = sorted(rows, key=lambda r: -r["own_s"])[:15]
        ours = sorted((r for r in rows if str(ROOT) in r["file"]), key=lambda r: -r["cumulative_s"])[:15]
        statements = json.loads(Path(f"{prof}.json").read_text())["statements"]
        # cProfile counts every resumption of a coroutine as a call: "calls" of async functions are not requests
        return {"requests_under_profiler": run["requests"], "rps_under_profiler": run["rps"],
                "sql_statements_per_request": round(statements / max(1, run["requests"]), 1),
                "top_own_time": own, "top_cumulative_ours": ours, "total_s": round(stats.total_tt, 2)}
    finally:
        s.stop()


def ratio(ours: float, ceiling: float) -> str:
    return f"{ours / ceiling:.2f}" if ceiling else "—"


def cpu_lines(out: dict) -> list[str]:
    """Where a created ticket's CPU goes (2 workers), beside pgbench's transaction: what bounds the throughput."""
    c, pg = out.get("create_cpu_w2"), out["results"].get("pgbench_insert", {}).get("cpu")
    if not c:
        return []
    cores = out["machine"]["cpus"]
    line = (f"CPU per created ticket (2 workers): {c['machine_ms']:.2f} ms of the machine's — web workers "
            f"{c['web_workers_ms']:.2f}, PostgreSQL {c['postgresql_ms']:.2f}, Redis {c['redis_ms']:.2f}, other "
            f"{c['other_ms']:.2f} ms ({c['idle_pct']:.0f} % idle), so at most {cores * 1000 / c['machine_ms']:,.0f} "
            f"tickets/s on {cores} cores")
    if pg:  # pgbench's own connections end with it, so only the machine's figure is known
        line += f"; a pgbench transaction (ticket + event, 4 statements) takes {pg['machine_ms']:.2f} ms of the machine's"
    return ["", line + "."]


def table(out: dict) -> str:
    r = out["results"]
    gain = {f: r[f"{f}_w2"]["rps"] / max(r[f"{f}_w1"]["rps"], 0.1) for f in ("create", "inbox")}
    best = "w2" if max(gain.values()) > 1.1 and min(gain.values()) > 0.9 else "w1"
    out["chosen_workers"] = 2 if best == "w2" else 1
    bare = r[f"bare_post_{best}"]
    lines = [
        f"Workers: create ticket {r['create_w1']['rps']:.0f} req/s with 1 granian worker, "
        f"{r['create_w2']['rps']:.0f} with 2; inbox {r['inbox_w1']['rps']:.0f} vs {r['inbox_w2']['rps']:.0f} req/s "
        f"→ figures below use {out['chosen_workers']} worker(s) (2 only when they gain > 10 % on one figure and lose "
        f"no more than 10 % on the other: the load "
        f"generator, PostgreSQL and the workers share {out['machine']['cpus']} cores).",
        *([f"Server: granian serves create ticket at {r['create_w1']['rps']:.0f} req/s (p99 {r['create_w1']['p99_ms']:.0f} ms) "
           f"with 1 worker and {r['create_w2']['rps']:.0f} (p99 {r['create_w2']['p99_ms']:.0f} ms) with 2, the inbox at "
           f"{r['inbox_w1']['rps']:.0f} and {r['inbox_w2']['rps']:.0f} req/s; uvicorn at {r['create_uvicorn_w1']['rps']:.0f} "
           f"(p99 {r['create_uvicorn_w1']['p99_ms']:.0f} ms) and {r['create_uvicorn_w2']['rps']:.0f} "
           f"(p99 {r['create_uvicorn_w2']['p99_ms']:.0f} ms), the inbox at {r['inbox_uvicorn_w1']['rps']:.0f} and "
           f"{r['inbox_uvicorn_w2']['rps']:.0f} req/s."] if "create_uvicorn_w2" in r else []),
        "",
        "| figure | ours | ceiling (same run) | ratio | target |",
        "|---|---|---|---|---|",
        f"| create ticket, 16 conns, throughput | {r[f'create_{best}']['rps']:.0f} req/s | bare Litestar POST "
        f"{bare['rps']:.0f} req/s; raw asyncpg ticket+event {r['raw_insert']['rps']:.0f} tx/s; pgbench ticket+event "
        f"{r['pgbench_insert'].get('tps', 0):.0f} tx/s | "
        f"{ratio(r[f'create_{best}']['rps'], bare['rps'])} / {ratio(r[f'create_{best}']['rps'], r['raw_insert']['rps'])} / "
        f"{ratio(r[f'create_{best}']['rps'], r['pgbench_insert'].get('tps', 0))} | ≥ {TARGETS['create_rps']:,} /s |",
        f"| create ticket, 16 conns, p50 | {r[f'create_{best}']['p50_ms']:.1f} ms | bare {bare['p50_ms']:.1f} ms; "
        f"raw {r['raw_insert']['p50_ms']:.1f} ms | {ratio(r[f'create_{best}']['p50_ms'], bare['p50_ms'])} | — |",
        f"| create ticket, 16 conns, p99 | {r[f'create_{best}']['p99_ms']:.1f} ms | bare {bare['p99_ms']:.1f} ms; "
        f"raw {r['raw_insert']['p99_ms']:.1f} ms | {ratio(r[f'create_{best}']['p99_ms'], bare['p99_ms'])} "
        f"| ≤ {TARGETS['create_p99_ms']} ms |",
        f"| inbox, unloaded p50 (sequential) | {r[f'inbox_seq_{best}']['p50_ms']:.2f} ms | raw SELECT "
        f"{r['raw_inbox_seq']['p50_ms']:.2f} ms | {ratio(r[f'inbox_seq_{best}']['p50_ms'], r['raw_inbox_seq']['p50_ms'])} "
        f"| ≤ {TARGETS['inbox_p50_ms']} ms |",
        f"| inbox, 16 conns, throughput | {r[f'inbox_{best}']['rps']:.0f} req/s (p99 {r[f'inbox_{best}']['p99_ms']:.1f} ms) "
        f"| raw SELECT {r['raw_inbox']['rps']:.0f} /s (p99 {r['raw_inbox']['p99_ms']:.1f} ms) | "
        f"{ratio(r[f'inbox_{best}']['rps'], r['raw_inbox']['rps'])} | ≥ {TARGETS['inbox_rps']:,} /s |",
        f"| RSS of one web worker after warm-up | {out['memory']['rss_mb_after_warmup']} MB (each of 2 workers: "
        f"{', '.join(map(str, out['memory']['rss_mb_two_workers']))} MB) | — | — "
        f"| ≤ {TARGETS['rss_mb']} MB |",
        "",
        *cpu_lines(out),
        f"Tickets in the table: {out['load']['tickets_copied']:,} bulk-copied over {out['load']['tenants']:,} companies "
        f"in {out['load']['copy_s']} s (+ {out['load']['index_build_s']} s index build); "
        f"{out['load']['demo_project_tickets']:,} in the benchmarked project; {out['rows_after']:,} at the end.",
        f"Errors: non-2xx create {r[f'create_{best}']['non_2xx']}, inbox {r[f'inbox_{best}']['non_2xx']}; "
        f"load average {out['machine']['loadavg_at_start'][0]:.1f} at start, {out['loadavg_at_end'][0]:.1f} at end "
        f"(wrk, the servers and PostgreSQL share the same cores; figures are noisy — compare ratios).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="duration of each load run")
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=1_000_000, help="target number of bulk-loaded tickets")
    parser.add_argument("--load-seconds", type=float, default=60, help="time budget of the bulk load")
    parser.add_argument("--profile", action="store_true", help="also cProfile one worker serving create-ticket")
    parser.add_argument("--timeout", type=int, default=360, help="stop the whole run after this many seconds")
    args = parser.parse_args()
    t0 = args.t0 = time.perf_counter()
    out: dict = {}
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    stamp = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    try:
        asyncio.run(asyncio.wait_for(run(args, out), args.timeout))
    except (asyncio.TimeoutError, TimeoutError):
        out["stopped"] = f"stopped after {args.timeout} s: incomplete"
        (results / f"api_bench-{stamp}.json").write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        raise SystemExit(f"api_bench: stopped after {args.timeout} s; partial results in {results}/api_bench-{stamp}.json")
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    md = table(out)
    print("\n" + md)
    if "profile" in out:
        print("\ncProfile of create-ticket (one worker), most own time:")
        for row in out["profile"]["top_own_time"]:
            print(f"  {row['own_s']:>7.3f} s own  {row['cumulative_s']:>7.3f} s cum  {row['calls']:>8}  {row['function']}")
        print("project code, most cumulative time (calls of async functions count every resumption):")
        for row in out["profile"]["top_cumulative_ours"]:
            print(f"  {row['cumulative_s']:>7.3f} s cum  {row['own_s']:>7.3f} s own  {row['calls']:>8}  "
                  f"{row['file'].replace(str(ROOT) + '/', '')}:{row['function'].split(':', 1)[1]}")
        print(f"SQL statements sent to PostgreSQL per create request: {out['profile']['sql_statements_per_request']}; "
              f"{out['profile']['requests_under_profiler']} requests profiled")
    (results / f"api_bench-{stamp}.json").write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    (results / f"api_bench-{stamp}.md").write_text(f"# API benchmark {out['started_at']}\n\n{md}\n")
    print(f"\nwritten {results}/api_bench-{stamp}.json and .md")


if __name__ == "__main__":
    main()
