"""What an officer may do to a dossier *now*: the buttons of the dossier page.

``dossiers.services`` decides, on every call, whether an action is allowed: the transition
table (``lifecycle``) from the current status, the roles the actor holds at the receiving agency
or at the active step's agency and department, and each action's own guards. This module asks
the same questions of the same rows, without writing, so that the page shows exactly the actions
that would succeed (``tests/backoffice/test_dossier_page.py`` checks it against the services for
every action, role and state of a test province). The services stay the authority: a form posted
anyway is refused by them.

Everything is computed from one ``DossierState`` (a handful of queries) and the user's active
memberships, so listing the actions costs nothing per action.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model

from motcua.accounts.models import Membership, Role
from motcua.catalog.models import Component
from motcua.dossiers.lifecycle import TABLE, Action, Where
from motcua.dossiers.models import (
    Dossier,
    DossierEvent,
    Extension,
    Pause,
    Result,
    Status,
    Step,
    SubmittedComponent,
)

# The order actions are offered in on the page: the usual next step first.
ORDER = (
    Action.RECEIVE,
    Action.REFUSE,
    Action.ASSIGN,
    Action.COMPLETE_STEP,
    Action.RECORD_RESULT,
    Action.RETURN_RESULT,
    Action.PROVIDE_SUPPLEMENT,
    Action.CONFIRM_PAYMENT,
    Action.DECIDE_EXTENSION,
    Action.SEND_BACK,
    Action.REQUEST_SUPPLEMENT,
    Action.REQUEST_PAYMENT,
    Action.PROPOSE_EXTENSION,
    Action.STOP,
    Action.WITHDRAW,
)


@dataclass
class DossierState:
    """The rows of a dossier the services' guards look at, read once."""

    dossier: Dossier
    steps: list[Step]
    open_pause: Pause | None
    processing_supplements: int  # supplement requests made during processing
    proposed_extension: Extension | None
    extensions_used: int  # proposed or approved (the limit counts both)
    has_result: bool
    missing: list[Component] = field(default_factory=list)  # required, not handed in
    version: int = 0  # id of the dossier's last event (0: none)
    pauses: list[Pause] = field(default_factory=list)
    extensions: list[Extension] = field(default_factory=list)

    @property
    def active_step(self) -> Step | None:
        """The step services act on: the first active one that is not the intake."""
        active = [s for s in self.steps if s.state == Step.State.ACTIVE and s.kind != "intake"]
        return min(active, key=lambda s: (s.order, s.pk), default=None)

    @property
    def processing_step(self) -> Step | None:
        """The active step if it is a processing step (what assign/complete/record need)."""
        step = self.active_step
        return step if step is not None and step.kind == Step.Kind.PROCESSING else None

    @property
    def next_step(self) -> Step | None:
        """The pending step after the active one (``complete_step`` starts it)."""
        step = self.active_step
        if step is None:
            return None
        pending = [s for s in self.steps if s.state == Step.State.PENDING and s.order > step.order]
        return min(pending, key=lambda s: (s.order, s.pk), default=None)

    @property
    def send_back_targets(self) -> list[Step]:
        """Finished processing steps before the active one (``send_back`` may return there)."""
        step = self.processing_step
        if step is None:
            return []
        return sorted(
            (
                s
                for s in self.steps
                if s.kind == Step.Kind.PROCESSING
                and s.state == Step.State.DONE
                and s.order < step.order
            ),
            key=lambda s: (s.order, s.pk),
        )

    @property
    def is_last_processing_step(self) -> bool:
        step = self.processing_step
        return step is not None and not any(
            s.kind == Step.Kind.PROCESSING
            and s.state == Step.State.PENDING
            and s.order > step.order
            for s in self.steps
        )

    @property
    def second_supplement(self) -> bool:
        """A supplement asked during processing again: needs a leader's approval and reason."""
        return self.dossier.status != Status.SUBMITTED and self.processing_supplements > 0


