"""The officers' worklist (the inbox): which rows, filtered, searched and paged, and how much
working time each has left.

An officer works in one membership (agency × role, maybe a department) at a time, and the
worklist follows it:

* ``mine`` — the work waiting for *me* in this role. Specialists and clerks: the active steps of
  their role at their agency (department) that are theirs or nobody's yet; leaders: the steps
  to assign, their own and the leader steps; counter officers: the dossiers at their desk
  (online submissions to receive, supplements and payments awaited, results to hand over).
* ``unit`` — the same for the whole department (or agency): every active step there,
  whoever holds it; at the desk, every open dossier the agency received.
* ``all`` — every dossier the agency received or has worked on, in any status (search);
  province-wide for monitors and administrators, who only read.

A page is a count, the page's keys from one query ordered by an index (steps by
``(agency, state, due_at)``; dossiers by ``(receiving_agency, status, …)``, ``-submitted_at`` or
``(status, -submitted_at)``), ``LIMIT``/``OFFSET``, then its rows by key and two small queries
for their current step and open pause. The "all" list counts to ``COUNT_LIMIT`` only. A search
is resolved to applicants, then dossier keys, first (``search_condition``). The remaining working
time of a row is two binary searches on the receiving agency's calendar (cached per process).
``benchmarks/bench_worklist.py`` measures it with 100,000 dossiers on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import BooleanField, Expression, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from motcua.accounts.models import Membership, Role
from motcua.agencies.calendar import calendar_for
from motcua.agencies.models import Agency
from motcua.catalog.models import Procedure
from motcua.core import codes
from motcua.core.text import search_terms
from motcua.core.worktime import VN_TZ, InvalidWorktime, WorkCalendar
from motcua.dossiers.models import (
    OPEN_STATUSES,
    Applicant,
    Dossier,
    Pause,
    Status,
    Step,
    Timeliness,
)

from . import access

PAGE_SIZE = 25


def now() -> dt.datetime:
    """The current instant (tests replace this to freeze the clock of the worklist)."""
    return timezone.now()


# --- scopes ---------------------------------------------------------------------------------


class Scope(StrEnum):
    MINE = "mine"
    UNIT = "unit"
    ALL = "all"


SCOPE_LABELS = {
    Scope.MINE: gettext_lazy("Việc của tôi"),
    Scope.UNIT: gettext_lazy("Của phòng, đơn vị"),
    Scope.ALL: gettext_lazy("Tất cả hồ sơ"),
}

# What waits for the one-stop desk, by status.
DESK_STATUSES = (
    Status.SUBMITTED,
    Status.AWAITING_SUPPLEMENT,
    Status.AWAITING_PAYMENT,
    Status.RESULT_READY,
)
DESK_TASKS = {
    Status.SUBMITTED: gettext_lazy("Kiểm tra, tiếp nhận hồ sơ"),
    Status.AWAITING_SUPPLEMENT: gettext_lazy("Chờ nhận hồ sơ bổ sung"),
    Status.AWAITING_PAYMENT: gettext_lazy("Chờ xác nhận nghĩa vụ tài chính"),
    Status.RESULT_READY: gettext_lazy("Trả kết quả"),
}


def scopes_for(membership: Membership) -> tuple[Scope, ...]:
    """The tabs of the worklist for this membership, the default first."""
    if access.is_read_only(membership.role):
        return (Scope.ALL,)
    return (Scope.MINE, Scope.UNIT, Scope.ALL)


def unit_label(membership: Membership) -> str:
    if membership.role == Role.COUNTER_OFFICER:
        return _("Của Bộ phận Một cửa")
    if membership.department_id:
        return _("Của phòng %(name)s") % {"name": membership.department.name}
    return _("Của cơ quan")


# --- filters --------------------------------------------------------------------------------


@dataclass
class Filters:
    """What the officer narrowed the list to (all optional)."""

    q: str = ""
    procedure: str = ""  # procedure code
    status: int | None = None
    channel: str = ""
    received_from: dt.date | None = None
    received_to: dt.date | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.q.strip()
            or self.procedure.strip()
            or self.status
            or self.channel
            or self.received_from
            or self.received_to
        )


_IDENTIFIER = re.compile(r"[0-9][0-9 .-]{8,}[0-9]")
# A piece of a dossier code: letters, digits, dots and dashes, with a digit and a separator.
_CODE_PART = re.compile(r"(?=.*[0-9])(?=.*[.-])[0-9A-Za-z.-]+")


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=VN_TZ)


def search_condition(q: str, prefix: str = "") -> Q | None:
    """The dossiers matching the officer's search box.

    * a whole dossier code: that code (unique index);
    * 9 digits or more (spaces, dots and dashes ignored): the personal id or tax code of the
      submitter or owner, exactly;
    * a piece of a code (``H56-260302``): dossier codes containing it;
    * anything else: every word, folded, starting a word of the name of the submitter or the
      owner (``nguyen thi hang``, ``hang nguyen`` and ``Hằng`` find «Nguyễn Thị Hằng»).
    """
    q = " ".join((q or "").split())
    if not q:
        return None
    if codes.is_dossier_code(q.upper()):
        return Q(**{f"{prefix}code": q.upper()})
    if _IDENTIFIER.fullmatch(q):
        digits = re.sub(r"[ .]", "", q)
        plain = digits.replace("-", "")
        values = {digits, plain}
        if len(plain) == 13:
            values.add(f"{plain[:10]}-{plain[10:]}")
        people = Applicant.objects.filter(Q(personal_id__in=values) | Q(tax_code__in=values))
        return _people(people, prefix)
    if _CODE_PART.fullmatch(q):
        return Q(**{f"{prefix}code__contains": q.upper()})
    terms = search_terms(q)
    if not terms:
        return None
    return _people(Applicant.objects.filter(name_condition(terms)), prefix)


class AmongKeys(Expression):
    """``column IN (keys)`` with the keys as *one* parameter: an array on PostgreSQL
    (``= ANY(%s)``), a JSON list on SQLite (``IN (SELECT value FROM json_each(%s))``), the usual
    ``IN (%s, …)`` elsewhere. A few thousand keys then cost one parameter to send and nothing to
    compile (Django prepares every value of an ``__in`` list one by one: 30 ms for 4,000), and
    the planner sees a list to seek, not a table to scan."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, keys):
        super().__init__()
        self.column = F(column)
        self.keys = [int(k) for k in keys]

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        if not self.keys:
            return "1 = 0", []
        if connection.vendor == "postgresql":
            return f"{sql} = ANY(%s)", [*params, self.keys]
        if connection.vendor == "sqlite":
            return f"{sql} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(self.keys)]
        marks = ", ".join(["%s"] * len(self.keys))
        return f"{sql} IN ({marks})", [*params, *self.keys]


