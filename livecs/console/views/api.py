"""The operator and streamer JSON API: who am I, rooms, the queue, live stats, the streamer view, actions.

``GET /api/me`` (any role) ``/api/rooms`` ``/api/stats`` ``/api/streamer`` (operator, streamer)
``/api/queue?view=all|mine|unassigned`` (operator); ``POST /api/actions`` and ``/api/actions/bulk``
(operator) run :meth:`livecs.console.hub.Hub.act` / :meth:`~livecs.console.hub.Hub.act_bulk`.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from livecs.console.auth import HOME_PAGE, current_user, requires
from livecs.console.hub import ActionRequest
from livecs.console.views.common import (
    ALL_ROLES,
    HUB,
    OPERATOR_ROLES,
    QUEUE_VIEWS,
    VIEWER_ROLES,
    json_response,
    read_model,
)
from livecs.errors import ErrorCode, LivecsError
from livecs.models import ActionKind

MAX_ACTION_TEXT = 500


class ActionIn(BaseModel):
    """``POST /api/actions`` body."""

    model_config = ConfigDict(extra="forbid")
    room: str | None = Field(None, max_length=128)
    item_id: str = Field(min_length=1, max_length=300)
    kind: ActionKind
    text: str = Field("", max_length=MAX_ACTION_TEXT)
    note: str = Field("", max_length=MAX_ACTION_TEXT)
    coupon_rule_id: str = Field("", max_length=64)
    force: bool = False
    #: send a reply carrying an error-level term anyway (recorded with the send)
    force_terms: bool = False


class BulkActionIn(BaseModel):
    """``POST /api/actions/bulk`` body: one action on many cards (moderation select-all)."""

    model_config = ConfigDict(extra="forbid")
    room: str | None = Field(None, max_length=128)
    item_ids: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(min_length=1, max_length=500)
    kind: ActionKind
    note: str = Field("", max_length=MAX_ACTION_TEXT)


@requires(*ALL_ROLES)
async def api_me(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    return json_response({"name": user.name, "role": user.role.value, "home": HOME_PAGE[user.role]})


@requires(*VIEWER_ROLES)
async def api_rooms(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    default = hub.room(None).room
    return json_response({"rooms": sorted(hub.rooms), "default": default, "overview": hub.rooms_overview()})


@requires(*OPERATOR_ROLES)
async def api_queue(request: web.Request) -> web.StreamResponse:
    view = request.query.get("view", "all")
    if view not in QUEUE_VIEWS:
        raise LivecsError("未知视图", "unknown view", code=ErrorCode.INVALID)
    me = current_user(request).name
    return json_response(request.app[HUB].queue_snapshot(request.query.get("room"), view, me))


@requires(*VIEWER_ROLES)
async def api_stats(request: web.Request) -> web.StreamResponse:
    return json_response(request.app[HUB].stats(request.query.get("room")))


@requires(*VIEWER_ROLES)
async def api_streamer(request: web.Request) -> web.StreamResponse:
    return json_response(request.app[HUB].streamer_view(request.query.get("room")))


@requires(*OPERATOR_ROLES)
async def api_actions(request: web.Request) -> web.StreamResponse:
    body = await read_model(request, ActionIn)
    req = ActionRequest(
        room=body.room or "",
        item_id=body.item_id,
        kind=body.kind,
        text=body.text,
        note=body.note,
        coupon_rule_id=body.coupon_rule_id,
        force=body.force,
        force_terms=body.force_terms,
    )
    return json_response(await request.app[HUB].act(req, current_user(request).name))


@requires(*OPERATOR_ROLES)
async def api_actions_bulk(request: web.Request) -> web.StreamResponse:
    body = await read_model(request, BulkActionIn)
    result = await request.app[HUB].act_bulk(
        body.room or "", body.item_ids, body.kind, current_user(request).name, body.note
    )
    return json_response(result)
