"""What every console view shares: the app's state keys, the role sets, JSON in and out.

Request bodies are read with :func:`read_json` / :func:`read_model`, which raise a
:class:`~livecs.errors.LivecsError` (``bad_request`` for what is not JSON, ``invalid`` with the
``problems`` for what does not fit the model); :mod:`livecs.console.views.errors` answers it.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from livecs.config import ConsoleSettings
from livecs.console.auth import Auth, Role
from livecs.console.hub import Hub
from livecs.console.merchant import MerchantBackend
from livecs.console.review import ReviewDownloads
from livecs.errors import ErrorCode, LivecsError

OPERATOR_ROLES = (Role.OPERATOR,)
VIEWER_ROLES = (Role.OPERATOR, Role.STREAMER)
ALL_ROLES = (Role.OPERATOR, Role.STREAMER, Role.MERCHANT)
TICKET_READERS = (Role.OPERATOR, Role.MERCHANT)
#: the operator queue's views: 全部 / 我的 / 未分配
QUEUE_VIEWS = ("all", "mine", "unassigned")

SETTINGS = web.AppKey("settings", ConsoleSettings)
AUTH = web.AppKey("auth", Auth)
HUB = web.AppKey("hub", Hub)
MERCHANT = web.AppKey("merchant", MerchantBackend)
SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("sockets")
FILES: web.AppKey[dict[str, bytes]] = web.AppKey("files")
REVIEW = web.AppKey("review", ReviewDownloads)

M = TypeVar("M", bound=BaseModel)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def read_json(request: web.Request) -> Any:
    try:
        return orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise LivecsError("请求格式错误", "invalid JSON", code=ErrorCode.BAD_REQUEST) from None


async def read_model(request: web.Request, model: type[M]) -> M:
    """The JSON body validated as ``model``."""
    try:
        return model.model_validate(await read_json(request))
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise LivecsError(
            "请求内容无效", "invalid request", code=ErrorCode.INVALID, problems=problems
        ) from None
