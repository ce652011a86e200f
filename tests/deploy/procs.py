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
    e.update(GUANJIA_LOG_FORMAT="text", PYTHONUNBUFFERED="1", **extra)
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
