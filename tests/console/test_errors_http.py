"""Errors to HTTP in one place: the status of each error code, the shape of an error answer, the actions."""

from __future__ import annotations

from livecs.console.hub import ACTIONS
from livecs.console.views.errors import HTTP_STATUS
from livecs.errors import ErrorCode
from livecs.models import ActionKind
from tests.console.conftest import ROOM, bearer, comment_group


def test_one_status_per_code() -> None:
    assert HTTP_STATUS == {
        ErrorCode.BAD_REQUEST: 400,
        ErrorCode.FORBIDDEN: 403,
        ErrorCode.NOT_FOUND: 404,
        ErrorCode.CONFLICT: 409,
        ErrorCode.TOO_LARGE: 413,
        ErrorCode.INVALID: 422,
        ErrorCode.FAILED: 500,
        ErrorCode.UNAVAILABLE: 503,
    }


def test_every_operator_action_has_a_handler() -> None:
    # edit and ticket are recorded by the hub and the ticket service, never posted as actions
    assert set(ActionKind) - set(ACTIONS) == {ActionKind.EDIT, ActionKind.TICKET}


async def test_error_answers_keep_their_shape(make_console) -> None:
    con = await make_console()
    c, alice = con.client, bearer("alice")
    r = await c.post("/api/actions", data=b"{not json", headers=alice)
    assert r.status == 400 and await r.json() == {"error": "invalid JSON", "message": "请求格式错误"}
    r = await c.post("/api/actions", json={"item_id": "x", "kind": "take", "extra": 1}, headers=alice)
    body = await r.json()
    assert (
        r.status == 422
        and body["error"] == "invalid request"
        and body["problems"] == ["extra: Extra inputs are not permitted"]
    )
    await con.publish(comment_group("这件有M码吗"))
    await con.settle(lambda: bool(con.hub.room(ROOM).visible("all", "alice")[0]))
    item_id = con.hub.room(ROOM).visible("all", "alice")[0][0].item_id
    r = await c.post("/api/actions", json={"item_id": item_id, "kind": "edit"}, headers=alice)
    assert r.status == 422 and await r.json() == {
        "error": "unsupported action edit",
        "message": "不支持的操作",
    }
    r = await c.get(
        "/api/tickets/T9999", headers=alice
    )  # the ticket service's error, answered by the same map
    assert r.status == 404 and (await r.json())["message"] == "没有这个工单"
