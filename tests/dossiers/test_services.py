"""The write path, action by action, on a small province (see world.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from motcua.core.errors import DomainError
from motcua.dossiers import services
from motcua.dossiers.lifecycle import TransitionNotAllowed
from motcua.dossiers.models import (
    Applicant,
    Dossier,
    DossierEvent,
    Extension,
    OutboxMessage,
    Pause,
    Status,
    Step,
    Timeliness,
)
from motcua.dossiers.services import ResultInput

from .world import MONDAY_9, vn

pytestmark = pytest.mark.django_db


def result_input(**overrides) -> ResultInput:
    values = dict(number="125/GCN-STP", signed_on=dt.date(2026, 3, 2), signer="Lê Văn Bình")
    values.update(overrides)
    return ResultInput(**values)


def processing_steps(dossier) -> list[Step]:
    return list(dossier.steps.filter(kind=Step.Kind.PROCESSING).order_by("order", "id"))


def run_to_last_step(world, dossier, at):
    services.assign(dossier, actor=world.leader, assignee=world.specialist, at=at)
    services.complete_step(dossier, actor=world.specialist, note="Hồ sơ hợp lệ", at=at)
    services.complete_step(dossier, actor=world.dept_specialist, note="Đồng ý", at=at)
    services.complete_step(dossier, actor=world.leader, note="Duyệt", at=at)


# --- submission and receipt ------------------------------------------------------------------


def test_submit_creates_a_submitted_dossier_with_fees_and_time_limit(world):
    dossier = world.submit(channel="online", delivery="online")
    assert dossier.status == Status.SUBMITTED
    assert dossier.code is None
    assert dossier.version_id == world.procedure.current_version_id
    assert dossier.fee_total == 25000  # the online fee, not the counter one
    assert (dossier.time_limit_amount, dossier.time_limit_unit) == (5, "working_days")
    assert dossier.components.count() == 2
    event = dossier.events.get()
    assert (event.action, event.status_before, event.status_after) == ("submit", None, 1)


def test_receive_issues_code_appointment_and_steps(world):
    dossier = world.received()
    assert dossier.status == Status.RECEIVED
    assert dossier.code == "000.00.01.H56-260302-0001"
    # 5 working days from Monday 09:00 → next Monday 09:00.
    assert dossier.due_at == vn(9, 9)
    assert dossier.original_due_at == dossier.due_at
    steps = list(dossier.steps.order_by("order", "id"))
    assert [s.kind for s in steps] == ["intake"] + ["processing"] * 4 + ["return"]
    assert [s.state for s in steps] == [
        "done",
        "active",
        "pending",
        "pending",
        "pending",
        "pending",
    ]
    # Cumulative shares 10/50/80/90/100 % of 40 working hours from Monday 09:00.
    assert [s.due_at for s in steps] == [
        vn(2, 14),  # 4 h (lunch break 12–13 skipped)
        vn(4, 14),  # 20 h
        vn(6, 9),  # 32 h
        vn(6, 14),  # 36 h
        vn(9, 9),
        vn(9, 9),
    ]
    assert steps[2].agency == world.department  # liên thông step
    event = dossier.events.latest("id")
    assert (event.action, event.status_before, event.status_after) == ("receive", 1, 2)


def test_codes_are_sequential_per_agency_and_day(world):
    first = world.received()
    second = world.received(at=MONDAY_9 + dt.timedelta(hours=1))
    tuesday = world.received(at=vn(3, 9))
    assert first.code.endswith("260302-0001")
    assert second.code.endswith("260302-0002")
    assert tuesday.code == "000.00.01.H56-260303-0001"


def test_receive_refuses_incomplete_dossier_and_writes_nothing(world):
    dossier = world.submit(components=world.components(complete=False))
    events = DossierEvent.objects.count()
    with pytest.raises(services.MissingComponents) as caught:
        services.receive(dossier, actor=world.counter, at=MONDAY_9)
    assert caught.value.code == "missing_components"
    assert "Bản sao giấy tờ chứng minh" in caught.value.message
    dossier.refresh_from_db()
    assert (dossier.status, dossier.code, dossier.due_at) == (Status.SUBMITTED, None, None)
    assert DossierEvent.objects.count() == events
    assert not dossier.steps.exists()


def test_returning_applicant_is_found_and_updated(world):
    first = world.submit()
    second = world.submit(applicant=world.applicant(phone="0987654321", email=""))
    assert first.applicant_id == second.applicant_id
    applicant = Applicant.objects.get()
    assert applicant.phone == "0987654321"
    assert applicant.email == "hang@example.invalid"  # an empty value never erases
    assert services.find_applicant(personal_id=applicant.personal_id) == applicant


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"personal_id": "03809000123"}, "invalid_personal_id"),
        ({"personal_id": "03809000123X"}, "invalid_personal_id"),
        ({"name": "  "}, "missing_name"),
        ({"kind": "organisation", "tax_code": "12345"}, "invalid_tax_code"),
        ({"phone": "12"}, "invalid_phone"),
        ({"commune_code": "99999"}, "unknown_unit"),
    ],
)
def test_invalid_applicant_is_refused_and_nothing_stored(world, overrides, code):
    with pytest.raises(DomainError) as caught:
        world.submit(applicant=world.applicant(**overrides))
    assert caught.value.code == code
    assert caught.value.message
    assert not Dossier.objects.exists()
    assert not Applicant.objects.exists()


def test_unknown_procedure_and_variant(world):
    with pytest.raises(DomainError) as caught:
        world.submit(procedure_code="1.999999")
    assert caught.value.code == "unknown_procedure"
    with pytest.raises(DomainError) as caught:
        world.submit(variant_id=10**9)
    assert caught.value.code == "unknown_variant"
    assert not Dossier.objects.exists()


def test_outside_component_needs_a_reason(world):
    extra = services.ComponentInput(name="Ảnh chân dung", copies=2)
    with pytest.raises(DomainError) as caught:
        world.submit(components=[*world.components(), extra])
    assert caught.value.code == "outside_component_reason"
    extra.outside_reason = "Công dân tự nguyện nộp thêm"
    dossier = world.submit(components=[*world.components(), extra])
    outside = dossier.components.get(in_list=False)
    assert outside.outside_reason == "Công dân tự nguyện nộp thêm"


def test_idempotency_key_returns_the_first_dossier(world):
    data = world.submission(channel="online", delivery="online")
    first, created = services.submit(data, actor=services.SYSTEM, idempotency_key="portal:abc")
    again, created_again = services.submit(
        data, actor=services.SYSTEM, idempotency_key="portal:abc"
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Dossier.objects.count() == 1


def test_counter_intake_needs_a_counter_officer(world):
    with pytest.raises(services.PermissionDenied):
        services.submit(world.submission(), actor=world.specialist, at=MONDAY_9)
    assert not Dossier.objects.exists()


# --- processing ------------------------------------------------------------------------------


def test_full_path_to_returned_with_interagency_step(world, django_capture_on_commit_callbacks):
    received = []
    services.dossier_changed.connect(
        lambda **kw: received.append(kw["action"]), weak=False, dispatch_uid="t"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            dossier = world.received()
            run_to_last_step(world, dossier, vn(3, 9))
            services.record_result(dossier, actor=world.clerk, result=result_input(), at=vn(4, 10))
            services.return_result(
                dossier,
                actor=world.counter,
                method="counter",
                recipient_name="Nguyễn Thị Hằng",
                at=vn(4, 15),
            )
    finally:
        services.dossier_changed.disconnect(dispatch_uid="t")
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED
    assert dossier.timeliness == Timeliness.EARLY
    assert dossier.result.number == "125/GCN-STP"
    assert dossier.returned_at == vn(4, 15)
    actions = list(dossier.events.values_list("action", flat=True))
    assert actions == [
        "submit",
        "receive",
        "assign",
        "complete_step",
        "complete_step",
        "complete_step",
        "record_result",
        "return_result",
    ]
    assert received == actions
    assert all(s.state == "done" for s in dossier.steps.all())
    interagency = dossier.events.filter(action="complete_step").first()
    assert interagency.data["interagency"] is True
    assert OutboxMessage.objects.filter(dossier=dossier, topic="sync.receive").exists()


def test_next_agency_sees_the_step_only_when_it_is_its_turn(world):
    dossier = world.received()
    with pytest.raises(services.PermissionDenied):
        services.complete_step(dossier, actor=world.dept_specialist, at=vn(3, 9))
    services.complete_step(dossier, actor=world.specialist, at=vn(3, 9))
    with pytest.raises(services.PermissionDenied):
        services.complete_step(dossier, actor=world.specialist, at=vn(3, 10))
    step = services.complete_step(dossier, actor=world.dept_specialist, at=vn(3, 10))
    assert step.name == "Lãnh đạo phê duyệt"


def test_assigned_step_belongs_to_its_assignee(world):
    other = world.specialist.__class__.objects.create_user("chuyenvien2", password="x")
    world.specialist.memberships.model.objects.create(
        user=other, agency=world.centre, role="specialist"
    )
    dossier = world.received()
    services.assign(dossier, actor=world.leader, assignee=other, at=vn(2, 10))
    with pytest.raises(services.PermissionDenied):
        services.complete_step(dossier, actor=world.specialist, at=vn(2, 11))
    services.complete_step(dossier, actor=other, at=vn(2, 11))


def test_assign_needs_a_leader_and_a_fitting_assignee(world):
    dossier = world.received()
    with pytest.raises(services.PermissionDenied):
        services.assign(dossier, actor=world.specialist, assignee=world.specialist)
    with pytest.raises(DomainError) as caught:
        services.assign(dossier, actor=world.leader, assignee=world.dept_specialist)
    assert caught.value.code == "invalid_assignee"


def test_last_step_is_closed_by_the_result_not_complete_step(world):
    dossier = world.received()
    run_to_last_step(world, dossier, vn(3, 9))
    with pytest.raises(DomainError) as caught:
        services.complete_step(dossier, actor=world.clerk, at=vn(3, 10))
    assert caught.value.code == "last_step"


def test_result_needs_every_step_done(world):
    dossier = world.received()
    services.complete_step(dossier, actor=world.specialist, at=vn(3, 9))
    with pytest.raises(DomainError) as caught:
        services.record_result(dossier, actor=world.dept_specialist, result=result_input())
    assert caught.value.code == "steps_remaining"


def test_send_back_redoes_the_steps(world):
    dossier = world.received()
    services.complete_step(dossier, actor=world.specialist, at=vn(3, 9))
    services.complete_step(dossier, actor=world.dept_specialist, at=vn(3, 10))
    first = processing_steps(dossier)[0]
    active = services.send_back(
        dossier,
        actor=world.leader,
        to_step_id=first.pk,
        reason="Thiếu ý kiến thẩm định",
        at=vn(3, 11),
    )
    assert active.order == first.order and active.state == "active"
    states = list(
        dossier.steps.filter(kind="processing")
        .order_by("order", "id")
        .values_list("order", "state")
    )
    assert states == [
        (1, "done"),
        (1, "active"),
        (2, "done"),
        (2, "pending"),
        (3, "sent_back"),
        (3, "pending"),
        (4, "pending"),
    ]
    # The redone steps go round again.
    services.complete_step(dossier, actor=world.specialist, at=vn(3, 14))
    services.complete_step(dossier, actor=world.dept_specialist, at=vn(3, 15))
    services.complete_step(dossier, actor=world.leader, at=vn(3, 16))
    services.record_result(dossier, actor=world.clerk, result=result_input(), at=vn(4, 9))


# --- the clock: supplements, payment, extension ------------------------------------------------


def test_supplement_during_processing_stops_the_clock(world):
    dossier = world.received()  # due Monday 9 March 09:00
    step_due = processing_steps(dossier)[0].due_at
    services.request_supplement(
        dossier,
        actor=world.specialist,
        items=["Bản sao giấy tờ chứng minh có chứng thực"],
        at=vn(3, 9),
    )
    dossier.refresh_from_db()
    assert dossier.status == Status.AWAITING_SUPPLEMENT
    # Two working days waiting for the applicant.
    services.provide_supplement(dossier, actor=world.counter, at=vn(5, 9))
    dossier.refresh_from_db()
    assert dossier.status == Status.PROCESSING
    assert dossier.due_at == vn(11, 9)  # 32 working hours left on Tuesday → from Thursday
    assert dossier.original_due_at == vn(9, 9)
    assert processing_steps(dossier)[0].due_at == step_due + dt.timedelta(days=2)


def test_supplement_at_intake_then_receive(world):
    dossier = world.submit(components=world.components(complete=False))
    services.request_supplement(
        dossier, actor=world.counter, items=["Bản sao giấy tờ chứng minh"], at=MONDAY_9
    )
    dossier.refresh_from_db()
    assert dossier.status == Status.AWAITING_SUPPLEMENT
    pause = Pause.objects.get(dossier=dossier)
    assert pause.stage == "intake"
    missing = dossier.variant.components.get(name="Bản sao giấy tờ chứng minh")
    services.provide_supplement(
        dossier,
        actor=world.counter,
        components=[services.ComponentInput(component_id=missing.pk, copies=1)],
        at=vn(4, 9),
    )
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED
    services.receive(dossier, actor=world.counter, at=vn(4, 9))
    dossier.refresh_from_db()
    assert dossier.due_at == vn(11, 9)  # the clock starts at receipt


def test_second_processing_supplement_needs_an_approver(world):
    dossier = world.received()
    services.request_supplement(dossier, actor=world.specialist, items=["A"], at=vn(2, 10))
    services.provide_supplement(dossier, actor=world.counter, at=vn(2, 11))
    with pytest.raises(DomainError) as caught:
        services.request_supplement(dossier, actor=world.specialist, items=["B"], at=vn(2, 14))
    assert caught.value.code == "second_supplement_needs_approval"
    with pytest.raises(DomainError) as caught:
        services.request_supplement(
            dossier,
            actor=world.specialist,
            items=["B"],
            approver=world.clerk,
            approval_reason="Cần bổ sung theo luật chuyên ngành",
            at=vn(2, 14),
        )
    assert caught.value.code == "approver_not_leader"
    pause = services.request_supplement(
        dossier,
        actor=world.specialist,
        items=["B"],
        approver=world.leader,
        approval_reason="Cần bổ sung theo luật chuyên ngành",
        at=vn(2, 14),
    )
    assert pause.approved_by == world.leader
    services.provide_supplement(dossier, actor=world.counter, at=vn(2, 15))
    run_to_last_step(world, dossier, vn(3, 9))
    services.record_result(dossier, actor=world.clerk, result=result_input(), at=vn(3, 10))
    dossier.refresh_from_db()
    # One-stop-rules §1.6: more than one supplement request counts as late.
    assert dossier.timeliness == Timeliness.LATE


def test_payment_pauses_the_clock_when_configured(world, settings):
    settings.MOTCUA_PAYMENT_STOPS_CLOCK = False
    dossier = world.received()
    services.request_payment(
        dossier, actor=world.specialist, amount=1_200_000, reason="Lệ phí trước bạ", at=vn(3, 9)
    )
    services.confirm_payment(dossier, actor=world.counter, receipt="BL-001", at=vn(5, 9))
    dossier.refresh_from_db()
    assert dossier.status == Status.PROCESSING
    assert dossier.due_at == vn(9, 9)  # the clock kept running

    settings.MOTCUA_PAYMENT_STOPS_CLOCK = True
    other = world.received()
    services.request_payment(
        other, actor=world.specialist, amount=1_200_000, reason="Lệ phí trước bạ", at=vn(3, 9)
    )
    services.confirm_payment(other, actor=world.counter, at=vn(5, 9))
    other.refresh_from_db()
    assert other.due_at == vn(11, 9)


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_payment_amount_must_be_positive_integer(world, amount):
    dossier = world.received()
    with pytest.raises(DomainError) as caught:
        services.request_payment(dossier, actor=world.specialist, amount=amount, reason="Phí")
    assert caught.value.code == "invalid_amount"
    dossier.refresh_from_db()
    assert dossier.status == Status.RECEIVED


def test_extension_with_apology_before_the_appointment(world):
    dossier = world.received()
    extension = services.propose_extension(
        dossier,
        actor=world.specialist,
        reason="Chờ kết quả xác minh",
        new_due_at=vn(12, 17),
        at=vn(5, 9),
    )
    assert extension.state == "proposed"
    with pytest.raises(services.PermissionDenied):
        services.decide_extension(dossier, actor=world.specialist, approve=True)
    services.decide_extension(dossier, actor=world.leader, approve=True, at=vn(5, 10))
    dossier.refresh_from_db()
    assert dossier.due_at == vn(12, 17)
    assert dossier.original_due_at == vn(9, 9)
    assert dossier.late_without_apology is False
    run_to_last_step(world, dossier, vn(10, 9))
    services.record_result(dossier, actor=world.clerk, result=result_input(), at=vn(11, 9))
    dossier.refresh_from_db()
    assert dossier.timeliness == Timeliness.EARLY  # against the new appointment
    assert dossier.late_without_apology is False


def test_extension_after_the_appointment_is_flagged(world):
    dossier = world.received()
    services.propose_extension(
        dossier, actor=world.specialist, reason="Chậm", new_due_at=vn(13, 17), at=vn(10, 9)
    )
    services.decide_extension(dossier, actor=world.leader, approve=True, at=vn(10, 10))
    dossier.refresh_from_db()
    assert dossier.late_without_apology is True
    assert Extension.objects.get().after_due is True


def test_only_one_extension(world):
    dossier = world.received()
    services.propose_extension(
        dossier, actor=world.specialist, reason="Chậm", new_due_at=vn(12, 17), at=vn(5, 9)
    )
    services.decide_extension(dossier, actor=world.leader, approve=True, at=vn(5, 10))
    with pytest.raises(DomainError) as caught:
        services.propose_extension(
            dossier, actor=world.specialist, reason="Chậm nữa", new_due_at=vn(20, 17)
        )
    assert caught.value.code == "extension_limit"


def test_extension_must_move_the_appointment_later(world):
    dossier = world.received()
    with pytest.raises(DomainError) as caught:
        services.propose_extension(
            dossier, actor=world.specialist, reason="Chậm", new_due_at=vn(6, 17)
        )
    assert caught.value.code == "invalid_new_due"


def test_late_result_without_apology(world):
    dossier = world.received()
    run_to_last_step(world, dossier, vn(9, 8))
    services.record_result(dossier, actor=world.clerk, result=result_input(), at=vn(10, 9))
    dossier.refresh_from_db()
    assert dossier.timeliness == Timeliness.LATE
    assert dossier.late_without_apology is True


def test_on_time_is_a_date_comparison_by_default(world, settings):
    dossier = world.received()  # due Monday 9 March 09:00
    run_to_last_step(world, dossier, vn(6, 9))
    services.record_result(dossier, actor=world.clerk, result=result_input(), at=vn(9, 16))
    dossier.refresh_from_db()
    assert dossier.timeliness == Timeliness.ON_TIME
    steps = processing_steps(dossier)
    # The clerk's step was due Monday 09:00 too: same date, so on time at date level.
    assert steps[-1].timeliness == Timeliness.ON_TIME
    settings.MOTCUA_TIMELINESS_PRECISION = "exact"
    from motcua.dossiers.deadlines import classify

    assert classify(vn(9, 16), vn(9, 9)) == Timeliness.LATE


# --- endings ---------------------------------------------------------------------------------


def test_refuse_needs_a_reason(world):
    dossier = world.submit()
    with pytest.raises(DomainError) as caught:
        services.refuse(dossier, actor=world.counter, reason=" ")
    assert caught.value.code == "missing_reason"
    services.refuse(dossier, actor=world.counter, reason="Không thuộc thẩm quyền", at=MONDAY_9)
    dossier.refresh_from_db()
    assert dossier.status == Status.REFUSED
    assert dossier.events.latest("id").note == "Không thuộc thẩm quyền"


def test_stop_is_refused_once_a_result_exists(world):
    dossier = world.received()
    run_to_last_step(world, dossier, vn(3, 9))
    services.stop(dossier, actor=world.counter, reason="Công dân đề nghị dừng", at=vn(3, 10))
    dossier.refresh_from_db()
    assert dossier.status == Status.STOPPED
    with pytest.raises(TransitionNotAllowed):
        services.withdraw(dossier, actor=world.counter)


@pytest.mark.parametrize("ending", ["stop", "withdraw"])
def test_stop_and_withdraw_cancel_the_steps_not_done(world, ending):
    dossier = world.received()
    first = processing_steps(dossier)[0]
    services.assign(dossier, actor=world.leader, assignee=world.specialist, at=vn(3, 9))
    services.complete_step(dossier, actor=world.specialist, note="Đã thẩm định, đạt", at=vn(3, 9))
    open_before = set(
        dossier.steps.filter(state__in=["pending", "active"]).values_list("pk", flat=True)
    )
    assert open_before
    getattr(services, ending)(dossier, actor=world.counter, reason="Công dân đề nghị", at=vn(4, 9))
    states = dict(dossier.steps.values_list("pk", "state"))
    assert {pk for pk, state in states.items() if state == "cancelled"} == open_before
    assert states[first.pk] == "done"  # what was done stays done
    assert not dossier.steps.filter(state__in=["pending", "active"]).exists()
    event = dossier.events.latest("id")
    assert event.action == ending and sorted(event.data["cancelled_steps"]) == sorted(open_before)


def test_withdraw_closes_an_open_pause(world):
    dossier = world.received()
    services.request_supplement(dossier, actor=world.specialist, items=["A"], at=vn(3, 9))
    services.withdraw(dossier, actor=world.counter, reason="Công dân rút", at=vn(4, 9))
    dossier.refresh_from_db()
    assert dossier.status == Status.WITHDRAWN
    assert not Pause.objects.filter(dossier=dossier, ended_at__isnull=True).exists()


def test_return_by_post_needs_a_waybill(world):
    dossier = world.received()
    run_to_last_step(world, dossier, vn(3, 9))
    services.record_result(dossier, actor=world.clerk, result=result_input(), at=vn(4, 9))
    with pytest.raises(DomainError) as caught:
        services.return_result(dossier, actor=world.counter, method="postal")
    assert caught.value.code == "missing_waybill"
    result = services.return_result(
        dossier, actor=world.counter, method="postal", waybill="EMS123456789VN", at=vn(4, 10)
    )
    assert result.waybill == "EMS123456789VN"


def test_result_file_is_stored_with_its_hash(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    dossier = world.received()
    run_to_last_step(world, dossier, vn(3, 9))
    content = b"%PDF-1.4 ket qua"
    result = services.record_result(
        dossier,
        actor=world.clerk,
        result=result_input(file_name="ket-qua.pdf", file_content=content),
        at=vn(4, 9),
    )
    import hashlib

    assert result.file_sha256 == hashlib.sha256(content).hexdigest()
    with result.file.open("rb") as fh:
        assert fh.read() == content


def test_assignee_must_be_a_real_officer(world):
    dossier = world.received()
    with pytest.raises(DomainError) as caught:
        services.assign(dossier, actor=world.leader, assignee=services.SYSTEM)
    assert caught.value.code == "invalid_assignee"


def test_a_template_ending_at_the_desk_names_the_return_step(world):
    from motcua.catalog.models import ProcessStep

    ProcessStep.objects.create(
        variant=world.variant,
        order=99,
        name="Trả kết quả tại Trung tâm",
        role="counter_officer",
        share=0,
    )
    dossier = world.received()
    kinds = list(dossier.steps.order_by("order", "id").values_list("kind", "name"))
    assert kinds[-1] == ("return", "Trả kết quả tại Trung tâm")
    assert [k for k, _ in kinds].count("return") == 1
    assert [k for k, _ in kinds].count("processing") == 4


def test_a_new_catalogue_version_is_used_at_once(world):
    from motcua.catalog.services import save_procedure
    from tests.catalog.factories import procedure_content

    first = world.submit()
    content = procedure_content(code=world.procedure.code)
    content["variants"][0]["fees"] = [
        {"channel": "counter", "kind": "charge", "amount": 70000, "description": "Lệ phí mới"}
    ]
    content["variants"][0]["time_limits"] = [
        {"channel": "counter", "amount": "3", "unit": "working_days", "description": ""}
    ]
    assert save_procedure(content, source="demo").created_version
    second = world.submit(components=[])
    assert (first.fee_total, second.fee_total) == (50000, 70000)
    assert second.version_id != first.version_id
