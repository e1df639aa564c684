"""The operator console, streamer view and merchant page: an aiohttp app over the pipeline's results.

:func:`livecs.console.app.start_console` serves it on a running pipeline; :func:`livecs.console.app.init_app`
is the app factory tests use; :mod:`livecs.console.routes` lists every URL and :mod:`livecs.console.views`
holds the handlers, one module per area.
"""
