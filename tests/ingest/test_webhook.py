"""Webhook: status codes (202/400/401/413/415), per-record counts, mounting, and the standalone server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from livecs.config import WebhookSettings
from livecs.ingest.settings import RecordLimits
from livecs.ingest.webhook import (
    WEBHOOK_HANDLER_KEY,
    WebhookSource,
    add_webhook_routes,
    build_webhook_app,
    webhook_routes,
)

if TYPE_CHECKING:
    from tests.ingest.conftest import Collected

TOKEN = "s3cret-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
URL = "/api/rooms/r1/comments"
ClientFactory = Callable[[web.Application], Awaitable[TestClient]]


def comment(i: int | str, **kw: Any) -> dict[str, Any]:
    return {"id": f"c{i}", "user_id": f"u{i}", "text": f"第{i}条", **kw}


@pytest.fixture
async def client(aiohttp_client: Any, collected: Collected) -> TestClient:
    return await aiohttp_client(build_webhook_app(collected.sink, TOKEN))


async def post(client: TestClient, body: Any, headers: dict[str, str] | None = None, url: str = URL) -> Any:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    hdrs = {"Content-Type": "application/json", **AUTH, **(headers or {})}
    resp = await client.post(url, data=data, headers=hdrs)
    return resp.status, await resp.json()


async def test_batch_is_accepted_with_per_record_rejects_counted(
    client: TestClient, collected: Collected
) -> None:
    body = [
        comment(1),
        comment(2, room="elsewhere"),  # the path room wins
        {"id": "c3", "room": "r1"},  # no text
        comment(4, text="a\x00\u202eb"),  # control characters cleaned
        comment(5, text="长" * 999),  # capped and marked
        comment(1),  # duplicate in the same body
        "not an object",
        comment(6, type="no_such_type"),
    ]
    status, reply = await post(client, body)
    assert (status, reply) == (202, {"accepted": 4, "rejected": 4})
    assert collected.comment_ids == ["c1", "c2", "c4", "c5"]
    assert {c.room for c in collected.comments} == {"r1"}
    by_id = {c.comment_id: c for c in collected.comments}
    assert by_id["c4"].text == "ab" and by_id["c5"].truncated
    assert dict(collected.counters.rejected) == {
        "missing_field": 1,
        "duplicate": 1,
        "not_an_object": 1,
        "unknown_type": 1,
    }
    # a redelivery of the whole body is all duplicates, still 202
    status, reply = await post(client, [comment(1), comment(2)])
    assert (status, reply) == (202, {"accepted": 0, "rejected": 2})


async def test_one_object_and_x_livecs_token(client: TestClient, collected: Collected) -> None:
    resp = await client.post(
        URL,
        data=orjson.dumps(comment(1)),
        headers={"Content-Type": "application/json; charset=utf-8", "X-Livecs-Token": TOKEN},
    )
    assert resp.status == 202 and await resp.json() == {"accepted": 1, "rejected": 0}
    status, reply = await post(client, [])
    assert (status, reply) == (202, {"accepted": 0, "rejected": 0})
    assert collected.comment_ids == ["c1"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": ""},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "", "X-Livecs-Token": "wrong"},
        {"Authorization": "", "X-Livecs-Token": "s3cret-token-but-longer"},
    ],
    ids=["none", "wrong-bearer", "basic", "wrong-header", "prefix"],
)
async def test_missing_or_wrong_token_is_401(client: TestClient, collected: Collected, headers: dict) -> None:
    resp = await client.post(
        URL, data=orjson.dumps([comment(1)]), headers={"Content-Type": "application/json", **headers}
    )
    assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert collected.counters.received == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'[{"id": "c1", "text": ', "malformed_json"),
        (b"\xff\xfe[]", "invalid_utf8"),
        (b"", "malformed_json"),
        (b"42", "not_an_object"),
        (b'"just a string"', "not_an_object"),
    ],
    ids=["truncated", "utf8", "empty", "number", "string"],
)
async def test_body_that_is_not_a_json_object_or_array_is_400(
    client: TestClient, collected: Collected, body: bytes, reason: str
) -> None:
    status, reply = await post(client, body)
    assert status == 400 and reply["error"] == reason
    assert collected.counters.rejected[reason] == 1 and collected.counters.accepted == 0


@pytest.mark.parametrize(
    "ctype", ["text/plain", "application/x-www-form-urlencoded", "application/octet-stream"]
)
async def test_non_json_content_type_is_415(client: TestClient, ctype: str) -> None:
    resp = await client.post(URL, data=orjson.dumps([comment(1)]), headers={**AUTH, "Content-Type": ctype})
    assert resp.status == 415 and (await resp.json())["error"] == "unsupported_media_type"


async def test_vendor_json_content_type_is_accepted(client: TestClient) -> None:
    resp = await client.post(
        URL, data=orjson.dumps([comment(1)]), headers={**AUTH, "Content-Type": "application/vnd.relay+json"}
    )
    assert resp.status == 202


@pytest.mark.parametrize(
    "room", ["has space", "a" * 200, "-leading", "房间"], ids=["space", "long", "dash", "cjk"]
)
async def test_invalid_room_is_400(client: TestClient, room: str) -> None:
    status, reply = await post(client, [comment(1)], url=f"/api/rooms/{room}/comments")
    assert status == 400 and reply["error"] == "invalid_room"


async def test_body_over_the_limit_is_413_with_and_without_content_length(
    aiohttp_client: Any, make_sink: Any
) -> None:
    collected = make_sink(RecordLimits(max_payload_bytes=1000))
    client = await aiohttp_client(build_webhook_app(collected.sink, TOKEN))
    big = orjson.dumps([comment(i) for i in range(100)])
    assert len(big) > 1000
    status, reply = await post(client, big)
    assert status == 413 and reply["error"] == "payload_too_large"

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while reading
        for i in range(0, len(big), 100):
            yield big[i : i + 100]

    resp = await client.post(URL, data=chunked(), headers={"Content-Type": "application/json", **AUTH})
    assert resp.status == 413
    status, _ = await post(client, [comment(1)])  # small bodies still fine
    assert status == 202
    assert collected.counters.rejected["payload_too_large"] == 2


async def test_routes_mount_in_another_application(aiohttp_client: Any, collected: Collected) -> None:
    app = web.Application()
    handler = add_webhook_routes(app, collected.sink, TOKEN)
    assert app[WEBHOOK_HANDLER_KEY] is handler
    other = web.Application()
    other.add_routes(webhook_routes(collected.sink, TOKEN))
    for mounted in (app, other):
        client = await aiohttp_client(mounted)
        status, _ = await post(client, [comment(id(mounted))])
        assert status == 202
    assert handler.responses[202] == 1
    with pytest.raises(ValueError):
        webhook_routes(collected.sink, "")


async def test_standalone_source_serves_until_cancelled(collected: Collected) -> None:
    source = WebhookSource(WebhookSettings(host="127.0.0.1", port=0, token=""))
    assert source.token  # generated
    task = asyncio.create_task(source.run(collected.sink))
    await asyncio.wait_for(source.ready.wait(), 5)
    url = f"http://127.0.0.1:{source.port}{URL}"
    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            url, json=[comment(1), comment(2)], headers={"Authorization": f"Bearer {source.token}"}
        )
        assert resp.status == 202 and await resp.json() == {"accepted": 2, "rejected": 0}
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(url, json=[comment(3)], headers={"Authorization": f"Bearer {source.token}"})
    assert collected.comment_ids == ["c1", "c2"]
    assert collected.counters.sources["webhook"] == "listening"


def test_a_short_webhook_token_is_a_clear_config_error(collected: Collected) -> None:
    """Regression (issue 11): a one-character webhook token was accepted. At least 16 characters, in the
    configuration, on the command line and wherever the webhook is mounted."""
    from livecs.cli import main as cli_main
    from livecs.config import ConfigError, load_settings

    for short in ("x", "a" * 15):
        with pytest.raises(ValueError, match="at least 16 characters"):
            WebhookSettings(token=short)
        with pytest.raises(ConfigError, match="at least 16 characters"):
            webhook_routes(collected.sink, short)
        with pytest.raises(ConfigError, match=r"webhook\.token"):
            load_settings(environ={"LIVECS_WEBHOOK__TOKEN": short})
    assert cli_main(["serve", "--source", "webhook", "--token", "x"]) == 2
    assert WebhookSettings(token="a" * 16).token == "a" * 16
    assert WebhookSettings(token="").token == ""  # generated at start


async def test_a_stopping_sink_answers_503_with_retry_after_and_keeps_nothing(
    client: TestClient, collected: Collected
) -> None:
    assert (await post(client, [comment(1)]))[0] == 202
    collected.sink.close()  # a stop has begun: the doors are closed
    resp = await client.post(
        URL, data=orjson.dumps([comment(2)]), headers={"Content-Type": "application/json", **AUTH}
    )
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "5"
    assert await resp.json() == {"error": "unavailable", "reason": "stopping"}
    assert collected.counters.accepted == 1
