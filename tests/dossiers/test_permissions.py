"""Who may do what: every action × every role and agency of the test province.

The expectations are written out by hand from the one-stop rules (not derived from the
transition table), so a wrong table row fails here.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from motcua.dossiers import services
from motcua.dossiers.lifecycle import Action
from motcua.dossiers.services import SYSTEM

from .actions import perform
from .world import MONDAY_9, vn

pytestmark = pytest.mark.django_db

USERS = (
    "counter",
    "specialist",
    "leader",
    "clerk",
    "dept_specialist",
    "dept_leader",
    "monitor",
    "outsider",
)

# action → (how to prepare the dossier, who may do it)
MATRIX = {
    Action.RECEIVE: ("submitted", {"counter"}),
    Action.REFUSE: ("submitted", {"counter"}),
    Action.REQUEST_SUPPLEMENT: ("received", {"counter", "specialist", "leader"}),
    Action.PROVIDE_SUPPLEMENT: ("supplement", {"counter"}),
    Action.ASSIGN: ("received", {"leader"}),
    Action.COMPLETE_STEP: ("received", {"specialist", "leader"}),
    Action.SEND_BACK: ("at_department", {"dept_specialist", "dept_leader"}),
    Action.REQUEST_PAYMENT: ("received", {"counter", "specialist", "leader"}),
    Action.CONFIRM_PAYMENT: ("payment", {"counter"}),
    Action.PROPOSE_EXTENSION: ("received", {"specialist", "leader"}),
    Action.DECIDE_EXTENSION: ("proposed", {"leader"}),
    Action.STOP: ("received", {"counter", "leader"}),
    Action.WITHDRAW: ("received", {"counter"}),
    Action.RECORD_RESULT: ("last_step", {"clerk", "leader"}),
    Action.RETURN_RESULT: ("result", {"counter"}),
}


def prepared(world, state: str):
    if state == "submitted":
        return world.submit()
    dossier = world.received()
    if state == "supplement":
        perform(world, Action.REQUEST_SUPPLEMENT, dossier, MONDAY_9)
    elif state == "payment":
        perform(world, Action.REQUEST_PAYMENT, dossier, MONDAY_9)
    elif state == "proposed":
        perform(world, Action.PROPOSE_EXTENSION, dossier, MONDAY_9)
    elif state == "at_department":
        services.complete_step(dossier, actor=SYSTEM, at=MONDAY_9)
    elif state in ("last_step", "result"):
        for _ in range(3):
            services.complete_step(dossier, actor=SYSTEM, at=MONDAY_9)
        if state == "result":
            perform(world, Action.RECORD_RESULT, dossier, MONDAY_9)
    return dossier


def act_as(world, action, dossier, user):
    at = vn(3, 9)
    if action == Action.ASSIGN:
        return services.assign(dossier, actor=user, assignee=world.specialist, at=at)
    if action == Action.DECIDE_EXTENSION:
        return services.decide_extension(dossier, actor=user, approve=True, at=at)
    call = {
        Action.RECEIVE: lambda: services.receive(dossier, actor=user, at=at),
        Action.REFUSE: lambda: services.refuse(dossier, actor=user, reason="Lý do", at=at),
        Action.REQUEST_SUPPLEMENT: lambda: services.request_supplement(
            dossier, actor=user, items=["A"], at=at
        ),
        Action.PROVIDE_SUPPLEMENT: lambda: services.provide_supplement(dossier, actor=user, at=at),
        Action.COMPLETE_STEP: lambda: services.complete_step(dossier, actor=user, at=at),
        Action.SEND_BACK: lambda: services.send_back(
            dossier,
            actor=user,
            to_step_id=dossier.steps.filter(kind="processing", state="done").first().pk,
            reason="Làm lại",
            at=at,
        ),
        Action.REQUEST_PAYMENT: lambda: services.request_payment(
            dossier, actor=user, amount=1000, reason="Phí", at=at
        ),
        Action.CONFIRM_PAYMENT: lambda: services.confirm_payment(dossier, actor=user, at=at),
        Action.PROPOSE_EXTENSION: lambda: services.propose_extension(
            dossier, actor=user, reason="Chậm", new_due_at=vn(20, 17), at=at
        ),
        Action.STOP: lambda: services.stop(dossier, actor=user, reason="Đề nghị", at=at),
        Action.WITHDRAW: lambda: services.withdraw(dossier, actor=user, at=at),
        Action.RECORD_RESULT: lambda: services.record_result(
            dossier,
            actor=user,
            result=services.ResultInput(number="1", signed_on=at.date(), signer="A"),
            at=at,
        ),
        Action.RETURN_RESULT: lambda: services.return_result(
            dossier, actor=user, method="counter", recipient_name="B", at=at
        ),
    }[action]
    return call()


@pytest.mark.parametrize("action", list(MATRIX), ids=str)
def test_roles_and_agencies(world, action):
    state, allowed = MATRIX[action]
    dossier = prepared(world, state)
    outcome = {}
    for name in USERS:
        user = getattr(world, name)
        with transaction.atomic():
            try:
                act_as(world, action, dossier, user)
            except services.PermissionDenied as exc:
                assert exc.code == "forbidden" and exc.status == 403
                outcome[name] = False
            else:
                outcome[name] = True
            transaction.set_rollback(True)
    assert {name for name, ok in outcome.items() if ok} == allowed


def test_a_deactivated_membership_gives_no_right(world):
    dossier = world.submit()
    world.counter.memberships.update(is_active=False)
    with pytest.raises(services.PermissionDenied):
        services.receive(dossier, actor=world.counter)
    world.counter.memberships.update(is_active=True)
    world.counter.is_active = False
    world.counter.save()
    with pytest.raises(services.PermissionDenied):
        services.receive(dossier, actor=world.counter)
