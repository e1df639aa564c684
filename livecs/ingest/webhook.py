"""Webhook source: ``POST /api/rooms/{room}/comments`` with a JSON array (or one object) of records.

Authentication is a shared token, sent as ``Authorization: Bearer <token>`` or ``X-Livecs-Token: <token>``
and compared in constant time. Responses (all JSON)::

    202 {"accepted": n, "rejected": m}     per-record rejects (and duplicates) are counted by the sink;
                                           the valid records of the same body are accepted
    400 {"error": "malformed_json", …}     the body is not JSON, not UTF-8, not an object/array; bad room
    401 {"error": "unauthorized"}          no token or a wrong one
    413 {"error": "payload_too_large", …}  body over the limit (``limits.max_payload_bytes``)
    415 {"error": "unsupported_media_type"} the content type is not JSON
    503 {"error": "unavailable", "reason": "stopping"|"bus_unavailable"}   with ``Retry-After``: nothing of
                                           the body was accepted (a stop has begun, or the bus is away and
                                           its outage buffer is full) — send it again later

The ``{room}`` in the path is authoritative: it replaces any ``room`` inside the records. The handler can
be mounted in another aiohttp application (:func:`add_webhook_routes`, :func:`webhook_routes`; the console
does) or served on its own by :class:`WebhookSource` (``settings.host``/``settings.port``) until cancelled.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections import Counter
from typing import Any

from aiohttp import web

from livecs.config import WebhookSettings, check_webhook_token
from livecs.ingest.base import IngestSink, Source
from livecs.ingest.sink import Unavailable
from livecs.ingest.validate import Rejected
from livecs.serving import bound_port, new_token

log = logging.getLogger("livecs.ingest.webhook")

#: the route, relative to the application it is mounted in
COMMENTS_PATH = "/api/rooms/{room}/comments"
#: a room id: letters, digits and ``_ . : -`` (length capped by ``limits.max_id_chars``)
ROOM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]*")
#: token header alternatives
TOKEN_HEADER = "X-Livecs-Token"
BEARER_PREFIX = "bearer "
#: content types accepted as JSON (besides any ``application/*+json``)
JSON_CONTENT_TYPES = frozenset({"application/json", "text/json"})
#: bytes read from the request body at a time
READ_CHUNK_BYTES = 64 * 1024


class WebhookHandler:
    """The request handler, bound to one sink and token."""

    def __init__(self, sink: IngestSink, token: str, *, name: str = "webhook") -> None:
        if not token:
            raise ValueError("the webhook needs a non-empty token")
        check_webhook_token(token)  # ConfigError (a ValueError) when shorter than 16 characters
        self.sink = sink
        self.name = name
        self.limits = sink.limits
        self._token = token.encode("utf-8")
        #: responses by status code (for the console and tests)
        self.responses: Counter[int] = Counter()

    def routes(self) -> list[web.RouteDef]:
        return [web.post(COMMENTS_PATH, self.post_comments)]

    # -- helpers --------------------------------------------------------------------------------------------
    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get(TOKEN_HEADER)
        if given is None:
            auth = request.headers.get("Authorization", "")
            if auth[: len(BEARER_PREFIX)].lower() != BEARER_PREFIX:
                return False
            given = auth[len(BEARER_PREFIX) :].strip()
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self._token)

    def _reply(self, status: int, body: dict[str, Any], **headers: str) -> web.Response:
        self.responses[status] += 1
        return web.json_response(body, status=status, headers=headers or None)

    def _bad(self, reason: str, detail: str = "", status: int = 400) -> web.Response:
        self.sink.reject(reason, source=self.name, detail=detail)
        body = {"error": reason}
        if detail:
            body["detail"] = detail
        return self._reply(status, body)

    def _is_json(self, request: web.Request) -> bool:
        ctype = request.content_type.lower()
        return ctype in JSON_CONTENT_TYPES or (ctype.startswith("application/") and ctype.endswith("+json"))

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The body, or ``None`` when it is over the limit (stops reading as soon as it is)."""
        limit = self.limits.max_payload_bytes
        if request.content_length is not None and request.content_length > limit:
            return None
        body = bytearray()
        async for chunk in request.content.iter_chunked(READ_CHUNK_BYTES):
            body += chunk
            if len(body) > limit:
                return None
        return bytes(body)

    # -- the route ------------------------------------------------------------------------------------------
    async def post_comments(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._reply(
                401, {"error": "unauthorized"}, **{"WWW-Authenticate": 'Bearer realm="livecs"'}
            )
        room = request.match_info.get("room", "")
        if len(room) > self.limits.max_id_chars or not ROOM_RE.fullmatch(room):
            return self._reply(400, {"error": "invalid_room", "detail": "letters, digits and _ . : - only"})
        if not self._is_json(request):
            return self._reply(
                415,
                {
                    "error": "unsupported_media_type",
                    "detail": f"expected application/json, got {request.content_type}",
                },
            )
        body = await self._read_body(request)
        if body is None:
            return self._bad("payload_too_large", f"limit {self.limits.max_payload_bytes} bytes", status=413)
        try:
            objects = self.sink.decode_payload(body)
        except Rejected as exc:
            status = 413 if exc.reason == "payload_too_large" else 400
            return self._bad(exc.reason, exc.detail, status=status)
        if body.lstrip()[:1] not in (b"[", b"{"):
            return self._bad("not_an_object", "expected a JSON object or an array of objects")
        for obj in objects:
            if isinstance(obj, dict):
                obj["room"] = room  # the path is authoritative
        try:
            accepted = await self.sink.submit_objects(objects, source=self.name, room=room, wait=False)
        except Unavailable as exc:
            return self._reply(
                503,
                {"error": "unavailable", "reason": exc.reason},
                **{"Retry-After": str(exc.retry_after_s)},
            )
        return self._reply(202, {"accepted": accepted, "rejected": len(objects) - accepted})


#: where :func:`add_webhook_routes` leaves the handler (its counters) in the application
WEBHOOK_HANDLER_KEY = web.AppKey("livecs_webhook_handler", WebhookHandler)


def webhook_routes(sink: IngestSink, token: str) -> list[web.RouteDef]:
    """Route definitions to add to any application (``app.add_routes(webhook_routes(sink, token))``)."""
    return WebhookHandler(sink, token).routes()


def add_webhook_routes(app: web.Application, sink: IngestSink, token: str) -> WebhookHandler:
    """Mount the webhook on ``app``; the handler is also stored under :data:`WEBHOOK_HANDLER_KEY`."""
    handler = WebhookHandler(sink, token)
    app[WEBHOOK_HANDLER_KEY] = handler
    app.add_routes(handler.routes())
    return handler


def build_webhook_app(sink: IngestSink, token: str) -> web.Application:
    """A standalone application serving only the webhook (body limit: the sink's ``max_payload_bytes``)."""
    app = web.Application(client_max_size=sink.limits.max_payload_bytes)
    add_webhook_routes(app, sink, token)
    return app


class WebhookSource(Source):
    """Serves the webhook on ``settings.host:settings.port`` until cancelled.

    With an empty ``settings.token`` a random token is generated and logged once at start; read it from
    :attr:`token`. :attr:`port` is the bound port (useful with port 0); :attr:`ready` is set once listening.
    """

    def __init__(self, settings: WebhookSettings, *, name: str = "webhook") -> None:
        self.settings = settings
        self.name = name
        self.token = settings.token or new_token()
        self._generated = not settings.token
        self.port: int | None = None
        self.ready = asyncio.Event()
        self.app: web.Application | None = None

    async def run(self, sink: IngestSink) -> None:
        self.app = build_webhook_app(sink, self.token)
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.settings.host, self.settings.port)
            await site.start()
            self.port = bound_port(runner, self.settings.port)
            url = f"http://{self.settings.host}:{self.port}{COMMENTS_PATH}"
            if self._generated:
                log.warning("webhook %s: listening on %s; generated token: %s", self.name, url, self.token)
            else:
                log.info("webhook %s: listening on %s", self.name, url)
            sink.source_status(self.name, "listening", url)
            self.ready.set()
            await asyncio.Event().wait()  # serve until cancelled
        finally:
            self.ready.clear()
            await runner.cleanup()
