"""A real server on a free 127.0.0.1 port (uvicorn in a thread, this run's database) and Debian's
headless Chromium driven by Playwright. Screenshots go to tests/screenshots/ (or $GUANJIA_SCREENSHOTS)."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GUANJIA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("GUANJIA_SCREENSHOTS") or Path(__file__).resolve().parents[1] / "screenshots")


def _why_no_browser() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright; never `playwright install`)"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _why_no_browser()
    if reason:
        skip = pytest.mark.skip(reason=f"browser tests skipped: {reason}")
        for item in items:
            if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
                item.add_marker(skip)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> str:
    """The whole app served by uvicorn on 127.0.0.1 in a thread of this process (same database)."""
    import uvicorn

    from core.app import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(embedded_worker=False), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="portal-e2e-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
async def browser():
    from playwright.async_api import async_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()