# A search that names at most this many people, with at most this many dossiers, is turned into
# the dossiers' keys at once (index seeks on applicant and owner, then a list of keys the page's
# queries seek); a broader one (a third of the province is called Nguyễn) matches so many
# dossiers that walking them newest first finds a page at once, and stays a subquery.
PEOPLE_LIMIT = 5000
DOSSIER_LIMIT = 20000


def name_condition(terms: list[str]) -> Q:
    """Applicants whose folded name has a word starting with each term (``hang`` finds «Hằng»,
    not «Thắng»; ``ng`` finds «Nguyễn»)."""
    cond = Q()
    for term in terms:
        cond &= Q(search_text__startswith=term) | Q(search_text__contains=f" {term}")
    return cond


def _key(prefix: str) -> str:
    """The dossier's key column seen from the list's table."""
    return "dossier_id" if prefix == "dossier__" else "pk"


def _people(people: QuerySet[Applicant], prefix: str) -> Q:
    """The dossiers filed or owned by ``people``, as a condition on dossiers."""
    ids = list(people.order_by().values_list("pk", flat=True)[: PEOPLE_LIMIT + 1])
    if len(ids) <= PEOPLE_LIMIT:
        # One query per column: an OR of the two would scan the dossiers.
        keys: set[int] = set()
        for column in ("applicant_id", "owner_id"):
            keys.update(
                Dossier.objects.filter(AmongKeys(column, ids))
                .order_by()
                .values_list("pk", flat=True)[: DOSSIER_LIMIT + 1]
            )
        if len(keys) <= DOSSIER_LIMIT:
            return Q(AmongKeys(_key(prefix), sorted(keys)))
    # Too many to list: a condition on the dossier's own applicant and owner columns (a hash of
    # the people, probed per dossier walked); ``pk IN (dossiers of these people)`` first
    # collected every one of their dossiers (1.5 s → 1 s for a common name at a million).
    found = people.order_by().values("pk")
    return Q(**{f"{prefix}applicant_id__in": found}) | Q(**{f"{prefix}owner_id__in": found})


