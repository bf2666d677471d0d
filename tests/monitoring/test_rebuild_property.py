"""Incremental rollups (outbox, in any delivery order, some messages twice) equal the rebuild.

A hypothesis state machine submits dossiers on every channel and acts on them through the
services (every lifecycle action, scans, results with and without a file), delivering the
monitor messages now and then, sometimes one out of order, sometimes one again. At the end
the rollups, the tracks (the index over open dossiers) and the end-of-day snapshots kept
incrementally must equal what ``rebuild`` computes from the raw history, and the finished
counters must agree with the dossiers' own classification.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, rule

from motcua.core.errors import DomainError
from motcua.dossiers import lifecycle, outbox, services
from motcua.dossiers.lifecycle import Action
from motcua.dossiers.models import ComponentFile, Dossier, OutboxMessage, Status
from motcua.dossiers.services import SYSTEM, ResultInput
from motcua.monitoring import facts, rollups
from motcua.monitoring.models import (
    COARSE_MONTHLY,
    COUNTERS,
    DailyRollup,
    DossierTrack,
    MonthlyRollup,
    OpenSnapshot,
)
from tests.dossiers.actions import perform
from tests.dossiers.world import MONDAY_9, build_world

PDF = b"%PDF-1.4\n% test\n"


def flows(first: dt.date, last: dt.date) -> dict:
    found = {}
    for row in DailyRollup.objects.filter(day__gte=first, day__lte=last).values():
        counts = {name: row[name] for name in COUNTERS if row[name]}
        if counts:
            found[(row["day"], row["agency_id"], row["procedure_id"], row["channel"])] = counts
    return found


def months() -> dict:
    found = {}
    for row in MonthlyRollup.objects.values():
        counts = {name: row[name] for name in COUNTERS if row[name]}
        if counts:
            found[(row["month"], row["agency_id"], row["procedure_id"], row["channel"])] = counts
    return found


def coarse() -> dict:
    """The coarse month tables (month × agency × channel, month × procedure × channel)."""
    found = {}
    for model, keys in COARSE_MONTHLY:
        for row in model.objects.values():
            counts = {name: row[name] for name in COUNTERS if row[name]}
            if counts:
                found[(model.__name__, row["month"], *(row[k] for k in keys))] = counts
    return found


def coarse_from_months() -> dict:
    """What the coarse month tables must hold: the month rows summed over the missing key."""
    found: dict = {}
    for model, keys in COARSE_MONTHLY:
        for row in MonthlyRollup.objects.values():
            into = found.setdefault((model.__name__, row["month"], *(row[k] for k in keys)), {})
            for name in COUNTERS:
                into[name] = into.get(name, 0) + row[name]
    cleaned = {key: {n: v for n, v in counts.items() if v} for key, counts in found.items()}
    return {key: counts for key, counts in cleaned.items() if counts}


def months_from_days() -> dict:
    found: dict = {}
    for row in DailyRollup.objects.values():
        key = (row["day"].replace(day=1), row["agency_id"], row["procedure_id"], row["channel"])
        into = found.setdefault(key, {})
        for name in COUNTERS:
            if row[name]:
                into[name] = into.get(name, 0) + row[name]
    return {key: counts for key, counts in found.items() if any(counts.values())}


def tracks() -> dict:
    return {row.pop("dossier_id"): row for row in DossierTrack.objects.values()}


def snapshots(first: dt.date, last: dt.date) -> dict:
    return {
        (r["day"], r["agency_id"], r["procedure_id"], r["channel"]): (
            r["open_in_time"],
            r["open_late"],
            r["open_extended"],
        )
        for r in OpenSnapshot.objects.filter(day__gte=first, day__lte=last).values()
    }


class MonitoringMachine(RuleBasedStateMachine):
    world = None  # set by the test
    dossiers = Bundle("dossiers")

    @initialize()
    def start(self):
        self.at = MONDAY_9
        self.first_day = facts.vn_day(self.at)

    def tick(self, hours: int) -> None:
        self.at += dt.timedelta(hours=hours)

    @rule(
        target=dossiers,
        channel=st.sampled_from(["counter", "online", "postal"]),
        hours=st.integers(0, 30),
        receive=st.booleans(),
        deliver=st.booleans(),
    )
    def submit(self, channel, hours, receive, deliver):
        self.tick(hours)
        extra = {"delivery_address": "Số 5, thôn Đông"} if channel == "postal" else {}
        dossier = self.world.submit(
            at=self.at, channel=channel, delivery="postal" if extra else "counter", **extra
        )
        if receive:
            services.receive(dossier, actor=SYSTEM, at=self.at)
        if deliver:
            outbox.deliver_pending()
        return dossier.pk

    @rule(
        pk=dossiers,
        choice=st.integers(0, 10**6),
        hours=st.integers(0, 40),
        deliver=st.booleans(),
    )
    def act(self, pk, choice, hours, deliver):
        """Any action the transition table allows from the dossier's status."""
        self.tick(hours)
        dossier = Dossier.objects.get(pk=pk)
        allowed = lifecycle.actions_from(dossier.status)
        if not allowed:
            return
        with contextlib.suppress(DomainError):
            perform(self.world, allowed[choice % len(allowed)], dossier, self.at)
        if deliver:
            outbox.deliver_pending()

    @rule(
        pk=dossiers,
        moves=st.lists(st.integers(0, 30), min_size=1, max_size=7),
        deliver=st.booleans(),
    )
    def progress(self, pk, moves, deliver):
        """Next steps of the usual path (receive, supplement, pay, steps, result, return), each
        after some hours."""
        for hours in moves:
            self.tick(hours)
            dossier = Dossier.objects.get(pk=pk)
            following = {
                Status.SUBMITTED: [Action.RECEIVE],
                Status.RECEIVED: [Action.COMPLETE_STEP],
                Status.PROCESSING: [Action.COMPLETE_STEP, Action.RECORD_RESULT],
                Status.AWAITING_SUPPLEMENT: [Action.PROVIDE_SUPPLEMENT],
                Status.AWAITING_PAYMENT: [Action.CONFIRM_PAYMENT],
                Status.RESULT_READY: [Action.RETURN_RESULT],
            }.get(dossier.status, [])
            for action in following:
                try:
                    perform(self.world, action, dossier, self.at)
                    break
                except DomainError:
                    continue
        if deliver:
            outbox.deliver_pending()

    @rule(pk=dossiers, hours=st.integers(0, 60), days=st.integers(1, 10))
    def extend(self, pk, hours, days):
        """Apology and extension, proposed and approved (perhaps after the appointment)."""
        self.tick(hours)
        dossier = Dossier.objects.get(pk=pk)
        if dossier.due_at is None:
            return
        try:
            services.propose_extension(
                dossier,
                actor=SYSTEM,
                reason="Chờ kết quả xác minh",
                new_due_at=dossier.due_at + dt.timedelta(days=days),
                at=self.at,
            )
            services.decide_extension(dossier, actor=SYSTEM, approve=True, at=self.at)
        except DomainError:
            pass

    @rule(pk=dossiers, hours=st.integers(0, 10))
    def scan(self, pk, hours):
        self.tick(hours)
        dossier = Dossier.objects.get(pk=pk)
        component = dossier.components.first()
        if component is None:
            return
        with contextlib.suppress(DomainError):
            services.attach_file(
                dossier,
                actor=SYSTEM,
                submitted_component_id=component.pk,
                name="scan.pdf",
                content_type="application/pdf",
                content=PDF,
                at=self.at,
            )

    @rule(pk=dossiers, hours=st.integers(0, 60), note=st.sampled_from(["", "ok", "Đồng ý cấp"]))
    def finish_with_file(self, pk, hours, note):
        """Walk the steps and record a result with an electronic file."""
        self.tick(hours)
        dossier = Dossier.objects.get(pk=pk)
        for _ in range(6):
            try:
                services.complete_step(dossier, actor=SYSTEM, note=note, at=self.at)
            except DomainError:
                break
        result = ResultInput(
            number="5/GP",
            signed_on=self.at.date(),
            signer="Lê Văn Bình",
            file_name="kq.pdf",
            file_content=PDF,
        )
        with contextlib.suppress(DomainError):
            services.record_result(dossier, actor=SYSTEM, result=result, at=self.at)

    @rule()
    def deliver(self):
        outbox.deliver_pending()

    @rule(choice=st.integers(0, 10**6))
    def deliver_one_out_of_order(self, choice):
        """A dossier's latest message first (its earlier ones wait for a retry)."""
        pending = list(
            OutboxMessage.objects.filter(topic__startswith="monitor.", delivered_at__isnull=True)
            .order_by("dossier_id", "id")
            .values_list("dossier_id", "pk")
        )
        latest: dict[int, list[int]] = {}
        for dossier_id, pk in pending:
            latest.setdefault(dossier_id, []).append(pk)
        waiting = sorted(ids for ids in latest.values() if len(ids) > 1) or sorted(latest.values())
        if not waiting:
            return
        message = OutboxMessage.objects.get(pk=waiting[choice % len(waiting)][-1])
        rollups.handle_message(message)
        message.delivered_at = timezone.now()
        message.save(update_fields=["delivered_at"])

    @rule(choice=st.integers(0, 10**6))
    def deliver_again(self, choice):
        """A worker died after applying a message and before marking it delivered."""
        done = list(
            OutboxMessage.objects.filter(topic__startswith="monitor.", delivered_at__isnull=False)
        )
        if not done:
            return
        message = done[choice % len(done)]
        OutboxMessage.objects.filter(pk=message.pk).update(
            delivered_at=None, available_at=timezone.now()
        )
        outbox.deliver_pending()

    def teardown(self):
        if not hasattr(self, "at"):
            return
        while outbox.deliver_pending() != (0, 0):
            pass
        last_day = facts.vn_day(self.at)
        days = [
            self.first_day + dt.timedelta(days=n)
            for n in range((last_day - self.first_day).days + 1)
        ]
        for day in days:
            assert rollups.take_snapshot(day)
        incremental = (
            flows(self.first_day, last_day),
            tracks(),
            snapshots(self.first_day, last_day),
            months(),
            coarse(),
        )
        assert incremental[3] == months_from_days()
        assert incremental[4] == coarse_from_months()
        rollups.rebuild(self.first_day, last_day)
        rebuilt = (
            flows(self.first_day, last_day),
            tracks(),
            snapshots(self.first_day, last_day),
            months(),
            coarse(),
        )
        assert incremental[0] == rebuilt[0]
        assert incremental[1] == rebuilt[1]
        assert incremental[2] == rebuilt[2]
        assert incremental[3] == rebuilt[3]
        assert incremental[4] == rebuilt[4]
        check_against_dossiers()


