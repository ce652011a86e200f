"""Start real `guanjia` processes (web, worker, scheduler) against the test database and Redis."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

GUANJIA = str(Path(sys.executable).with_name("guanjia"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(**extra: str) -> dict[str, str]:
    """The test process's environment (database, Redis, queue namespace) for a child process."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    e.update({"GUANJIA_LOG_FORMAT": "text", "PYTHONUNBUFFERED": "1", **extra})
    return e


class Proc:
    """One child process with its output kept in a file (shown when a test fails)."""

    def __init__(self, name: str, args: list[str], log_dir: Path, **extra_env: str) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        self._out = self.log.open("wb")
        self.popen = subprocess.Popen([GUANJIA, *args], stdout=self._out, stderr=subprocess.STDOUT,
                                      env=env(**extra_env), start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then wait: the exit code of a graceful stop."""
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(10)
            return -9
        finally:
            self._out.close()

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.popen.wait(10)
        self._out.close()


def wait_ready(port: int, proc: Proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise AssertionError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.output()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{proc.name} not ready after {timeout} s:\n{proc.output()}")


async def wait_for(check, timeout: float, what: str, every: float = 0.2):
    """Poll the coroutine function `check()` until it returns something truthy: waiting on other
    processes, bounded by `timeout`."""
    import asyncio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def cli(extra: dict[str, str], *args: str, timeout: float = 600) -> str:
    """Run `guanjia ARGS` to completion with the environment `extra`; its output, or a failed assertion."""
    done = subprocess.run([GUANJIA, *args], env=env(**extra), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"guanjia {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


class Site:
    """A company with one residential project, a grid held by a butler and `n` units, made through
    `guanjia` and the API of running web processes."""

    password = "topology-pass-1"

    def __init__(self, http: httpx.AsyncClient, urls: list[str]) -> None:
        self.http, self.urls = http, urls

    async def login(self, name: str) -> tuple[dict, dict]:
        r = await self.http.post(f"{self.urls[0]}/api/v1/auth/login", json={"login": name, "password": self.password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}, r.json()["user"]

    async def post(self, path: str, body: dict, headers: dict, url: str | None = None) -> dict:
        r = await self.http.post(f"{url or self.urls[0]}/api/v1/{path}", json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()


async def make_site(http: httpx.AsyncClient, urls: list[str], extra: dict[str, str], n: int, slug: str = "topology") -> Site:
    site = Site(http, urls)
    cli(extra, "tenant", "create", slug, "拓扑物业")
    cli(extra, "user", "create", "topo-cs", "--name", "客服部", "--password", site.password, "--tenant", slug,
        "--role", "company_cs")
    cs, _ = await site.login("topo-cs")
    site.project = await site.post("projects", {"code": "P1", "name": "拓扑小区", "kind": "residential"}, cs)
    building = await site.post("buildings", {"project_id": site.project["id"], "code": "1", "name": "1栋"}, cs)
    for role in ("butler", "front_desk"):
        cli(extra, "user", "create", f"topo-{role}", "--name", role, "--password", site.password, "--tenant", slug,
            "--role", role, "--project", "P1")
    _, site.butler = await site.login("topo-butler")
    site.desk, _ = await site.login("topo-front_desk")
    grid = await site.post("grids", {"project_id": site.project["id"], "code": "G1", "name": "一号网格",
                                     "responsible_id": site.butler["id"]}, cs)
    site.units = [await site.post("units", {"building_id": building["id"], "room": f"{i + 101}", "grid_id": grid["id"]},
                                  cs, urls[i % len(urls)]) for i in range(n)]
    return site
