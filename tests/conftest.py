"""Shared fixtures: a real Redis (flushed dedicated database) and temporary stores.

Redis tests never skip: ``make test`` and ``.ci/run`` make sure a server is reachable. Point them at another
server or database with ``LIVECS_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

REDIS_URL = os.environ.get("LIVECS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client on the test database, flushed before and after the test."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.ping()
    except Exception as exc:  # a clear failure, never a skip
        pytest.fail(f"Redis test server not reachable at {redis_url}: {exc} (run `make test`, it starts one)")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()
