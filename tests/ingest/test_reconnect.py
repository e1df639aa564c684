"""The shared reconnect loop (:mod:`livecs.ingest.reconnect`) against a real local websockets server:
reconnect after a drop, backoff bounds, a stop during the backoff or a session, heartbeats and the quiet
limit, the source's own retryable errors and a source that ends itself."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import ServerConnection
from websockets.frames import CloseCode

from livecs.ingest.base import IngestSink
from livecs.ingest.reconnect import STOP_REASON, Backoff, Dial, ReconnectingSource
from livecs.ingest.settings import RecordLimits
from tests.ingest.source_support import running as running_ws
from tests.ingest.test_ws import hold
from tests.ingest.test_ws import relay as server

if TYPE_CHECKING:
    from tests.ingest.conftest import Collected

Script = Callable[[ServerConnection], Awaitable[None]]
HEARTBEAT = b"beat"


class Flaky(Exception):
    """A source's own retryable error."""


class LineSource(ReconnectingSource):
    """The smallest real source: each frame is a JSON payload for the sink; optional heartbeats."""

    retry_on = (Flaky,)

    def __init__(
        self,
        url: str,
        backoff: Backoff,
        *,
        heartbeat_s: float | None = None,
        quiet_s: float = 5.0,
        dial_errors: int = 0,
        dials: int | None = None,
    ) -> None:
        super().__init__(name="line", backoff=backoff)
        self.url = url
        self.heartbeat_s = heartbeat_s
        self.quiet_s = quiet_s
        self.dial_errors = dial_errors
        self.dials_left = dials
        self.delays: list[float] = []
        self.statuses: list[str] = []

    @property
    def _display_url(self) -> str:
        return self.url

    async def _dial(self, sink: IngestSink, limits: RecordLimits) -> Dial | None:
        if self.dial_errors:
            self.dial_errors -= 1
            raise Flaky("signer away")
        if self.dials_left is not None:
            if self.dials_left == 0:
                sink.source_status(self.name, "finished", "no more dials")
                return None
            self.dials_left -= 1
        return Dial(self.url)

    async def _session(self, conn: ClientConnection, sink: IngestSink) -> bool:
        self._mark_connected(sink, self.url)
        if self.heartbeat_s is None:
            while True:
                await self._take(await self._receive(conn, self.quiet_s), sink)
        async with self._heartbeating(conn, HEARTBEAT, self.heartbeat_s):
            while True:
                await self._take(await self._receive(conn, self.quiet_s), sink)

    async def _take(self, data: bytes, sink: IngestSink) -> None:
        if await sink.submit_payload(data, source=self.name):
            self._delivered = True

    def _report_own_drop(self, sink: IngestSink, exc: BaseException | None, delay: float) -> bool:
        self.delays.append(delay)
        return False  # the usual report


def comment(i: int) -> str:
    return orjson.dumps({"id": f"c{i}", "room": "r1", "user_id": f"u{i}", "text": f"第{i}条"}).decode()


async def free_url() -> str:
    async with server(hold) as (url, _):
        pass
    return url  # nothing listens there any more


@asynccontextmanager
async def running(source: LineSource, collected: Collected) -> AsyncIterator[None]:
    """Run ``source`` (its statuses recorded in :attr:`LineSource.statuses`) and stop it after the block."""
    sink_status = collected.sink.source_status

    def status(name: str, state: str, detail: str = "") -> None:
        source.statuses.append(state)
        sink_status(name, state, detail)

    collected.sink.source_status = status  # type: ignore[method-assign]
    async with running_ws(source, collected.sink):
        yield


async def test_a_dropped_connection_is_reconnected_and_a_delivering_one_resets_the_backoff(
    collected: Collected, wait_until: Any
) -> None:
    async def deliver_then_vanish(conn: ServerConnection) -> None:
        await conn.send(comment(1))
        await asyncio.sleep(0.05)
        conn.transport.abort()  # no close frame: the connection is simply lost

    async def deliver_and_hold(conn: ServerConnection) -> None:
        await conn.send(comment(2))
        await conn.wait_closed()

    backoff = Backoff(0.05, 1.0, 0.0)
    backoff.attempt = 3  # as after earlier failures: a delivering connection must reset it
    async with server(deliver_then_vanish, deliver_and_hold) as (url, conns):
        source = LineSource(url, backoff)
        async with running(source, collected):
            await wait_until(lambda: collected.comment_ids == ["c1", "c2"])
            assert source.connected.is_set()
    assert len(conns) == 2 and source.connects == 2 and source.disconnects == 1
    assert source.delays == [0.05]  # reset by the delivery: the first delay, not 0.05·2³
    assert source.last_close == (None, "no close frame (connection lost)")
    assert source.statuses[:4] == ["connected", "disconnected", "reconnecting", "connected"]
    assert not source.connected.is_set()  # cleared once the task ended


