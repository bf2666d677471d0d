"""The Redis cache backend (motcua.cache) against a real Redis server.

Runs where Redis answers at MOTCUA_TEST_REDIS (default redis://127.0.0.1:6379/15); under
CI=true it must answer, elsewhere the tests skip with one line.
"""

from __future__ import annotations

import os
import threading
import uuid

import pytest

REDIS_URL = os.environ.get("MOTCUA_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_cache(settings):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL} (required under CI)")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: set MOTCUA_TEST_REDIS to run")
    from motcua.cache import RedisCache

    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    cache.clear()


def test_one_client_per_pool_and_the_usual_operations(redis_cache):
    client = redis_cache._cache.get_client(write=True)
    assert redis_cache._cache.get_client(write=True) is client
    redis_cache.set("k", {"a": "Hồ sơ"}, 30)
    assert redis_cache.get("k") == {"a": "Hồ sơ"}
    assert redis_cache.add("n", 1, 30) is True
    assert redis_cache.add("n", 5, 30) is False
    assert redis_cache.incr("n") == 2
    with pytest.raises(ValueError):
        redis_cache.incr("absent")
    redis_cache.delete("k")
    assert redis_cache.get("k") is None


def test_shared_client_counts_exactly_under_threads(redis_cache):
    redis_cache.add("hits", 0, 60)

    def hit():
        for _ in range(200):
            redis_cache.incr("hits")

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert redis_cache.get("hits") == 1600


def test_lookup_throttle_on_redis(redis_cache, settings, monkeypatch):
    from motcua.dossiers import lookup

    settings.MOTCUA_LOOKUP_RATE = "3/m"
    monkeypatch.setattr(lookup, "cache", redis_cache)
    client = f"203.0.113.{uuid.uuid4().int % 250}"
    assert [lookup.allow_client(client) for _ in range(5)] == [True, True, True, False, False]
    assert lookup.allow_client("198.51.100.7") is True
