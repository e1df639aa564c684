"""The Douyin client against a local fake push server, room page and signer (no Douyin from here)."""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from livecs.bus.memory import MemoryBus
from livecs.cli import main
from livecs.config import DouyinSettings, load_settings
from livecs.ingest.douyin.client import (
    BASE_PARAMS,
    DouyinSource,
    parse_room_page,
    push_params,
)
from livecs.ingest.douyin.codec import encode_batch, encode_frame
from livecs.ingest.douyin.record import RecordedFrame, read_frames
from livecs.ingest.douyin.replay import DouyinFramesReplaySource
from livecs.ingest.douyin.signer import (
    CommandSigner,
    SignerError,
    SignerNotConfigured,
    make_signer,
    parse_answer,
)
from livecs.models import EventKind
from livecs.pipeline import Pipeline
from livecs.store import Store
from tests.ingest.conftest import Collected, make_collected
from tests.ingest.douyin.dy_fake_server import FakeDouyin, fake_douyin, fake_web
from tests.ingest.douyin.dy_fixtures import ANCHOR_ID, ROOM_ID, chat, control, gift, like

COOKIE = "ttwid=SECRET-COOKIE-1; sessionid=SECRET-SESSION-2"
PAGE_LIVE = (
    '<script>self.__pace_f.push([1,"{\\"state\\":{\\"roomStore\\":{\\"roomInfo\\":{\\"roomId\\":\\"'
    f"{ROOM_ID}"
    '\\",\\"room\\":{\\"status\\":2,\\"owner_user_id_str\\":\\"'
    f"{ANCHOR_ID}"
    '\\"}}}}}"])</script>'
)
PAGE_ENDED = PAGE_LIVE.replace('\\"status\\":2', '\\"status\\":4')


def settings(ws_url: str, **kw: Any) -> DouyinSettings:
    base: dict[str, Any] = {
        "ws_url": ws_url,
        "signer": "http://127.0.0.1:1/unused",
        "cookie": COOKIE,
        "heartbeat_s": 0.05,
        "receive_grace_s": 0.5,
        "backoff_initial_s": 0.02,
        "backoff_max_s": 0.1,
        "backoff_jitter": 0.5,
    }
    base.update(kw)
    return DouyinSettings(**base)


def chats(lo: int, hi: int) -> list[Any]:
    return [chat(i, f"有S码吗{i}") for i in range(lo, hi)]


async def test_session_ack_heartbeat_disconnect_resume_live_end_exactly_once(
    tmp_path: Path, collected: Collected, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def first(server: FakeDouyin, conn: ServerConnection) -> None:
        reader = asyncio.create_task(server.reader(conn))
        await server.send(
            conn, encode_batch(chats(0, 10), log_id=11, cursor="c1", internal_ext="ie1", need_ack=True)
        )
        await asyncio.wait_for(server.got_ack.wait(), 5)
        await server.send(
            conn, encode_batch([*chats(10, 20), gift(1)], log_id=12, cursor="c2", internal_ext="ie2")
        )
        while server.heartbeats < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        conn.transport.abort()  # the connection drops mid-stream, no close frame
        reader.cancel()

    async def second(server: FakeDouyin, conn: ServerConnection) -> None:
        reader = asyncio.create_task(server.reader(conn))
        # the server pushes the last batch again, then new messages, then the live ends
        await server.send(
            conn, encode_batch([*chats(10, 20), gift(1)], log_id=12, cursor="c2", internal_ext="ie2")
        )
        await server.send(
            conn, encode_batch([*chats(20, 30), like(1)], log_id=13, cursor="c3", internal_ext="ie3")
        )
        await server.send(conn, encode_batch([control(3)], log_id=14))
        await reader

    record = tmp_path / "live.dyf"
    async with fake_web(PAGE_LIVE) as web, fake_douyin(first, second) as server:
        s = settings(
            server.url,
            room_page_url=web.base + "/{live_id}",
            signer=web.base + "/sign",
            params={"extra_param": "x"},
        )
        source = DouyinSource(s, room="live-123", record=record, rng=random.Random(1))
        await asyncio.wait_for(source.run(collected.sink), 15)

    # every comment once, across the reconnect and the re-pushed batch
    assert sorted(c.text for c in collected.comments) == sorted(f"有S码吗{i}" for i in range(30))
    assert [e.kind for e in collected.events] == [EventKind.GIFT, EventKind.LIKE]
    assert collected.counters.rejected == {"duplicate": 11}
    assert collected.counters.sources["douyin"] == "finished"
    # room resolution, parameters, signature, headers
    assert web.page_requests[0]["cookie"] == COOKIE
    assert source.room_info is not None and source.room_info.room_id == ROOM_ID
    assert source.parser.anchor_id == ANCHOR_ID
    first_req, second_req = server.requests
    for req in (first_req, second_req):
        assert req.params["room_id"] == str(ROOM_ID)
        assert req.params["signature"] == "sig-http" and req.params["a_bogus"] == "ab"
        assert req.params["extra_param"] == "x"
        assert set(BASE_PARAMS) <= set(req.params)
        assert req.headers["cookie"] == COOKIE
        assert req.headers["user-agent"] == s.user_agent
        assert req.headers["origin"] == "https://live.douyin.com"
    assert first_req.params["cursor"] == "" and first_req.params["internal_ext"] == ""
    assert second_req.params["cursor"] == "c2" and second_req.params["internal_ext"] == "ie2"  # resumed
    assert len(web.sign_requests) == 2
    assert all("SECRET" not in str(r) for r in web.sign_requests)  # the cookie never goes to the signer
    # ack, heartbeat
    assert server.acks == [(11, b"ie1")]
    assert source.acks_sent == 1 and server.heartbeats >= 2 and source.heartbeats_sent >= 2
    # capture health
    health = collected.counters.capture_snapshot()["douyin"]
    assert health["reconnects"] == 1 and health["connects"] == 2 and health["ended"] and not health["live"]
    assert health["by_method"]["WebcastChatMessage"] == 40 and health["last_chat_age_s"] is not None
    assert not health["stalled"]
    # the cookie and the signature are never logged
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("websockets.server"))
    assert "SECRET" not in ours and "sig-http" not in ours and "connected" in ours
    # the recording holds every received frame once; replayed, it gives the same records
    frames = [f for f in read_frames(record) if isinstance(f, RecordedFrame)]
    assert len(frames) == source.health.frames
    replayed = make_collected()
    await DouyinFramesReplaySource(record).run(replayed.sink)
    assert sorted(c.comment_id for c in replayed.comments) == sorted(c.comment_id for c in collected.comments)
    assert len(replayed.events) == 2 and replayed.counters.rejected == {"duplicate": 11}


