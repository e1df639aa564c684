"""The console's request handlers, one module per area (the routes are in :mod:`livecs.console.routes`).

:mod:`.pages` (login, logout, the pages and their static files), :mod:`.api` (the operator and streamer JSON
API and actions), :mod:`.merchant` (library versions, products, on air), :mod:`.review` (post-stream review
downloads), :mod:`.viewer` (the viewer card), :mod:`.feed` (the websocket push). :mod:`.common` holds the
app state keys, role sets and JSON helpers they share; :mod:`.errors` maps :class:`livecs.errors.LivecsError`
codes to HTTP statuses — the only place a view's error status is chosen.
"""
