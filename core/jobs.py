"""Background jobs on Dramatiq.

With `REDIS_URL` set the broker is Redis and `guanjia worker` / `guanjia scheduler` run as their own
processes. Without it, an in-process broker and worker (and the scheduler) run inside `guanjia serve`.

Actors live in `actors.py` modules and are declared with `core.actor(plugin, name)`: names and
queues are namespaced by plugin; arguments are plain JSON values with the tenant id first (periodic
jobs take the `as_of` ISO moment instead). A message that cannot reach the broker is kept in the
`Outbox` table and sent later by `send_outbox` (the scheduler calls it on every tick).
"""
from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import logging
import os
import threading
import weakref
from datetime import datetime, timezone
from typing import Any, Callable

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware.asyncio import AsyncIO

from core.settings import get_settings

log = logging.getLogger("guanjia.jobs")
_broker: dramatiq.Broker | None = None
_actors: dict[str, "Actor"] = {}
_lock = threading.RLock()


class Actor(dramatiq.Actor):
    """A Dramatiq actor whose `fn` stays the async function, so a job can be awaited inline
    (`await actor.fn(...)`, as `guanjia run-job` does); the worker runs it on its event loop thread."""

    def __init__(self, fn: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(fn, **kwargs)
        self._run_sync = self.fn
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self._run_sync(*args, **kwargs)  # a periodic job's result is kept on its `JobRun` row


def make_broker(redis_url: str | None = None) -> dramatiq.Broker:
    """A Redis broker for `redis_url`, else an in-process one; both run async actors."""
    if redis_url:
        from dramatiq.brokers.redis import RedisBroker

        jobs = get_settings().jobs
        broker: dramatiq.Broker = RedisBroker(url=redis_url, namespace=f"{jobs.namespace}-dramatiq",
                                              heartbeat_timeout=jobs.heartbeat_ms,
                                              maintenance_chance=jobs.maintenance_chance)
        broker.redis_url = redis_url  # type: ignore[attr-defined]  # for the asyncio client of `enqueue`
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    broker.add_middleware(AsyncIO())
    return broker


def get_broker() -> dramatiq.Broker:
    """The process's broker, chosen by `REDIS_URL`; set as Dramatiq's global broker on first use."""
    with _lock:
        if _broker is None:
            use_broker(make_broker(get_settings().jobs.redis_url))
        assert _broker is not None
        return _broker


def use_broker(broker: dramatiq.Broker | None) -> dramatiq.Broker | None:
    """Make `broker` the process's broker and bind every declared actor to it; returns the previous one.
    `None` forgets the broker, so the next `get_broker()` builds it again from the settings."""
    global _broker
    with _lock:
        previous, _broker = _broker, broker
        if broker is not None:
            dramatiq.set_broker(broker)
            for a in _actors.values():
                a.broker = broker
                if a.actor_name not in broker.actors:
                    broker.declare_actor(a)
        return previous


def reset_broker() -> None:
    """Forget the broker (tests switch between the in-process and the Redis broker)."""
    use_broker(None)


def actor(plugin: str, name: str, *, queue: str = "default", max_retries: int = 5, time_limit_ms: int = 600_000,
          **options: Any) -> Callable[[Callable[..., Any]], Actor]:
    """Declare an actor named ``plugin.name`` on queue ``plugin.queue``.

    The function is async, takes ``tenant_id`` first (or ``as_of`` for periodic jobs over all tenants),
    and only plain JSON values.
    """
    if not plugin.isidentifier() or not name.isidentifier() or not queue.replace(".", "_").isidentifier():
        raise ValueError(f"actor names are plugin.name identifiers, got {plugin!r}, {name!r}, queue {queue!r}")
    actor_name = f"{plugin}.{name}"

    def decorate(fn: Callable[..., Any]) -> Actor:
        if not asyncio.iscoroutinefunction(fn):
            raise TypeError(f"actor {actor_name} must be an async function")

        async def run(*args: Any, **kwargs: Any) -> Any:
            from core.db import start_pool
            from core.scheduler import finish_run, start_run

            await start_pool()
            slot = args[0] if args and isinstance(args[0], str) else None
            if slot is not None:
                await start_run(actor_name, slot)
            try:
                result = await fn(*args, **kwargs)
            except Exception as exc:
                if slot is not None:
                    await finish_run(actor_name, slot, "failed", {"error": str(exc)[:500]})
                raise
            if slot is not None:
                await finish_run(actor_name, slot, "done", result if isinstance(result, dict) else {"result": result})
            return result

        run.__name__ = fn.__name__
        run.__qualname__ = fn.__qualname__
        run.__module__ = fn.__module__
        run.__doc__ = fn.__doc__
        with _lock:
            if actor_name in _actors:
                raise ValueError(f"an actor named {actor_name!r} is already declared")
            declared = dramatiq.actor(run, actor_name=actor_name, queue_name=f"{plugin}.{queue}", broker=get_broker(),
                                      actor_class=Actor, max_retries=max_retries, time_limit=time_limit_ms, **options)
            _actors[actor_name] = declared
        return declared

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


def get_actor(actor_name: str) -> Actor:
    """The declared actor of this name (loading the actor modules if needed)."""
    if actor_name not in _actors:
        load_actor_modules()
    try:
        return _actors[actor_name]
    except KeyError:
        raise LookupError(f"no actor named {actor_name!r}; known: {', '.join(sorted(_actors))}") from None


async def _send(target: Actor, args: list[Any], kwargs: dict[str, Any]) -> None:
    broker = target.broker
    if isinstance(broker, StubBroker):
        target.send(*args, **kwargs)
    elif (batcher := _redis_batcher(broker)) is not None:
        await _redis_enqueue(broker, batcher, target.message_with_options(args=tuple(args), kwargs=kwargs))
    else:
        await asyncio.get_running_loop().run_in_executor(None, lambda: target.send(*args, **kwargs))


class _RedisBatcher:
    """Runs the Redis broker's `dispatch` script for messages enqueued on one event loop, several per round
    trip: while one pipeline is on its way, the messages enqueued meanwhile wait and go in the next one
    (group commit). Each caller returns when its own message is in Redis, or gets the error."""

    def __init__(self, broker: Any, address: Any) -> None:
        from core.resp import RespConnection

        self.broker = broker
        self.connection = RespConnection(address, timeout=5, connect_timeout=2)
        self.script = broker.scripts["dispatch"].script
        self.sha: str | None = None
        self.pending: list[tuple[list[Any], asyncio.Future[None]]] = []
        self.running = False

    async def dispatch(self, args: list[Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((args, future))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._drain())
        await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                try:
                    results = await self._pipeline([args for args, _ in batch])
                except Exception as exc:  # noqa: BLE001 - every caller of the batch learns it
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(None)
        finally:
            self.running = False

    async def _pipeline(self, batch: list[list[Any]]) -> list[Any]:
        from core.resp import RespError

        namespace = self.broker.namespace
        for attempt in (1, 2):
            if self.sha is None:
                (sha,) = await self.connection.pipeline([("SCRIPT", "LOAD", self.script)])
                if isinstance(sha, RespError):
                    raise sha
                self.sha = sha.decode()
            results = await self.connection.pipeline([("EVALSHA", self.sha, 1, namespace, *args) for args in batch])
            if attempt == 1 and any(isinstance(r, RespError) and r.code == "NOSCRIPT" for r in results):
                self.sha = None  # Redis was restarted or flushed: load the script again and resend the batch
                continue
            return results
        return results


_batchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _RedisBatcher]]" = weakref.WeakKeyDictionary()


