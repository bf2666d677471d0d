"""Liveness and readiness endpoints for load balancers, systemd and orchestrators.

* ``/healthz`` — the process answers (no database, no cache): restart it if this fails.
* ``/readyz`` — it can serve: the database answers and has every migration applied, and the
  cache answers. 503 with the failing checks otherwise, so a balancer stops sending traffic
  during a migration or a database outage and resumes by itself afterwards.

Both answer JSON, are never cached and carry no personal data.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)

# Once every migration is seen applied, a process does not look again (a deploy that adds
# migrations restarts the processes). Until then it looks on every probe.
_migrated = False


def _check_database() -> str | None:
    global _migrated
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        if not _migrated:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if plan:
                return f"{len(plan)} migration(s) not applied"
            _migrated = True
    except Exception as exc:  # any failure means "not ready", with its kind
        log.warning("readiness: database check failed: %s", exc)
        return f"unreachable ({type(exc).__name__})"
    return None


def _check_cache() -> str | None:
    key = "motcua:readyz"
    try:
        value = str(time.monotonic_ns())
        cache.set(key, value, 30)
        if cache.get(key) != value:
            return "value not read back"
    except Exception as exc:
        log.warning("readiness: cache check failed: %s", exc)
        return f"unreachable ({type(exc).__name__})"
    return None


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    failures = {
        name: problem
        for name, problem in (("database", _check_database()), ("cache", _check_cache()))
        if problem
    }
    if failures:
        return JsonResponse({"status": "unavailable", "failures": failures}, status=503)
    return JsonResponse({"status": "ok"})
