"""Prometheus metrics: the series /metrics lists, who may read it, and the sum over gunicorn
worker processes (multiprocess mode, also across recycled workers)."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import time

import pytest
from django.test import Client
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.utils import floatToGoString

from motcua.dossiers.models import OutboxMessage
from motcua.ops import metrics as ops_metrics
from motcua.ops.gunicorn import compact_dead_process

from .server import Gunicorn, base_env, metric, parse_metrics


def scrape(client: Client | None = None, **extra) -> dict:
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.content[:300]
    return parse_metrics(response.content.decode())


@pytest.mark.django_db
def test_requests_are_counted_and_timed_by_route_method_and_status():
    client = Client()
    before = scrape(client)
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
    assert client.get("/khong-co-trang-nay/").status_code == 404
    after = scrape(client)

    def delta(name, **labels):
        return metric(after, name, **labels) - metric(before, name, **labels)

    ok = {"route": "healthz", "method": "GET", "status": "200"}
    assert delta("motcua_http_requests_total", **ok) == 2
    assert delta("motcua_http_requests_total", route="healthz", method="POST", status="405") == 1
    assert delta("motcua_http_requests_total", route="<unmatched>", status="404") == 1
    assert delta("motcua_http_request_duration_seconds_count", **ok) == 2
    # The buckets the issue names are there, cumulative, and +Inf holds every request.
    for le in ("1.0", "2.0", "4.0", "8.0", "+Inf"):
        assert delta("motcua_http_request_duration_seconds_bucket", le=le, **ok) == 2
    assert ("motcua_http_requests_in_flight", frozenset()) in after
    # No *_created series: they make no sense once processes are summed.
    assert not any(name.endswith("_created") for name, _ in after)


@pytest.mark.django_db
def test_database_statements_are_counted_per_route():
    client = Client()
    before = scrape(client)
    response = client.get("/api/v1/calendar/days-off?from=2026-04-01&to=2026-04-30")
    assert response.status_code == 200
    after = scrape(client)
    route = "api-v1:days_off"
    assert metric(after, "motcua_http_requests_total", route=route) == 1 + metric(
        before, "motcua_http_requests_total", route=route
    )
    assert metric(after, "motcua_db_queries_total", route=route) > metric(
        before, "motcua_db_queries_total", route=route
    )
    assert metric(after, "motcua_db_query_seconds_total", route=route) > metric(
        before, "motcua_db_query_seconds_total", route=route
    )


@pytest.mark.django_db
def test_outbox_backlog_and_task_queue_are_read_at_scrape_time():
    from django.utils import timezone

    samples = scrape()
    assert metric(samples, "motcua_outbox_pending") == 0
    assert metric(samples, "motcua_outbox_oldest_pending_age_seconds") == 0
    assert metric(samples, "motcua_huey_queue_length") >= 0
    assert metric(samples, "motcua_metrics_source_up", source="outbox") == 1
    assert metric(samples, "motcua_metrics_source_up", source="huey") == 1

    old = OutboxMessage.objects.create(topic="notify.receive", available_at=timezone.now())
    OutboxMessage.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timezone.timedelta(minutes=10)
    )
    OutboxMessage.objects.create(topic="sync.receive", available_at=timezone.now())
    OutboxMessage.objects.create(
        topic="monitor.receive", available_at=timezone.now(), delivered_at=timezone.now()
    )
    samples = scrape()
    assert metric(samples, "motcua_outbox_pending") == 2
    assert 590 < metric(samples, "motcua_outbox_oldest_pending_age_seconds") < 700


def test_a_source_that_fails_is_reported_down_and_the_scrape_still_answers(monkeypatch):
    def broken():
        raise ConnectionError("queue unreachable")

    monkeypatch.setitem(ops_metrics.SOURCES, "huey", broken)
    monkeypatch.setitem(ops_metrics.SOURCES, "outbox", broken)
    samples = scrape()
    assert metric(samples, "motcua_metrics_source_up", source="huey") == 0
    assert metric(samples, "motcua_metrics_source_up", source="outbox") == 0
    assert ("motcua_outbox_pending", frozenset()) not in samples


@pytest.mark.django_db
def test_metrics_are_never_cached():
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]
    assert response["Content-Type"].startswith("text/plain")
    assert Client().post("/metrics").status_code == 405


@pytest.mark.django_db
def test_other_addresses_are_refused_unless_allowed(settings):
    outside = {"REMOTE_ADDR": "203.0.113.7"}
    response = Client().get("/metrics", **outside)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "motcua_http" not in response.content.decode()

    settings.MOTCUA_METRICS_ALLOW = ["10.0.0.0/8", "203.0.113.0/28"]
    assert Client().get("/metrics", **outside).status_code == 200
    # Loopback is no longer in the list: refused.
    assert Client().get("/metrics").status_code == 403
    assert Client().get("/metrics", REMOTE_ADDR="::1").status_code == 403


@pytest.mark.django_db
def test_behind_a_proxy_the_client_address_header_decides(settings):
    settings.MOTCUA_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    # The proxy connects from 127.0.0.1, for an outside client: refused.
    response = Client().get("/metrics", HTTP_X_REAL_IP="198.51.100.20")
    assert response.status_code == 403
    # A local client through the proxy, or the proxy's own probe without the header: allowed.
    assert Client().get("/metrics", HTTP_X_REAL_IP="127.0.0.1").status_code == 200
    assert Client().get("/metrics").status_code == 200


@pytest.mark.django_db
def test_a_bearer_token_opens_it_from_anywhere(settings):
    settings.MOTCUA_METRICS_TOKEN = "s3cret-scrape-token"
    settings.MOTCUA_METRICS_ALLOW = []
    outside = {"REMOTE_ADDR": "198.51.100.20"}
    response = Client().get("/metrics", **outside)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "unauthorized"
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-tokem", **outside)
    assert wrong.status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-scrape-token").status_code
    right = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", **outside)
    assert right.status_code == 200
    assert b"motcua_http_requests_total" in right.content


# --- several gunicorn workers ----------------------------------------------------------------

LATENCY_BOUNDS = [*(floatToGoString(b) for b in ops_metrics.LATENCY_BUCKETS), "+Inf"]


def histogram_bounds(samples: dict, name: str, **labels: str) -> list[str]:
    """The ``le`` values listed for the histogram series ``name{labels}``, in bound order."""
    wanted = set(labels.items())
    found = [dict(ls)["le"] for n, ls in samples if n == f"{name}_bucket" and wanted <= ls]
    return sorted(found, key=float)


WORKER = """
from prometheus_client import Counter, Histogram
counter = Counter("t_requests", "t", ["route"])
latency = Histogram("t_seconds", "t", ["route"], buckets=(0.1, 1.0))
for seconds in {observations}:
    counter.labels("a").inc()
    latency.labels("a").observe(seconds)
