"""Small facts about an HTTP request that several doors need."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: the header named by ``MOTCUA_CLIENT_IP_HEADER`` (set by the
    trusted reverse proxy), else the connection's address.

    Of a list (X-Forwarded-For) the last address is taken: the one our proxy appended; those
    before it come from the client and could be anything."""
    header = settings.MOTCUA_CLIENT_IP_HEADER
    if header:
        forwarded = request.META.get(header, "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:45]
    return request.META.get("REMOTE_ADDR", "")