def _redis_batcher(broker: dramatiq.Broker) -> _RedisBatcher | None:
    """The running loop's batcher for a Redis broker made by `make_broker` (None for any other broker)."""
    from dramatiq.brokers.redis import RedisBroker

    from core.resp import parse_url

    url = getattr(broker, "redis_url", None)
    if not url or not isinstance(broker, RedisBroker) or not hasattr(broker, "_should_do_maintenance"):
        return None
    per_loop = _batchers.setdefault(asyncio.get_running_loop(), {})
    batcher = per_loop.get(id(broker))
    if batcher is None or batcher.broker is not broker:
        address = parse_url(url)
        if address is None:  # a socket path or URL options: the broker's own client, in a thread
            return None
        batcher = per_loop[id(broker)] = _RedisBatcher(broker, address)
    return batcher


async def _redis_enqueue(broker: Any, batcher: _RedisBatcher, message: dramatiq.Message) -> None:
    """What `RedisBroker.enqueue` does, awaited on the event loop instead of blocking a thread: the same
    script, keys and arguments, and the same middleware calls around it."""
    from dramatiq.common import current_millis

    message = message.copy(options={"redis_message_id": os.urandom(16).hex()})
    broker.emit_before("enqueue", message, None)
    unpack = type(broker)._max_unpack_size_val or await asyncio.get_running_loop().run_in_executor(
        None, broker._max_unpack_size)
    await batcher.dispatch([
        "enqueue", current_millis(), message.queue_name, broker.broker_id, broker.heartbeat_timeout,
        broker.dead_message_ttl, broker._should_do_maintenance("enqueue"), unpack,
        message.options["redis_message_id"], message.encode()])
    broker.emit_after("enqueue", message, None)