async def test_backoff_delays_grow_to_the_cap_and_jitter_only_shortens_them(
    collected: Collected, wait_until: Any
) -> None:
    url = await free_url()
    source = LineSource(url, Backoff(0.01, 0.04, 0.0))
    async with running(source, collected):
        await wait_until(lambda: len(source.delays) >= 6)
    assert source.delays[:6] == [0.01, 0.02, 0.04, 0.04, 0.04, 0.04]
    assert source.connects == 0 and source.disconnects == 0
    assert collected.counters.sources["line"] in {"disconnected", "reconnecting"}

    jittered = LineSource(url, Backoff(0.01, 0.04, 0.5, rng=random.Random(3)))
    async with running(jittered, collected):
        await wait_until(lambda: len(jittered.delays) >= 8)
    for attempt, delay in enumerate(jittered.delays[:8]):
        base = min(0.04, 0.01 * 2**attempt)
        assert base * 0.5 <= delay <= base


async def test_a_stop_during_the_backoff_ends_at_once(collected: Collected, wait_until: Any) -> None:
    url = await free_url()
    source = LineSource(url, Backoff(30.0, 60.0, 0.0))
    task = asyncio.create_task(source.run(collected.sink))
    await wait_until(lambda: collected.counters.sources.get("line") == "disconnected")
    assert source.delays == [30.0]  # now sleeping 30 s
    started = asyncio.get_running_loop().time()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert asyncio.get_running_loop().time() - started < 1.0
    assert source.delays == [30.0] and not source.connected.is_set()


async def test_a_stop_during_a_session_closes_with_going_away(collected: Collected, wait_until: Any) -> None:
    async with server(hold) as (url, conns):
        source = LineSource(url, Backoff(0.05, 1.0))
        async with running(source, collected):
            await wait_until(source.connected.is_set)
        await wait_until(lambda: conns[0].close_code is not None)
    assert (conns[0].close_code, conns[0].close_reason) == (CloseCode.GOING_AWAY, STOP_REASON)
    assert source.disconnects == 0 and source.delays == []


async def test_heartbeats_go_out_and_a_quiet_connection_is_dropped(
    collected: Collected, wait_until: Any
) -> None:
    beats: list[bytes] = []

    async def silent(conn: ServerConnection) -> None:
        async for message in conn:  # reads the heartbeats, never says a word
            beats.append(message if isinstance(message, bytes) else message.encode())

    async with server(silent) as (url, conns):
        source = LineSource(url, Backoff(0.05, 1.0), heartbeat_s=0.05, quiet_s=0.3)
        async with running(source, collected):
            await wait_until(lambda: source.disconnects >= 1)
    assert source.last_close == (None, "no message within the heartbeat window")
    assert len(beats) >= 3 and set(beats) == {HEARTBEAT}
    assert source.heartbeats_sent >= len(beats)
    assert len(conns) >= 1


async def test_the_sources_own_errors_are_retried_and_a_source_may_end_itself(
    collected: Collected, wait_until: Any
) -> None:
    async def close_normally(conn: ServerConnection) -> None:
        await conn.send(comment(1))
        await conn.close()

    async with server(close_normally) as (url, conns):
        source = LineSource(url, Backoff(0.01, 0.02, 0.0), dial_errors=2, dials=2)
        await asyncio.wait_for(source.run(collected.sink), 10)  # returns: the second dial says "finished"
    assert source.delays[:2] == [0.01, 0.02]  # the two Flaky dials, retried after the backoff
    assert len(conns) == 2 and source.connects == 2 and source.disconnects == 2
    assert source.last_close == (CloseCode.NORMAL_CLOSURE, "")
    assert collected.comment_ids == ["c1"]  # the second delivery of c1 is a counted duplicate
    assert collected.counters.rejected["duplicate"] == 1
    assert collected.counters.sources["line"] == "finished"
