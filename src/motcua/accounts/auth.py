"""API authentication: bearer tokens with scopes (machines) or the Django session (pages).

A token's user acts in the services with that user's memberships; the token's scopes limit
which endpoints it may call. A session user has every scope: their memberships decide.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from motcua.core.errors import DomainError

from .models import ApiToken, hash_token

# Written at most this often per token, so reads do not turn into writes.
LAST_USED_RESOLUTION_SECONDS = 60


class MissingScope(DomainError):
    code = "missing_scope"
    status = 403
    default_message = "Mã truy cập không có phạm vi cần thiết cho thao tác này."


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        if not token or len(token) > 200:
            return None
        row = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=hash_token(token), is_active=True, user__is_active=True)
            .first()
        )
        if row is None:
            return None
        now = timezone.now()
        if row.last_used_at is None or (
            (now - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
        ):
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
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
