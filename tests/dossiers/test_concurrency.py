"""Dossier codes under concurrent receipts: sequential, no duplicate, no gap (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from motcua.dossiers import services
from motcua.dossiers.models import Dossier, DossierCodeCounter

from .world import MONDAY_9, build_world

PARALLEL = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_receipts_get_fifty_sequential_codes():
    if connection.vendor != "postgresql":
        pytest.skip(
            "row locks need PostgreSQL: run with MOTCUA_TEST_POSTGRES=postgresql://… (or CI=true)"
        )
    world = build_world()
    dossiers = [world.submit() for _ in range(PARALLEL)]
    barrier = threading.Barrier(PARALLEL)
    errors: list[BaseException] = []

    def receive(dossier):
        try:
            barrier.wait(timeout=30)
            services.receive(dossier, actor=world.counter, at=MONDAY_9)
        except BaseException as exc:  # collected and reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=receive, args=(d,)) for d in dossiers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    codes = sorted(Dossier.objects.exclude(code=None).values_list("code", flat=True))
    assert codes == [f"000.00.01.H56-260302-{n:04d}" for n in range(1, PARALLEL + 1)]
    assert DossierCodeCounter.objects.get().last == PARALLEL


@pytest.mark.django_db(transaction=True)
def test_a_failed_receipt_gives_its_number_back(monkeypatch):
    world = build_world()
    first, second = world.submit(), world.submit()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_instantiate_steps", boom)
    with pytest.raises(RuntimeError):
        services.receive(first, actor=world.counter, at=MONDAY_9)
    monkeypatch.undo()
    services.receive(second, actor=world.counter, at=MONDAY_9)
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.code.endswith("-0001")
    assert first.code is None and first.status == 1
    assert not first.events.filter(action="receive").exists()