def filter_condition(f: Filters, prefix: str = "") -> Q:
    """``f`` as one condition on dossiers (``prefix`` = ``"dossier__"`` from steps)."""
    cond = Q()
    if f.status:
        cond &= Q(**{f"{prefix}status": f.status})
    if f.channel:
        cond &= Q(**{f"{prefix}channel": f.channel})
    if f.procedure.strip():
        # By key, not by a join on the catalogue: the code is unique.
        procedure = Procedure.objects.filter(code=f.procedure.strip()).values_list("pk", flat=True)
        cond &= Q(**{f"{prefix}procedure_id__in": list(procedure[:1])})
    if f.received_from:
        cond &= Q(**{f"{prefix}received_at__gte": _start_of(f.received_from)})
    if f.received_to:
        cond &= Q(**{f"{prefix}received_at__lt": _start_of(f.received_to + dt.timedelta(days=1))})
    found = search_condition(f.q, prefix)
    if found is not None:
        cond &= found
    return cond


# --- the lists ------------------------------------------------------------------------------


def is_desk(membership: Membership) -> bool:
    return membership.role == Role.COUNTER_OFFICER


def step_rows(
    membership: Membership, user, scope: Scope, status: int | None = None
) -> QuerySet[Step]:
    """Active processing steps at the membership's agency (and department) of open dossiers;
    for ``mine``, those waiting for this officer in this role."""
    steps = Step.objects.filter(
        agency_id=membership.agency_id, state=Step.State.ACTIVE, kind=Step.Kind.PROCESSING
    )
    # Of open dossiers (defence in depth: stop and withdrawal cancel the steps); a status filter,
    # when there is one, says it alone (two conditions on the status mislead PostgreSQL).
    if status is None:
        steps = steps.filter(dossier__status__in=OPEN_STATUSES)
    elif status not in OPEN_STATUSES:
        return steps.none()
    if membership.department_id:
        steps = steps.filter(Q(department_id=membership.department_id) | Q(department__isnull=True))
    if scope == Scope.MINE:
        if membership.role == Role.LEADER:
            # Steps to assign, their own, and every leader step (as dossiers.queries.inbox).
            steps = steps.filter(Q(assignee__isnull=True) | Q(assignee=user) | Q(role=Role.LEADER))
        else:
            steps = steps.filter(role=membership.role).filter(
                Q(assignee__isnull=True) | Q(assignee=user)
            )
    return steps


def desk_rows(membership: Membership, scope: Scope) -> QuerySet[Dossier]:
    """The dossiers of the membership's one-stop desk: waiting for it (``mine``) or open."""
    statuses = DESK_STATUSES if scope == Scope.MINE else (*OPEN_STATUSES, Status.RESULT_READY)
    return Dossier.objects.filter(
        receiving_agency_id=membership.agency_id, status__in=[int(s) for s in statuses]
    )


def searched_keys(cond: Q | None) -> list[int] | None:
    """The dossier keys a search condition (``search_condition``) stands for, when it is a
    list of keys (a name or an identifier found few enough dossiers); else None."""
    if cond is not None and len(cond.children) == 1 and isinstance(cond.children[0], AmongKeys):
        return cond.children[0].keys
    return None


