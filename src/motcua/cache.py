"""Django's Redis cache, without a new client object per cache call, plus one-trip counters.

Django's ``RedisCacheClient.get_client`` builds a ``redis.Redis`` around the (shared) connection
pool on every call; at hundreds of lookups a second that construction shows in the profile.
Here one client per pool is built once and reused: ``redis.Redis`` is thread-safe, and the pool
still hands each command its own connection.

``count_hit`` counts a hit in a fixed time window (throttles, failed attempts). Django's
``incr`` costs two round trips on Redis (EXISTS, then INCR) and a third (ADD) when a window
starts; on ``RedisCache`` it is one (MULTI: SET NX EX, INCR, EXEC).
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    # One cache for every process: what one process stores or deletes, all of them see.
    shared = True

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def hit(self, key, window: int, version=None) -> int:
        """Count a hit in the window of ``window`` seconds that the first hit opened; return
        the count. One round trip; atomic (MULTI), so the window always expires."""
        key = self.make_and_validate_key(key, version=version)
        client = self._cache.get_client(key, write=True)
        pipe = client.pipeline(transaction=True)
        pipe.set(key, 0, ex=window, nx=True)  # an int is stored as such: incr/get agree
        pipe.incr(key)
        return pipe.execute()[1]

    def hit_and_get_many(self, key, window: int, keys, version=None) -> tuple[int, dict]:
        """``hit(key, window)`` and ``get_many(keys)`` in one round trip."""
        key = self.make_and_validate_key(key, version=version)
        full = {self.make_and_validate_key(k, version=version): k for k in keys}
        client = self._cache.get_client(key, write=True)
        pipe = client.pipeline(transaction=True)
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
        if full:
            pipe.mget(list(full))
        results = pipe.execute()
        loads = self._cache._serializer.loads
        found = {
            full[k]: loads(v)
            for k, v in zip(full, results[2] if full else (), strict=True)
            if v is not None
        }
        return results[1], found


def count_hit(cache, key: str, window: int) -> int:
    """Count a hit in the fixed window ``key`` opened (``window`` seconds); return the count.

    ``cache`` is any Django cache (or the default cache's proxy): ``RedisCache.hit`` where
    there is one, else ``incr``, and ``add`` when a window starts.
    """
    hit = getattr(cache, "hit", None)
    if hit is not None:
        return hit(key, window)
    try:
        return cache.incr(key)
    except ValueError:  # no window yet (or it just expired)
        if cache.add(key, 1, window):
            return 1
        return cache.incr(key)


def count_hit_and_get_many(cache, key: str, window: int, keys) -> tuple[int, dict]:
    """``count_hit`` and ``cache.get_many(keys)``; one round trip on ``RedisCache``."""
    both = getattr(cache, "hit_and_get_many", None)
    if both is not None:
        return both(key, window, keys)
    count = count_hit(cache, key, window)
    return count, (cache.get_many(keys) if keys else {})


def is_shared(cache) -> bool:
    """Whether ``cache`` is one cache for every process (not a per-process memory cache)."""
    return bool(getattr(cache, "shared", False))
