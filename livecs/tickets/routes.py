"""The tickets API of the console (the 工单 page is ``/tickets``, served with the other pages).

    GET  /api/tickets?view=all|mine|overdue&status=&room=&session=   operator, merchant (read, masked)
    GET  /api/tickets/{ticket_id}                                    operator, merchant (read, masked)
    POST /api/tickets/{ticket_id}  {kind, text?, owner?, outcome?}   operator
         kind ∈ take reassign note contact resolve close reopen → 200 the ticket, 404, 409 closed, 422

Admins may do everything (the role guard always lets them through). A merchant reads tickets with the
viewer's id removed and personal data masked.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from livecs.console.auth import Role, current_user, requires
from livecs.console.views.errors import error_response
from livecs.tickets.model import MAX_TEXT, Kind, TicketError
from livecs.tickets.service import TicketService, view_of

TICKETS = web.AppKey("tickets", TicketService)
READ_ROLES = (Role.OPERATOR, Role.MERCHANT)
OPERATORS: web.AppKey[list[str]] = web.AppKey("ticket_operators")


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    text: str = Field("", max_length=MAX_TEXT)
    owner: str = Field("", max_length=64)
    outcome: str = Field("", max_length=16)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _error(exc: TicketError) -> web.Response:
    return error_response(exc)


def _masked(request: web.Request) -> bool:
    return current_user(request).role is Role.MERCHANT


@requires(*READ_ROLES)
async def list_tickets(request: web.Request) -> web.StreamResponse:
    svc = request.app[TICKETS]
    q = request.query
    try:
        items = await svc.list(
            view=q.get("view", "all"),
            user=current_user(request).name,
            status=q.get("status", ""),
            room=q.get("room", ""),
            session_id=q.get("session", ""),
        )
    except TicketError as exc:
        return _error(exc)
    now = svc.clock()
    masked = _masked(request)
    return _json(
        {
            "now": now,
            "items": [view_of(t, now, masked=masked) for t in items],
            "overdue": svc.overdue_count(q.get("room") or None, now),
            "operators": request.app[OPERATORS],
            "can_edit": not masked,
        }
    )


@requires(*READ_ROLES)
async def get_ticket(request: web.Request) -> web.StreamResponse:
    svc = request.app[TICKETS]
    try:
        t = await svc.get(request.match_info["ticket_id"])
    except TicketError as exc:
        return _error(exc)
    return _json(view_of(t, svc.clock(), masked=_masked(request)))


@requires(Role.OPERATOR)
async def change_ticket(request: web.Request) -> web.StreamResponse:
    svc = request.app[TICKETS]
    try:
        body = ChangeIn.model_validate(orjson.loads(await request.read()))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        return _error(TicketError("请求内容无效", "invalid request", detail=str(exc)[:500]))
    operators = request.app[OPERATORS]
    if body.kind is Kind.REASSIGN and operators and body.owner not in operators:
        return _error(TicketError(f"没有客服「{body.owner}」", f"unknown operator {body.owner!r}"))
    try:
        t = await svc.change(
            request.match_info["ticket_id"],
            body.kind,
            current_user(request).name,
            text=body.text,
            owner=body.owner,
            outcome=body.outcome,
        )
    except TicketError as exc:
        return _error(exc)
    return _json(view_of(t, svc.clock(), masked=False))


def add_routes(app: web.Application, service: TicketService, operators: list[str]) -> None:
    """Register the API; ``operators`` are the names a ticket may be reassigned to (empty: any name)."""
    app[TICKETS] = service
    app[OPERATORS] = operators
    r = app.router
    r.add_get("/api/tickets", list_tickets)
    r.add_get("/api/tickets/{ticket_id}", get_ticket)
    r.add_post("/api/tickets/{ticket_id}", change_ticket)
