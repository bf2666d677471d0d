"""The public lookup by dossier code, shared by the API and the portal page.

Without a second factor: the status in plain Vietnamese and the appointment, nothing personal.
With the last 4 digits of the applicant's phone or personal id: the public timeline too. Wrong
factors are counted per client and code; after ``FACTOR_FAILURES_ALLOWED`` the code is locked
for that client for ``FACTOR_WINDOW_SECONDS``, even for the right factor.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from motcua.core import codes
from motcua.core.errors import DomainError, NotFound

from . import queries

FACTOR_FAILURES_ALLOWED = 5
FACTOR_WINDOW_SECONDS = 15 * 60


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429
    default_message = "Nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút."


class TooManyRequests(DomainError):
    code = "too_many_requests"
    status = 429
    default_message = "Quá nhiều yêu cầu. Vui lòng thử lại sau."


class WrongSecondFactor(DomainError):
    code = "wrong_second_factor"
    default_message = "Thông tin xác thực không đúng."


def lookup(code: str, factor: str, client: str) -> dict:
    """The public view of a dossier; its timeline only with the right second factor."""
    failures_key = f"lookup-factor:{client}:{code}"
    if factor and (cache.get(failures_key) or 0) >= FACTOR_FAILURES_ALLOWED:
        raise TooManyAttempts()
    dossier = queries.find_by_code(code)
    if dossier is None:
        raise NotFound(
            "Không tìm thấy hồ sơ có mã này. Vui lòng kiểm tra lại mã hồ sơ trên Giấy tiếp nhận.",
            code="dossier_not_found",
        )
    body = {**queries.public_view(dossier), "verified": False, "timeline": None}
    if factor:
        applicant = dossier.applicant
        if not codes.second_factor_matches(factor, applicant.phone, applicant.personal_id):
            try:
                cache.incr(failures_key)
            except ValueError:
                cache.set(failures_key, 1, FACTOR_WINDOW_SECONDS)
            raise WrongSecondFactor()
        body["verified"] = True
        body["timeline"] = queries.public_timeline(dossier)
    return body


def _parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(period[:1], 60)
    return int(count), seconds


def allow_client(client: str, scope: str = "api") -> bool:
    """A fixed-window limit per client at ``MOTCUA_LOOKUP_RATE`` (atomic INCR on the cache).

    One round trip in the common case; ADD only when a window starts. No per-instance state,
    so it is safe under threaded workers.
    """
    limit, window = _parse_rate(getattr(settings, "MOTCUA_LOOKUP_RATE", "120/m"))
    key = f"lookup-{scope}:{client}"
    try:
        return cache.incr(key) <= limit
    except ValueError:  # no window yet (or it just expired)
        if cache.add(key, 1, window):
            return True
        return cache.incr(key) <= limit


def allow_page_request(client: str) -> bool:
    """The portal page's limit, at the API's rate."""
    return allow_client(client, scope="page")