def agency_rows(membership: Membership, among: list[int] | None = None) -> QuerySet[Dossier]:
    """Every dossier the agency received or has a step of (the province for read-only roles).

    "Has a step here" is a correlated scalar subquery (one seek on the step's dossier index per
    dossier looked at), not ``EXISTS`` or ``IN``: PostgreSQL turns those into a hash of every
    step the agency ever had (a hundred thousand rows at a service centre) before returning the
    first row, where walking the dossiers newest first needs a few dozen seeks for a page.

    ``among``: the keys a search already narrowed the list to (up to ``DOSSIER_LIMIT``). Those
    the agency may see are then found once, by two seeks per key, instead of the subquery
    being run per key for the count and again for the page."""
    if access.is_read_only(membership.role):
        return Dossier.objects.all()
    if among is not None:
        agency = membership.agency_id
        received = Dossier.objects.filter(AmongKeys("pk", among), receiving_agency_id=agency)
        stepped = Step.objects.filter(AmongKeys("dossier_id", among), agency_id=agency)
        visible = (
            received.order_by()
            .values_list("pk", flat=True)
            .union(stepped.order_by().values_list("dossier_id", flat=True))
        )
        return Dossier.objects.filter(AmongKeys("pk", sorted(set(visible))))
    step_here = Step.objects.filter(
        dossier_id=OuterRef("pk"), agency_id=membership.agency_id
    ).order_by()
    return Dossier.objects.alias(step_here=Subquery(step_here.values("pk")[:1])).filter(
        Q(receiving_agency_id=membership.agency_id) | Q(step_here__isnull=False)
    )


# --- remaining working time -----------------------------------------------------------------


class Urgency(StrEnum):
    LATE = "late"
    DUE_TODAY = "due_today"
    DUE_SOON = "due_soon"
    ON_TRACK = "on_track"
    PAUSED = "paused"
    NO_DEADLINE = "none"
    DONE = "done"


URGENCY_LABELS = {
    Urgency.LATE: gettext_lazy("Quá hạn"),
    Urgency.DUE_TODAY: gettext_lazy("Đến hạn hôm nay"),
    Urgency.DUE_SOON: gettext_lazy("Sắp đến hạn"),
    Urgency.ON_TRACK: gettext_lazy("Còn hạn"),
    Urgency.PAUSED: gettext_lazy("Tạm dừng tính thời gian"),
    Urgency.NO_DEADLINE: gettext_lazy("Không có hạn"),
    Urgency.DONE: gettext_lazy("Đã xong"),
}

TIMELINESS_LABELS = dict(Timeliness.choices)


@dataclass(frozen=True)
class Remaining:
    urgency: Urgency
    detail: str = ""

    @property
    def label(self) -> str:
        return str(URGENCY_LABELS[self.urgency])


