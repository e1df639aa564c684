"""A local fake Douyin push server (websockets, 127.0.0.1, port 0) and room page + HTTP signer (aiohttp).

Each websocket connection runs a script; ``server.reader(conn)`` collects the client's heartbeats and acks
(answering each heartbeat with a server "hb" frame); ``server.requests`` holds every connection's query
parameters and headers, so tests can check the signature, cursor, cookie and user agent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from livecs.ingest.douyin.codec import (
    PAYLOAD_ACK,
    PAYLOAD_HEARTBEAT,
    ClientFrame,
    Decoder,
    encode_frame,
)
from tests.ingest.source_support import scripted_server

Script = Callable[["FakeDouyin", ServerConnection], Awaitable[None]]
PUSH_PATH = "/webcast/im/push/v2/"


@dataclass
class Request:
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeDouyin:
    scripts: tuple[Script, ...]
    url: str = ""
    conns: list[ServerConnection] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    heartbeats: int = 0
    acks: list[tuple[int, bytes]] = field(default_factory=list)
    sent: int = 0  # frames sent to clients
    decoder: Decoder = field(default_factory=lambda: Decoder(server_side=True))
    got_ack: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, conn: ServerConnection, frame: bytes) -> None:
        await conn.send(frame)
        self.sent += 1

    async def reader(self, conn: ServerConnection) -> None:
        """Collect heartbeats (answered with "hb") and acks until the connection ends."""
        with contextlib.suppress(ConnectionClosed):
            async for message in conn:
                for item in self.decoder.feed(message):  # type: ignore[arg-type]
                    if isinstance(item, ClientFrame) and item.kind == PAYLOAD_HEARTBEAT:
                        self.heartbeats += 1
                        await self.send(conn, encode_frame(b"", payload_type=PAYLOAD_HEARTBEAT, encoding=""))
                    elif isinstance(item, ClientFrame) and item.kind == PAYLOAD_ACK:
                        self.acks.append((item.log_id, item.payload))
                        self.got_ack.set()


@asynccontextmanager
async def fake_douyin(*scripts: Script) -> AsyncIterator[FakeDouyin]:
    """Run the server; the k-th connection runs ``scripts[k]`` (the last one repeats)."""
    server = FakeDouyin(scripts)

    def keep_request(conn: ServerConnection) -> None:
        assert conn.request is not None
        server.requests.append(
            Request(
                dict(parse_qsl(urlsplit(conn.request.path).query, keep_blank_values=True)),
                {k.lower(): v for k, v in conn.request.headers.raw_items()},
            )
        )

    scripts_for_server = [partial(script, server) for script in scripts]
    async with scripted_server(scripts_for_server, PUSH_PATH, on_connect=keep_request) as (url, conns):
        server.url, server.conns = url, conns
        yield server


@dataclass
class FakeWeb:
    """The room page and an HTTP signer on one aiohttp server."""

    base: str = ""
    page: str = ""
    sign_requests: list[dict[str, Any]] = field(default_factory=list)
    page_requests: list[dict[str, str]] = field(default_factory=list)
    signature: str = "sig-http"


@asynccontextmanager
async def fake_web(page: str) -> AsyncIterator[FakeWeb]:
    state = FakeWeb(page=page)

    async def room(request: web.Request) -> web.StreamResponse:
        state.page_requests.append({k.lower(): v for k, v in request.headers.items()})
        resp = web.Response(text=state.page, content_type="text/html")
        resp.set_cookie("ttwid", "page-ttwid")
        return resp

    async def sign(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        state.sign_requests.append(body)
        return web.json_response({"signature": state.signature, "params": {"a_bogus": "ab"}})

    app = web.Application()
    app.router.add_get("/{live_id}", room)
    app.router.add_post("/sign", sign)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.base = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()