async def test_garbage_counted_silence_reconnects_server_close_reconnects(collected: Collected) -> None:
    async def garbage_then_silence(server: FakeDouyin, conn: ServerConnection) -> None:
        await server.send(conn, b"\x0a\xff\xff")
        await server.send(conn, encode_batch(chats(0, 3), cursor="g1"))
        await conn.wait_closed()  # silent: the client gives up after heartbeat + grace

    async def close_frame(server: FakeDouyin, conn: ServerConnection) -> None:
        await server.send(conn, encode_batch(chats(3, 6), cursor="g2"))
        await server.send(conn, encode_frame(b"", payload_type="close", encoding=""))
        await conn.wait_closed()

    async def end(server: FakeDouyin, conn: ServerConnection) -> None:
        await server.send(conn, encode_batch([*chats(6, 8), control(3)]))
        await conn.wait_closed()

    class Signed:
        calls = 0

        async def sign(self, url: str, params: Any, user_agent: str) -> Any:
            self.calls += 1
            return parse_answer(f"sig-{self.calls}")

    signer = Signed()
    async with fake_douyin(garbage_then_silence, close_frame, end) as server:
        s = settings(server.url, room_id=ROOM_ID, heartbeat_s=0.2, receive_grace_s=0.3)
        source = DouyinSource(s, room="r", signer=signer, rng=random.Random(2))
        await asyncio.wait_for(source.run(collected.sink), 15)
    assert len(collected.comments) == 8
    assert collected.counters.rejected == {"douyin_bad_frame": 1}
    assert [r.params["cursor"] for r in server.requests] == ["", "g1", "g2"]
    assert [r.params["signature"] for r in server.requests] == ["sig-1", "sig-2", "sig-3"]
    assert source.disconnects == 2 and source.health.drops["bad_frame"] == 1


async def test_room_not_live_finishes_without_connecting(collected: Collected) -> None:
    async with fake_web(PAGE_ENDED) as web:
        s = settings("ws://127.0.0.1:1/", room_page_url=web.base + "/{live_id}", signer=web.base + "/sign")
        await asyncio.wait_for(DouyinSource(s, room="123").run(collected.sink), 5)
    assert collected.counters.sources["douyin"] == "finished"
    assert web.sign_requests == []


async def test_connect_failures_back_off_and_keep_trying(collected: Collected) -> None:
    class Fail:
        async def sign(self, url: str, params: Any, user_agent: str) -> Any:
            raise SignerError("signer down")

    s = settings("ws://127.0.0.1:1/", room_id=ROOM_ID)
    source = DouyinSource(s, room="r", signer=Fail(), rng=random.Random(3))
    task = asyncio.create_task(source.run(collected.sink))
    await asyncio.sleep(0.4)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.backoff.attempt >= 3 and source.connects == 0
    assert collected.counters.sources["douyin"] in {"reconnecting", "disconnected"}


def test_no_signer_is_a_clear_error_naming_the_setting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SignerNotConfigured, match=r"douyin\.signer"):
        DouyinSource(DouyinSettings(), room="123")
    assert main(["serve", "--source", "douyin", "--room", "123", "--no-console"]) == 2
    assert "douyin.signer is not set" in capsys.readouterr().err
    with pytest.raises(ValueError, match="live id"):
        DouyinSource(DouyinSettings(signer="x"))


