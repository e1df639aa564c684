"""WebSocketSource against a real local websockets server: frames, garbage, drops, reconnects, heartbeats."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import random
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed, InvalidURI

from livecs.config import WsSourceSettings
from livecs.ingest.settings import RecordLimits
from livecs.ingest.ws import Backoff, WebSocketSource
from tests.ingest.source_support import Script, record_statuses, running, scripted_server

if TYPE_CHECKING:
    from tests.ingest.conftest import Collected

FAST = {"backoff_initial_s": 0.02, "backoff_max_s": 0.1, "backoff_jitter": 0.5}


def comment(i: int | str, **kw: Any) -> dict[str, Any]:
    return {"id": f"c{i}", "room": "r1", "user_id": f"u{i}", "text": f"第{i}条", **kw}


def frame(value: Any) -> str:
    return orjson.dumps(value).decode()


async def hold(conn: ServerConnection) -> None:
    """Keep a connection open until the client goes."""
    await conn.wait_closed()


def relay(*scripts: Script) -> AbstractAsyncContextManager[tuple[str, list[ServerConnection]]]:
    """A local relay running ``scripts[k]`` on its k-th connection (the last one repeats)."""
    return scripted_server(scripts)


# -- Backoff (pure) ---------------------------------------------------------------------------------------


def test_backoff_grows_exponentially_to_the_cap_and_resets() -> None:
    b = Backoff(0.5, 30.0, jitter=0.0)
    assert [b.next_delay() for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    b.reset()
    assert b.attempt == 0 and b.next_delay() == 0.5
    b.attempt = 10_000  # a very long outage never overflows
    assert b.next_delay() == 30.0


@given(
    initial=st.floats(0.001, 10),
    span=st.floats(1, 100),
    jitter=st.floats(0, 1),
    attempts=st.integers(0, 80),
    seed=st.integers(0, 2**32),
)
def test_backoff_jitter_only_shortens_within_bounds(
    initial: float, span: float, jitter: float, attempts: int, seed: int
) -> None:
    b = Backoff(initial, initial * span, jitter, rng=random.Random(seed))
    b.attempt = attempts
    base = b.base_delay(attempts)
    delay = b.next_delay()
    assert base * (1 - jitter) - 1e-9 <= delay <= base <= initial * span
    assert b.attempt == attempts + 1


def test_backoff_rejects_nonsense_and_reads_settings() -> None:
    for args in [(0, 1), (2, 1), (1, 2, 1.5)]:
        with pytest.raises(ValueError):
            Backoff(*args)
    b = Backoff.from_settings(WsSourceSettings(backoff_initial_s=5, backoff_max_s=2, backoff_jitter=0))
    assert b.next_delay() == 2  # an initial above the cap is clamped to it


# -- the client against a local relay ----------------------------------------------------------------------


async def test_frames_garbage_drops_and_reconnects_accept_every_comment_once(
    collected: Collected, wait_until: Any, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[Any] = []
    statuses = record_statuses(collected.sink)

    async def first(conn: ServerConnection) -> None:
        received.append(orjson.loads(await conn.recv()))  # the subscribe frame
        await conn.send(frame(comment(1)))
        await conn.send(orjson.dumps([comment(2), comment(3)]))  # a batch in a binary frame
        await conn.send("{garbage")
        await conn.send(b"\xff\xfe not utf-8")
        await conn.send(frame({"type": "ping", "ts": 7}))
        received.append(orjson.loads(await conn.recv()))  # the pong
        await conn.send(frame({"type": "heartbeat"}))
        await conn.close(1012, "relay restart")

    async def second(conn: ServerConnection) -> None:
        await conn.recv()
        await conn.send(frame(comment(3)))  # redelivered: a duplicate
        await conn.send(frame(comment(4)))
        await conn.send("42")
        await conn.send(frame([comment(5), {"id": "no-text", "room": "r1"}, comment(6, text="a\x00\u202eb")]))
        await asyncio.sleep(0.05)
        conn.transport.abort()  # dropped mid-stream, no close frame

    async def third(conn: ServerConnection) -> None:
        await conn.recv()
        await conn.send(frame(comment(7, text="长" * 1000)))
        await hold(conn)

    caplog.set_level(logging.WARNING, logger="livecs.ingest.ws")
    async with relay(first, second, third) as (url, _):
        settings = WsSourceSettings(url=url, subscribe={"op": "subscribe", "room": "r1"}, **FAST)
        source = WebSocketSource(settings, room="r1")
        async with running(source, collected.sink):
            await wait_until(lambda: "c7" in collected.comment_ids)
            assert source.is_connected and source.connects == 3 and source.disconnects == 2

    assert collected.comment_ids == [f"c{i}" for i in range(1, 8)]
    assert received == [{"op": "subscribe", "room": "r1"}, {"type": "pong", "ts": 7}]
    assert source.app_pings == 1
    by_id = {c.comment_id: c for c in collected.comments}
    assert by_id["c6"].text == "ab" and by_id["c7"].truncated
    assert dict(collected.counters.rejected) == {
        "malformed_json": 1,
        "invalid_utf8": 1,
        "duplicate": 1,
        "not_an_object": 1,
        "missing_field": 1,
    }
    assert statuses[:4] == ["connected", "disconnected", "reconnecting", "connected"]
    assert statuses.count("connected") == 3
    drops = [r.getMessage() for r in caplog.records if "disconnected from" in r.getMessage()]
    assert len(drops) == 2
    assert "code 1012" in drops[0] and "relay restart" in drops[0] and "retry in" in drops[0]
    assert "code None" in drops[1]


async def test_refused_connections_are_retried_with_backoff(collected: Collected, wait_until: Any) -> None:
    async with relay(hold) as (url, _):
        pass  # the port is free again: nothing listens
    source = WebSocketSource(WsSourceSettings(url=url, **FAST))
    async with running(source, collected.sink):
        await wait_until(lambda: source.backoff.attempt >= 4)
        assert collected.counters.sources["ws"] in {"disconnected", "reconnecting"}
        assert source.connects == 0 and not source.is_connected


async def test_invalid_url_stops_the_source(collected: Collected) -> None:
    with pytest.raises(InvalidURI):
        await WebSocketSource(WsSourceSettings(url="http://nope")).run(collected.sink)
    assert collected.counters.sources["ws"] == "failed"


async def test_protocol_heartbeat_measures_latency(collected: Collected, wait_until: Any) -> None:
    async with relay(hold) as (url, _):
        source = WebSocketSource(WsSourceSettings(url=url, heartbeat_s=0.05, **FAST))
        async with running(source, collected.sink):
            await wait_until(lambda: source.latency > 0)
            assert source.connects == 1


async def test_silent_relay_is_dropped_by_the_heartbeat_and_reconnected(
    collected: Collected, wait_until: Any
) -> None:
    """A relay that completes the handshake, then never answers (no pongs): the client gives up on it."""
    writers: list[asyncio.StreamWriter] = []

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        key = next(
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("sec-websocket-key")
        )
        accept = base64.b64encode(
            hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()
        await reader.read()  # swallow pings forever, answer nothing

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        settings = WsSourceSettings(url=f"ws://127.0.0.1:{port}/", heartbeat_s=0.05, **FAST)
        source = WebSocketSource(settings)
        async with running(source, collected.sink):
            await wait_until(lambda: source.connects >= 2)
        assert source.disconnects >= 1
    finally:
        for w in writers:
            w.close()
        server.close()
        await server.wait_closed()


async def test_send_goes_out_on_the_live_connection(collected: Collected, wait_until: Any) -> None:
    got: asyncio.Queue[Any] = asyncio.Queue()

    async def echo_in(conn: ServerConnection) -> None:
        async for message in conn:
            await got.put(orjson.loads(message))

    async with relay(echo_in) as (url, _):
        source = WebSocketSource(WsSourceSettings(url=url, **FAST))
        assert await source.send({"type": "reply"}) is False  # not connected yet
        async with running(source, collected.sink):
            await asyncio.wait_for(source.connected.wait(), 5)
            reply = {"type": "reply", "room": "r1", "comment_id": "c1", "text": "S码有货"}
            assert await source.send(reply) is True
            assert await asyncio.wait_for(got.get(), 5) == reply
        assert await source.send(reply) is False  # cancelled: closed


async def test_cancellation_closes_with_a_going_away_close_frame(collected: Collected) -> None:
    codes: list[int | None] = []

    async def watch(conn: ServerConnection) -> None:
        with pytest.raises(ConnectionClosed):
            await conn.recv()
        codes.append(conn.close_code)

    async with relay(watch) as (url, conns):
        source = WebSocketSource(WsSourceSettings(url=url, **FAST))
        async with running(source, collected.sink):
            await asyncio.wait_for(source.connected.wait(), 5)
        await asyncio.wait_for(conns[0].wait_closed(), 5)
        await asyncio.sleep(0.05)
    assert codes == [1001]  # going away, not an error


async def test_oversized_frame_is_counted_and_the_source_reconnects(make_sink: Any, wait_until: Any) -> None:
    collected = make_sink(RecordLimits(max_payload_bytes=1000))

    async def big(conn: ServerConnection) -> None:
        await conn.send(frame(comment(1, text="x" * 5000)))
        await hold(conn)

    async def fine(conn: ServerConnection) -> None:
        await conn.send(frame(comment(2)))
        await hold(conn)

    async with relay(big, fine) as (url, _):
        source = WebSocketSource(WsSourceSettings(url=url, **FAST))
        async with running(source, collected.sink):
            await wait_until(lambda: collected.comment_ids == ["c2"])
    assert collected.counters.rejected["payload_too_large"] == 1
    assert source.last_close is not None and source.last_close[0] == 1009