def last_event_id(dossier_id: int) -> int:
    """The dossier's version for forms: every action writes exactly one event."""
    return (
        DossierEvent.objects.filter(dossier_id=dossier_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


def load_state(dossier: Dossier) -> DossierState:
    steps = list(
        Step.objects.filter(dossier=dossier)
        .select_related("agency", "department", "assignee", "done_by")
        .order_by("order", "id")
    )
    pauses = list(
        Pause.objects.filter(dossier=dossier)
        .select_related("requested_by", "approved_by")
        .order_by("started_at", "id")
    )
    extensions = list(
        Extension.objects.filter(dossier=dossier)
        .select_related("requested_by", "decided_by")
        .order_by("requested_at", "id")
    )
    missing: list[Component] = []
    if dossier.status == Status.SUBMITTED:
        handed_in = set(
            SubmittedComponent.objects.filter(dossier=dossier, component__isnull=False).values_list(
                "component_id", flat=True
            )
        )
        missing = [
            c
            for c in Component.objects.filter(variant_id=dossier.variant_id, required=True)
            if c.pk not in handed_in
        ]
    return DossierState(
        dossier=dossier,
        steps=steps,
        open_pause=next((p for p in pauses if p.ended_at is None), None),
        processing_supplements=sum(
            1
            for p in pauses
            if p.kind == Pause.Kind.SUPPLEMENT and p.stage == Pause.Stage.PROCESSING
        ),
        proposed_extension=next(
            (e for e in extensions if e.state == Extension.State.PROPOSED), None
        ),
        extensions_used=sum(
            1 for e in extensions if e.state in (Extension.State.PROPOSED, Extension.State.APPROVED)
        ),
        has_result=Result.objects.filter(dossier=dossier).exists(),
        missing=missing,
        version=last_event_id(dossier.pk),
        pauses=pauses,
        extensions=extensions,
    )


# --- roles ----------------------------------------------------------------------------------


def memberships_for_actions(user) -> list[Membership]:
    """The memberships the services count: active ones of an active user (any agency state)."""
    if user is None or not getattr(user, "is_active", False) or not user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=user, is_active=True))


def roles_at(
    memberships: Iterable[Membership], agency_id: int, department_id: int | None = None
) -> set[str]:
    """The roles held at an agency; with a department, only whole-agency memberships and
    memberships of that department count (as ``services._roles_of``)."""
    return {
        m.role
        for m in memberships
        if m.agency_id == agency_id
        and (department_id is None or m.department_id in (None, department_id))
    }


def step_roles(user, step: Step) -> set[str]:
    """Who may finish a step: its role or a leader; once assigned, only the assignee (or a
    leader) — as ``services._step_roles``."""
    if step.assignee_id is not None and getattr(user, "pk", None) != step.assignee_id:
        return {Role.LEADER}
    return {step.role, Role.LEADER}


def _permitted(
    action: Action,
    state: DossierState,
    user,
    memberships: Sequence[Membership],
    step: Step | None,
    wanted: set[str] | None = None,
) -> bool:
    dossier = state.dossier
    tr = TABLE[(action, int(dossier.status))]
    held: set[str] = set()
    if tr.where in (Where.RECEIVING, Where.EITHER):
        held |= roles_at(memberships, dossier.receiving_agency_id)
    if tr.where in (Where.STEP, Where.EITHER) and step is not None:
        held |= roles_at(memberships, step.agency_id, step.department_id)
    return bool((wanted if wanted is not None else set(tr.roles)) & held)


def max_extensions() -> int:
    return getattr(settings, "MOTCUA_MAX_EXTENSIONS", 1)


def available_actions(
    state: DossierState, user, memberships: Sequence[Membership] | None = None
) -> list[Action]:
    """The actions ``user`` can take on the dossier now, in page order.

    Every action listed succeeds when called with valid input (the forms ask for it); every
    action left out is refused by the services.
    """
    if memberships is None:
        memberships = memberships_for_actions(user)
    if not memberships:
        return []
    dossier = state.dossier
    found = []
    for action in ORDER:
        if (action, int(dossier.status)) not in TABLE:
            continue
        if _allowed(action, state, user, memberships):
            found.append(action)
    return found


