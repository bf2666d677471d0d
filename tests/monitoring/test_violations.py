"""Each violation rule fires on a dossier built to break it, and not on a clean one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError, transaction

from motcua.dossiers import services
from motcua.dossiers.models import Step
from motcua.dossiers.services import SYSTEM, ComponentInput, ResultInput
from motcua.monitoring import violations
from motcua.monitoring.models import Severity, Violation
from tests.dossiers.world import vn

from .conftest import deliver

pytestmark = pytest.mark.django_db

CLEAR = "Hồ sơ đầy đủ, hợp lệ; đề nghị lãnh đạo phê duyệt"


def found(rule: str, dossier=None) -> list[Violation]:
    rows = Violation.objects.filter(rule=rule)
    if dossier is not None:
        rows = rows.filter(dossier=dossier)
    return list(rows.order_by("id"))


def active_step(dossier) -> Step:
    return dossier.steps.get(state="active", kind="processing")


def finish(dossier, at: dt.datetime, *, note: str = CLEAR, actor=SYSTEM) -> None:
    for _ in range(3):
        services.complete_step(dossier, actor=actor, note=note, at=at)
    result = ResultInput(number="7/GP", signed_on=at.date(), signer="Lê Văn Bình")
    services.record_result(dossier, actor=actor, result=result, at=at, note=note)


def return_at_counter(dossier, at, *, recipient_id="038090001234"):
    services.return_result(
        dossier,
        actor=SYSTEM,
        method="counter",
        recipient_name="Nguyễn Thị Hằng",
        recipient_id=recipient_id,
        at=at,
    )


# --- component outside the published list ------------------------------------------------------


def test_outside_component_accepted(world):
    extra = ComponentInput(
        name="Giấy xác nhận tình trạng cư trú", copies=1, outside_reason="Công dân tự nộp thêm"
    )
    broken = world.received(at=vn(2, 9), components=[*world.components(), extra])
    clean = world.received(at=vn(2, 10))
    deliver()
    [violation] = found("outside_component")
    assert violation.dossier == broken
    assert violation.agency == world.centre
    assert violation.officer == world.counter
    assert violation.severity == Severity.HIGH
    assert "Giấy xác nhận tình trạng cư trú" in violation.detail
    assert "Công dân tự nộp thêm" in violation.detail
    assert not found("outside_component", clean)


def test_outside_component_in_a_supplement_during_processing(world):
    dossier = world.received(at=vn(2, 9))
    services.request_supplement(dossier, actor=SYSTEM, items=["Bản sao"], at=vn(2, 10))
    services.provide_supplement(
        dossier,
        actor=world.counter,
        components=[ComponentInput(name="Sơ đồ vị trí", outside_reason="Chuyên viên yêu cầu")],
        at=vn(3, 9),
    )
    deliver()
    [violation] = found("outside_component", dossier)
    assert "Sơ đồ vị trí" in violation.detail


def test_a_supplement_at_intake_is_judged_when_received(world):
    dossier = world.submit(at=vn(2, 9), components=world.components(complete=False))
    services.request_supplement(dossier, actor=world.counter, items=["Bản sao"], at=vn(2, 9))
    services.provide_supplement(
        dossier,
        actor=world.counter,
        components=[
            *world.components()[1:],
            ComponentInput(name="Ảnh chân dung", outside_reason="Theo thói quen"),
        ],
        at=vn(2, 10),
    )
    deliver()
    assert not found("outside_component")  # not accepted yet
    services.receive(dossier, actor=world.counter, at=vn(2, 11))
    deliver()
    assert len(found("outside_component", dossier)) == 1


# --- step late ---------------------------------------------------------------------------------


def test_step_completed_late(world):
    broken = world.received(at=vn(2, 9))
    step = active_step(broken)
    late_at = step.due_at + dt.timedelta(days=2)
    services.complete_step(broken, actor=SYSTEM, note=CLEAR, at=late_at)
    clean = world.received(at=vn(2, 9))
    services.complete_step(clean, actor=SYSTEM, note=CLEAR, at=vn(2, 10))
    deliver()
    [violation] = found("step_late")
    assert (violation.dossier, violation.step_id) == (broken, step.pk)
    assert violation.agency == world.centre
    assert violation.occurred_at == late_at
    assert step.name in violation.detail
    assert not found("step_late", clean)


def test_open_step_overdue_is_found_by_the_sweep(world):
    overdue = world.received(at=vn(2, 9))
    services.assign(overdue, actor=world.leader, assignee=world.specialist, at=vn(2, 9))
    waiting = world.received(at=vn(2, 9))
    services.request_supplement(waiting, actor=SYSTEM, items=["Bản sao"], at=vn(2, 10))
    fresh = world.received(at=vn(6, 9))
    deliver()
    step = active_step(overdue)
    assert not found("step_late")
    counts = violations.sweep(None, vn(9, 9), now=vn(9, 9))
    assert counts["step_late"] == 1
    [violation] = found("step_late")
    assert (violation.dossier, violation.step_id) == (overdue, step.pk)
    assert violation.officer == world.specialist
    assert "chưa hoàn thành" in violation.detail
    assert not found("step_late", waiting) and not found("step_late", fresh)
    # Running the sweep again finds nothing new.
    assert violations.sweep(None, vn(9, 10), now=vn(9, 10))["step_late"] == 0


@pytest.mark.parametrize("ending", ["stop", "withdraw"])
def test_a_step_of_a_stopped_or_withdrawn_dossier_is_never_overdue(world, ending):
    dossier = world.received(at=vn(2, 9))
    services.assign(dossier, actor=world.leader, assignee=world.specialist, at=vn(2, 9))
    getattr(services, ending)(dossier, actor=SYSTEM, reason="Công dân đề nghị", at=vn(3, 9))
    deliver()
    assert violations.sweep(None, vn(20, 9), now=vn(20, 9))["step_late"] == 0
    assert not found("step_late", dossier)


# --- dossier late, late without apology -------------------------------------------------------


def test_dossier_finished_late_without_apology(world):
    broken = world.received(at=vn(2, 9))  # due 9/3
    finish(broken, vn(11, 9))
    clean = world.received(at=vn(2, 9))
    finish(clean, vn(5, 9))
    deliver()
    [late] = found("dossier_late")
    [apology] = found("late_without_apology")
    assert late.dossier == apology.dossier == broken
    assert late.severity == Severity.HIGH
    assert "quá hạn" in late.detail
    assert "không có văn bản xin lỗi" in apology.detail
    assert not found("dossier_late", clean) and not found("late_without_apology", clean)


def test_a_timely_apology_is_not_a_violation(world):
    dossier = world.received(at=vn(2, 9))  # due 9/3
    services.propose_extension(
        dossier, actor=SYSTEM, reason="Chờ xác minh", new_due_at=vn(13, 9), at=vn(5, 9)
    )
    services.decide_extension(dossier, actor=SYSTEM, approve=True, at=vn(5, 10))
    finish(dossier, vn(12, 9))
    deliver()
    violations.sweep(None, vn(20, 9), now=vn(20, 9))
    assert not found("late_without_apology") and not found("dossier_late")


def test_an_apology_after_the_appointment_is_a_violation(world):
    dossier = world.received(at=vn(2, 9))  # due 9/3
    services.propose_extension(
        dossier, actor=SYSTEM, reason="Chờ xác minh", new_due_at=vn(16, 9), at=vn(10, 9)
    )
    services.decide_extension(dossier, actor=SYSTEM, approve=True, at=vn(10, 10))
    deliver()
    [violation] = found("late_without_apology", dossier)
    assert "sau ngày hẹn" in violation.detail
    finish(dossier, vn(12, 9))  # within the new appointment: not late by the register
    deliver()
    assert len(found("late_without_apology", dossier)) == 1
    assert not found("dossier_late", dossier)


def test_open_dossiers_overdue_are_found_by_the_sweep(world):
    overdue = world.received(at=vn(2, 9))  # due 9/3
    apologised = world.received(at=vn(2, 9))
    services.propose_extension(
        apologised, actor=SYSTEM, reason="Chờ xác minh", new_due_at=vn(20, 9), at=vn(5, 9)
    )
    services.decide_extension(apologised, actor=SYSTEM, approve=True, at=vn(5, 10))
    waiting = world.received(at=vn(2, 9))
    services.request_supplement(waiting, actor=SYSTEM, items=["Bản sao"], at=vn(3, 9))
    twice = world.received(at=vn(9, 9))
    services.request_supplement(twice, actor=SYSTEM, items=["Bản sao"], at=vn(9, 10))
    services.provide_supplement(twice, actor=SYSTEM, at=vn(9, 11))
    services.request_supplement(
        twice,
        actor=SYSTEM,
        items=["Bản chính"],
        approver=world.leader,
        approval_reason="Luật chuyên ngành",
        at=vn(9, 14),
    )
    deliver()
    counts = violations.sweep(None, vn(12, 9), now=vn(12, 9))
    assert {v.dossier_id for v in found("dossier_late")} == {overdue.pk, twice.pk}
    # Two supplement requests make it late for the index, not overdue against its appointment.
    assert {v.dossier_id for v in found("late_without_apology")} == {overdue.pk}
    assert counts["dossier_late"] == 2 and counts["late_without_apology"] == 1
    assert "quá một lần" in found("dossier_late", twice)[0].detail
    assert found("dossier_late", overdue)[0].agency == world.centre


# --- more than one supplement request during processing -----------------------------------------


def test_more_than_one_supplement_request_during_processing(world):
    broken = world.received(at=vn(2, 9))
    services.request_supplement(broken, actor=SYSTEM, items=["Bản sao"], at=vn(2, 10))
    services.provide_supplement(broken, actor=SYSTEM, at=vn(3, 9))
    services.request_supplement(
        broken,
        actor=world.specialist,
        items=["Bản chính"],
        approver=world.leader,
        approval_reason="Luật chuyên ngành yêu cầu",
        at=vn(3, 10),
    )
    once = world.received(at=vn(2, 9))
    services.request_supplement(once, actor=SYSTEM, items=["Bản sao"], at=vn(2, 10))
    at_intake = world.submit(at=vn(2, 9), components=world.components(complete=False))
    services.request_supplement(at_intake, actor=world.counter, items=["Bản sao"], at=vn(2, 9))
    services.provide_supplement(
        at_intake, actor=world.counter, components=world.components()[1:], at=vn(2, 10)
    )
    services.receive(at_intake, actor=world.counter, at=vn(2, 10))
    services.request_supplement(at_intake, actor=SYSTEM, items=["Bản sao"], at=vn(2, 11))
    deliver()
    [violation] = found("repeated_supplement")
    assert violation.dossier == broken
    assert violation.officer == world.specialist
    assert "lần thứ 2" in violation.detail and "Luật chuyên ngành yêu cầu" in violation.detail


# --- processing note ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "note", ["", "   ", "ok", "OK.", "Xong", "Đã xử lý", "ĐÃ XỬ LÝ!", "đồng ý"]
)
def test_missing_or_unclear_note(world, note):
    dossier = world.received(at=vn(2, 9))
    step = active_step(dossier)
    services.complete_step(dossier, actor=world.specialist, note=note, at=vn(2, 10))
    deliver()
    [violation] = found("unclear_note")
    assert (violation.step_id, violation.officer) == (step.pk, world.specialist)
    assert violation.severity == Severity.LOW


def test_a_clear_note_is_fine(world):
    dossier = world.received(at=vn(2, 9))
    services.complete_step(dossier, actor=world.specialist, note=CLEAR, at=vn(2, 10))
    deliver()
    assert not found("unclear_note")


def test_note_length_is_configurable(world, settings):
    settings.MOTCUA_MIN_NOTE_LENGTH = 30
    assert violations.note_problem("Hồ sơ hợp lệ, đề nghị cấp") == "quá ngắn (dưới 30 ký tự)"
    settings.MOTCUA_MIN_NOTE_LENGTH = 5
    assert violations.note_problem("Hồ sơ hợp lệ, đề nghị cấp") is None
    assert violations.note_problem("Đã xử lý xong") == "chỉ ghi chung chung"
    settings.MOTCUA_PLACEHOLDER_NOTES = "tốt,đạt"
    assert violations.note_problem("Đạt") == "chỉ ghi chung chung"
    assert violations.note_problem("Đã xử lý xong") is None


def test_the_last_step_note_is_checked_when_the_result_is_recorded(world):
    dossier = world.received(at=vn(2, 9))
    for _ in range(3):
        services.complete_step(dossier, actor=SYSTEM, note=CLEAR, at=vn(2, 10))
    last = active_step(dossier)
    result = ResultInput(number="7/GP", signed_on=dt.date(2026, 3, 2), signer="Lê Văn Bình")
    services.record_result(dossier, actor=SYSTEM, result=result, at=vn(2, 11), note="xong")
    deliver()
    [violation] = found("unclear_note")
    assert violation.step_id == last.pk


# --- result returned without a recorded recipient -----------------------------------------------


def test_result_returned_without_recipient(world):
    broken = world.received(at=vn(2, 9))
    finish(broken, vn(3, 9))
    return_at_counter(broken, vn(4, 9), recipient_id="")
    clean = world.received(at=vn(2, 9))
    finish(clean, vn(3, 9))
    return_at_counter(clean, vn(4, 9))
    online = world.received(at=vn(2, 9))
    finish(online, vn(3, 9))
    services.return_result(online, actor=SYSTEM, method="online", at=vn(4, 9))
    deliver()
    [violation] = found("no_recipient")
    assert violation.dossier == broken
    assert "giấy tờ tùy thân" in violation.detail


# --- storing -----------------------------------------------------------------------------------


def test_violations_are_stored_once_and_never_reopened(world, capsys):
    dossier = world.received(at=vn(2, 9))
    services.complete_step(dossier, actor=world.specialist, note="ok", at=vn(2, 10))
    deliver()
    [violation] = found("unclear_note")
    violation.explain("Đã ghi bổ sung ý kiến trên hồ sơ giấy", by=world.leader)
    call_command("sweep_violations", "--all")
    call_command("sweep_violations", "--from", "2026-03-01", "--to", "2026-03-31")
    out = capsys.readouterr().out
    assert "unclear_note: 0 vi phạm mới" in out
    [again] = found("unclear_note")
    assert again.pk == violation.pk and again.status == Violation.Status.EXPLAINED
    with pytest.raises(IntegrityError), transaction.atomic():
        Violation.objects.create(
            rule="unclear_note",
            severity="low",
            dossier=dossier,
            step=violation.step,
            agency=world.centre,
            detail="x",
            occurred_at=vn(2, 10),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        for _ in range(2):
            Violation.objects.create(
                rule="dossier_late",
                severity="high",
                dossier=dossier,
                agency=world.centre,
                detail="x",
                occurred_at=vn(2, 10),
            )


def test_sweep_finds_what_the_handler_missed(world):
    dossier = world.received(at=vn(2, 9))
    services.complete_step(dossier, actor=SYSTEM, note="", at=vn(2, 10))
    # The messages were marked delivered without the handler (e.g. before monitoring existed).
    from motcua.dossiers.models import OutboxMessage

    OutboxMessage.objects.update(delivered_at=vn(2, 11))
    assert not found("unclear_note")
    call_command("sweep_violations", "--all")
    assert len(found("unclear_note")) == 1


def test_explain_and_close(world):
    dossier = world.received(at=vn(2, 9))
    services.complete_step(dossier, actor=SYSTEM, note="", at=vn(2, 10))
    deliver()
    [violation] = found("unclear_note")
    from motcua.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        violation.explain("  ", by=world.leader)
    violation.explain("Sơ suất khi nhập liệu", by=world.leader)
    violation.close(by=world.monitor)
    violation.refresh_from_db()
    assert violation.status == Violation.Status.CLOSED
    assert violation.explained_by == world.leader and violation.closed_by == world.monitor
    with pytest.raises(InvalidInput):
        violation.explain("Thêm", by=world.leader)


def test_admin_lists_and_closes_violations(world, client, verified_login):
    dossier = world.received(at=vn(2, 9))
    services.complete_step(dossier, actor=SYSTEM, note="ok", at=vn(2, 10))
    deliver()
    violation = Violation.objects.get()
    admin = get_user_model().objects.create_superuser("quantri", "qt@example.invalid", "x")
    verified_login(client, admin)
    listing = client.get("/admin/monitoring/violation/")
    assert listing.status_code == 200
    assert "Ý kiến xử lý khi hoàn thành bước" in listing.content.decode()
    page = client.get(f"/admin/monitoring/violation/{violation.pk}/change/")
    assert page.status_code == 200
    response = client.post(
        f"/admin/monitoring/violation/{violation.pk}/change/",
        {"status": "explained", "explanation": "Đã bổ sung ý kiến"},
    )
    assert response.status_code == 302
    violation.refresh_from_db()
    assert violation.status == "explained" and violation.explained_by == admin
    assert client.get("/admin/monitoring/violation/add/").status_code == 403


def test_every_rule_has_a_vietnamese_description():
    assert set(violations.RULES) == {
        "outside_component",
        "step_late",
        "dossier_late",
        "late_without_apology",
        "repeated_supplement",
        "unclear_note",
        "no_recipient",
    }
    for rule in violations.RULES.values():
        assert str(rule.description) and rule.severity in Severity.values


def test_the_hourly_tasks(world):
    from motcua.monitoring import tasks
    from motcua.monitoring.models import SnapshotDay

    forgotten = world.received(at=vn(2, 9))  # March: long overdue today
    deliver()
    found = tasks.sweep_violations.call_local()
    assert found["step_late"] == found["dossier_late"] == found["late_without_apology"] == 1
    assert {v.rule for v in Violation.objects.filter(dossier=forgotten)} == {
        "step_late",
        "dossier_late",
        "late_without_apology",
    }
    assert sum(tasks.sweep_violations.call_local().values()) == 0
    days = tasks.take_daily_snapshots.call_local()
    assert len(days) == 7 and SnapshotDay.objects.count() == 7
