"""Load shedding: beyond capacity, answer 503 at once instead of queueing into time-outs.

A web process serves at most ``MOTCUA_MAX_IN_FLIGHT`` requests at a time (0: no bound). The
next one gets, within a millisecond or so, ``503`` with ``Retry-After:
MOTCUA_RETRY_AFTER_SECONDS`` and a small body — JSON ``{code: "overloaded", message}`` for the
API and for clients that ask for JSON, a short Vietnamese page otherwise — and nothing of it is
stored. When the load drops the process serves again by itself: the bound is a non-blocking
semaphore, with no state to reset.

This only sheds if the request reaches the application while the process is full: with
gunicorn's *sync* workers the waiting happens in the kernel's listen queue, out of sight. So
``scripts/serve.sh`` runs gthread workers with more threads (``WEB_THREADS``) than the bound:
the spare threads take the excess up at once and answer 503, and the queue stays in user space
where it is short.

A request that has already waited longer than ``MOTCUA_MAX_QUEUE_MS`` before a thread took it
up is shed too (reason ``queue_time``): its client has likely given up, and serving it would
only delay the next. The wait is known from

* the gunicorn worker ``motcua.ops.gunicorn.ThreadWorker`` (time between the connection being
  ready and a thread taking it up), or
* a header a reverse proxy on the same clock adds (``MOTCUA_REQUEST_START_HEADER``, e.g. nginx
  ``proxy_set_header X-Request-Start "t=${msec}";``), which also covers the listen queue.

Never shed: ``/healthz``, ``/readyz``, ``/metrics`` (``MOTCUA_SHED_EXEMPT_PATHS``) and static
files. The slot is held while the view runs, not while a streamed body is sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

from . import metrics

# Set by motcua.ops.gunicorn.ThreadWorker in the thread that serves a connection: seconds
# the connection waited between being ready and being taken up (None when unknown).
_local = threading.local()


def set_queue_wait(seconds: float | None) -> None:
    _local.queue_wait = seconds


def queue_wait(request: HttpRequest) -> float | None:
    """Seconds ``request`` waited before a thread took it up, if the server or proxy said."""
    waited = getattr(_local, "queue_wait", None)
    header = settings.MOTCUA_REQUEST_START_HEADER
    if header:
        started = parse_request_start(request.META.get(header, ""))
        if started is not None:
            by_proxy = max(0.0, time.time() - started)
            waited = by_proxy if waited is None else max(waited, by_proxy)
    return waited


def parse_request_start(value: str) -> float | None:
    """``t=1700000000.123`` (nginx ``${msec}``), or seconds, milliseconds or microseconds since
    the epoch, as a UNIX time in seconds; ``None`` when absent or unreadable."""
    value = value.strip()
    if value.startswith("t="):
        value = value[2:]
    try:
        number = float(value)
    except ValueError:
        return None
    if number > 1e14:  # microseconds
        return number / 1e6
    if number > 1e11:  # milliseconds
        return number / 1e3
    return number if number > 0 else None


def overloaded_response(request: HttpRequest) -> HttpResponse:
    message = _("Hệ thống đang quá tải. Vui lòng thử lại sau ít giây.")
    wants_json = request.path_info.startswith("/api/") or "json" in request.META.get(
        "HTTP_ACCEPT", ""
    )
    if wants_json:
        response = JsonResponse({"code": "overloaded", "message": message}, status=503)
    else:
        title = _("Hệ thống đang quá tải")
        response = HttpResponse(
            '<!doctype html><html lang="vi"><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><h1>{escape(title)}</h1>"
            f"<p>{escape(message)}</p></html>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(settings.MOTCUA_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class SheddingMiddleware:
    """Bounds the requests in flight in this process; second in ``MIDDLEWARE``, right after the
    metrics, so a refused request costs almost nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        limit = settings.MOTCUA_MAX_IN_FLIGHT
        self.slots = threading.BoundedSemaphore(limit) if limit > 0 else None
        self.max_queue = settings.MOTCUA_MAX_QUEUE_MS / 1000
        self.exempt = frozenset(settings.MOTCUA_SHED_EXEMPT_PATHS)
        self.static = settings.STATIC_URL

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path in self.exempt or path.startswith(self.static):
            return self.get_response(request)
        waited = queue_wait(request)
        if waited is not None:
            metrics.QUEUE_TIME.observe(waited)
            if self.max_queue > 0 and waited > self.max_queue:
                return self._shed(request, "queue_time")
        if self.slots is None:
            return self.get_response(request)
        if not self.slots.acquire(blocking=False):
            return self._shed(request, "in_flight")
        try:
            return self.get_response(request)
        finally:
            self.slots.release()

    @staticmethod
    def _shed(request: HttpRequest, reason: str) -> HttpResponse:
        request.motcua_shed = True
        metrics.SHED.labels(reason).inc()
        return overloaded_response(request)
