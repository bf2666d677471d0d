"""Prometheus metrics: what the web processes measure and the protected ``/metrics`` endpoint.

Measured in every web process (``MetricsMiddleware``, first in ``MIDDLEWARE``):

* ``motcua_http_requests_total{route,method,status}`` and
  ``motcua_http_request_duration_seconds{route,method,status}`` (histogram; buckets include
  1, 2, 4 and 8 s) — ``route`` is the URL name (``api-v1:lookup_dossier``, ``backoffice:inbox``),
  ``static`` for static files, ``<unmatched>`` for a 404 without a route and ``<shed>`` for a
  request refused by the load shedder;
* ``motcua_http_requests_in_flight`` (summed over the live processes);
* ``motcua_http_requests_shed_total{reason}`` (``in_flight``, ``queue_time``) and
  ``motcua_http_queue_seconds`` (time a request waited in the server before it was taken up,
  when known: see ``motcua.ops.shedding``);
* ``motcua_db_queries_total{route}`` and ``motcua_db_query_seconds_total{route}`` (every SQL
  statement a request ran on the default database, timed with ``perf_counter``).

Read when ``/metrics`` is scraped (one short query each, never a scan of dossiers):

* ``motcua_outbox_pending`` (undelivered outbox rows, counted up to ``OUTBOX_COUNT_CAP``) and
  ``motcua_outbox_oldest_pending_age_seconds``;
* ``motcua_huey_queue_length`` and ``motcua_huey_scheduled_tasks`` (the task queue);
* ``motcua_metrics_source_up{source}`` — 0 when one of these could not be read.

Under gunicorn several processes serve: prometheus-client's multiprocess mode keeps each
process's values in memory-mapped files in ``PROMETHEUS_MULTIPROC_DIR`` (set and emptied by
``scripts/serve.sh``) and ``/metrics`` adds them up, so any worker answers for all of them.
Without that variable (``runserver``, tests) the values are this process's own.

``/metrics`` answers only a bearer token equal to ``MOTCUA_METRICS_TOKEN`` or a client whose
address is in ``MOTCUA_METRICS_ALLOW`` (networks; the loopback addresses by default); it is
never cached and is never shed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator
from functools import lru_cache

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from motcua.core.http import client_ip

log = logging.getLogger(__name__)

# No ``*_created`` series: they mean nothing once processes are summed.
disable_created_metrics()
# In multiprocess mode every metric opens its file in this directory as it is created (below):
# a process started with the variable set but before serve.sh made the directory must not die.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
QUEUE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
OUTBOX_COUNT_CAP = 100_000
LOCK_NAME = ".lock"

REQUESTS = Counter(
    "motcua_http_requests",
    "HTTP requests answered, by route name, method and status code.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "motcua_http_request_duration_seconds",
    "Time to answer an HTTP request in the application, by route name, method and status code.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge(
    "motcua_http_requests_in_flight",
    "HTTP requests being answered now (all web processes).",
    multiprocess_mode="livesum",
)
SHED = Counter(
    "motcua_http_requests_shed",
    "HTTP requests refused with 503 because the server was at capacity, by reason.",
    ["reason"],
)
QUEUE_TIME = Histogram(
    "motcua_http_queue_seconds",
    "Time a request waited in the server before a thread took it up (when known).",
    buckets=QUEUE_BUCKETS,
)
DB_QUERIES = Counter(
    "motcua_db_queries",
    "SQL statements run by HTTP requests on the default database, by route name.",
    ["route"],
)
DB_SECONDS = Counter(
    "motcua_db_query_seconds",
    "Time spent in SQL statements by HTTP requests on the default database, by route name.",
    ["route"],
)


def multiprocess_dir() -> str | None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return path if path and os.path.isdir(path) else None


# --- measuring requests ---------------------------------------------------------------------


def route_of(request: HttpRequest) -> str:
    if getattr(request, "motcua_shed", False):
        return "<shed>"
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or "<unnamed>"
    if request.path_info.startswith(settings.STATIC_URL):
        return "static"
    return "<unmatched>"


class _QueryTimer:
    """An execute wrapper counting and timing the statements of one request."""

    __slots__ = ("count", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


class MetricsMiddleware:
    """Counts, times and tracks every request; first in ``MIDDLEWARE`` so that it sees the
    requests the load shedder refuses and everything the other middleware costs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        timer = _QueryTimer()
        IN_FLIGHT.inc()
        try:
            with connections["default"].execute_wrapper(timer):
                response = self.get_response(request)
        finally:
            IN_FLIGHT.dec()
        elapsed = time.perf_counter() - start
        route, method = route_of(request), _method(request.method)
        status = str(response.status_code)
        REQUESTS.labels(route, method, status).inc()
        LATENCY.labels(route, method, status).observe(elapsed)
        if timer.count:
            DB_QUERIES.labels(route).inc(timer.count)
            DB_SECONDS.labels(route).inc(timer.seconds)
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(method: str | None) -> str:
    return method if method in _METHODS else "other"  # no label per made-up method


