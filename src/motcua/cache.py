"""Django's Redis cache, without a new client object per cache call.

Django's ``RedisCacheClient.get_client`` builds a ``redis.Redis`` around the (shared) connection
pool on every call; at hundreds of lookups a second that construction shows in the profile.
Here one client per pool is built once and reused: ``redis.Redis`` is thread-safe, and the pool
still hands each command its own connection.
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
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
