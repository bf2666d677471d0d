"""Rollups follow the dossiers' history through the outbox, once per event, in any order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Sum

from motcua.dossiers import outbox, services
from motcua.dossiers import tasks as dossier_tasks
from motcua.dossiers.models import OutboxMessage
from motcua.dossiers.services import SYSTEM, ResultInput
from motcua.monitoring import facts, rollups
from motcua.monitoring.models import (
    COUNTERS,
    DailyRollup,
    DossierTrack,
    MonthlyAgencyRollup,
    MonthlyProcedureRollup,
    MonthlyRollup,
    OpenSnapshot,
    SnapshotDay,
)
from tests.dossiers.world import vn

from .conftest import deliver

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% test\n"


def day_row(day: int, channel: str = "counter", month: int = 3) -> dict[str, int]:
    row = (
        DailyRollup.objects.filter(day=dt.date(2026, month, day), channel=channel)
        .values(*COUNTERS)
        .first()
    )
    return {name: n for name, n in (row or {}).items() if n}


def totals() -> dict[str, int]:
    found = DailyRollup.objects.aggregate(**{name: Sum(name) for name in COUNTERS})
    return {name: n for name, n in found.items() if n}


def result(at: dt.datetime, with_file: bool = False) -> ResultInput:
    return ResultInput(
        number="15/GP",
        signed_on=at.date(),
        signer="Lê Văn Bình",
        file_name="ket-qua.pdf" if with_file else "",
        file_content=PDF if with_file else None,
    )


def walk_to_result(world, dossier, at: dt.datetime, *, with_file: bool = False) -> None:
    for _ in range(3):
        services.complete_step(dossier, actor=SYSTEM, note="Hồ sơ đủ điều kiện, đề nghị cấp", at=at)
    services.record_result(dossier, actor=SYSTEM, result=result(at, with_file), at=at)


def test_the_app_registers_its_handler_for_the_sweep():
    outbox.HANDLERS.clear()
    apps.get_app_config("monitoring").ready()
    assert outbox.handler_for("monitor.receive") is rollups.handle_message
    assert "monitor" not in getattr(outbox, "OUTSIDE_TRANSACTION", set())


def test_every_action_writes_a_monitor_message(world):
    dossier = world.received(at=vn(2, 9))
    component = dossier.components.first()
    services.attach_file(
        dossier,
        actor=world.counter,
        submitted_component_id=component.pk,
        name="to-khai.pdf",
        content_type="application/pdf",
        content=PDF,
        at=vn(2, 10),
    )
    services.assign(dossier, actor=world.leader, assignee=world.specialist, at=vn(2, 11))
    topics = list(
        OutboxMessage.objects.filter(topic__startswith="monitor.")
        .order_by("id")
        .values_list("topic", flat=True)
    )
    assert topics == ["monitor.submit", "monitor.receive", "monitor.attach_file", "monitor.assign"]


def test_counters_follow_the_history_by_day_and_channel(world):
    early = world.received(at=vn(2, 9))
    component = early.components.first()
    services.attach_file(
        early,
        actor=SYSTEM,
        submitted_component_id=component.pk,
        name="scan.pdf",
        content_type="application/pdf",
        content=PDF,
        at=vn(3, 9),
    )
    walk_to_result(world, early, vn(4, 10), with_file=True)
    services.return_result(
        early,
        actor=SYSTEM,
        method="counter",
        recipient_name="Nguyễn Thị Hằng",
        recipient_id="038090001234",
        at=vn(5, 9),
    )
    online = world.submit(at=vn(2, 14), channel="online", delivery="online")
    services.refuse(online, actor=SYSTEM, reason="Không thuộc thẩm quyền", at=vn(3, 8))
    stopped = world.received(at=vn(3, 9))
    services.request_supplement(stopped, actor=SYSTEM, items=["Bản sao"], at=vn(3, 10))
    services.stop(stopped, actor=SYSTEM, reason="Công dân đề nghị dừng", at=vn(4, 9))
    deliver()

    # The cohort of 2 March: scanned and, once its result came, with an electronic result.
    assert day_row(2) == {
        "submitted": 1,
        "received": 1,
        "with_fee": 1,
        "digitised": 1,
        "digitised_complete": 1,
    }
    assert day_row(2, "online") == {"submitted": 1}
    assert day_row(3, "online") == {"refused": 1}
    assert day_row(3) == {
        "submitted": 1,
        "received": 1,
        "with_fee": 1,
        "supplement_requests": 1,
    }
    # 2 March dossier: finished early with an e-result; the stopped one is judged too.
    assert day_row(4) == {
        "results": 1,
        "eresults": 1,
        "finished_early": 2,
        "stopped": 1,
        "result_seconds": 2 * 86400 + 3600,
    }
    assert day_row(5) == {"returned": 1}


def test_a_result_without_file_takes_the_dossier_out_of_digitised_complete(world):
    dossier = world.received(at=vn(2, 9))
    services.attach_file(
        dossier,
        actor=SYSTEM,
        submitted_component_id=dossier.components.first().pk,
        name="scan.pdf",
        content_type="application/pdf",
        content=PDF,
        at=vn(2, 10),
    )
    deliver()
    assert day_row(2)["digitised_complete"] == 1
    walk_to_result(world, dossier, vn(5, 9), with_file=False)
    deliver()
    assert day_row(2).get("digitised_complete", 0) == 0
    assert day_row(2)["digitised"] == 1
    assert "eresults" not in day_row(5)


def test_supplement_time_is_subtracted(world):
    # Due Mon 9/3 09:00. Waiting Tue 3/3 → Tue 10/3 stops the clock: due Mon 16/3.
    dossier = world.received(at=vn(2, 9))
    services.complete_step(dossier, actor=SYSTEM, note="Đã thẩm định thành phần", at=vn(2, 15))
    services.request_supplement(dossier, actor=SYSTEM, items=["Bản sao"], at=vn(3, 9))
    services.provide_supplement(dossier, actor=SYSTEM, at=vn(10, 9))
    for _ in range(2):
        services.complete_step(
            dossier, actor=SYSTEM, note="Ý kiến thống nhất đề nghị cấp", at=vn(13, 9)
        )
    services.record_result(dossier, actor=SYSTEM, result=result(vn(13, 9)), at=vn(13, 9))
    deliver()
    assert day_row(13)["finished_early"] == 1
    track = DossierTrack.objects.get(pk=dossier.pk)
    assert track.due_at == vn(16, 9)


def test_more_than_one_supplement_request_counts_as_late(world):
    dossier = world.received(at=vn(2, 9))
    services.request_supplement(dossier, actor=SYSTEM, items=["Bản sao"], at=vn(2, 10))
    services.provide_supplement(dossier, actor=SYSTEM, at=vn(2, 11))
    services.request_supplement(
        dossier,
        actor=SYSTEM,
        items=["Bản chính"],
        approver=world.leader,
        approval_reason="Luật chuyên ngành",
        at=vn(2, 14),
    )
    deliver()
    track = DossierTrack.objects.get(pk=dossier.pk)
    # Still waiting and long before the appointment, yet already late (§1.6).
    assert track.is_open and track.late_from is not None
    assert rollups.live_open(None, vn(3, 9)).total()["open_late"] == 1
    services.provide_supplement(dossier, actor=SYSTEM, at=vn(3, 9))
    walk_to_result(world, dossier, vn(3, 10))
    deliver()
    assert day_row(3)["finished_late"] == 1


def test_an_extension_keeps_the_dossier_late_for_766(world):
    dossier = world.received(at=vn(2, 9))  # due 9/3
    services.propose_extension(
        dossier, actor=SYSTEM, reason="Chờ xác minh", new_due_at=vn(13, 9), at=vn(6, 9)
    )
    services.decide_extension(dossier, actor=SYSTEM, approve=True, at=vn(6, 10))
    deliver()
    assert rollups.live_open(None, vn(10, 9)).total() == {
        "open_in_time": 1,
        "open_late": 0,
        "open_extended": 1,
    }
    walk_to_result(world, dossier, vn(11, 9))
    deliver()
    assert day_row(6)["extensions"] == 1
    assert day_row(11) == {
        "results": 1,
        "finished_early": 1,
        "finished_extended": 1,
        "result_seconds": 9 * 86400,
    }


def test_the_same_message_twice_counts_once(world):
    world.received(at=vn(2, 9))
    deliver()
    before = (totals(), list(DossierTrack.objects.values()))
    receive = OutboxMessage.objects.get(topic="monitor.receive")
    # The worker died after the handler's commit and before the message was marked.
    rollups.handle_message(receive)
    OutboxMessage.objects.filter(topic__startswith="monitor.").update(delivered_at=None)
    deliver()
    assert (totals(), list(DossierTrack.objects.values())) == before
    assert totals()["received"] == 1


def test_a_later_message_first_applies_the_earlier_events_in_order(world):
    dossier = world.received(at=vn(2, 9))
    walk_to_result(world, dossier, vn(3, 9))
    last = OutboxMessage.objects.filter(topic="monitor.record_result").get()
    assert rollups.handle_message(last) is None
    assert DossierTrack.objects.get(pk=dossier.pk).last_event == last.event_id
    assert totals()["finished_early"] == 1 and totals()["received"] == 1
    deliver()  # the earlier messages come now: nothing changes
    assert totals()["finished_early"] == 1 and totals()["received"] == 1
    assert totals()["submitted"] == 1


def test_the_per_minute_outbox_sweep_keeps_the_rollups(world):
    world.received(at=vn(2, 9))
    assert not DailyRollup.objects.exists()  # nothing delivered yet (no commit under the test)
    dossier_tasks.sweep_outbox.call_local()
    assert totals()["received"] == 1
    assert not OutboxMessage.objects.filter(
        topic__startswith="monitor.", delivered_at__isnull=True
    ).exists()


def test_delivered_right_after_the_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world.received(at=vn(2, 9))
    # Huey runs immediately under the tests: the dossier's messages were delivered on commit.
    assert totals()["received"] == 1


def test_in_progress_live_and_end_of_day_snapshots(world):
    late = world.received(at=vn(2, 9))  # due 9/3
    in_time = world.received(at=vn(9, 9))  # due 16/3
    waiting = world.received(at=vn(4, 9))  # due 11/3, waiting since 10/3: judged then
    services.request_supplement(waiting, actor=SYSTEM, items=["Bản sao"], at=vn(10, 9))
    deliver()
    live = rollups.live_open(None, vn(12, 9))
    assert live.kind == "live"
    assert live.total() == {"open_in_time": 2, "open_late": 1, "open_extended": 0}
    # End of 9/3: the first one is due that day, still in time (date precision).
    assert rollups.take_snapshot(dt.date(2026, 3, 9))
    assert rollups.take_snapshot(dt.date(2026, 3, 12))
    nine = rollups.stored_open(None, dt.date(2026, 3, 9))
    assert nine.total() == {"open_in_time": 3, "open_late": 0, "open_extended": 0}
    assert rollups.stored_open(None, dt.date(2026, 3, 12)).total()["open_late"] == 1
    # Later events do not change what was open at the end of 12/3.
    services.stop(late, actor=SYSTEM, reason="Công dân đề nghị", at=vn(13, 9))
    deliver()
    assert rollups.compute_open(dt.date(2026, 3, 12)).total()["open_late"] == 1
    assert rollups.live_open(None, vn(13, 10)).total()["open_late"] == 0
    assert SnapshotDay.objects.count() == 2
    assert in_time.pk


def test_a_snapshot_waits_for_pending_messages(world):
    world.received(at=vn(2, 9))
    assert rollups.take_snapshot(dt.date(2026, 3, 2)) is False
    deliver()
    assert rollups.take_snapshot(dt.date(2026, 3, 2)) is True


def test_missing_snapshots_are_taken_hourly(world, settings):
    settings.MOTCUA_SNAPSHOT_BACKFILL_DAYS = 3
    world.received(at=vn(2, 9))
    deliver()
    now = vn(5, 1)
    assert rollups.take_missing_snapshots(now) == [
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 3),
        dt.date(2026, 3, 4),
    ]
    assert rollups.take_missing_snapshots(now) == []
    assert OpenSnapshot.objects.filter(day=dt.date(2026, 3, 4)).get().open_in_time == 1


def test_rebuild_command_gives_the_same_numbers(world, capsys):
    dossier = world.received(at=vn(2, 9))
    walk_to_result(world, dossier, vn(12, 9))  # late
    world.received(at=vn(3, 9))
    deliver()
    before = sorted(DailyRollup.objects.values("day", "channel", *COUNTERS), key=str)
    DailyRollup.objects.all().delete()
    DossierTrack.objects.all().delete()
    call_command("rebuild_rollups", "--from", "2026-03-01", "--to", "2026-03-31")
    assert "Đã tính lại 01/03/2026–31/03/2026: 2 hồ sơ" in capsys.readouterr().out
    after = sorted(DailyRollup.objects.values("day", "channel", *COUNTERS), key=str)
    assert after == before
    assert DossierTrack.objects.count() == 2
    assert OpenSnapshot.objects.get(day=dt.date(2026, 3, 31)).open_late == 1
    # A whole rebuild too (every day from the first submission to today).
    call_command("rebuild_rollups")
    assert sorted(DailyRollup.objects.values("day", "channel", *COUNTERS), key=str) == before


def test_a_range_rebuild_leaves_other_days_alone(world):
    world.received(at=vn(2, 9))
    world.received(at=vn(20, 9))
    deliver()
    DailyRollup.objects.filter(day=dt.date(2026, 3, 20)).update(received=7)  # tampered
    rollups.rebuild(dt.date(2026, 3, 1), dt.date(2026, 3, 10))
    assert day_row(20)["received"] == 7
    rollups.rebuild(dt.date(2026, 3, 20), dt.date(2026, 3, 20))
    assert day_row(20)["received"] == 1


def test_days_are_vietnamese_days(world):
    # 23:30 in Việt Nam is 16:30 UTC the same date; 00:30 on the 3rd is still the 2nd in UTC.
    world.received(at=dt.datetime(2026, 3, 3, 0, 30, tzinfo=facts.VN_TZ))
    deliver()
    assert day_row(3)["received"] == 1
    assert not day_row(2)


def test_split_period_into_months_and_edges():
    d = dt.date
    assert rollups.split_period(d(2026, 3, 1), d(2026, 3, 31)) == (
        (d(2026, 3, 1), d(2026, 3, 1)),
        [],
    )
    assert rollups.split_period(d(2026, 2, 20), d(2026, 4, 10)) == (
        (d(2026, 3, 1), d(2026, 3, 1)),
        [(d(2026, 2, 20), d(2026, 2, 28)), (d(2026, 4, 1), d(2026, 4, 10))],
    )
    assert rollups.split_period(d(2026, 3, 5), d(2026, 3, 9)) == (
        None,
        [(d(2026, 3, 5), d(2026, 3, 9))],
    )
    assert rollups.split_period(d(2026, 1, 1), d(2026, 12, 31)) == (
        (d(2026, 1, 1), d(2026, 12, 1)),
        [],
    )


def test_sums_read_whole_months_from_the_month_rows(world):
    for day in (
        dt.date(2026, 2, 27),
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 30),
        dt.date(2026, 4, 2),
    ):
        at = dt.datetime.combine(day, dt.time(9), tzinfo=facts.VN_TZ)
        world.received(at=at)
    deliver()
    days = {(d,): c for d, c in ((r.day, r.received) for r in DailyRollup.objects.all())}
    assert len(days) == 4
    for first, last in (
        (dt.date(2026, 2, 1), dt.date(2026, 4, 30)),
        (dt.date(2026, 2, 28), dt.date(2026, 4, 1)),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
        (dt.date(2026, 3, 3), dt.date(2026, 4, 2)),
    ):
        want = sum(c for (d,), c in days.items() if first <= d <= last)
        got = rollups.sum_rollups(None, first, last, (), ["received"])
        assert got[()]["received"] == want, (first, last)
    by_month = rollups.sum_rollups(None, dt.date(2026, 2, 15), dt.date(2026, 4, 30), ("month",))
    assert {k[0]: v["received"] for k, v in by_month.items()} == {
        dt.date(2026, 2, 1): 1,
        dt.date(2026, 3, 1): 2,
        dt.date(2026, 4, 1): 1,
    }


def test_sums_read_the_smallest_month_table_that_has_their_fields():
    pick = rollups.month_table
    assert pick(("agency_id",), None, [1, 2]) is MonthlyAgencyRollup
    assert pick(("month", "channel"), None, None) is MonthlyAgencyRollup
    assert pick((), {"channel": "online"}, [1]) is MonthlyAgencyRollup
    assert pick(("procedure_id", "channel"), None, None) is MonthlyProcedureRollup
    assert pick(("month", "procedure_id", "channel"), None, None) is MonthlyProcedureRollup
    # Some agencies only, or both keys: the full month rows.
    assert pick(("procedure_id",), None, [1]) is MonthlyRollup
    assert pick((), {"procedure_id": 3}, [1]) is MonthlyRollup
    assert pick(("agency_id", "procedure_id"), None, None) is MonthlyRollup


def test_the_coarse_month_tables_give_the_sums_of_the_month_rows(world, monkeypatch):
    at = dt.datetime(2026, 3, 2, 9, tzinfo=facts.VN_TZ)
    online = world.received(at=at)
    world.received(at=at)
    world.received(at=at + dt.timedelta(days=31))
    walk_to_result(world, online, at + dt.timedelta(days=2))
    deliver()
    assert MonthlyAgencyRollup.objects.exists() and MonthlyProcedureRollup.objects.exists()
    first, last = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
    groupings = [
        (None, ("agency_id",), None),
        (None, ("month", "channel"), None),
        (None, ("procedure_id", "channel"), None),
        (None, ("month", "procedure_id", "channel"), None),
        ([world.department.pk, world.centre.pk], ("agency_id",), {"channel": "counter"}),
    ]
    coarse = [rollups.sum_rollups(ids, first, last, f, filters=x) for ids, f, x in groupings]
    monkeypatch.setattr(rollups, "month_table", lambda *args: MonthlyRollup)
    full = [rollups.sum_rollups(ids, first, last, f, filters=x) for ids, f, x in groupings]
    assert coarse == full
    assert any(row.get("received") for sums in coarse for row in sums.values())
