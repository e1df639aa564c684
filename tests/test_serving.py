"""The one token generator and the bound-port accessor (a real aiohttp runner on port 0)."""

from __future__ import annotations

import re
import socket

from aiohttp import web

from livecs.config import check_webhook_token
from livecs.serving import TOKEN_BYTES, bound_port, new_token


def test_new_token_is_url_safe_long_enough_and_fresh() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
        assert len(token) == (TOKEN_BYTES * 4 + 2) // 3  # base64 without padding
        assert check_webhook_token(token) == token  # long enough to guard the webhook


async def test_bound_port_reads_the_port_a_runner_really_listens_on() -> None:
    runner = web.AppRunner(web.Application())
    await runner.setup()
    try:
        assert bound_port(runner, 1234) == 1234  # not listening yet: the default
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = bound_port(runner, 0)
        assert port > 0
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # something answers there
    finally:
        await runner.cleanup()
