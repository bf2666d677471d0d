"""The transition table, exhaustively (every status × action) and as a hypothesis state machine."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from motcua.core.errors import DomainError
from motcua.dossiers import lifecycle, services
from motcua.dossiers.lifecycle import RESUME, SAME, Action, TransitionNotAllowed
from motcua.dossiers.models import Dossier, Pause, Status
from motcua.dossiers.services import SYSTEM

from .actions import perform, snapshot
from .world import MONDAY_9, build_world, vn

pytestmark = pytest.mark.django_db

LATER = vn(3, 9)


def dossier_in(world, status: Status) -> Dossier:
    """A dossier brought to ``status`` through the services."""
    if status == Status.SUBMITTED:
        return world.submit()
    if status == Status.REFUSED:
        dossier = world.submit()
        services.refuse(dossier, actor=SYSTEM, reason="Không thuộc thẩm quyền", at=MONDAY_9)
        return dossier
    dossier = world.received()
    if status == Status.PROCESSING:
        services.complete_step(dossier, actor=SYSTEM, at=MONDAY_9)
    elif status == Status.AWAITING_SUPPLEMENT:
        perform(world, Action.REQUEST_SUPPLEMENT, dossier, MONDAY_9)
    elif status == Status.AWAITING_PAYMENT:
        perform(world, Action.REQUEST_PAYMENT, dossier, MONDAY_9)
    elif status == Status.WITHDRAWN:
        perform(world, Action.WITHDRAW, dossier, MONDAY_9)
    elif status == Status.STOPPED:
        perform(world, Action.STOP, dossier, MONDAY_9)
    elif status in (Status.RESULT_READY, Status.RETURNED):
        for _ in range(3):
            services.complete_step(dossier, actor=SYSTEM, at=MONDAY_9)
        perform(world, Action.RECORD_RESULT, dossier, MONDAY_9)
        if status == Status.RETURNED:
            perform(world, Action.RETURN_RESULT, dossier, MONDAY_9)
    dossier.refresh_from_db()
    assert dossier.status == status
    return dossier


def expected_status(transition, dossier: Dossier) -> int:
    if transition.target is SAME:
        return Dossier.objects.get(pk=dossier.pk).status
    if transition.target == RESUME:
        return Pause.objects.get(dossier=dossier, ended_at__isnull=True).resume_status
    return transition.target


def prepare(world, action: Action, dossier: Dossier) -> None:
    """Meet the guards an allowed action has beyond its status (same status afterwards)."""
    if action == Action.DECIDE_EXTENSION:
        perform(world, Action.PROPOSE_EXTENSION, dossier, MONDAY_9)
    elif action == Action.RECORD_RESULT:
        while dossier.steps.filter(kind="processing", state="pending").exists():
            services.complete_step(dossier, actor=SYSTEM, at=MONDAY_9)


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.name.lower())
def test_every_action_from_every_status(world, status):
    dossier = dossier_in(world, status)
    allowed = set(lifecycle.actions_from(status))
    for action in Action:
        untouched = snapshot(dossier)
        with transaction.atomic():
            if action in allowed:
                prepare(world, action, dossier)
            before = snapshot(dossier)
            if action in allowed:
                tr = lifecycle.transition(action, status)
                want = expected_status(tr, dossier)
                perform(world, action, dossier, LATER)
                after = Dossier.objects.get(pk=dossier.pk)
                assert after.status == want, action
                assert after.events.count() == before[1] + 1, action
                event = after.events.latest("id")
                assert (event.action, event.status_before, event.status_after) == (
                    action,
                    status,
                    want,
                )
            else:
                with pytest.raises(TransitionNotAllowed) as caught:
                    perform(world, action, dossier, LATER)
                assert caught.value.code == "transition_not_allowed"
                assert caught.value.message
                assert snapshot(dossier) == before, action
            transaction.set_rollback(True)
        assert snapshot(dossier) == untouched


def test_table_covers_the_picture():
    # The terminal statuses allow nothing; every open status allows withdrawal.
    for status in (Status.REFUSED, Status.WITHDRAWN, Status.STOPPED, Status.RETURNED):
        assert lifecycle.actions_from(status) == []
    for status in (1, 2, 4, 5, 6):
        assert lifecycle.is_allowed(Action.WITHDRAW, status)
    assert lifecycle.actions_from(Status.RESULT_READY) == [Action.RETURN_RESULT]
    with pytest.raises(TransitionNotAllowed) as caught:
        lifecycle.transition("fly", 1)
    assert caught.value.code == "unknown_action"


class DossierMachine(RuleBasedStateMachine):
    """Random sequences of actions; refused ones write nothing, accepted ones one event."""

    world = None  # set by the test

    @initialize()
    def start(self):
        self.at = MONDAY_9
        self.dossier = self.world.submit(at=self.at)
        self.events = 1
        self.original_due = None

    @rule(action=st.sampled_from(list(Action)), hours=st.integers(min_value=0, max_value=30))
    def act(self, action, hours):
        self.at = self.at + dt.timedelta(hours=hours)
        status = Dossier.objects.get(pk=self.dossier.pk).status
        before = snapshot(self.dossier)
        try:
            tr = lifecycle.transition(action, status)
        except TransitionNotAllowed:
            tr = None
        want = expected_status(tr, self.dossier) if tr else None
        try:
            perform(self.world, action, self.dossier, self.at)
        except TransitionNotAllowed:
            assert tr is None
            assert snapshot(self.dossier) == before
            return
        except DomainError:
            # Allowed by the table but refused by a guard (last step, no proposal, …).
            assert tr is not None
            assert snapshot(self.dossier) == before
            return
        assert tr is not None, f"{action} from {status} should have been refused"
        after = Dossier.objects.get(pk=self.dossier.pk)
        assert after.status == want
        self.events += 1
        if self.original_due is None and after.original_due_at is not None:
            self.original_due = after.original_due_at

    @invariant()
    def history_matches(self):
        if not hasattr(self, "dossier"):
            return
        dossier = Dossier.objects.get(pk=self.dossier.pk)
        events = list(dossier.events.order_by("id"))
        assert len(events) == self.events
        assert events[-1].status_after == dossier.status
        for earlier, later in itertools.pairwise(events):
            assert later.status_before == earlier.status_after
        assert dossier.original_due_at == self.original_due
        assert Pause.objects.filter(dossier=dossier, ended_at__isnull=True).count() <= 1
        if dossier.status in (Status.AWAITING_SUPPLEMENT, Status.AWAITING_PAYMENT):
            assert Pause.objects.filter(dossier=dossier, ended_at__isnull=True).exists()


def test_state_machine(db):
    DossierMachine.world = build_world()
    runner = DossierMachine.TestCase
    runner.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    runner().runTest()
