"""The operator console, streamer view and merchant page: an aiohttp app over the pipeline's results.

:func:`livecs.console.app.start_console` serves it on a running pipeline; :func:`livecs.console.app.init_app`
is the app factory tests use.
"""
