"""Fixtures shared by the command tests (helpers they call are in helpers.py)."""

from __future__ import annotations

import pytest
import redis


@pytest.fixture
def pair(redis_server, store):
    """(redis-py client on a flushed real Redis, embedded kvstore Store)."""
    client = redis.Redis(port=redis_server)
    client.flushall()
    yield client, store
    client.flushall()
    client.close()
