"""Errors to HTTP: the one place the console chooses the status of an error answer.

A view (or the hub, the merchant backend, the ticket service below it) raises a
:class:`~livecs.errors.LivecsError`; :func:`error_middleware` answers it as JSON
``{"error": en, "message": zh, **extra}`` with the status :data:`HTTP_STATUS` gives its code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from livecs.errors import ErrorCode, LivecsError

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.INVALID: 422,
    ErrorCode.FAILED: 500,
    ErrorCode.UNAVAILABLE: 503,
}


def error_body(exc: LivecsError) -> dict[str, Any]:
    return {"error": exc.en, "message": exc.zh, **exc.extra}


def error_response(exc: LivecsError) -> web.Response:
    return web.Response(
        body=orjson.dumps(error_body(exc)), status=HTTP_STATUS[exc.code], content_type="application/json"
    )


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer a :class:`~livecs.errors.LivecsError` raised by a handler (outermost: the role guard sees the
    handler itself)."""
    try:
        return await handler(request)
    except LivecsError as exc:
        return error_response(exc)
