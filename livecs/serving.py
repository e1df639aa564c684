"""What every server livecs starts shares: the secret tokens it generates and the port it really bound.

:func:`new_token` is the one generator of secrets handed to people (console role tokens, the webhook token,
``console-tokens``, the bench's operator): URL-safe, :data:`TOKEN_BYTES` of randomness. :func:`bound_port`
reads the port an aiohttp runner listens on (useful with port 0) through aiohttp's public ``addresses``.
"""

from __future__ import annotations

import secrets

from aiohttp import web

#: bytes of randomness in a generated token (32 URL-safe characters)
TOKEN_BYTES = 24


def new_token() -> str:
    """A fresh secret token: URL-safe text, :data:`TOKEN_BYTES` random bytes."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def bound_port(runner: web.BaseRunner, default: int) -> int:
    """The TCP port ``runner`` listens on (its first site), or ``default`` before it listens."""
    for addr in runner.addresses:
        if isinstance(addr, tuple) and len(addr) >= 2:
            return int(addr[1])
    return default