async def test_command_signer(tmp_path: Path) -> None:
    script = tmp_path / "sign.py"
    script.write_text(
        "import json, sys\nreq = json.load(sys.stdin)\n"
        "print(json.dumps({'signature': 'cmd-' + req['params']['room_id'], 'params': {'x_bogus': '1'}}))\n"
    )
    signer = make_signer(f"{sys.executable} {script}", 5.0)
    assert isinstance(signer, CommandSigner)
    got = await signer.sign("wss://x/", {"room_id": "42"}, "UA")
    assert got.signature == "cmd-42" and dict(got.params) == {"x_bogus": "1"}
    failing = make_signer(f"{sys.executable} -c 'import sys; sys.exit(3)'", 5.0)
    with pytest.raises(SignerError, match="exited 3"):
        await failing.sign("wss://x/", {}, "UA")
    slow = make_signer(f"{sys.executable} -c 'import time; time.sleep(10)'", 0.3)
    with pytest.raises(SignerError, match="no answer"):
        await slow.sign("wss://x/", {}, "UA")
    missing = make_signer("/nonexistent/signer", 1.0)
    with pytest.raises(SignerError, match="could not start"):
        await missing.sign("wss://x/", {}, "UA")


def test_signer_answers() -> None:
    assert parse_answer(b"abc\n").signature == "abc"
    assert parse_answer('{"signature": "s", "params": {"a": 1}}').params == {"a": "1"}
    for bad in (b"", b"{", b'{"signature": 1}', b"\n\n"):
        with pytest.raises(SignerError):
            parse_answer(bad)


def test_room_page_and_params() -> None:
    info = parse_room_page(PAGE_LIVE)
    assert info.room_id == ROOM_ID and info.anchor_id == ANCHOR_ID and info.live is True
    assert parse_room_page(PAGE_ENDED).live is False
    assert parse_room_page('{"roomId":"5"}').live is None
    p = push_params(5, user_unique_id="u", user_agent="Mozilla/5.0 X", cursor="c", extra={"aid": "1"})
    assert p["room_id"] == "5" and p["cursor"] == "c" and p["aid"] == "1" and p["browser_version"] == "5.0 X"


async def test_through_the_real_pipeline_recorded_once_across_a_reconnect(tmp_path: Path) -> None:
    """Live → ingest → processing → SQLite: a dropped connection, a re-pushed batch, each comment once."""
    app_settings = load_settings(environ={})
    app_settings.store.path = str(tmp_path / "rec.db")

    async def first(server: FakeDouyin, conn: ServerConnection) -> None:
        await server.send(conn, encode_batch(chats(0, 25), cursor="p1", internal_ext="pe1"))
        await asyncio.sleep(0.05)
        conn.transport.abort()

    async def second(server: FakeDouyin, conn: ServerConnection) -> None:
        await server.send(conn, encode_batch(chats(15, 40), cursor="p2"))  # 15..24 again
        await server.send(conn, encode_batch([control(3)]))
        await conn.wait_closed()

    pipeline = Pipeline(app_settings, MemoryBus(app_settings.bus), Store(app_settings.store), None)
    await pipeline.start(workers=1)
    try:
        async with fake_douyin(first, second) as server:
            s = settings(server.url, room_id=ROOM_ID)
            source = DouyinSource(
                s, room="dy-live", signer=make_signer(f"{sys.executable} -c 'print(1)'", 5.0)
            )
            await asyncio.wait_for(pipeline.add_source(source), 15)
        assert await pipeline.drain(5.0)
        stats = pipeline.counters.snapshot()
    finally:
        await pipeline.stop()
        await pipeline.bus.close()
        await pipeline.store.close()
    with sqlite3.connect(app_settings.store.path) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT comment_id) FROM comments").fetchone() == (
            40,
            40,
        )
    assert stats["rejected"] == {"duplicate": 10}
    assert stats["sources"]["douyin"] == "finished"
    assert stats["capture"]["douyin"]["reconnects"] == 1 and stats["capture"]["douyin"]["ended"]


async def test_large_frames_are_decoded_off_the_event_loop(collected: Collected) -> None:
    big_text = "长" * 300

    async def big(server: FakeDouyin, conn: ServerConnection) -> None:
        batch = encode_batch([chat(i, f"{big_text}{i}") for i in range(300)], encoding="")  # ~300 KB, plain
        await server.send(conn, batch)
        await server.send(conn, encode_batch([*chats(300, 302), control(3)]))
        await conn.wait_closed()

    async with fake_douyin(big) as server:
        s = settings(server.url, room_id=ROOM_ID, offload_bytes=64 * 1024)
        source = DouyinSource(s, room="r", signer=make_signer(f"{sys.executable} -c 'print(1)'", 5.0))
        await asyncio.wait_for(source.run(collected.sink), 15)
    assert len(collected.comments) == 302 and source.offloaded == 1
