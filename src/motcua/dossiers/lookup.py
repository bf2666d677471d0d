"""The public lookup by dossier code, shared by the API and the portal page.

Without a second factor: the status in plain Vietnamese and the appointment, nothing personal.
With the last 4 digits of the applicant's phone or personal id: the public timeline too. Wrong
factors are counted per client and code; after ``FACTOR_FAILURES_ALLOWED`` the code is locked
for that client for ``FACTOR_WINDOW_SECONDS``, even for the right factor.

With a cache shared by every process (Redis, ``motcua.cache.RedisCache``) the answer for a code
is kept for ``VIEW_SECONDS`` in each language: the public view, the public timeline and the last
4 digits of the phone and of the personal id (nothing else personal). Every change to a dossier
goes through ``services`` and, once committed, calls ``forget`` with the dossier's code, which
replaces the kept answers with a marker for ``FORGOTTEN_SECONDS``: an answer read from the
database before the change cannot be stored back over it (it is only ever *added*). So a lookup
sees a change as soon as it is committed; a renamed procedure or agency, or an applicant's new
phone, within ``VIEW_SECONDS``. Without a shared cache every lookup reads the database.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

from motcua.cache import count_hit, count_hit_and_get_many, is_shared
from motcua.core import codes
from motcua.core.errors import DomainError, NotFound

from . import queries

log = logging.getLogger(__name__)

FACTOR_FAILURES_ALLOWED = 5
FACTOR_WINDOW_SECONDS = 15 * 60
VIEW_SECONDS = 60
FORGOTTEN_SECONDS = 10
_FORGOTTEN = "forgotten"


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


def _not_found() -> NotFound:
    return NotFound(
        "Không tìm thấy hồ sơ có mã này. Vui lòng kiểm tra lại mã hồ sơ trên Giấy tiếp nhận.",
        code="dossier_not_found",
    )


def _view_key(code: str, language: str | None) -> str:
    return f"lookup-view:{language or settings.LANGUAGE_CODE}:{code}"


def lookup(code: str, factor: str, client: str, *, scope: str | None = None) -> dict:
    """The public view of a dossier; its timeline only with the right second factor.

    With ``scope`` the request first counts against the client's rate for that scope (as
    ``allow_client``: ``TooManyRequests`` over it), in the same cache round trip as the reads.
    """
    failures_key = f"lookup-factor:{client}:{code}"
    shared = is_shared(cache)
    view_key = _view_key(code, get_language())
    wanted = ([failures_key] if factor else []) + ([view_key] if shared else [])
    if scope is not None:
        limit, window = _rate()
        count, found = count_hit_and_get_many(cache, _rate_key(client, scope), window, wanted)
        if count > limit:
            raise TooManyRequests()
    else:
        found = cache.get_many(wanted) if wanted else {}  # one round trip
    if factor and (found.get(failures_key) or 0) >= FACTOR_FAILURES_ALLOWED:
        raise TooManyAttempts()
    kept = found.get(view_key)
    if isinstance(kept, dict):
        body, timeline = kept["body"], kept["timeline"]
        phone, personal_id = kept["phone"], kept["personal_id"]
    else:
        dossier = queries.find_by_code(code)
        if dossier is None:
            raise _not_found()
        body = queries.public_view(dossier)
        phone, personal_id = dossier.applicant.phone, dossier.applicant.personal_id
        timeline = None
        if shared:
            # Kept with its timeline, so that a later lookup with the factor needs no query.
            timeline = queries.public_timeline(dossier)
            if kept is None:  # never over the marker ``forget`` leaves
                entry = {
                    "body": body,
                    "timeline": timeline,
                    "phone": codes.last4(phone),
                    "personal_id": codes.last4(personal_id),
                }
                cache.add(view_key, entry, VIEW_SECONDS)
    answer = {**body, "verified": False, "timeline": None}
    if factor:
        if not codes.second_factor_matches(factor, phone, personal_id):
            count_hit(cache, failures_key, FACTOR_WINDOW_SECONDS)
            raise WrongSecondFactor()
        answer["verified"] = True
        answer["timeline"] = timeline if timeline is not None else queries.public_timeline(dossier)
    return answer


def forget(code: str | None) -> None:
    """A change to the dossier ``code`` was committed: drop the answers kept for it."""
    if not code or not is_shared(cache):
        return
    try:
        cache.set_many(
            {_view_key(code, language): _FORGOTTEN for language, _name in settings.LANGUAGES},
            FORGOTTEN_SECONDS,
        )
    except Exception:  # the change is committed; the kept answer expires in VIEW_SECONDS
        log.exception("could not drop the kept lookup answers of %s", code)


def _parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(period[:1], 60)
    return int(count), seconds


def _rate() -> tuple[int, int]:
    return _parse_rate(getattr(settings, "MOTCUA_LOOKUP_RATE", "120/m"))


def _rate_key(client: str, scope: str) -> str:
    return f"lookup-{scope}:{client}"


def allow_client(client: str, scope: str = "api") -> bool:
    """A fixed-window limit per client at ``MOTCUA_LOOKUP_RATE``.

    One round trip on Redis (``motcua.cache.count_hit``); no per-instance state, so it is safe
    under threaded workers.
    """
    limit, window = _rate()
    return count_hit(cache, _rate_key(client, scope), window) <= limit


def allow_page_request(client: str) -> bool:
    """The portal page's limit, at the API's rate."""
    return allow_client(client, scope="page")
