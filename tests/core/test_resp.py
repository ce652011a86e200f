"""The lean Redis connection of the enqueue hot path (`core.resp`) and the group-commit batcher on it."""
from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from core.resp import Address, RespConnection, RespError, encode, parse_url

needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="talks to Redis (REDIS_URL)")


def test_commands_are_encoded_as_resp_arrays_of_bulk_strings():
    assert encode(("SET", "键", 5, True, b"\x00\r\n")) == (
        b"*5\r\n$3\r\nSET\r\n$3\r\n\xe9\x94\xae\r\n$1\r\n5\r\n$1\r\n1\r\n$3\r\n\x00\r\n\r\n")
    with pytest.raises(TypeError):
        encode(("SET", None))


def test_plain_urls_are_parsed_and_others_left_to_the_general_client():
    assert parse_url("redis://127.0.0.1:6379/3") == Address("127.0.0.1", 6379, 3, None, None, False)
    assert parse_url("rediss://app:p%40ss@cache.internal/0") == Address("cache.internal", 6379, 0, "app", "p@ss", True)
    assert parse_url("redis://:secret@redis") == Address("redis", 6379, 0, None, "secret", False)
    assert parse_url("unix:///run/redis.sock") is None
    assert parse_url("redis://redis:6379/0?socket_timeout=3") is None
    assert parse_url("redis://redis:notaport/0") is None


@needs_redis
async def test_a_pipeline_answers_in_order_with_errors_in_their_place():
    conn = RespConnection(parse_url(os.environ["REDIS_URL"]))
    key = f"guanjia-test:{uuid.uuid4()}"
    try:
        answers = await conn.pipeline([("SET", key, "值"), ("GET", key), ("INCR", key), ("DEL", key), ("GET", key),
                                       ("MGET", key, key)])
        assert answers[:2] == ["OK", "值".encode()]
        assert isinstance(answers[2], RespError) and answers[2].code == "ERR"  # not an integer: the rest still ran
        assert answers[3:] == [1, None, [None, None]]
    finally:
        conn.close()


@needs_redis
async def test_a_refused_connection_raises_and_the_next_call_connects_again():
    a = parse_url(os.environ["REDIS_URL"])
    conn = RespConnection(Address(a.host, 1, a.db, None, None, False), connect_timeout=1)
    with pytest.raises(OSError):
        await conn.pipeline([("PING",)])
    conn.address = a
    assert await conn.pipeline([("PING",)]) == ["PONG"]
    conn.close()


@needs_redis
async def test_enqueued_jobs_land_in_the_queue_also_after_redis_forgets_the_script():
    """Messages enqueued together share a round trip; after SCRIPT FLUSH the batcher loads the script
    again and resends, so none is lost."""
    import dramatiq
    import redis.asyncio as aioredis
    from dramatiq.brokers.redis import RedisBroker

    from core import jobs

    url = os.environ["REDIS_URL"]
    namespace = f"guanjia-test-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(url=url, namespace=namespace)
    broker.redis_url = url
    batcher = jobs._redis_batcher(broker)
    assert batcher is not None
    client = aioredis.Redis.from_url(url)

    def message(n: int) -> dramatiq.Message:
        return dramatiq.Message(queue_name="resp-test", actor_name="core.nothing", args=(n,), kwargs={}, options={})

    try:
        await asyncio.gather(*(jobs._redis_enqueue(broker, batcher, message(n)) for n in range(20)))
        assert await client.hlen(f"{namespace}:resp-test.msgs") == 20
        await client.script_flush()
        await jobs._redis_enqueue(broker, batcher, message(20))
        assert await client.hlen(f"{namespace}:resp-test.msgs") == 21
        assert await client.llen(f"{namespace}:resp-test") == 21
    finally:
        keys = [k async for k in client.scan_iter(f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        batcher.connection.close()
        broker.close()


async def test_a_server_that_never_answers_fails_the_pipeline_after_the_timeout():
    """A stuck Redis must not hold requests: past the timeout the connection is dropped and the caller gets an
    error (the job then goes to the outbox)."""
    async def silent(reader, writer):
        await reader.read(1 << 16)
        await asyncio.sleep(5)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn = RespConnection(Address("127.0.0.1", port, 0, None, None, False), timeout=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises((ConnectionError, OSError)):
            await conn.pipeline([("PING",)])
        assert loop.time() - started < 2 and conn._writer is None
    finally:
        server.close()