# --- what is read at scrape time ------------------------------------------------------------


def _outbox() -> Iterator[GaugeMetricFamily]:
    from django.db.models import Min

    from motcua.dossiers.models import OutboxMessage

    pending = OutboxMessage.objects.filter(delivered_at__isnull=True)
    # The partial index ``outbox_pending`` holds exactly these rows: both reads walk it, and
    # at most OUTBOX_COUNT_CAP of them, so a huge backlog does not make the scrape slow.
    head = pending.order_by("available_at").values("pk")[:OUTBOX_COUNT_CAP]
    count = pending.values("pk")[:OUTBOX_COUNT_CAP].count()
    oldest = (
        OutboxMessage.objects.filter(pk__in=head).aggregate(oldest=Min("created_at"))["oldest"]
        if count
        else None
    )
    yield GaugeMetricFamily(
        "motcua_outbox_pending",
        f"Outbox rows not delivered yet (counted up to {OUTBOX_COUNT_CAP:,}).",
        value=count,
    )
    age = max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0
    yield GaugeMetricFamily(
        "motcua_outbox_oldest_pending_age_seconds",
        "Age of the oldest outbox row not delivered yet (0 when none is pending).",
        value=age,
    )


def _huey() -> Iterator[GaugeMetricFamily]:
    from huey.contrib.djhuey import HUEY

    yield GaugeMetricFamily(
        "motcua_huey_queue_length",
        "Tasks waiting in the Huey queue for a consumer.",
        value=HUEY.pending_count(),
    )
    yield GaugeMetricFamily(
        "motcua_huey_scheduled_tasks",
        "Tasks scheduled for later (retries, delayed work) in Huey.",
        value=HUEY.scheduled_count(),
    )


SOURCES: dict[str, Callable[[], Iterator[GaugeMetricFamily]]] = {
    "outbox": _outbox,
    "huey": _huey,
}


class StateCollector:
    """Reads the outbox and the task queue when ``/metrics`` is scraped."""

    def collect(self):
        up = GaugeMetricFamily(
            "motcua_metrics_source_up",
            "1 when the source of the state metrics could be read at this scrape, else 0.",
            labels=["source"],
        )
        for name, source in SOURCES.items():
            try:
                families = list(source())
            except Exception as exc:  # a scrape must answer even when a source is down
                log.warning("metrics: %s could not be read: %s", name, exc)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


# --- the endpoint ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]):
    networks = []
    for item in spec:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            log.error("MOTCUA_METRICS_ALLOW: %r is not an address or network; ignored", item)
    return tuple(networks)


def _token_ok(request: HttpRequest) -> bool:
    token = settings.MOTCUA_METRICS_TOKEN
    if not token:
        return False
    scheme, _sep, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def _address_ok(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(client_ip(request).strip("[]"))
    except ValueError:
        return False
    networks = _networks(tuple(settings.MOTCUA_METRICS_ALLOW))
    return any(address in net for net in networks if net.version == address.version)


@contextlib.contextmanager
def reading_lock(directory: str):
    """Shared lock against the compaction of a dead worker's files (``motcua.ops.gunicorn``),
    so a scrape never counts a worker twice or not at all."""
    with open(os.path.join(directory, LOCK_NAME), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def render() -> bytes:
    """The exposition text: every process's metrics (or this process's) and the state."""
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector())
    directory = multiprocess_dir()
    if directory:
        registry = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(registry, path=directory)
        with reading_lock(directory):
            processes = generate_latest(registry)
    else:
        processes = generate_latest(REGISTRY)
    return processes + generate_latest(state)


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not (_token_ok(request) or _address_ok(request)):
        message = _("Không được phép đọc số liệu vận hành.")
        if settings.MOTCUA_METRICS_TOKEN:
            response = JsonResponse({"code": "unauthorized", "message": message}, status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return JsonResponse({"code": "forbidden", "message": message}, status=403)
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
