"""Settings, one small dataclass per concern, each field read from the environment.

`get_settings()` is cached; tests call `get_settings.cache_clear()` after changing the environment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = field(default_factory=lambda: _env("DATABASE_URL", ""))
    """`postgresql://user@host:port/db` for a real deployment; empty means embedded SQLite."""
    sqlite_path: str = field(
        default_factory=lambda: _env("GUANJIA_SQLITE_PATH", str(Path(_env("GUANJIA_DATA_DIR", "var")) / "guanjia.sqlite3"))
    )
    """Where the embedded SQLite database lives."""
    pool_min: int = field(default_factory=lambda: int(_env("GUANJIA_DB_POOL_MIN", "2")))
    pool_max: int = field(default_factory=lambda: int(_env("GUANJIA_DB_POOL_MAX", "20")))

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(("postgres://", "postgresql://"))


@dataclass(frozen=True)
class JobSettings:
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", ""))
    """Redis broker for Dramatiq; empty means the in-process broker and worker inside `guanjia serve`."""
    worker_threads: int = field(default_factory=lambda: int(_env("GUANJIA_WORKER_THREADS", "4")))
    namespace: str = field(default_factory=lambda: _env("GUANJIA_QUEUE_NAMESPACE", "guanjia"))
    """Prefix of the Redis keys, so several installations may share one Redis."""
    heartbeat_ms: int = field(default_factory=lambda: int(_env("GUANJIA_REDIS_HEARTBEAT_MS", "60000")))
    """A worker silent this long is dead: the messages it had taken go back to their queue."""
    maintenance_chance: int = field(default_factory=lambda: int(_env("GUANJIA_REDIS_MAINTENANCE_CHANCE", "1000")))
    """Broker commands in a million that also requeue dead workers' messages (Dramatiq's maintenance)."""

    @property
    def embedded(self) -> bool:
        return not self.redis_url


@dataclass(frozen=True)
class ServerSettings:
    host: str = field(default_factory=lambda: _env("GUANJIA_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("GUANJIA_PORT", "8000")))
    secret_key: str = field(default_factory=lambda: _env("GUANJIA_SECRET_KEY", "guanjia-dev-secret-change-me"))
    """Signs session cookies and CSRF tokens; set it in every real deployment."""
    session_hours: int = field(default_factory=lambda: int(_env("GUANJIA_SESSION_HOURS", "12")))
    base_url: str = field(default_factory=lambda: _env("GUANJIA_BASE_URL", "http://127.0.0.1:8000"))
    debug: bool = field(default_factory=lambda: _env("GUANJIA_DEBUG", "0") == "1")
    http_server: str = field(default_factory=lambda: _env("GUANJIA_HTTP_SERVER", "granian"))
    """`granian` (measured faster here, see docs/scaling.md) or `uvicorn`; both finish in-flight requests on SIGTERM."""
    web_workers: int = field(default_factory=lambda: int(_env("GUANJIA_WEB_WORKERS", "1")))
    """Web worker processes of one `guanjia serve` (one per core; several need REDIS_URL)."""
    forwarded_allow_ips: str = field(default_factory=lambda: _env("GUANJIA_FORWARDED_ALLOW_IPS", "127.0.0.1"))
    """Proxies whose X-Forwarded-For / -Proto are believed (comma-separated addresses, or `*`)."""


@dataclass(frozen=True)
class DemoSettings:
    password: str = field(default_factory=lambda: _env("GUANJIA_DEMO_PASSWORD", "guanjia-demo"))


@dataclass(frozen=True)
class Settings:
    db: DatabaseSettings = field(default_factory=DatabaseSettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    demo: DemoSettings = field(default_factory=DemoSettings)
    tenants_dir: str = field(default_factory=lambda: _env("GUANJIA_TENANTS_DIR", "tenants"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
