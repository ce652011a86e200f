"""Background jobs on Dramatiq.

With `REDIS_URL` set the broker is Redis and `guanjia worker` / `guanjia scheduler` run as their own
processes. Without it, an in-process broker and worker (and the scheduler) run inside `guanjia serve`.

Actors live in `actors.py` modules and are declared with `core.actor(plugin, name)`: names and
queues are namespaced by plugin; arguments are plain JSON values with the tenant id first.
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import threading
from typing import Any, Callable

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware.asyncio import AsyncIO

from core.settings import get_settings

log = logging.getLogger("guanjia.jobs")
_broker: dramatiq.Broker | None = None
_lock = threading.Lock()


def get_broker() -> dramatiq.Broker:
    """The process's broker, chosen by `REDIS_URL`; set as Dramatiq's global broker on first use."""
    global _broker
    with _lock:
        if _broker is None:
            settings = get_settings().jobs
            if settings.redis_url:
                from dramatiq.brokers.redis import RedisBroker

                broker: dramatiq.Broker = RedisBroker(url=settings.redis_url, namespace=f"{settings.namespace}-dramatiq")
            else:
                broker = StubBroker()
                broker.emit_after("process_boot")
            broker.add_middleware(AsyncIO())
            dramatiq.set_broker(broker)
            _broker = broker
    return _broker


def reset_broker() -> None:
    """Forget the broker (tests switch between the in-process and the Redis broker)."""
    global _broker
    with _lock:
        _broker = None


def actor(plugin: str, name: str, *, queue: str = "default", max_retries: int = 5, time_limit_ms: int = 600_000,
          **options: Any) -> Callable[[Callable[..., Any]], dramatiq.Actor]:
    """Declare an actor named ``plugin.name`` on queue ``plugin.queue``.

    The function is async, takes ``tenant_id`` first (or ``as_of`` for periodic jobs over all tenants),
    and only plain JSON values.
    """

    def decorate(fn: Callable[..., Any]) -> dramatiq.Actor:
        async def run(*args: Any, **kwargs: Any) -> Any:
            from core.db import start_pool

            await start_pool()
            return await fn(*args, **kwargs)

        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        return dramatiq.actor(run, actor_name=f"{plugin}.{name}", queue_name=f"{plugin}.{queue}", broker=get_broker(),
                              max_retries=max_retries, time_limit=time_limit_ms, **options)

    return decorate


def load_actor_modules() -> list[str]:
    """Import every `actors.py` of the kernel and of the installed plugins so their actors are declared."""
    from core.plugins import get_registry

    loaded = []
    for module in ["core.actors", *[f"{pkg.__name__}.actors" for pkg in get_registry().packages.values()
                                   if hasattr(pkg, "__path__")]]:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
            loaded.append(module)
    return loaded


async def enqueue(actor_name: str, *args: Any, **kwargs: Any) -> bool:
    """Send a message; if the broker is away, keep it in the outbox for `core.outbox_sweep` and return False."""
    broker = get_broker()
    try:
        target = broker.get_actor(actor_name)
    except dramatiq.errors.ActorNotFound:
        load_actor_modules()
        target = broker.get_actor(actor_name)
    try:
        if isinstance(broker, StubBroker):
            target.send(*args, **kwargs)
        else:
            await asyncio.get_running_loop().run_in_executor(None, lambda: target.send(*args, **kwargs))
        return True
    except Exception as exc:  # noqa: BLE001 - broker away: keep the job
        from core.tables import Outbox

        log.warning("broker unavailable, job %s kept in the outbox: %s", actor_name, exc)
        await Outbox.insert(Outbox(actor_name=actor_name, queue_name=target.queue_name, args=list(args),
                                   kwargs=kwargs, last_error=str(exc)[:500]))
        return False


async def send_outbox(limit: int = 500) -> int:
    """Send jobs kept in the outbox, oldest first; returns how many went out."""
    from datetime import datetime, timezone

    from core.db import json_value
    from core.tables import Outbox

    rows = await Outbox.select().where(Outbox.sent_at.is_null()).order_by(Outbox.id).limit(limit)
    broker, sent = get_broker(), 0
    for row in rows:
        try:
            broker.get_actor(row["actor_name"]).send(*(json_value(row["args"]) or []), **(json_value(row["kwargs"]) or {}))
        except Exception as exc:  # noqa: BLE001
            await Outbox.update({Outbox.attempts: Outbox.attempts + 1, Outbox.last_error: str(exc)[:500]}).where(
                Outbox.id == row["id"])
            break
        await Outbox.update({Outbox.sent_at: datetime.now(timezone.utc)}).where(Outbox.id == row["id"])
        sent += 1
    return sent


def make_worker(threads: int | None = None, queues: set[str] | None = None) -> dramatiq.Worker:
    load_actor_modules()
    return dramatiq.Worker(get_broker(), queues=queues, worker_threads=threads or get_settings().jobs.worker_threads)


def lifespan_hooks(embedded_worker: bool | None) -> tuple[list[Callable[[], Any]], list[Callable[[], Any]]]:
    """Start/stop hooks for the web app: the embedded worker and scheduler when there is no Redis."""
    if embedded_worker is None:
        embedded_worker = get_settings().jobs.embedded
    state: dict[str, Any] = {}

    async def start() -> None:
        load_actor_modules()
        if embedded_worker:
            worker = make_worker(threads=2)
            worker.start()
            state["worker"] = worker
            from core.scheduler import run_forever

            state["scheduler"] = asyncio.create_task(run_forever())
            log.info("embedded worker and scheduler started")

    async def stop() -> None:
        task = state.pop("scheduler", None)
        if task:
            task.cancel()
        worker = state.pop("worker", None)
        if worker:
            await asyncio.get_running_loop().run_in_executor(None, worker.stop)

    return [start], [stop]
