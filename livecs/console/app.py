"""The console web app's factory: :func:`init_app` builds it, :func:`start_console` serves it on a pipeline.

The console serves the operator console, the streamer view and the merchant page: pages, a JSON API and
websockets over the pipeline's results. It is laid out the aiohttp-demos way: this factory (typed
:class:`web.AppKey` state, a cleanup context that runs the :class:`~livecs.console.hub.Hub`, websockets
closed on shutdown), :mod:`livecs.console.routes` (every URL), :mod:`livecs.console.views` (one module per
area). Every response carries a strict Content-Security-Policy (no inline script or style, nothing from
another origin) and ``nosniff``; every route is guarded by :mod:`livecs.console.auth`; an error raised by a
view or below it (:class:`livecs.errors.LivecsError`) is answered by :mod:`livecs.console.views.errors`.
Pages are static files with no data in them; the scripts fetch JSON and insert strangers' text as text
nodes only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, web

from livecs.bus.base import Bus
from livecs.collector import freeze_more_startup
from livecs.config import ConsoleSettings, Settings
from livecs.console.auth import Auth, Role, make_middleware
from livecs.console.hub import Hub
from livecs.console.merchant import CouponService, MerchantBackend, RegistryBackend
from livecs.console.outbound import (
    Connector,
    HttpConnector,
    NoConnector,
    Outbox,
    RelayConnector,
)
from livecs.console.review import ReviewDownloads
from livecs.console.routes import setup_routes
from livecs.console.views.common import AUTH, FILES, HUB, MERCHANT, REVIEW, SETTINGS, SOCKETS
from livecs.console.views.errors import error_middleware
from livecs.console.views.pages import load_files, login_page
from livecs.console.views.review import REVIEW_CSP
from livecs.console.views.viewer import VIEWER_DB
from livecs.metrics import Counters
from livecs.scripts.coupons import open_stock
from livecs.scripts.settings import ScriptsSettings
from livecs.serving import bound_port
from livecs.store import Store
from livecs.tickets.routes import TICKETS
from livecs.tickets.routes import add_routes as add_ticket_routes
from livecs.tickets.service import TicketService
from livecs.tickets.store import TicketStore

if TYPE_CHECKING:
    from livecs.review.settings import ReviewSettings

__all__ = [
    "AUTH",
    "CSP",
    "FILES",
    "HUB",
    "MERCHANT",
    "REVIEW",
    "REVIEW_CSP",
    "SETTINGS",
    "SOCKETS",
    "build_connector",
    "init_app",
    "start_console",
]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
FORM_OVERHEAD_BYTES = 64 * 1024


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")


async def _close_sockets(app: web.Application) -> None:
    sockets: set[web.WebSocketResponse] = app[SOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


async def _close_review(app: web.Application) -> None:
    await app[REVIEW].close()
    app[TICKETS].close()
    coupons = app[HUB].coupons
    if coupons is not None:
        await coupons.close()


async def _hub_ctx(app: web.Application) -> AsyncIterator[None]:
    hub = app[HUB]
    await hub.start()
    try:
        yield
    finally:
        await _close_sockets(app)
        await hub.stop()


def _catalogue(merchant: MerchantBackend) -> Callable[[], dict[str, Any]]:
    """The merchant's products for the streamer view, with the shipping promise (``ship_days``) when the
    active library has one."""

    def read() -> dict[str, Any]:
        cat = merchant.products()
        library = getattr(merchant, "active_library", lambda: None)()
        days = {p.link: getattr(p, "ship_days", None) for p in getattr(library, "products", [])}
        for p in cat.get("products", []):
            p["ship_days"] = days.get(p.get("link"))
        return cat

    return read


def init_app(
    settings: ConsoleSettings,
    *,
    bus: Bus,
    store: Store,
    counters: Counters,
    auth: Auth,
    merchant: MerchantBackend | None = None,
    coupons: CouponService | None = None,
    connector: Connector | None = None,
    default_room: str | None = None,
    public_routes: Iterable[web.RouteDef] = (),
    library_db: str | None = None,
    review: ReviewDownloads | None = None,
    review_settings: ReviewSettings | None = None,
    redis_url: str | None = None,
    scripts: ScriptsSettings | None = None,
    sla_s: Mapping[str, float | None] | None = None,
) -> web.Application:
    """The console app. ``public_routes`` (e.g. the webhook) bypass the role guard: they do their own auth.

    Without ``merchant``, a library registry is opened at ``library_db`` (default ``scripts.library_db``) with
    the ``scripts`` settings (default: the built-in ones). ``sla_s``: the triage's SLA per priority, used when
    ``console.sla_s`` is empty (default: the built-in table).
    Review downloads read ``store.path`` (``review_settings`` overrides the review's defaults).
    Coupons are issued against the stock in Redis when ``redis_url`` is given (shared by every console), else
    against the stock kept in the record (``store.path``), which a restart keeps.
    """
    scripts = scripts or ScriptsSettings()
    library_db = library_db or scripts.library_db
    if merchant is None:
        merchant = RegistryBackend.at(library_db, scripts)
    if coupons is None:
        coupons = CouponService(
            merchant, open_stock(redis_url, store.path, key_ttl_s=scripts.coupons.key_ttl_s)
        )
    outbox = Outbox(connector or NoConnector(), settings.outbound)
    hub = Hub(
        settings,
        bus,
        store,
        counters,
        outbox,
        coupons,
        default_room=default_room,
        products=_catalogue(merchant),
        sla_s=sla_s,
    )
    hub.term_hits = merchant.term_hits
    app = web.Application(
        client_max_size=settings.upload_max_bytes + FORM_OVERHEAD_BYTES,
        # the error answers outermost: the role guard must see each handler itself (its declared roles)
        middlewares=[error_middleware, make_middleware(auth, settings, login_page)],
    )
    app[SETTINGS] = settings
    app[AUTH] = auth
    app[HUB] = hub
    app[MERCHANT] = merchant
    app[SOCKETS] = set()
    app[FILES] = load_files()
    app[REVIEW] = review or ReviewDownloads(
        store.path,
        store.reader,
        settings=review_settings,
        library_db=library_db,
        scripts=scripts,
    )
    tickets = TicketService(TicketStore(store.path), store, settings.tickets, outbox)
    hub.tickets = tickets
    add_ticket_routes(app, tickets, [u.name for u in auth.users if u.role in (Role.OPERATOR, Role.ADMIN)])
    app[VIEWER_DB] = store.path
    app.on_response_prepare.append(_security_headers)
    app.on_shutdown.append(_close_sockets)
    app.on_cleanup.append(_close_review)
    app.cleanup_ctx.append(_hub_ctx)
    setup_routes(app, public_routes)
    return app


def build_connector(settings: ConsoleSettings, relay: Any | None = None) -> Connector:
    """The configured outbound connector (``console.outbound.kind``)."""
    out = settings.outbound
    if out.kind in ("ws", "auto") and relay is not None:
        return RelayConnector(relay)
    if out.kind in ("http", "auto") and out.http_url:
        return HttpConnector(out.http_url, token=out.http_token, timeout_s=out.http_timeout_s)
    return NoConnector()


async def start_console(
    pipeline: Any,
    settings: Settings,
    *,
    port: int | None = None,
    host: str | None = None,
    connector: Connector | None = None,
    relay: Any | None = None,
    merchant: MerchantBackend | None = None,
    default_room: str | None = None,
    public_routes: Iterable[web.RouteDef] = (),
    print_tokens: bool = True,
) -> web.AppRunner:
    """Serve the console on a running :class:`~livecs.pipeline.Pipeline` (``publish_results=True``).

    ``merchant``: pass ``RegistryBackend(registry)`` with the registry the processing stage matches against
    (hot reload); by default one is opened at ``scripts.library_db``.

    Returns the started runner (``await runner.cleanup()`` to stop). Prints the URL and the tokens once.
    """
    cfg = settings.console
    auth, _generated = Auth.from_settings(cfg)
    app = init_app(
        cfg,
        bus=pipeline.bus,
        store=pipeline.store,
        counters=pipeline.counters,
        auth=auth,
        merchant=merchant,
        connector=connector or build_connector(cfg, relay),
        default_room=default_room,
        public_routes=public_routes,
        library_db=settings.scripts.library_db,
        review_settings=settings.review,
        redis_url=settings.redis_url,
        scripts=settings.scripts,
        sla_s=settings.triage.priority.sla_s,
    )
    await app[HUB].declare()  # before the pipeline publishes its first result
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    bind_host = host or cfg.host
    site = web.TCPSite(runner, bind_host, cfg.port if port is None else port)
    await site.start()
    freeze_more_startup()  # the app, its routes and templates live as long as the process
    if print_tokens:
        real_port = bound_port(runner, cfg.port if port is None else port)
        print(auth.describe(f"http://{bind_host}:{real_port}"), flush=True)
    return runner
