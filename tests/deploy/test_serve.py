"""`guanjia serve` under both HTTP servers: a request still arriving when SIGTERM comes is answered in
full before the process exits, and a trusted proxy's X-Forwarded-For is the client address."""
from __future__ import annotations

import asyncio
import json
import signal

import pytest

from tests.deploy.procs import Proc, cli, free_port, wait_ready


def _serve(server: str, tmp_path, **env: str) -> tuple[Proc, int]:
    """`guanjia serve` under `server` on the embedded default (SQLite, in-process jobs) in a folder of its own,
    nothing shared with the suite; ready to answer."""
    extra = {"DATABASE_URL": "", "REDIS_URL": "", "GUANJIA_DATA_DIR": str(tmp_path), "GUANJIA_HTTP_SERVER": server, **env}
    cli(extra, "migrate")
    port = free_port()
    web = Proc(f"web-{server}", ["serve", "--port", str(port)], tmp_path, **extra)
    try:
        wait_ready(port, web)
    except BaseException:
        web.stop()
        raise
    return web, port


async def _exchange(port: int, head: bytes, body_parts: list[bytes], between) -> tuple[int, dict, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body_parts[0])
    await writer.drain()
    await between()
    for part in body_parts[1:]:
        writer.write(part)
        await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    status = int(raw.split(b" ", 2)[1])
    headers_end = raw.index(b"\r\n\r\n")
    headers = dict(line.split(": ", 1) for line in raw[:headers_end].decode().split("\r\n")[1:])
    return status, {k.lower(): v for k, v in headers.items()}, raw[headers_end + 4:]


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
async def test_sigterm_lets_a_request_in_flight_finish_then_exits_cleanly(server, tmp_path):
    web, port = _serve(server, tmp_path)
    try:
        body = json.dumps({"login": "nobody-here", "password": "wrong-password-1"}).encode()
        head = (f"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()

        async def terminate() -> None:
            await asyncio.sleep(0.5)  # the server has the headers and half the body
            web.signal(signal.SIGTERM)
            await asyncio.sleep(1.0)  # it is stopping, and waits for this request

        status, headers, payload = await _exchange(port, head, [body[:10], body[10:]], terminate)
        assert status == 401 and json.loads(payload)["title"] == "Not authenticated"
        assert headers["content-type"].startswith("application/problem+json")
        code = web.popen.wait(30)
        assert code in (0, -signal.SIGTERM), web.output()
    finally:
        web.stop()


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
async def test_a_trusted_proxy_forwards_the_client_address(server, tmp_path):
    """Ten failed logins from one forwarded address lock that address out, not the proxy's other clients."""
    web, port = _serve(server, tmp_path, GUANJIA_FORWARDED_ALLOW_IPS="127.0.0.1")
    try:
        import httpx

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            async def attempt(login: str, address: str) -> int:
                r = await http.post("/api/v1/auth/login", json={"login": login, "password": "wrong-password-1"},
                                    headers={"X-Forwarded-For": address})
                return r.status_code

            codes = [await attempt(f"someone-{i}", "203.0.113.7") for i in range(11)]
            assert codes[:10] == [401] * 10 and codes[10] == 429  # that address is throttled
            assert await attempt("someone-else", "198.51.100.9") == 401  # another client behind the proxy is not
    finally:
        web.stop()


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_every_log_line_of_a_served_process_is_json_with_a_request_id(server, tmp_path):
    """Litestar sets up logging of its own when the app is made; `guanjia serve` puts its JSON format back."""
    web, port = _serve(server, tmp_path, GUANJIA_LOG_FORMAT="json")
    try:
        import httpx

        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/tickets", headers={"X-Request-ID": "req-42"}).status_code == 401
    finally:
        code = web.stop()
    lines = [line for line in web.log.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert code in (0, -signal.SIGTERM) and len(lines) >= 3, web.output()
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON log line: {line!r}") from None
    assert all({"ts", "level", "logger", "msg", "request_id"} <= set(r) for r in records)
    assert any(r["logger"].startswith("guanjia") for r in records)  # the app's own lines, not only the server's
