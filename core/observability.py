"""Request ids, structured JSON logs and Prometheus metrics (`/metrics`).

Requests and latencies are counted by `observe_middleware` (one layer with the request id); queue depth and
failed jobs are read from the broker when `/metrics` is scraped, so they are right whichever process ran them.
"""
from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
from typing import Any

from litestar import Response, get
from litestar.types import ASGIApp, Message, Receive, Scope, Send

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Personal data never reaches a log line (PIPL): mainland mobile numbers (also +86 and 3-4-4 with - or space)
# and 18-character ID numbers are masked wherever they appear, in messages and in exception texts.
_MOBILE = re.compile(r"(?<![\dA-Za-z])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?![\dA-Za-z])")
_ID_NUMBER = re.compile(r"(?<![\dA-Za-z])(\d{4})\d{10}(\d{3}[\dXx])(?![\dA-Za-z])")


def redact(text: str) -> str:
    """`text` with phone numbers shown as ``138****5678`` and ID numbers as ``4403**********1234``."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}{'*' * 10}{m.group(2)}", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being served; personal numbers masked."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "msg": redact(record.getMessage()),
            "request_id": request_id.get(),
        }
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The human-readable format, with the same masking."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: int = logging.INFO, json_logs: bool = True) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_logs else PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("litestar", "uvicorn", "uvicorn.error", "uvicorn.access"):  # their own handlers: through ours instead
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True


def granian_logging(json_logs: bool = True) -> dict[str, Any]:
    """granian's own log lines (start, stop, workers) in the same format as the app's."""
    formatter = {"()": "core.observability.JsonFormatter"} if json_logs else {
        "()": "core.observability.PlainFormatter", "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    return {"formatters": {"generic": formatter, "access": formatter},
            "handlers": {"console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
                         "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}}}


_METRICS: dict[str, Any] = {}


def _metrics() -> dict[str, Any]:
    """The HTTP metrics, registered once per process (Litestar's Prometheus plugin's names and labels)."""
    if not _METRICS:
        from prometheus_client import Counter, Gauge, Histogram

        labels = ("method", "path", "status_code", "app_name")
        _METRICS.update(
            requests=Counter("guanjia_requests_total", "Total requests", labels),
            errors=Counter("guanjia_requests_error_total", "Total errors in requests", labels),
            duration=Histogram("guanjia_request_duration_seconds", "Request duration, in seconds", labels),
            in_progress=Gauge("guanjia_requests_in_progress", "Total requests currently in progress", labels,
                              multiprocess_mode="livesum"),
            children={})
    return _METRICS


def _child(kind: str, method: str, path: str, status: int) -> Any:
    """A metric's child for these labels; kept, so a request costs two dictionary look-ups, not `labels()`."""
    m = _metrics()
    key = (kind, method, path, status)
    child = m["children"].get(key)
    if child is None:
        child = m["children"][key] = m[kind].labels(method, path, status, "guanjia")
    return child


def _excluded(path: str) -> bool:
    return path.startswith(("/metrics", "/static"))


def observe_middleware(app: ASGIApp) -> ASGIApp:
    """Request id and HTTP metrics in one layer: take `X-Request-ID` from the client (or make one), log with
    it and send it back; count the request, its status and its duration by route (its path template)."""
    _metrics()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        rid = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value.decode("latin-1")[:64]
                break
        if not (rid and rid.replace("-", "").isalnum()):
            rid = os.urandom(16).hex()
        header = (b"x-request-id", rid.encode())
        token = request_id.set(rid)
        method, path = scope["method"], scope.get("path_template") or scope["path"]
        counted = not _excluded(path)
        started = time.perf_counter()
        status, duration = 500, 0.0

        async def send_observed(message: Message) -> None:
            nonlocal status, duration
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                duration = time.perf_counter() - started
            await send(message)

        if counted:
            _child("in_progress", method, path, 200).inc()
        try:
            await app(scope, receive, send_observed)
        finally:
            request_id.reset(token)
            if counted:
                _child("in_progress", method, path, 200).dec()
                _child("requests", method, path, status).inc()
                _child("duration", method, path, status).observe(duration or time.perf_counter() - started)
                if status >= 500:
                    _child("errors", method, path, status).inc()

    return middleware


def _job_gauges() -> str:
    """Queue depth and failed (dead-lettered) jobs per queue, read from the broker."""
    from core.jobs import get_broker, load_actor_modules

    lines = ["# HELP guanjia_queue_depth Messages waiting in a job queue.", "# TYPE guanjia_queue_depth gauge",
             "# HELP guanjia_jobs_failed Jobs that failed for good (dead-lettered).", "# TYPE guanjia_jobs_failed gauge"]
    try:
        load_actor_modules()
        broker = get_broker()
        queues = sorted(q for q in broker.get_declared_queues())
        if hasattr(broker, "queues") and not hasattr(broker, "client"):  # in-process broker
            for q in queues:
                lines.append(f'guanjia_queue_depth{{queue="{q}"}} {broker.queues[q].qsize()}')
                lines.append(f'guanjia_jobs_failed{{queue="{q}"}} {len(broker.dead_letters_by_queue.get(q, []))}')
        else:
            client, ns = broker.client, broker.namespace
            for q in queues:
                lines.append(f'guanjia_queue_depth{{queue="{q}"}} {client.hlen(f"{ns}:{q}.msgs")}')
                lines.append(f'guanjia_jobs_failed{{queue="{q}"}} {client.zcard(f"{ns}:{q}.XQ")}')
    except Exception as exc:  # noqa: BLE001 - the broker being away must not break the scrape
        lines.append(f"# broker unavailable: {type(exc).__name__}")
    return "\n".join(lines) + "\n"


@get("/metrics", exclude_from_auth=True, include_in_schema=False)
async def metrics() -> Response:
    """Prometheus exposition: HTTP requests and latencies, queue depth, failed jobs."""
    import asyncio

    from prometheus_client import REGISTRY, generate_latest

    body = generate_latest(REGISTRY).decode() + await asyncio.get_running_loop().run_in_executor(None, _job_gauges)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
