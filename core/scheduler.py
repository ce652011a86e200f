"""The scheduler: enqueues periodic jobs (declared by `register_periodic_jobs`) with their `as_of` slot.

A slot is claimed by inserting a `JobRun(job, slot)` row under a unique index, so two schedulers
started by mistake never enqueue the same run twice. It also sends jobs kept in the outbox.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from core.contracts import PeriodicJob
from core.plugins import get_registry

log = logging.getLogger("guanjia.scheduler")
TZ = ZoneInfo("Asia/Shanghai")


def current_slot(schedule: str, now: datetime) -> datetime | None:
    """The latest moment at or before `now` at which a job with this schedule is due (aware, UTC)."""
    local = now.astimezone(TZ)
    parts = schedule.split()
    if parts[0] == "every" and len(parts) == 3 and parts[2].startswith("minute"):
        step = int(parts[1])
        minutes = (local.hour * 60 + local.minute) // step * step
        slot = local.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0)
    elif parts[0] == "daily" and len(parts) == 2:
        hh, mm = (int(x) for x in parts[1].split(":"))
        slot = local.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if slot > local:
            slot -= timedelta(days=1)
    elif parts[0] == "monthly" and len(parts) == 3:
        day = int(parts[1])
        hh, mm = (int(x) for x in parts[2].split(":"))
        slot = local.replace(day=day, hour=hh, minute=mm, second=0, microsecond=0)
        if slot > local:
            prev = (local.replace(day=1) - timedelta(days=1))
            slot = prev.replace(day=day, hour=hh, minute=mm, second=0, microsecond=0)
    else:
        raise ValueError(f"unknown schedule {schedule!r}; use 'every N minutes', 'daily HH:MM' or 'monthly D HH:MM'")
    return slot.astimezone(timezone.utc)


def periodic_jobs() -> dict[str, PeriodicJob]:
    return {job.name: job for _, job in get_registry().collect("register_periodic_jobs")}


async def claim(job: str, slot: datetime) -> bool:
    """Claim a run; False when another scheduler (or an earlier tick) already has it."""
    from core.tables import JobRun

    rows = await JobRun.insert(JobRun(job=job, slot=slot.isoformat(), status="enqueued")).on_conflict(
        action="DO NOTHING").returning(JobRun.id)
    return bool(rows)


async def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every job whose current slot has not run yet; returns the names enqueued."""
    from core.jobs import enqueue, send_outbox

    now = now or datetime.now(timezone.utc)
    started = []
    for job in periodic_jobs().values():
        slot = current_slot(job.schedule, now)
        if slot is not None and await claim(job.name, slot):
            await enqueue(job.actor_name, slot.isoformat())
            started.append(job.name)
    try:
        await send_outbox()
    except Exception:  # noqa: BLE001
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
