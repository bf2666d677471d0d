"""The transition table of a dossier: (action, status) → new status, and who may do it.

One place. ``services.py`` asks ``transition(action, status)`` before every change and
``allowed_roles`` before checking the actor's memberships; nothing else decides what may happen
to a dossier. The statuses are the national portal's codes (one-stop-rules §1.10).

``where`` says at which agency the actor must hold the role:

* ``RECEIVING`` — the agency that received the dossier (its one-stop desk);
* ``STEP`` — the agency (and department, if the step has one) of the dossier's active step;
* ``EITHER`` — one of the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from motcua.accounts.models import Role
from motcua.core.errors import DomainError

from .models import Status


class Action(StrEnum):
    RECEIVE = "receive"
    REFUSE = "refuse"
    REQUEST_SUPPLEMENT = "request_supplement"
    PROVIDE_SUPPLEMENT = "provide_supplement"
    ASSIGN = "assign"
    COMPLETE_STEP = "complete_step"
    SEND_BACK = "send_back"
    REQUEST_PAYMENT = "request_payment"
    CONFIRM_PAYMENT = "confirm_payment"
    PROPOSE_EXTENSION = "propose_extension"
    DECIDE_EXTENSION = "decide_extension"
    STOP = "stop"
    WITHDRAW = "withdraw"
    RECORD_RESULT = "record_result"
    RETURN_RESULT = "return_result"


ACTION_LABELS: dict[str, Any] = {  # lazy: shown in the page's language
    "submit": _("Nộp hồ sơ"),
    "intake": _("Tiếp nhận tại quầy"),
    "attach_file": _("Đính kèm tệp"),
    "rate": _("Đánh giá mức độ hài lòng"),
    Action.RECEIVE: _("Tiếp nhận hồ sơ"),
    Action.REFUSE: _("Từ chối tiếp nhận"),
    Action.REQUEST_SUPPLEMENT: _("Yêu cầu bổ sung, hoàn thiện hồ sơ"),
    Action.PROVIDE_SUPPLEMENT: _("Nhận hồ sơ bổ sung"),
    Action.ASSIGN: _("Phân công xử lý"),
    Action.COMPLETE_STEP: _("Hoàn thành bước xử lý"),
    Action.SEND_BACK: _("Chuyển trả bước trước"),
    Action.REQUEST_PAYMENT: _("Yêu cầu thực hiện nghĩa vụ tài chính"),
    Action.CONFIRM_PAYMENT: _("Xác nhận đã thực hiện nghĩa vụ tài chính"),
    Action.PROPOSE_EXTENSION: _("Đề nghị gia hạn, xin lỗi"),
    Action.DECIDE_EXTENSION: _("Phê duyệt gia hạn"),
    Action.STOP: _("Dừng giải quyết hồ sơ"),
    Action.WITHDRAW: _("Rút hồ sơ theo đề nghị"),
    Action.RECORD_RESULT: _("Cập nhật kết quả giải quyết"),
    Action.RETURN_RESULT: _("Trả kết quả"),
}


class Where(StrEnum):
    RECEIVING = "receiving"
    STEP = "step"
    EITHER = "either"


# ``None`` as the target: the status does not change (extension) or is decided by the pause
# being closed (supplement provided → the status the dossier had before the request).
SAME = None
RESUME = "resume"


@dataclass(frozen=True)
class Transition:
    action: Action
    source: Status
    target: Status | str | None
    roles: frozenset[str]
    where: Where


_S = Status
_COUNTER = frozenset({Role.COUNTER_OFFICER})
_PROCESSORS = frozenset({Role.SPECIALIST, Role.LEADER})
_ANY_OFFICER = frozenset({Role.COUNTER_OFFICER, Role.SPECIALIST, Role.LEADER, Role.CLERK})
# Not a membership role: held by the dossier's own applicant (or owner) account on the portal
# (``services._require``), for the actions a citizen takes on their own dossier.
APPLICANT = "applicant"
_APPLICANT = frozenset({APPLICANT})

_RULES: list[tuple[Action, tuple[Status, ...], Status | str | None, frozenset[str], Where]] = [
    (Action.RECEIVE, (_S.SUBMITTED,), _S.RECEIVED, _COUNTER, Where.RECEIVING),
    (Action.REFUSE, (_S.SUBMITTED,), _S.REFUSED, _COUNTER, Where.RECEIVING),
    # At intake the desk asks; during processing the specialist or leader handling the step
    # asks (the notice goes out through the desk, which may also record it).
    (
        Action.REQUEST_SUPPLEMENT,
        (_S.SUBMITTED,),
        _S.AWAITING_SUPPLEMENT,
        _COUNTER,
        Where.RECEIVING,
    ),
    (
        Action.REQUEST_SUPPLEMENT,
        (_S.RECEIVED, _S.PROCESSING),
        _S.AWAITING_SUPPLEMENT,
        _PROCESSORS | _COUNTER,
        Where.EITHER,
    ),
    (
        Action.PROVIDE_SUPPLEMENT,
        (_S.AWAITING_SUPPLEMENT,),
        RESUME,
        _COUNTER | _APPLICANT,
        Where.RECEIVING,
    ),
    (Action.ASSIGN, (_S.RECEIVED, _S.PROCESSING), _S.PROCESSING, {Role.LEADER}, Where.STEP),
    (
        Action.COMPLETE_STEP,
        (_S.RECEIVED, _S.PROCESSING),
        _S.PROCESSING,
        _PROCESSORS | {Role.CLERK},
        Where.STEP,
    ),
    (Action.SEND_BACK, (_S.PROCESSING,), _S.PROCESSING, _PROCESSORS, Where.STEP),
    (
        Action.REQUEST_PAYMENT,
        (_S.RECEIVED, _S.PROCESSING),
        _S.AWAITING_PAYMENT,
        _PROCESSORS | _COUNTER,
        Where.EITHER,
    ),
    (Action.CONFIRM_PAYMENT, (_S.AWAITING_PAYMENT,), _S.PROCESSING, _COUNTER, Where.RECEIVING),
    (
        Action.PROPOSE_EXTENSION,
        (_S.RECEIVED, _S.PROCESSING, _S.AWAITING_SUPPLEMENT, _S.AWAITING_PAYMENT),
        SAME,
        _PROCESSORS,
        Where.STEP,
    ),
    (
        Action.DECIDE_EXTENSION,
        (_S.RECEIVED, _S.PROCESSING, _S.AWAITING_SUPPLEMENT, _S.AWAITING_PAYMENT),
        SAME,
        {Role.LEADER},
        Where.STEP,
    ),
    # Decree 118 Art. 21: only at the applicant's request, handled by the receiving desk.
    (
        Action.STOP,
        (_S.RECEIVED, _S.PROCESSING, _S.AWAITING_SUPPLEMENT, _S.AWAITING_PAYMENT),
        _S.STOPPED,
        _COUNTER | {Role.LEADER},
        Where.RECEIVING,
    ),
    (
        Action.WITHDRAW,
        (_S.SUBMITTED, _S.RECEIVED, _S.PROCESSING, _S.AWAITING_SUPPLEMENT, _S.AWAITING_PAYMENT),
        _S.WITHDRAWN,
        _COUNTER | _APPLICANT,
        Where.RECEIVING,
    ),
    (
        Action.RECORD_RESULT,
        (_S.PROCESSING,),
        _S.RESULT_READY,
        _PROCESSORS | {Role.CLERK},
        Where.STEP,
    ),
    (Action.RETURN_RESULT, (_S.RESULT_READY,), _S.RETURNED, _COUNTER, Where.RECEIVING),
]

TABLE: dict[tuple[Action, int], Transition] = {}
for _action, _sources, _target, _roles, _where in _RULES:
    for _source in _sources:
        key = (_action, int(_source))
        assert key not in TABLE, f"duplicate transition {key}"
        TABLE[key] = Transition(_action, _source, _target, frozenset(_roles), _where)


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    status = 409
    default_message = "Thao tác này không được phép ở trạng thái hiện tại của hồ sơ."


def transition(action: Action | str, status: int) -> Transition:
    """The transition ``action`` takes from ``status``; raise ``TransitionNotAllowed``."""
    try:
        act = Action(action)
    except ValueError:
        raise TransitionNotAllowed(
            f"Thao tác «{action}» không tồn tại.", code="unknown_action"
        ) from None
    found = TABLE.get((act, int(status)))
    if found is None:
        raise TransitionNotAllowed(
            f"Không thể «{ACTION_LABELS[act]}» khi hồ sơ đang ở trạng thái "
            f"«{Status(status).label}».",
            action=str(act),
            status=int(status),
        )
    return found


def is_allowed(action: Action | str, status: int) -> bool:
    try:
        transition(action, status)
    except TransitionNotAllowed:
        return False
    return True


def actions_from(status: int) -> list[Action]:
    """The actions the table allows from ``status`` (for buttons and the API)."""
    return [act for act in Action if (act, int(status)) in TABLE]