def working_span(span: dt.timedelta, hours_per_day: int) -> str:
    """``2 ngày 3 giờ`` of working time (a working day is ``hours_per_day`` hours)."""
    minutes = max(0, int(span.total_seconds()) // 60)
    days, minutes = divmod(minutes, hours_per_day * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(ngettext("%(n)d ngày", "%(n)d ngày", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d giờ", "%(n)d giờ", hours) % {"n": hours})
    if minutes and not days:
        parts.append(ngettext("%(n)d phút", "%(n)d phút", minutes) % {"n": minutes})
    return " ".join(parts) or _("dưới 1 phút")


def remaining(
    calendar: WorkCalendar, due: dt.datetime | None, at: dt.datetime, *, paused: bool = False
) -> Remaining:
    """How urgent a deadline is at ``at``, on the agency's working calendar.

    Late once the deadline has passed; due today when it falls later today (Việt Nam time);
    due soon when at most one working day of working time is left; else on track. While the
    clock is stopped (waiting for a supplement) the deadline moves on resume: paused.
    """
    if due is None:
        return Remaining(Urgency.NO_DEADLINE)
    if paused:
        return Remaining(Urgency.PAUSED)
    try:
        if due < at:
            late = working_span(calendar.working_time_between(due, at), calendar.hours_per_day)
            return Remaining(Urgency.LATE, _("quá %(span)s làm việc") % {"span": late})
        left = calendar.working_time_between(at, due)
    except InvalidWorktime:  # outside the calendar's years: say nothing more
        return Remaining(Urgency.LATE if due < at else Urgency.ON_TRACK)
    detail = _("còn %(span)s làm việc") % {"span": working_span(left, calendar.hours_per_day)}
    if due.astimezone(VN_TZ).date() == at.astimezone(VN_TZ).date():
        return Remaining(Urgency.DUE_TODAY, detail)
    if left <= dt.timedelta(hours=calendar.hours_per_day):
        return Remaining(Urgency.DUE_SOON, detail)
    return Remaining(Urgency.ON_TRACK, detail)


def agency_calendar(agency_id: int) -> WorkCalendar:
    """The working calendar of an agency by id (built once per process, see agencies.calendar)."""
    return calendar_for(Agency(pk=agency_id))


# --- a page of rows -------------------------------------------------------------------------


@dataclass
class Row:
    dossier: Dossier
    step: Step | None  # the step the row is about (step lists) or the dossier's current one
    task: str
    deadline: dt.datetime | None
    remaining: Remaining
    identifier: str  # masked


@dataclass
class WorkPage:
    rows: list[Row]
    count: int  # matching rows; a capped list counts to COUNT_LIMIT + 1 at most
    number: int
    page_size: int = PAGE_SIZE
    capped: bool = False

    @property
    def more(self) -> bool:
        """Whether more rows match than were counted (the "all" list counts to COUNT_LIMIT)."""
        return self.capped and self.count > COUNT_LIMIT

    @property
    def pages(self) -> int:
        return pages_of(self.count, self.page_size, capped=self.capped)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.count else 0

    @property
    def last_index(self) -> int:
        return min(self.count, self.number * self.page_size)


_DOSSIER_RELATED = ("procedure", "applicant", "receiving_agency")


# The "all" list counts its rows this far: an exact count of a whole agency's dossiers costs
# a scan of all of them, and nobody pages through more than a thousand — they filter.
COUNT_LIMIT = 1000


def pages_of(count: int, page_size: int, *, capped: bool) -> int:
    return max(1, -(-(min(count, COUNT_LIMIT) if capped else count) // page_size))


def _page_of(rows: QuerySet, order: tuple, page: int, page_size: int, *, cap: bool):
    """(count, page number, the page's primary keys) of ``rows`` in ``order``.

    The keys are read from the list's own table first (one narrow query the index can order),
    the rows with their related rows after, by key: the planner never reorders the joins of a
    wide query around the sort."""
    counted = rows.order_by()
    count = counted[: COUNT_LIMIT + 1].count() if cap else counted.count()
    page = min(page, pages_of(count, page_size, capped=cap))
    start = (page - 1) * page_size
    keys = list(rows.order_by(*order).values_list("pk", flat=True)[start : start + page_size])
    return count, page, keys


def worklist(
    membership: Membership,
    user,
    scope: Scope,
    filters: Filters,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    at: dt.datetime | None = None,
) -> WorkPage:
    """One page of the worklist (``page`` counts from 1 and is clamped to the last page)."""
    at = at or now()
    if scope not in scopes_for(membership):
        scope = scopes_for(membership)[0]
    page = max(1, page)
    if scope != Scope.ALL and not is_desk(membership):
        steps = step_rows(membership, user, scope, filters.status).filter(
            filter_condition(filters, "dossier__")
        )
        order = (F("due_at").asc(nulls_last=True), "id")
        count, page, keys = _page_of(steps, order, page, page_size, cap=False)
        related = (*(f"dossier__{name}" for name in _DOSSIER_RELATED), "assignee")
        found = Step.objects.select_related(*related).order_by().in_bulk(keys)
        rows = _step_page([found[k] for k in keys if k in found], at)
    else:
        # The search box is resolved once (it may read the applicants and their dossiers).
        searched = search_condition(filters.q)
        rest = dataclasses.replace(filters, q="")
        if scope == Scope.ALL:
            among = searched_keys(searched)
            if among is not None and not access.is_read_only(membership.role):
                dossiers = agency_rows(membership, among)
                searched = None  # applied by agency_rows
            else:
                dossiers = agency_rows(membership)
            order = ("-submitted_at", "-id")
        else:
            dossiers = desk_rows(membership, scope)
            order = (F("due_at").asc(nulls_first=True), "id")
        dossiers = dossiers.filter(filter_condition(rest))
        if searched is not None:
            dossiers = dossiers.filter(searched)
        count, page, keys = _page_of(dossiers, order, page, page_size, cap=scope == Scope.ALL)
        found = Dossier.objects.select_related(*_DOSSIER_RELATED).order_by().in_bulk(keys)
        rows = _dossier_page([found[k] for k in keys if k in found], at, desk=scope != Scope.ALL)
    return WorkPage(
        rows=rows, count=count, number=page, page_size=page_size, capped=scope == Scope.ALL
    )


def _paused(dossier_ids: list[int]) -> set[int]:
    """Of these dossiers, those whose clock is stopped now (an open pause that stops it)."""
    if not dossier_ids:
        return set()
    return set(
        Pause.objects.filter(dossier_id__in=dossier_ids, ended_at__isnull=True, stops_clock=True)
        .order_by()
        .values_list("dossier_id", flat=True)
    )


_WAITING = (Status.AWAITING_SUPPLEMENT, Status.AWAITING_PAYMENT)


def _step_page(steps: list[Step], at: dt.datetime) -> list[Row]:
    paused = _paused([s.dossier_id for s in steps if s.dossier.status in _WAITING])
    rows = []
    for step in steps:
        dossier = step.dossier
        rows.append(
            Row(
                dossier=dossier,
                step=step,
                task=step.name,
                deadline=step.due_at,
                remaining=remaining(
                    agency_calendar(dossier.receiving_agency_id),
                    step.due_at,
                    at,
                    paused=dossier.pk in paused,
                ),
                identifier=dossier.applicant.masked_identifier,
            )
        )
    return rows


def _dossier_page(dossiers: list[Dossier], at: dt.datetime, *, desk: bool) -> list[Row]:
    ids = [d.pk for d in dossiers]
    current: dict[int, Step] = {}
    if ids:
        for step in (
            Step.objects.filter(dossier_id__in=ids, state=Step.State.ACTIVE)
            .exclude(kind=Step.Kind.INTAKE)
            .select_related("assignee")
            .order_by("-order", "-id")
        ):
            current[step.dossier_id] = step  # the lowest order wins, as services do
    paused = _paused([d.pk for d in dossiers if d.status in _WAITING])
    rows = []
    for dossier in dossiers:
        step = current.get(dossier.pk)
        if dossier.status in OPEN_STATUSES or dossier.status == Status.RESULT_READY:
            state = remaining(
                agency_calendar(dossier.receiving_agency_id),
                dossier.due_at,
                at,
                paused=dossier.pk in paused,
            )
            if dossier.status == Status.RESULT_READY:
                state = Remaining(Urgency.DONE, str(TIMELINESS_LABELS.get(dossier.timeliness, "")))
        else:
            state = Remaining(Urgency.DONE, str(TIMELINESS_LABELS.get(dossier.timeliness, "")))
        if desk and dossier.status in DESK_TASKS:
            task = str(DESK_TASKS[Status(dossier.status)])
        elif step is not None and dossier.status in OPEN_STATUSES:
            task = step.name
        else:
            task = ""
        rows.append(
            Row(
                dossier=dossier,
                step=step,
                task=task,
                deadline=dossier.due_at,
                remaining=state,
                identifier=dossier.applicant.masked_identifier,
            )
        )
    return rows