"""


def run_worker(directory, observations) -> int:
    """A process that records ``observations`` (seconds) in multiprocess files and exits; its
    pid."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    code = WORKER.format(observations=list(observations))
    with subprocess.Popen([sys.executable, "-c", code], env=env) as proc:
        assert proc.wait(60) == 0
    return proc.pid


def test_a_dead_process_is_folded_into_the_archive_with_every_bucket(tmp_path):
    """The archive keeps every key of a dead process, also the empty buckets: a series only the
    archive holds still lists every bound and its +Inf bucket, and nothing is counted twice."""
    registry = CollectorRegistry(auto_describe=False)
    multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
    # The first process saw one fast request, the second a fast and a slower one: totals 1
    # then 3, of which 1 then 2 under 0.1 s; no observation above 1 s, so +Inf gets no
    # increment of its own and exists only if the archive kept the empty key.
    for observations, total, fast in (([0.05], 1, 1), ([0.05, 0.5], 3, 2)):
        pid = run_worker(tmp_path, observations)
        assert os.path.exists(tmp_path / f"histogram_{pid}.db")
        compact_dead_process(str(tmp_path), pid)
        assert sorted(os.listdir(tmp_path)) == [
            ".lock",
            "counter_archive.db",
            "histogram_archive.db",
        ]
        samples = parse_metrics(generate_latest(registry).decode())
        assert metric(samples, "t_requests_total", route="a") == total
        assert metric(samples, "t_seconds_count", route="a") == total
        assert histogram_bounds(samples, "t_seconds", route="a") == ["0.1", "1.0", "+Inf"]
        assert metric(samples, "t_seconds_bucket", route="a", le="0.1") == fast
        assert metric(samples, "t_seconds_bucket", route="a", le="1.0") == total
        assert metric(samples, "t_seconds_bucket", route="a", le="+Inf") == total


def test_gunicorn_workers_are_summed_also_across_recycled_workers(tmp_path):
    """Two workers recycled every few requests (``--max-requests``): /metrics, answered by
    whichever worker, counts every request exactly once, and the dead workers' files are folded
    into one archive per kind instead of piling up."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = base_env(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="tests.ops.server_settings",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=2, threads=2)
    server.extra = ["--max-requests", "7", "--preload"]  # preload: recycled workers boot at once
    server.start()
    try:
        n = 40
        for _ in range(n):
            assert server.request("GET", "/_ops-test/slow?seconds=0")[0] == 200
        status, _headers, body = server.request("GET", "/metrics")
        assert status == 200
        samples = parse_metrics(body.decode())
        labels = {"route": "ops-test-slow", "method": "GET", "status": "200"}
        assert metric(samples, "motcua_http_requests_total", **labels) == n
        assert metric(samples, "motcua_http_request_duration_seconds_count", **labels) == n
        # Every bucket is listed, also when only the archive holds the series (the workers that
        # served it are gone) and some buckets are empty, and +Inf holds every request.
        bounds = histogram_bounds(samples, "motcua_http_request_duration_seconds", **labels)
        assert bounds == LATENCY_BOUNDS
        inf = metric(samples, "motcua_http_request_duration_seconds_bucket", le="+Inf", **labels)
        assert inf == n
        # At most two live workers' files plus the archive, whatever the number of recycles.
        # (A worker that just exited may not have been reaped by the master yet.)
        deadline = time.monotonic() + 5
        while True:
            counters = glob.glob(os.path.join(metrics_dir, "counter_*.db"))
            if len(counters) <= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert os.path.join(metrics_dir, "counter_archive.db") in counters
        assert len(counters) <= 3, counters
        in_flight = metric(samples, "motcua_http_requests_in_flight")
        assert in_flight == 1  # the scrape itself; dead workers' gauges were dropped
    finally:
        server.stop()
    assert "Traceback" not in (tmp_path / "gunicorn.log").read_text()
