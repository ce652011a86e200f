"""A lean Redis connection for the job enqueue hot path: pipelines of commands in RESP2, on one event loop.

Enqueueing a job is one `EVALSHA` of the broker's dispatch script. Through redis-py's asyncio client, packing
the command and parsing its answer cost more than the round trip itself; this connection writes the bytes and
reads the answers with nothing in between. It serves `core.jobs` only: every other use of Redis goes through
redis-py. URLs: ``redis://`` and ``rediss://`` (verified TLS) with user, password and database; for any other
form `parse_url` answers None and callers take the general path.
"""
from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Any, Sequence
from urllib.parse import unquote, urlsplit


class RespError(Exception):
    """An error answer of Redis (``-ERR …``, ``-NOSCRIPT …``), returned in place of that command's result."""

    @property
    def code(self) -> str:
        return str(self).split(" ", 1)[0]


@dataclass(frozen=True)
class Address:
    host: str
    port: int
    db: int
    username: str | None
    password: str | None
    tls: bool


def parse_url(url: str) -> Address | None:
    """The address of a plain ``redis://`` or ``rediss://`` URL; None for a socket path or URL options."""
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss") or parts.query or parts.fragment or not parts.hostname:
            return None
        path = parts.path.strip("/")
        return Address(parts.hostname, parts.port or 6379, int(path) if path else 0,
                       unquote(parts.username) if parts.username else None,
                       unquote(parts.password) if parts.password is not None else None, parts.scheme == "rediss")
    except ValueError:
        return None


def encode(command: Sequence[Any]) -> bytes:
    """One command as a RESP array of bulk strings (str as UTF-8, bool as 0/1, numbers as their text)."""
    out = [b"*%d\r\n" % len(command)]
    for arg in command:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, bool):
            data = b"1" if arg else b"0"
        elif isinstance(arg, (int, float)):
            data = repr(arg).encode()
        else:
            raise TypeError(f"a Redis argument must be bytes, str or a number, not {type(arg).__name__}")
        out.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(out)


class RespConnection:
    """One connection, opened on first use and again after any failure. Not shared between event loops;
    `pipeline` calls are serialized."""

    def __init__(self, address: Address, *, timeout: float = 5.0, connect_timeout: float = 2.0) -> None:
        self.address, self.timeout, self.connect_timeout = address, timeout, connect_timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def _connect(self) -> None:
        a = self.address
        async with asyncio.timeout(self.connect_timeout):
            self._reader, self._writer = await asyncio.open_connection(
                a.host, a.port, ssl=ssl.create_default_context() if a.tls else None)
        hello: list[Sequence[Any]] = []
        if a.password is not None:
            hello.append(("AUTH", a.username, a.password) if a.username else ("AUTH", a.password))
        if a.db:
            hello.append(("SELECT", a.db))
        for answer in await self._exchange(hello):
            if isinstance(answer, RespError):
                raise answer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def pipeline(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """Send the commands in one write and read their answers in order; an error answer comes back as a
        `RespError` in its place. A broken connection raises (ConnectionError, TimeoutError) and is closed."""
        async with self._lock:
            try:
                if self._writer is None:
                    await self._connect()
                assert self._writer is not None
                # past the timeout the connection is dropped, which ends the wait with a ConnectionError
                timer = asyncio.get_running_loop().call_later(self.timeout, self._writer.transport.abort)
                try:
                    return await self._exchange(commands)
                finally:
                    timer.cancel()
            except BaseException:
                self.close()
                raise

    async def _exchange(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        if not commands:
            return []
        assert self._writer is not None
        self._writer.write(b"".join(encode(c) for c in commands))
        await self._writer.drain()
        return [await self._read() for _ in commands]

    async def _read(self) -> Any:
        assert self._reader is not None
        line = await self._reader.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("Redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else (await self._reader.readexactly(n + 2))[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [await self._read() for _ in range(n)]
        raise ConnectionError(f"unexpected answer from Redis: {line[:40]!r}")
