"""Benchmark: notification fan-out through Dramatiq on Redis, beside a no-op actor's drain rate.

Not a test. Needs DATABASE_URL (a fresh PostgreSQL database: `bench/run_all.sh` makes one) and REDIS_URL.

1. Migrates the database, creates one company whose email channel points at an SMTP sink on
   127.0.0.1 (aiosmtpd, accepting and discarding), and N staff members with e-mail addresses.
2. Ceiling: N messages to a no-op actor on the same broker, drained by an in-process Dramatiq worker with
   the same thread count: messages per second from the first enqueue to an empty queue.
3. Ours: one `core.notify.send(channel="email")` to the N staff — N rows recorded, N delivery jobs
   enqueued, each delivered by the worker through SMTP and its outcome written back — timed from the
   call to the last `sent` outcome; the enqueue part is reported on its own.
4. Idempotency: the same send again records and enqueues nothing.

Options: --recipients N (default 2000), --threads T (default 4). Writes bench/results/notify_fanout-<time>.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
os.environ.setdefault("GUANJIA_QUEUE_NAMESPACE", f"guanjia-bench-{os.getpid()}")


def smtp_sink():
    from aiosmtpd.controller import Controller

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            Sink.count += 1
            return "250 OK"

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, Sink, port


async def run(args) -> dict:
    from core import admin, jobs, notify
    from core.cli import migrate_all
    from core.db import start_pool
    from core.tables import Notification

    if not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL")
    await migrate_all(quiet=True)
    await start_pool()
    controller, sink, port = smtp_sink()
    from argon2 import PasswordHasher

    from core import auth

    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # staff set-up only; not measured
    slug = f"fanout-{int(time.time())}"
    tenant = await admin.create_tenant(slug, "群发测试物业", plugins=[],
                                       settings={"notifications": {"email": {"host": "127.0.0.1", "port": port,
                                                                             "sender": "bench@guanjia.test"}}})
    users = []
    for i in range(args.recipients):
        u = await admin.create_user(f"{slug}-{i}", f"员工{i}", "bench-password-1", email=f"staff{i}@guanjia.test")
        await admin.add_membership(tenant["id"], u["id"], "front_desk", [])
        users.append(u["id"])

    @jobs.actor("bench", "noop", queue="noop")
    async def noop(i: int) -> None:
        return None

    broker = jobs.get_broker()
    jobs.load_actor_modules()
    worker = jobs.make_worker(threads=args.threads)
    worker.start()
    loop = asyncio.get_running_loop()
    try:
        # ceiling: a no-op actor's drain rate on the same broker and worker
        t0 = time.perf_counter()
        for i in range(args.recipients):
            await jobs.enqueue("bench.noop", i)
        enqueued_noop = time.perf_counter() - t0
        await loop.run_in_executor(None, lambda: broker.join("bench.noop", timeout=600_000))
        noop_s = time.perf_counter() - t0

        # ours: one fan-out to every recipient by email
        t0 = time.perf_counter()
        ids = await notify.send(tenant["id"], template="bench.fanout", subject="停水通知", body="明日 9:00-12:00 停水。",
                                key="bench:fanout:1", user_ids=users, channel="email")
        enqueued = time.perf_counter() - t0
        while True:
            # "sending" is the worker's claim before the SMTP conversation: only the written outcome counts
            done = await Notification.count().where(Notification.id.is_in(ids)
                                                    & Notification.outcome.not_in(["pending", "sending"]))
            if done >= len(ids):
                break
            await asyncio.sleep(0.05)
        fanout_s = time.perf_counter() - t0
        outcomes = await Notification.select(Notification.outcome).where(Notification.id.is_in(ids))
        again = await notify.send(tenant["id"], template="bench.fanout", subject="停水通知", key="bench:fanout:1",
                                  user_ids=users, channel="email")
    finally:
        await loop.run_in_executor(None, worker.stop)
        controller.stop()
    n = args.recipients
    return {
        "recipients": n, "worker_threads": args.threads,
        "noop": {"seconds": round(noop_s, 2), "per_s": round(n / noop_s, 1), "enqueue_s": round(enqueued_noop, 2)},
        "fanout": {"seconds": round(fanout_s, 2), "per_s": round(n / fanout_s, 1), "record_and_enqueue_s": round(enqueued, 2),
                   "sent": sum(1 for o in outcomes if o["outcome"] == "sent"), "smtp_received": sink.count},
        "ratio": round((n / fanout_s) / (n / noop_s), 2),
        "second_send_new_rows": len(again),
        "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    out = asyncio.run(run(args))
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    stamp = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    (results / f"notify_fanout-{stamp}.json").write_text(json.dumps(out, indent=2, ensure_ascii=False))
    f, c = out["fanout"], out["noop"]
    print(f"| figure | ours | ceiling | ratio |\n|---|---|---|---|\n"
          f"| notification fan-out by email, {out['recipients']} recipients, {out['worker_threads']} worker threads "
          f"(messages/s) | {f['per_s']} | {c['per_s']} (no-op actor) | {out['ratio']} |")
    print(f"RESULT notify_fanout: {f['sent']}/{out['recipients']} sent, SMTP sink received {f['smtp_received']}, "
          f"record+enqueue {f['record_and_enqueue_s']} s, end to end {f['seconds']} s; no-op drain {c['seconds']} s; "
          f"second send recorded {out['second_send_new_rows']} (idempotent); load average {out['machine']['loadavg'][0]:.1f} "
          f"(worker, broker and database share the machine's cores)")


if __name__ == "__main__":
    main()