def check_against_dossiers() -> None:
    """The rollups agree with the dossiers' own fields (every dossier so far)."""
    totals = DailyRollup.objects.aggregate(**{name: Sum(name) for name in COUNTERS})
    totals = {name: value or 0 for name, value in totals.items()}
    received = Dossier.objects.filter(received_at__isnull=False)
    assert totals["submitted"] == Dossier.objects.count()
    assert totals["received"] == received.count()
    for timeliness in ("early", "on_time", "late"):
        assert totals[f"finished_{timeliness}"] == received.filter(timeliness=timeliness).count()
    assert totals["results"] == received.filter(result__isnull=False).count()
    assert (
        totals["eresults"] == received.filter(result__isnull=False).exclude(result__file="").count()
    )
    with_files = set(
        ComponentFile.objects.values_list("component__dossier_id", flat=True).distinct()
    )
    assert totals["digitised"] == received.filter(pk__in=with_files).count()
    for track in DossierTrack.objects.select_related("dossier"):
        assert track.is_open == (
            track.dossier.received_at is not None and track.dossier.finished_at is None
        )
        if track.is_open:
            assert track.due_at == track.dossier.due_at


def test_incremental_equals_rebuilt(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    MonitoringMachine.world = build_world()
    runner = MonitoringMachine.TestCase
    runner.settings = hypothesis_settings(
        max_examples=20,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    runner().runTest()
