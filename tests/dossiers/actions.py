"""Every lifecycle action with valid arguments, for the exhaustive and the stateful tests."""

from __future__ import annotations

import datetime as dt

from motcua.dossiers import services
from motcua.dossiers.lifecycle import Action
from motcua.dossiers.models import (
    Dossier,
    DossierEvent,
    Extension,
    OutboxMessage,
    Pause,
    Result,
    Step,
)
from motcua.dossiers.services import SYSTEM, ResultInput


def perform(world, action: Action, dossier: Dossier, at: dt.datetime):
    """Call the service of ``action`` as the system, with arguments its guards accept."""
    if action == Action.RECEIVE:
        return services.receive(dossier, actor=SYSTEM, at=at)
    if action == Action.REFUSE:
        return services.refuse(dossier, actor=SYSTEM, reason="Không thuộc thẩm quyền", at=at)
    if action == Action.REQUEST_SUPPLEMENT:
        return services.request_supplement(
            dossier,
            actor=SYSTEM,
            items=["Bản sao có chứng thực"],
            approver=world.leader,
            approval_reason="Theo luật chuyên ngành",
            at=at,
        )
    if action == Action.PROVIDE_SUPPLEMENT:
        return services.provide_supplement(dossier, actor=SYSTEM, at=at)
    if action == Action.ASSIGN:
        step = dossier.steps.filter(state="active", kind="processing").first()
        agency = step.agency_id if step else world.centre.pk
        assignee = world.dept_specialist if agency == world.department.pk else world.specialist
        if step is not None and step.role != "specialist":
            assignee = world.dept_leader if agency == world.department.pk else world.leader
        return services.assign(dossier, actor=SYSTEM, assignee=assignee, at=at)
    if action == Action.COMPLETE_STEP:
        return services.complete_step(dossier, actor=SYSTEM, note="Đã xem xét", at=at)
    if action == Action.SEND_BACK:
        first = dossier.steps.filter(kind="processing", state="done").order_by("order").first()
        return services.send_back(
            dossier, actor=SYSTEM, to_step_id=first.pk if first else 0, reason="Làm lại", at=at
        )
    if action == Action.REQUEST_PAYMENT:
        return services.request_payment(
            dossier, actor=SYSTEM, amount=500_000, reason="Lệ phí trước bạ", at=at
        )
    if action == Action.CONFIRM_PAYMENT:
        return services.confirm_payment(dossier, actor=SYSTEM, receipt="BL-1", at=at)
    if action == Action.PROPOSE_EXTENSION:
        base = dossier.due_at or at
        return services.propose_extension(
            dossier,
            actor=SYSTEM,
            reason="Chờ xác minh",
            new_due_at=base + dt.timedelta(days=7),
            at=at,
        )
    if action == Action.DECIDE_EXTENSION:
        return services.decide_extension(dossier, actor=SYSTEM, approve=True, at=at)
    if action == Action.STOP:
        return services.stop(dossier, actor=SYSTEM, reason="Công dân đề nghị dừng", at=at)
    if action == Action.WITHDRAW:
        return services.withdraw(dossier, actor=SYSTEM, reason="Công dân rút hồ sơ", at=at)
    if action == Action.RECORD_RESULT:
        result = ResultInput(number="12/QĐ", signed_on=at.date(), signer="Lê Văn Bình")
        return services.record_result(dossier, actor=SYSTEM, result=result, at=at)
    if action == Action.RETURN_RESULT:
        return services.return_result(
            dossier, actor=SYSTEM, method="counter", recipient_name="Nguyễn Thị Hằng", at=at
        )
    raise AssertionError(f"no test call for {action}")


def snapshot(dossier: Dossier) -> tuple:
    """Everything an action may write, to prove a refused action wrote nothing."""
    row = Dossier.objects.filter(pk=dossier.pk).values().get()
    row.pop("updated_at")
    return (
        row,
        DossierEvent.objects.filter(dossier=dossier).count(),
        OutboxMessage.objects.filter(dossier=dossier).count(),
        list(Step.objects.filter(dossier=dossier).order_by("id").values()),
        list(Pause.objects.filter(dossier=dossier).order_by("id").values()),
        list(Extension.objects.filter(dossier=dossier).order_by("id").values()),
        Result.objects.filter(dossier=dossier).count(),
    )
