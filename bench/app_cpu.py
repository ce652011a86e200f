"""CPU time per request of the app alone: the ASGI app called in-process, no HTTP server, no load generator.

Not a test, and not a figure of the issue: a tool for finding where a request's time goes. It reuses the
database `bench/api_bench.py` leaves behind (1,000,000 tickets, the demo company), so run that first:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/guanjia_bench_api REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/app_cpu.py [create|inbox] [--requests 3000] [--profile]   # both by default

16 tasks send requests back to back through the whole middleware stack (request id, metrics, auth,
CSRF guard) to the handler; the figure is this process's CPU time divided by the requests (PostgreSQL's
and Redis's own CPU are not in it). `--profile` prints the functions with most own time.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
CONCURRENCY = 16


class InProcess:
    """Calls an ASGI app the way a server would, one request at a time per task."""

    def __init__(self, app) -> None:
        self.app = app

    async def start(self) -> None:
        inbox: asyncio.Queue = asyncio.Queue()
        started = asyncio.Event()

        async def send(message) -> None:
            if message["type"] == "lifespan.startup.complete":
                started.set()

        await inbox.put({"type": "lifespan.startup"})
        self._lifespan = asyncio.create_task(self.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                                      inbox.get, send))
        await asyncio.wait_for(started.wait(), 60)

    async def request(self, method: str, path: str, *, query: str = "", body: bytes = b"",
                      token: str | None = None) -> tuple[int, bytes]:
        headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
                 "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
                 "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}}
        sent = False

        async def receive():
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # the client stays connected
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        out = {"status": 0, "body": b""}

        async def send(message) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
            elif message["type"] == "http.response.body":
                out["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return out["status"], out["body"]


async def run(args) -> None:
    import asyncpg

    from core.app import create_app

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL to api_bench's database and REDIS_URL (see the module's docstring)")
    conn = await asyncpg.connect(url)
    tenant_id = await conn.fetchval("SELECT id FROM core_tenant WHERE slug = 'demo'")
    if tenant_id is None:
        raise SystemExit("no demo company in this database: run bench/api_bench.py first")
    project_id, unit_id = (await conn.fetchrow(
        "SELECT p.id, u.id FROM core_project p JOIN core_unit u ON u.project_id = p.id WHERE p.tenant_id = $1 "
        "ORDER BY p.id, u.id LIMIT 1", tenant_id)).values()
    login = await conn.fetchval("SELECT u.login FROM core_user u JOIN core_membership m ON m.user_id = u.id "
                                "WHERE m.tenant_id = $1 AND m.role = 'front_desk' LIMIT 1", tenant_id)
    await conn.close()
    app = InProcess(create_app(embedded_worker=False))
    await app.start()
    status, body = await app.request("POST", "/api/v1/auth/login", body=json.dumps(
        {"login": login, "password": args.password, "tenant": "demo"}).encode())
    if status != 200:
        raise SystemExit(f"login failed ({status}): {body[:200]!r}")
    token = json.loads(body)["token"]
    create = json.dumps({"project_id": project_id, "kind": "repair", "channel": "hotline", "title": "厨房水龙头漏水",
                         "description": "周一开始滴水，请派维修工。", "unit_id": unit_id, "contact_phone": "13800138000"},
                        ensure_ascii=False).encode()

    for what in (["create", "inbox"] if args.what == "both" else [args.what]):
        await measure(app, what, token, create, project_id, args)


async def measure(app: InProcess, what: str, token: str, create: bytes, project_id: int, args) -> None:
    async def one() -> None:
        if what == "create":
            status, body = await app.request("POST", "/api/v1/tickets", body=create, token=token)
            expected = 201
        else:
            status, body = await app.request("GET", "/api/v1/tickets", token=token,
                                             query=f"project_id={project_id}&status=open&limit=25")
            expected = 200
        if status != expected:
            raise SystemExit(f"{what}: {status} {body[:300]!r}")

    async def loop(n: int) -> None:
        for _ in range(n):
            await one()

    await loop(200)  # warm-up: prepared statements, caches
    profiler = cProfile.Profile() if args.profile else None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    await asyncio.gather(*(loop(args.requests // CONCURRENCY) for _ in range(CONCURRENCY)))
    if profiler:
        profiler.disable()
    n = args.requests // CONCURRENCY * CONCURRENCY
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(f"{what}: {n} requests, {cpu * 1000 / n:.3f} ms of this process's CPU per request "
          f"({n / wall:.0f} req/s in-process{', under the profiler' if profiler else ''})")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", nargs="?", default="both", choices=["create", "inbox", "both"])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--password", default="bench-password-1", help="the demo logins' password in that database")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
