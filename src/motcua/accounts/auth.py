"""API authentication: bearer tokens with scopes (machines) or the Django session (pages).

A token's user acts in the services with that user's memberships; the token's scopes limit
which endpoints it may call. A session user has every scope: their memberships decide.
"""

from __future__ import annotations

import threading
import time

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from motcua.core.errors import DomainError

from .models import ApiToken, hash_token

# Written at most this often per token, so reads do not turn into writes.
LAST_USED_RESOLUTION_SECONDS = 60
# A verified token (and its user) is trusted this long by one process before it is read again,
# so a client sending many requests costs one query per interval, not one per request. A revoked
# token or deactivated user is refused at the latest this many seconds later.
TOKEN_CACHE_SECONDS = 10
_TOKEN_CACHE_MAX = 1024
_token_cache: dict[str, tuple[float, ApiToken]] = {}
_token_cache_lock = threading.Lock()
_clock = time.monotonic


def clear_token_cache(**_signal_kwargs) -> None:
    with _token_cache_lock:
        _token_cache.clear()


def _cached_token(key_hash: str) -> ApiToken | None:
    now = _clock()
    with _token_cache_lock:
        hit = _token_cache.get(key_hash)
        if hit is not None and hit[0] > now:
            return hit[1]
    row = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash, is_active=True, user__is_active=True)
        .first()
    )
    with _token_cache_lock:
        if row is None:
            _token_cache.pop(key_hash, None)
        else:
            if len(_token_cache) >= _TOKEN_CACHE_MAX:
                _token_cache.clear()
            _token_cache[key_hash] = (now + TOKEN_CACHE_SECONDS, row)
    return row


class MissingScope(DomainError):
    code = "missing_scope"
    status = 403
    default_message = "Mã truy cập không có phạm vi cần thiết cho thao tác này."


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        if not token or len(token) > 200:
            return None
        row = _cached_token(hash_token(token))
        if row is None:
            return None
        now = timezone.now()
        if row.last_used_at is None or (
            (now - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
        ):
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
            row.last_used_at = now
        request.api_token = row
        request.user = row.user
        return row.user


class Session(SessionAuth):
    """The logged-in officer's session (CSRF-checked for unsafe methods)."""

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user is not None:
            request.api_token = None
        return user


API_AUTH = [BearerToken(), Session()]


def require_scope(request: HttpRequest, scope: str) -> None:
    token = getattr(request, "api_token", None)
    if token is not None and not token.has_scope(scope):
        raise MissingScope(f"Mã truy cập «{token.name}» không có phạm vi «{scope}».", scope=scope)
