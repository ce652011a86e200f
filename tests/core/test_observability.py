"""Request ids, /metrics and JSON logs."""
from __future__ import annotations

import json
import logging


def _sample(text: str, name: str) -> float:
    """The value of one sample line of the exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_expose_requests_latency_queue_depth_and_failed_jobs(client, world):
    listed = 'guanjia_requests_total{app_name="guanjia",method="GET",path="/api/v1/tickets",status_code="200"}'
    before = _sample((await client.get("/metrics")).text, listed)
    await client.get("/api/v1/tickets", headers=world.headers())
    r = await client.get("/metrics")
    assert r.status_code == 200
    text = r.text
    assert _sample(text, listed) == before + 1  # counted once, by its route
    assert any(line.startswith("guanjia_request_duration_seconds_bucket{") and 'path="/api/v1/tickets"' in line
               for line in text.splitlines())
    await client.get("/api/v1/tickets/999999999", headers=world.headers())  # counted by its route, not its path
    text = (await client.get("/metrics")).text
    assert 'path="/api/v1/tickets/{ticket_id}",status_code="404"' in text and "/tickets/999999999" not in text
    assert 'guanjia_requests_in_progress{app_name="guanjia",method="GET",path="/api/v1/tickets",status_code="200"} 0.0' in text
    assert 'path="/metrics"' not in text
    assert "guanjia_queue_depth" in text and "guanjia_jobs_failed" in text


async def test_request_id_is_echoed_or_made(client):
    r = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/healthz")
    assert len(r.headers["x-request-id"]) == 32


def test_json_log_lines_carry_the_request_id():
    from core.observability import JsonFormatter, request_id

    token = request_id.set("rid-1")
    try:
        line = JsonFormatter().format(logging.LogRecord("guanjia", logging.INFO, __file__, 1, "hello %s", ("x",), None))
    finally:
        request_id.reset(token)
    data = json.loads(line)
    assert data["msg"] == "hello x" and data["request_id"] == "rid-1" and data["level"] == "info"
