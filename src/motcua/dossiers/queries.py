"""Read side of dossiers: who sees what, lists for inboxes and the API, the public lookup.

Officers see the dossiers received by one of their agencies or with a step at one of them
(liên thông); monitors and administrators see every dossier of the province; anybody else
sees only the dossiers they created (an API client acting for the national portal). A citizen's
own dossiers are found by their applicant profile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from motcua.accounts.models import Membership, Role
from motcua.core.codes import is_dossier_code
from motcua.core.text import fold

from .lifecycle import ACTION_LABELS
from .models import OPEN_STATUSES, Dossier, DossierEvent, Status, Step

PROVINCE_WIDE_ROLES = (Role.MONITOR, Role.ADMINISTRATOR)


def agencies_of(user) -> list[int]:
    if user is None or not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=user, is_active=True)
        .values_list("agency_id", flat=True)
        .distinct()
    )


def sees_everything(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and Membership.objects.filter(
            user=user, is_active=True, role__in=PROVINCE_WIDE_ROLES
        ).exists()
    )


def visible_to(user) -> QuerySet[Dossier]:
    """The dossiers ``user`` may read."""
    dossiers = Dossier.objects.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return dossiers.none()
    if sees_everything(user):
        return dossiers
    agencies = agencies_of(user)
    step_here = Step.objects.filter(dossier=OuterRef("pk"), agency_id__in=agencies)
    return dossiers.filter(
        Q(receiving_agency_id__in=agencies) | Exists(step_here) | Q(created_by=user)
    )


@dataclass
class DossierFilters:
    status: list[int] | None = None
    agency_id: int | None = None
    procedure_code: str = ""
    code: str = ""
    q: str = ""
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    late: bool | None = None
    open_only: bool = False


def filtered(user, f: DossierFilters, *, now: dt.datetime | None = None) -> QuerySet[Dossier]:
    rows = visible_to(user).select_related("procedure", "receiving_agency", "applicant")
    if f.status:
        rows = rows.filter(status__in=f.status)
    if f.open_only:
        rows = rows.filter(status__in=OPEN_STATUSES)
    if f.agency_id:
        rows = rows.filter(receiving_agency_id=f.agency_id)
    if f.procedure_code:
        rows = rows.filter(procedure__code=f.procedure_code.strip())
    if f.code:
        rows = rows.filter(code=f.code.strip())
    if f.q:
        needle = fold(f.q)
        rows = rows.filter(
            Q(code__icontains=f.q.strip()) | Q(procedure__search_text__contains=needle)
        )
    if f.submitted_from:
        rows = rows.filter(submitted_at__date__gte=f.submitted_from)
    if f.submitted_to:
        rows = rows.filter(submitted_at__date__lte=f.submitted_to)
    if f.late is not None:
        late = Q(timeliness="late") | Q(
            status__in=OPEN_STATUSES, due_at__lt=now or dt.datetime.now(dt.UTC)
        )
        rows = rows.filter(late) if f.late else rows.exclude(late)
    return rows.order_by("-submitted_at", "-id")


def inbox(user) -> QuerySet[Step]:
    """Active steps at the user's agencies and roles (the work waiting for them)."""
    memberships = Membership.objects.filter(user=user, is_active=True)
    scope = Q(pk__in=[])
    for m in memberships:
        here = Q(agency_id=m.agency_id, role=m.role)
        if m.department_id:
            here &= Q(department_id=m.department_id) | Q(department__isnull=True)
        if m.role == Role.LEADER:
            here = Q(agency_id=m.agency_id)
        scope |= here
    return (
        Step.objects.filter(scope, state=Step.State.ACTIVE, dossier__status__in=OPEN_STATUSES)
        .filter(Q(assignee__isnull=True) | Q(assignee=user) | Q(role=Role.LEADER))
        .select_related("dossier", "dossier__procedure", "agency")
        .order_by("due_at", "id")
    )


# --- the public lookup ----------------------------------------------------------------------

PUBLIC_STATUS = {
    Status.SUBMITTED: _("Hồ sơ đã được gửi, đang chờ cơ quan tiếp nhận kiểm tra."),
    Status.RECEIVED: _("Hồ sơ đã được tiếp nhận."),
    Status.REFUSED: _("Hồ sơ không được tiếp nhận."),
    Status.PROCESSING: _("Hồ sơ đang được giải quyết."),
    Status.AWAITING_SUPPLEMENT: _("Cơ quan giải quyết đề nghị bổ sung, hoàn thiện hồ sơ."),
    Status.AWAITING_PAYMENT: _("Đang chờ thực hiện nghĩa vụ tài chính."),
    Status.WITHDRAWN: _("Hồ sơ đã được rút theo đề nghị của người nộp."),
    Status.STOPPED: _("Hồ sơ đã dừng giải quyết theo đề nghị của người nộp."),
    Status.RESULT_READY: _("Đã có kết quả giải quyết, mời nhận kết quả."),
    Status.RETURNED: _("Đã trả kết quả."),
}

# Events shown in the public timeline (internal hand-overs are summarised, not named).
PUBLIC_ACTIONS = {
    "submit",
    "receive",
    "refuse",
    "request_supplement",
    "provide_supplement",
    "complete_step",
    "request_payment",
    "confirm_payment",
    "decide_extension",
    "stop",
    "withdraw",
    "record_result",
    "return_result",
}


def find_by_code(code: str) -> Dossier | None:
    code = (code or "").strip()
    if not is_dossier_code(code):
        return None
    # Only the columns the public view and the second factor need; no ORDER BY/LIMIT (the code
    # is unique), which keeps PostgreSQL's planning of the joins cheap on this hot path.
    rows = list(
        Dossier.objects.select_related("procedure", "receiving_agency", "applicant")
        .only(
            "code",
            "status",
            "received_at",
            "due_at",
            "returned_at",
            "procedure__code",
            "procedure__name",
            "receiving_agency__name",
            "applicant__phone",
            "applicant__personal_id",
        )
        .filter(code=code)
        .order_by()
    )
    return rows[0] if rows else None


def public_view(dossier: Dossier) -> dict:
    """What anybody with the code may see: no name, no identifier, no address."""
    return {
        "code": dossier.code,
        "status": dossier.status,
        "status_label": str(Status(dossier.status).label),
        "status_text": str(PUBLIC_STATUS[Status(dossier.status)]),
        "procedure_code": dossier.procedure.code,
        "procedure_name": dossier.procedure.name,
        "receiving_agency": dossier.receiving_agency.name,
        "received_at": dossier.received_at,
        "due_at": dossier.due_at,
        "returned_at": dossier.returned_at,
    }


def public_timeline(dossier: Dossier) -> list[dict]:
    events = (
        DossierEvent.objects.filter(dossier=dossier, action__in=PUBLIC_ACTIONS)
        .order_by("at", "id")
        .values_list("at", "action", "agency__name", "status_after")
    )
    return [
        {
            "at": at,
            "action": action,
            "label": str(ACTION_LABELS.get(action, action)),
            "agency": agency or "",
            "status": status,
        }
        for at, action, agency, status in events
    ]
