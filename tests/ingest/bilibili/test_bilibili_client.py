"""BilibiliSource against a local fake Bilibili server: auth, heartbeats, bundles, re-auth, reconnects."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from websockets.asyncio.server import ServerConnection

from livecs.bus.memory import MemoryBus
from livecs.config import BilibiliSettings, load_settings
from livecs.ingest.bilibili import client as client_module
from livecs.ingest.bilibili.client import BilibiliSource
from livecs.ingest.bilibili.codec import (
    AUTH_TOKEN_ERROR,
    ProtoVer,
    encode_command,
    encode_commands,
    encode_packet,
)
from livecs.models import EventKind, MemberTier
from livecs.pipeline import Pipeline
from livecs.store import Store
from tests.ingest.bilibili.bili_fake_server import FakeBilibili, fake_bilibili, hold
from tests.ingest.bilibili.bili_fixtures import ROOM_ID, danmu, guard_buy, like, send_gift, super_chat
from tests.ingest.source_support import record_statuses, running

if TYPE_CHECKING:
    from tests.ingest.conftest import Collected

FAST: dict[str, Any] = {
    "room_id": ROOM_ID,
    "uid": 77,
    "key": "token-1",
    "heartbeat_s": 0.05,
    "auth_timeout_s": 0.5,
    "backoff_initial_s": 0.02,
    "backoff_max_s": 0.1,
    "backoff_jitter": 0.5,
}


def make_source(url: str, **kw: Any) -> BilibiliSource:
    settings = BilibiliSettings(url=url, **{**FAST, **kw.pop("settings", {})})
    return BilibiliSource(settings, room=str(ROOM_ID), rng=random.Random(1), **kw)


async def test_auth_failure_reauth_bundles_disconnect_reconnect_every_comment_once(
    collected: Collected, wait_until: Any
) -> None:
    """The acceptance scenario: every comment the server sent is recorded exactly once."""
    statuses = record_statuses(collected.sink)
    sent: list[str] = []

    def batch(lo: int, hi: int) -> list[dict[str, Any]]:
        cmds = [danmu(i) for i in range(lo, hi)]
        sent.extend(c["info"][1] for c in cmds)
        return cmds

    async def refused(server: FakeBilibili, conn: ServerConnection) -> None:
        await server.auth(conn, code=AUTH_TOKEN_ERROR)
        await conn.wait_closed()

    async def dropped_mid_stream(server: FakeBilibili, conn: ServerConnection) -> None:
        await server.auth(conn)
        replies = asyncio.create_task(server.answer_heartbeats(conn))
        await conn.send(encode_commands(batch(0, 1), ProtoVer.NORMAL))
        await conn.send(encode_commands(batch(1, 51), ProtoVer.DEFLATE))
        await conn.send(encode_commands(batch(51, 101), ProtoVer.BROTLI))
        await conn.send(encode_commands([send_gift(), like(), guard_buy()], ProtoVer.BROTLI))
        while server.heartbeats < 2:  # at least one heartbeat after the first
            await asyncio.sleep(0.01)
        await conn.send(encode_commands(batch(101, 103), ProtoVer.NORMAL)[:-7])  # cut off: a counted drop
        sent.pop()  # the last of those two is lost with the cut
        conn.transport.abort()  # no close frame: the connection is simply lost
        replies.cancel()

    async def after_reconnect(server: FakeBilibili, conn: ServerConnection) -> None:
        await server.auth(conn)
        replies = asyncio.create_task(server.answer_heartbeats(conn))
        # a redelivery of what the previous connection already delivered, bundled with new comments
        again = [danmu(i) for i in range(90, 101)]
        await conn.send(encode_commands(again + batch(103, 150), ProtoVer.BROTLI))
        await conn.send(
            encode_commands([{"cmd": "ONLINE_RANK_COUNT", "data": {"count": 1}}], ProtoVer.NORMAL)
        )
        await replies

    async with fake_bilibili(refused, dropped_mid_stream, after_reconnect) as server:
        source = make_source(server.url)
        async with running(source, collected.sink):
            await wait_until(lambda: len(collected.comments) >= len(sent) and len(server.conns) == 3)
            await wait_until(lambda: source.heartbeat_replies >= 3)

    assert [c.text for c in collected.comments] == sent
    assert len(set(collected.comment_ids)) == len(sent) == 149
    assert collected.counters.rejected["duplicate"] == 11
    assert collected.counters.rejected["bilibili_truncated"] == 1
    assert sorted(e.kind.value for e in collected.events) == ["gift", "like", "membership"]
    # auth: room id, uid, token, protover 3 on every connection
    assert [a["roomid"] for a in server.auths] == [ROOM_ID] * 3
    assert all(a["uid"] == 77 and a["key"] == "token-1" and a["protover"] == 3 for a in server.auths)
    assert source.auth_failures == 1 and source.auths == 2 and source.disconnects >= 1
    assert source.popularity == 4242
    assert source.parser.unknown["ONLINE_RANK_COUNT"] == 1
    assert statuses[:3] == ["auth_failed", "reconnecting", "connected"]
    assert "disconnected" in statuses and statuses.count("connected") == 2


async def test_token_refreshed_after_an_auth_failure(collected: Collected, wait_until: Any) -> None:
    keys = iter(["token-2", "token-3"])

    async def provider() -> str:
        return next(keys)

    async def refused(server: FakeBilibili, conn: ServerConnection) -> None:
        await server.auth(conn, code=AUTH_TOKEN_ERROR)
        await conn.wait_closed()

    async with fake_bilibili(refused, hold) as server:
        source = make_source(server.url, key_provider=provider)
        async with running(source, collected.sink):
            await wait_until(lambda: source.auths == 1)
    assert [a["key"] for a in server.auths] == ["token-1", "token-2"]


async def test_no_auth_reply_is_an_auth_failure(collected: Collected, wait_until: Any) -> None:
    async def silent(server: FakeBilibili, conn: ServerConnection) -> None:
        await conn.recv()
        await conn.wait_closed()

    async def ok(server: FakeBilibili, conn: ServerConnection) -> None:
        await server.auth(conn)
        await conn.send(encode_command(danmu(1)))
        await server.answer_heartbeats(conn)

    async with fake_bilibili(silent, ok) as server:
        source = make_source(server.url, settings={"auth_timeout_s": 0.2})
        async with running(source, collected.sink):
            await wait_until(lambda: len(collected.comments) == 1)
    assert source.auth_failures == 1 and source.auths == 1


async def test_garbage_is_counted_and_the_stream_goes_on(collected: Collected, wait_until: Any) -> None:
    async def noisy(server: FakeBilibili, conn: ServerConnection) -> None:
        await server.auth(conn)
        await conn.send(b"\x00\x01garbage")
        await conn.send("a text frame")
        await conn.send(encode_packet(b"not zlib", 5, ProtoVer.DEFLATE))
        await conn.send(encode_packet(b"{broken json", 5, ProtoVer.NORMAL))
        await conn.send(encode_command({"cmd": "DANMU_MSG", "info": "nonsense"}))
        await conn.send(encode_commands([danmu(1), super_chat()], ProtoVer.BROTLI))
        await server.answer_heartbeats(conn)

    async with fake_bilibili(noisy) as server:
        source = make_source(server.url)
        async with running(source, collected.sink):
            await wait_until(lambda: len(collected.comments) == 2)
    r = collected.counters.rejected
    assert r["bilibili_truncated"] == 2 and r["bilibili_decompress_error"] == 1
    assert r["bilibili_bad_json"] == 1 and r["bilibili_malformed_command"] == 1
    sc = collected.comments[1]
    assert sc.extras["super_chat"] is True and sc.member_tier is MemberTier.VIP
    assert [e.kind for e in collected.events] == [EventKind.SUPER_CHAT]
    assert source.auths == 1 and source.disconnects == 0  # garbage never costs the connection


async def test_large_messages_are_decoded_off_the_event_loop(collected: Collected, wait_until: Any) -> None:
    async def big(server: FakeBilibili, conn: ServerConnection) -> None:
        await server.auth(conn)
        await conn.send(encode_commands([danmu(i, "长" * 200) for i in range(300)], ProtoVer.NORMAL))
        await conn.send(encode_commands([danmu(i) for i in range(300, 302)], ProtoVer.NORMAL))
        await server.answer_heartbeats(conn)

    async with fake_bilibili(big) as server:
        source = make_source(server.url, settings={"offload_bytes": 64 * 1024})
        async with running(source, collected.sink):
            await wait_until(lambda: len(collected.comments) == 302)
    assert source.offloaded == 1 and source.messages >= 3


async def test_silent_connection_is_dropped_and_reconnected(
    collected: Collected, wait_until: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "RECEIVE_GRACE_S", 0.1)

    async def mute(server: FakeBilibili, conn: ServerConnection) -> None:
        await server.auth(conn)
        await conn.wait_closed()  # never answers heartbeats, never sends anything

    async def ok(server: FakeBilibili, conn: ServerConnection) -> None:
        await server.auth(conn)
        await conn.send(encode_command(danmu(5)))
        await server.answer_heartbeats(conn)

    async with fake_bilibili(mute, ok) as server:
        source = make_source(server.url)
        async with running(source, collected.sink):
            await wait_until(lambda: len(collected.comments) == 1)
    assert source.disconnects == 1 and source.last_close == (None, "no message within the heartbeat window")


def test_room_is_required() -> None:
    with pytest.raises(ValueError):
        BilibiliSource(BilibiliSettings(), room="not-a-number")
    s = BilibiliSource(BilibiliSettings(), room="12345")
    assert s.room_id == 12345 and s.room == "12345" and s.name == "bilibili"


async def test_through_the_real_pipeline_recorded_once(tmp_path: Path, wait_until: Any) -> None:
    settings = load_settings(environ={})
    settings.store.path = str(tmp_path / "rec.db")

    async def stream(server: FakeBilibili, conn: ServerConnection) -> None:
        await server.auth(conn)
        await conn.send(encode_commands([danmu(i, f"有S码吗{i}") for i in range(40)], ProtoVer.BROTLI))
        await conn.send(encode_commands([danmu(i, f"有S码吗{i}") for i in range(30, 60)], ProtoVer.DEFLATE))
        await server.answer_heartbeats(conn)

    pipeline = Pipeline(
        settings, MemoryBus(settings.bus), Store(settings.store), None, default_room=str(ROOM_ID)
    )
    await pipeline.start(workers=1)
    try:
        async with fake_bilibili(stream) as server:
            source = make_source(server.url)
            task = pipeline.add_source(source)
            await wait_until(lambda: pipeline.counters.accepted == 60)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert await pipeline.drain(5.0)
    finally:
        await pipeline.stop()
        await pipeline.bus.close()
        await pipeline.store.close()
    with sqlite3.connect(settings.store.path) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT comment_id) FROM comments").fetchone() == (
            60,
            60,
        )
    assert pipeline.counters.rejected["duplicate"] == 10
