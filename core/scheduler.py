"""The scheduler: enqueues periodic jobs (declared by `register_periodic_jobs`) with their `as_of` slot.

A slot is claimed by inserting a `JobRun(job, slot)` row under a unique index, so two schedulers
started by mistake never enqueue the same run twice. The row then records the run (enqueued →
running → done/failed, with the job's result). Each tick also sends jobs kept in the outbox.

Schedules are in Beijing time: ``"every N minutes"`` (slots counted from midnight), ``"daily HH:MM"``
and ``"monthly D HH:MM"`` (a day past the month's end means its last day).
"""
from __future__ import annotations

import asyncio
import calendar
import logging
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from core.contracts import PeriodicJob
from core.plugins import get_registry

log = logging.getLogger("guanjia.scheduler")
TZ = ZoneInfo("Asia/Shanghai")


def _hhmm(text: str, schedule: str) -> tuple[int, int]:
    try:
        hh, mm = (int(x) for x in text.split(":"))
    except ValueError:
        raise ValueError(f"bad time {text!r} in schedule {schedule!r}; use HH:MM") from None
    if not (0 <= hh < 24 and 0 <= mm < 60):
        raise ValueError(f"bad time {text!r} in schedule {schedule!r}")
    return hh, mm


def _monthly(year: int, month: int, day: int, hh: int, mm: int) -> datetime:
    last = calendar.monthrange(year, month)[1]
    return datetime(year, month, min(day, last), hh, mm, tzinfo=TZ)


def current_slot(schedule: str, now: datetime) -> datetime:
    """The latest moment at or before `now` at which a job with this schedule is due (aware, UTC)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(TZ)
    parts = schedule.split()
    if len(parts) == 3 and parts[0] == "every" and parts[2] in ("minute", "minutes"):
        step = int(parts[1])
        if not 1 <= step <= 1440:
            raise ValueError(f"bad interval in schedule {schedule!r}")
        minutes = (local.hour * 60 + local.minute) // step * step
        slot = datetime(local.year, local.month, local.day, minutes // 60, minutes % 60, tzinfo=TZ)
    elif len(parts) == 2 and parts[0] == "daily":
        hh, mm = _hhmm(parts[1], schedule)
        slot = datetime(local.year, local.month, local.day, hh, mm, tzinfo=TZ)
        if slot > local:
            d = slot.date() - timedelta(days=1)
            slot = datetime(d.year, d.month, d.day, hh, mm, tzinfo=TZ)
    elif len(parts) == 3 and parts[0] == "monthly":
        day = int(parts[1])
        if not 1 <= day <= 31:
            raise ValueError(f"bad day in schedule {schedule!r}")
        hh, mm = _hhmm(parts[2], schedule)
        slot = _monthly(local.year, local.month, day, hh, mm)
        if slot > local:
            year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
            slot = _monthly(year, month, day, hh, mm)
    else:
        raise ValueError(f"unknown schedule {schedule!r}; use 'every N minutes', 'daily HH:MM' or 'monthly D HH:MM'")
    return slot.astimezone(timezone.utc)


def periodic_jobs() -> dict[str, PeriodicJob]:
    """Every periodic job declared through `register_periodic_jobs`, by name."""
    jobs: dict[str, PeriodicJob] = {}
    for plugin, job in get_registry().collect("register_periodic_jobs"):
        if job.name in jobs:
            log.error("periodic job %s of plugin %s is declared twice; the first one is kept", job.name, plugin)
            continue
        jobs[job.name] = job
    return jobs


async def claim(job: str, slot: datetime) -> bool:
    """Claim a run; False when another scheduler (or an earlier tick) already has it."""
    from core.tables import JobRun

    rows = await JobRun.insert(JobRun(job=job, slot=slot.isoformat(), status="enqueued")).on_conflict(
        action="DO NOTHING").returning(JobRun.id)
    return bool(rows)


def _jobs_of_actor(actor_name: str) -> list[str]:
    return [j.name for j in periodic_jobs().values() if j.actor_name == actor_name]


async def start_run(actor_name: str, slot: str) -> None:
    """Mark the scheduled run of this actor for `slot` as running (no-op for other calls)."""
    from core.tables import JobRun

    names = _jobs_of_actor(actor_name)
    if names:
        await JobRun.update({JobRun.status: "running"}).where(
            JobRun.job.is_in(names) & (JobRun.slot == slot) & (JobRun.status != "done"))


async def finish_run(actor_name: str, slot: str, status: str, result: dict[str, Any]) -> None:
    """Record the outcome of the scheduled run of this actor for `slot` (no-op for other calls)."""
    names = _jobs_of_actor(actor_name)
    if names:
        await _record(names, slot, status, result)


async def _record(names: list[str], slot: str, status: str, result: dict[str, Any]) -> None:
    from core.tables import JobRun

    await JobRun.update({JobRun.status: status, JobRun.finished_at: datetime.now(timezone.utc),
                         JobRun.result: result}).where(JobRun.job.is_in(names) & (JobRun.slot == slot))


async def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every job whose current slot has not been claimed yet; returns the names enqueued."""
    from core.jobs import enqueue, send_outbox

    now = now or datetime.now(timezone.utc)
    started = []
    for job in periodic_jobs().values():
        try:
            slot = current_slot(job.schedule, now)
        except ValueError:
            log.exception("periodic job %s has a bad schedule and is skipped", job.name)
            continue
        if await claim(job.name, slot):
            try:
                await enqueue(job.actor_name, slot.isoformat())  # a broker away keeps it in the outbox
            except Exception as exc:  # noqa: BLE001 - e.g. no such actor: recorded on the run
                log.exception("periodic job %s could not be enqueued", job.name)
                await _record([job.name], slot.isoformat(), "failed", {"error": f"{type(exc).__name__}: {exc}"[:500]})
                continue
            started.append(job.name)
    try:
        await send_outbox()
    except Exception:  # noqa: BLE001 - the next tick tries again
        log.exception("outbox sweep failed")
    return started


async def run_forever(interval: float = 20.0) -> None:
    log.info("scheduler running: %s", ", ".join(sorted(periodic_jobs())))
    while True:
        try:
            names = await tick()
            if names:
                log.info("enqueued %s", ", ".join(names))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("scheduler tick failed")
        await asyncio.sleep(interval)
