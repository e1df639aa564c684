"""What the live-source tests share: a local scripted websockets server, a source run for the length of a
block, and the connection statuses a sink was told."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from livecs.ingest.base import IngestSink, Source

Script = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def scripted_server(
    scripts: Sequence[Script],
    path: str = "/",
    *,
    on_connect: Callable[[ServerConnection], None] | None = None,
) -> AsyncIterator[tuple[str, list[ServerConnection]]]:
    """A local websockets server (127.0.0.1, a free port) running ``scripts[k]`` on its k-th connection (the
    last one repeats; ``on_connect`` sees each connection first). A script may end with the connection
    closed under it. Yields the URL (ending in ``path``) and the connections so far."""
    conns: list[ServerConnection] = []

    async def handler(conn: ServerConnection) -> None:
        if on_connect is not None:
            on_connect(conn)
        conns.append(conn)
        with contextlib.suppress(ConnectionClosed):
            await scripts[min(len(conns), len(scripts)) - 1](conn)

    async with serve(handler, "127.0.0.1", 0, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}{path}", conns


@asynccontextmanager
async def running(source: Source, sink: IngestSink) -> AsyncIterator[asyncio.Task[None]]:
    """``source`` runs into ``sink`` for the length of the block, then is cancelled (and must stop so)."""
    task = asyncio.create_task(source.run(sink))
    try:
        yield task
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def record_statuses(sink: IngestSink) -> list[str]:
    """The connection statuses reported to ``sink`` from now on, in order (the sink still gets them)."""
    statuses: list[str] = []
    report = sink.source_status

    def record(source: str, status: str, detail: str = "") -> None:
        statuses.append(status)
        report(source, status, detail)

    sink.source_status = record  # type: ignore[method-assign]
    return statuses
