"""The synthetic province generator of the benchmarks (``benchmarks/synth.py``) at a small
size: reproducible from its seed, and consistent enough for the monitoring figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count, Sum

from benchmarks.synth import clear_dossiers, generate
from motcua.dossiers.models import Dossier, DossierEvent, Result, Step
from motcua.monitoring.models import COUNTERS, DailyRollup, DossierTrack, OpenSnapshot, Violation

pytestmark = pytest.mark.django_db

END = dt.date(2026, 3, 31)
SMALL = {"months": 3, "end": END, "communes": 0, "extra_procedures": 3, "progress": None}


def fingerprint() -> dict:
    """Everything that should come out the same, by natural keys (not primary keys)."""
    rollups = {
        (r["day"], r["agency__electronic_id"], r["procedure__code"], r["channel"]): tuple(
            r[name] for name in COUNTERS
        )
        for r in DailyRollup.objects.values(
            "day", "agency__electronic_id", "procedure__code", "channel", *COUNTERS
        )
    }
    snapshots = sorted(
        OpenSnapshot.objects.values_list(
            "day", "agency__electronic_id", "procedure__code", "open_in_time", "open_late"
        )
    )
    dossiers = sorted(
        Dossier.objects.values_list("submitted_at", "code", "status", "channel", "timeliness"),
        key=lambda row: (row[0], row[1] or ""),
    )
    return {
        "rollups": rollups,
        "snapshots": snapshots,
        "dossiers": dossiers,
        "events": DossierEvent.objects.count(),
        "violations": sorted(Violation.objects.values_list("rule", "status", "occurred_at")),
    }


def test_the_same_seed_gives_the_same_province_and_figures():
    first = generate(150, seed=7, **SMALL)
    assert first.dossiers == 150 and first.rows["dossier"] == 150
    before = fingerprint()
    clear_dossiers()
    assert not Dossier.objects.exists() and not DailyRollup.objects.exists()
    generate(150, seed=7, **SMALL)
    assert fingerprint() == before
    clear_dossiers()
    generate(150, seed=8, **SMALL)
    assert fingerprint()["dossiers"] != before["dossiers"]


def test_the_generated_dossiers_are_consistent():
    report = generate(400, seed=3, **SMALL)
    assert report.accounts["monitor"] == "synth.giamsat"
    dossiers = Dossier.objects.all()
    assert dossiers.count() == 400
    received = dossiers.filter(received_at__isnull=False)
    finished = received.filter(finished_at__isnull=False)
    # Most are received, almost all finish on time, a few are late.
    assert received.count() > 350
    shares = dict(finished.values_list("timeliness").annotate(n=Count("pk")))
    late = shares.get("late", 0) / finished.count()
    assert 0 < late < 0.1
    assert {"counter", "online"} <= set(dossiers.values_list("channel", flat=True))
    # Every received dossier has its four steps and its events in time order.
    assert not received.annotate(n=Count("steps")).exclude(n=4).exists()
    for dossier in received[:50]:
        times = list(dossier.events.order_by("id").values_list("at", flat=True))
        assert times == sorted(times)
        assert dossier.events.first().action == "submit"
    assert Result.objects.count() == received.filter(status__in=(9, 10)).count()
    assert not Step.objects.filter(state="active", dossier__status__in=(3, 7, 8, 10)).exists()
    # The rollups agree with the dossiers, the tracks cover every dossier.
    totals = DailyRollup.objects.aggregate(**{n: Sum(n) for n in COUNTERS})
    assert totals["submitted"] == 400
    assert totals["received"] == received.count()
    assert totals["finished_late"] == finished.filter(timeliness="late").count()
    assert totals["ratings"] > 0 and totals["digitised"] > 0 and totals["supplement_requests"] > 0
    assert DossierTrack.objects.count() == 400
    assert Violation.objects.filter(rule="dossier_late").exists()
