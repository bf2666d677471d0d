"""Liveness and readiness probes."""

from __future__ import annotations

import pytest
from django.db.utils import OperationalError
from django.test import Client

from motcua import health


def test_liveness_needs_nothing_but_the_process():
    # No django_db mark: any database access here would fail the test.
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert Client().post("/healthz").status_code == 405


@pytest.mark.django_db
def test_ready_when_database_migrated_and_cache_answers(monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok"}
    assert health._migrated is True


@pytest.mark.django_db
def test_not_ready_while_migrations_are_pending(monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)
    monkeypatch.setattr(
        health.MigrationExecutor, "migration_plan", lambda self, targets: [("x", False)]
    )
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["failures"] == {"database": "1 migration(s) not applied"}


@pytest.mark.django_db
def test_not_ready_when_database_or_cache_is_down(monkeypatch):
    class Broken:
        def __enter__(self):
            raise OperationalError("connection refused")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(health.connection, "cursor", lambda: Broken())

    def no_cache(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(health.cache, "set", no_cache)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["failures"] == {
        "database": "unreachable (OperationalError)",
        "cache": "unreachable (ConnectionError)",
    }
