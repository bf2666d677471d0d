"""The set-based rebuild (``rebuild_sql``) equals the event replay (``rebuild(method="python")``).

The same hypothesis state machine as the incremental test drives random histories through the
services (every lifecycle action, supplements, payments, extensions, scans, results with and
without files), plus ratings after the hand-over; at the end both rebuilds of the whole history
must give the same day and month rows, the same end-of-day snapshots and the same tracks (for
dossiers no longer in progress, the SQL path's ``last_event`` is the rebuild's high-water mark
and ``last_at`` the dossier's latest instant: both left out of the comparison).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

from motcua.dossiers import outbox
from motcua.dossiers.models import Dossier, DossierEvent, Status
from motcua.monitoring import rollups
from motcua.monitoring.models import COUNTERS, DailyRollup, DossierTrack, MonthlyRollup
from tests.dossiers.world import build_world

from .test_rebuild_property import MonitoringMachine, coarse, coarse_from_months, snapshots


def rows(model, when: str) -> dict:
    found = {}
    for row in model.objects.values():
        counts = {name: row[name] for name in COUNTERS if row[name]}
        if counts:
            found[(row[when], row["agency_id"], row["procedure_id"], row["channel"])] = counts
    return found


def tracks() -> dict:
    found = {}
    for row in DossierTrack.objects.values():
        pk = row.pop("dossier_id")
        if not row["is_open"]:
            row.pop("last_event")
            row.pop("last_at")
        found[pk] = row
    return found


def state(first: dt.date, last: dt.date) -> tuple:
    return (
        rows(DailyRollup, "day"),
        rows(MonthlyRollup, "month"),
        snapshots(first, last),
        tracks(),
        coarse(),
    )


class BothRebuildsMachine(MonitoringMachine):
    @rule(pk=MonitoringMachine.dossiers, hours=st.integers(0, 30), score=st.integers(1, 3))
    def rate(self, pk, hours, score):
        """The applicant rates a returned dossier (an event after the dossier is closed)."""
        self.tick(hours)
        dossier = Dossier.objects.get(pk=pk)
        if dossier.status != Status.RETURNED:
            return
        DossierEvent.objects.create(
            dossier=dossier,
            at=self.at,
            actor_label="Công dân",
            agency=dossier.receiving_agency,
            action="rate",
            status_before=dossier.status,
            status_after=dossier.status,
            data={"score": score},
        )

    def teardown(self):
        if not hasattr(self, "at"):
            return
        while outbox.deliver_pending() != (0, 0):
            pass
        now = timezone.now()
        first = self.first_day
        last = now.date()
        rollups.rebuild(now=now, method="python")
        replayed = state(first, last)
        rollups.rebuild(now=now, method="sql")
        set_based = state(first, last)
        for name, a, b in zip(
            ("days", "months", "snapshots", "tracks", "coarse months"),
            replayed,
            set_based,
            strict=True,
        ):
            assert a == b, name
        assert set_based[4] == coarse_from_months()


def test_the_set_based_rebuild_equals_the_replay(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    BothRebuildsMachine.world = build_world()
    runner = BothRebuildsMachine.TestCase
    runner.settings = hypothesis_settings(
        max_examples=15,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    runner().runTest()


def test_an_empty_history_rebuilds_to_nothing(db):
    report = rollups.rebuild(method="sql")
    assert report.dossiers == 0 and report.rollup_rows == 0
    assert not DailyRollup.objects.exists() and not DossierTrack.objects.exists()
