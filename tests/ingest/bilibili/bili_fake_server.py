"""A local fake Bilibili danmaku server (websockets, 127.0.0.1, port 0) speaking the real packet protocol.

Each connection runs a script: ``await server.auth(conn)`` reads and checks the auth packet and answers it;
``server.answer_heartbeats(conn)`` replies to every heartbeat with a popularity; the script sends command
messages (plain, zlib or brotli bundles) and may close the connection mid-stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from livecs.ingest.bilibili.codec import (
    AUTH_OK,
    ClientPacket,
    Decoder,
    Operation,
    encode_auth_reply,
    encode_heartbeat_reply,
)
from tests.ingest.source_support import scripted_server

Script = Callable[["FakeBilibili", ServerConnection], Awaitable[None]]
POPULARITY = 4242


@dataclass
class FakeBilibili:
    """Server state shared by the scripts; ``auths`` holds every auth body received, in order."""

    scripts: tuple[Script, ...]
    url: str = ""
    conns: list[ServerConnection] = field(default_factory=list)
    auths: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: int = 0
    decoder: Decoder = field(default_factory=Decoder)

    async def auth(self, conn: ServerConnection, code: int = AUTH_OK) -> dict[str, Any]:
        """Read the first packet (it must be the auth), answer ``code``."""
        [pkt] = self.decoder.feed(await conn.recv())  # type: ignore[arg-type]
        assert isinstance(pkt, ClientPacket) and pkt.operation is Operation.AUTH, pkt
        self.auths.append(pkt.body)
        await conn.send(encode_auth_reply(code))
        return pkt.body

    async def answer_heartbeats(self, conn: ServerConnection) -> None:
        """Reply to heartbeats until the connection ends (with the echoed body, like Bilibili)."""
        with contextlib.suppress(ConnectionClosed):
            async for message in conn:
                for pkt in self.decoder.feed(message):  # type: ignore[arg-type]
                    if isinstance(pkt, ClientPacket) and pkt.operation is Operation.HEARTBEAT:
                        self.heartbeats += 1
                        await conn.send(encode_heartbeat_reply(POPULARITY, trailer=pkt.raw))


@asynccontextmanager
async def fake_bilibili(*scripts: Script) -> AsyncIterator[FakeBilibili]:
    """Run the server; the k-th connection runs ``scripts[k]`` (the last one repeats)."""
    server = FakeBilibili(scripts)
    async with scripted_server([partial(script, server) for script in scripts], "/sub") as (url, conns):
        server.url, server.conns = url, conns
        yield server


async def hold(server: FakeBilibili, conn: ServerConnection) -> None:
    """Authenticate, answer heartbeats, keep the connection open."""
    await server.auth(conn)
    await server.answer_heartbeats(conn)


async def sleep_forever() -> None:
    await asyncio.Event().wait()