async def enqueue(actor_name: str, *args: Any, **kwargs: Any) -> bool:
    """Send a message; if the broker is away, keep it in the outbox and return False (nothing is lost)."""
    target = get_actor(actor_name)
    try:
        json.dumps([args, kwargs])
    except (TypeError, ValueError) as exc:
        raise TypeError(f"arguments of {actor_name} must be plain JSON values: {exc}") from None
    get_broker()
    try:
        await _send(target, list(args), kwargs)
        return True
    except Exception as exc:  # noqa: BLE001 - broker away: keep the job
        from core.tables import Outbox

        log.warning("broker unavailable, job %s kept in the outbox: %s", actor_name, exc)
        await Outbox.insert(Outbox(actor_name=actor_name, queue_name=target.queue_name, args=list(args),
                                   kwargs=kwargs, last_error=str(exc)[:500], attempts=1))
        return False


async def send_outbox(limit: int = 500) -> int:
    """Send jobs kept in the outbox, oldest first; returns how many went out.

    Each row is claimed (its `sent_at` set only if still empty) before it is sent, so two schedulers
    never send one row twice; a row that fails to send is released for the next attempt.
    """
    from core.db import json_value
    from core.tables import Outbox

    rows = await Outbox.select(Outbox.id).where(Outbox.sent_at.is_null()).order_by(Outbox.id).limit(limit)
    sent = 0
    for pending in rows:
        claimed = await Outbox.update({Outbox.sent_at: datetime.now(timezone.utc)}).where(
            (Outbox.id == pending["id"]) & Outbox.sent_at.is_null()).returning(
            Outbox.actor_name, Outbox.args, Outbox.kwargs)
        if not claimed:
            continue
        row = claimed[0]
        try:
            await _send(get_actor(row["actor_name"]), json_value(row["args"]) or [], json_value(row["kwargs"]) or {})
        except Exception as exc:  # noqa: BLE001 - still away: release the row and stop for now
            await Outbox.update({Outbox.sent_at: None, Outbox.attempts: Outbox.attempts + 1,
                                 Outbox.last_error: str(exc)[:500]}).where(Outbox.id == pending["id"])
            break
        sent += 1
    return sent


def make_worker(threads: int | None = None, queues: set[str] | None = None) -> dramatiq.Worker:
    """A worker on the process's broker for every declared queue (or `queues`); call `.start()`."""
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