def _allowed(action: Action, state: DossierState, user, memberships) -> bool:
    dossier = state.dossier
    active = state.active_step
    processing = state.processing_step
    if action == Action.RECEIVE:
        return _permitted(action, state, user, memberships, None) and not state.missing
    if action in (Action.REFUSE, Action.WITHDRAW):
        return _permitted(action, state, user, memberships, None)
    if action == Action.REQUEST_SUPPLEMENT:
        if not _permitted(action, state, user, memberships, active):
            return False
        # A second request during processing needs a leader of the acting agency to approve.
        return not state.second_supplement or bool(approvers(state))
    if action == Action.REQUEST_PAYMENT:
        return _permitted(action, state, user, memberships, active)
    if action == Action.PROVIDE_SUPPLEMENT:
        return (
            _permitted(action, state, user, memberships, None)
            and state.open_pause is not None
            and state.open_pause.kind == Pause.Kind.SUPPLEMENT
        )
    if action == Action.CONFIRM_PAYMENT:
        return (
            _permitted(action, state, user, memberships, None)
            and state.open_pause is not None
            and state.open_pause.kind == Pause.Kind.PAYMENT
        )
    if action == Action.ASSIGN:
        return processing is not None and _permitted(action, state, user, memberships, processing)
    if action == Action.COMPLETE_STEP:
        following = state.next_step
        return (
            processing is not None
            and _permitted(
                action, state, user, memberships, processing, step_roles(user, processing)
            )
            and following is not None
            and following.kind == Step.Kind.PROCESSING
        )
    if action == Action.SEND_BACK:
        return (
            processing is not None
            and _permitted(
                action, state, user, memberships, processing, step_roles(user, processing)
            )
            and bool(state.send_back_targets)
        )
    if action == Action.RECORD_RESULT:
        return (
            processing is not None
            and _permitted(
                action, state, user, memberships, processing, step_roles(user, processing)
            )
            and state.is_last_processing_step
        )
    if action == Action.PROPOSE_EXTENSION:
        return (
            _permitted(action, state, user, memberships, active)
            and dossier.due_at is not None
            and state.extensions_used < max_extensions()
        )
    if action == Action.DECIDE_EXTENSION:
        return (
            _permitted(action, state, user, memberships, active)
            and state.proposed_extension is not None
        )
    if action == Action.STOP:
        return _permitted(action, state, user, memberships, None) and not state.has_result
    if action == Action.RETURN_RESULT:
        return _permitted(action, state, user, memberships, None) and state.has_result
    return False


# --- people to choose -----------------------------------------------------------------------


def _officers(agency_id: int, department_id: int | None, roles: Iterable[str]):
    members = Membership.objects.filter(
        agency_id=agency_id, is_active=True, role__in=list(roles), user__is_active=True
    )
    if department_id is not None:
        members = members.filter(department_id__in=[department_id]) | members.filter(
            department__isnull=True
        )
    return (
        get_user_model()
        .objects.filter(pk__in=members.values("user_id"))
        .order_by("first_name", "last_name", "username")
    )


def assignees(state: DossierState):
    """Who the active step can be assigned to: officers of its agency (and department) in its
    role, or leaders (``services.assign`` accepts exactly these)."""
    step = state.processing_step
    if step is None:
        return get_user_model().objects.none()
    return _officers(step.agency_id, step.department_id, {step.role, Role.LEADER})


def approvers(state: DossierState):
    """Leaders who may approve a second supplement request (of the active step's agency)."""
    step = state.active_step
    agency_id = step.agency_id if step is not None else state.dossier.receiving_agency_id
    return _officers(agency_id, None, {Role.LEADER})
