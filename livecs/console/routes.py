"""Every URL of the console and its view (:mod:`livecs.console.views`); each view declares its roles.

Routes::

    GET  /login  POST /login  POST /logout          public / any role                  views.pages
    GET  /favicon.ico                               public (204: no icon)              views.pages
    GET  /  /console  /streamer  /merchant  /tickets  pages (role home, …)             views.pages
    GET  /static/{file}                             per file (app.css is public)       views.pages
    GET  /api/me  /api/rooms  /api/queue  /api/stats  /api/streamer                    views.api
    POST /api/actions  /api/actions/bulk            operator                           views.api
    GET  /api/viewer?user_id=                       operator (the viewer card)         views.viewer
    GET  /api/sessions  /api/review/{session_id}    operator (``mask=0``: admin only)  views.review
    GET  /api/merchant/versions  /products  /rollback (its preview)                  views.merchant
    POST /api/merchant/upload  /activate  /rollback  /on-air                           views.merchant
    GET  /ws?view=console|streamer&room=…          websocket (operator / streamer)    views.feed
    GET  /api/tickets[/{id}]  POST /api/tickets/{id}   工单 (added by the factory)   livecs.tickets.routes

``public_routes`` (e.g. the webhook) do their own auth and pass the role guard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from livecs.console.auth import PUBLIC, requires
from livecs.console.views import api, feed, merchant, pages, review, viewer


def setup_routes(app: web.Application, public_routes: Iterable[web.RouteDef] = ()) -> None:
    r = app.router
    r.add_get("/login", pages.login_get)
    r.add_get("/favicon.ico", pages.favicon)
    r.add_post("/login", pages.login_post)
    r.add_post("/logout", pages.logout)
    r.add_get("/", pages.home)
    for path, (name, roles) in pages.PAGES.items():
        r.add_get(path, pages.page_handler(name, roles))
    for name, (ctype, roles) in pages.STATIC_FILES.items():
        r.add_get(f"/static/{name}", pages.static_handler(name, ctype, roles))
    r.add_get("/api/me", api.api_me)
    r.add_get("/api/rooms", api.api_rooms)
    r.add_get("/api/queue", api.api_queue)
    r.add_get("/api/stats", api.api_stats)
    r.add_get("/api/streamer", api.api_streamer)
    r.add_post("/api/actions", api.api_actions)
    r.add_post("/api/actions/bulk", api.api_actions_bulk)
    r.add_get("/api/viewer", viewer.api_viewer)
    r.add_get("/api/sessions", review.api_sessions)
    r.add_get("/api/review/{session_id}", review.api_review, allow_head=False)
    r.add_get("/api/merchant/versions", merchant.merchant_versions)
    r.add_get("/api/merchant/products", merchant.merchant_products)
    r.add_post("/api/merchant/upload", merchant.merchant_upload)
    r.add_post("/api/merchant/activate", merchant.merchant_activate)
    r.add_get("/api/merchant/rollback", merchant.merchant_rollback_preview)
    r.add_post("/api/merchant/rollback", merchant.merchant_rollback)
    r.add_post("/api/merchant/on-air", merchant.merchant_on_air)
    r.add_get("/ws", feed.ws_handler)
    for route in public_routes:
        web.RouteDef(route.method, route.path, _public(route.handler), dict(route.kwargs)).register(r)


def _public(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    """A route that does its own auth (the webhook's bearer token) passes the role guard."""

    @requires(PUBLIC)
    async def public(request: web.Request) -> web.StreamResponse:
        return await handler(request)

    return public
