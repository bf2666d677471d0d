"""Violation rules: small objects that find broken rules of the one-stop mechanism.

Each rule has a code, a Vietnamese description, a severity, the dossier actions after which it
looks (``check``, run by the outbox handler for every event it applies) and a ``sweep`` (run
hourly by Huey and by ``manage.py sweep_violations``) that re-checks the events of a period and
finds what only the passing of time reveals (a step or a dossier overdue and still open).

A finding becomes a ``Violation`` once per (rule, dossier, step or none): running a rule again
never duplicates one, and an explained or closed violation is never reopened.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from motcua.agencies.models import Agency
from motcua.core.text import fold
from motcua.core.worktime import VN_TZ
from motcua.dossiers.models import (
    Delivery,
    Dossier,
    DossierEvent,
    Extension,
    Pause,
    Result,
    Status,
    Step,
    SubmittedComponent,
    Timeliness,
)

from . import conf, facts
from .models import DossierTrack, Severity, Violation


@dataclass(frozen=True)
class Finding:
    rule: str
    dossier_id: int
    agency_id: int
    occurred_at: dt.datetime
    detail: str
    step_id: int | None = None
    officer_id: int | None = None
    data: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> tuple[str, int, int | None]:
        return (self.rule, self.dossier_id, self.step_id)


def _when(at: dt.datetime | None) -> str:
    return at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y") if at else "—"


class Rule:
    code: ClassVar[str]
    description: ClassVar = ""
    severity: ClassVar[str] = Severity.MEDIUM
    actions: ClassVar[frozenset[str]] = frozenset()

    def check(self, event: DossierEvent) -> list[Finding]:
        """Findings right after ``event`` (loaded with its dossier and step)."""
        return []

    def sweep(
        self, since: dt.datetime | None, until: dt.datetime, now: dt.datetime
    ) -> Iterator[Finding]:
        """Re-check the events of ``[since, until)``; time-based rules add what is overdue."""
        if not self.actions:
            return
        events = DossierEvent.objects.filter(action__in=self.actions, at__lt=until)
        if since is not None:
            events = events.filter(at__gte=since)
        for event in events.select_related("dossier", "step").order_by().iterator(2000):
            yield from self.check(event)

    def finding(self, **kwargs) -> Finding:
        return Finding(rule=self.code, **kwargs)


RULES: dict[str, Rule] = {}


def register(cls: type[Rule]) -> type[Rule]:
    RULES[cls.code] = cls()
    return cls


def responsible(dossier: Dossier) -> tuple[int, int | None]:
    """The agency and officer answerable for a dossier's delay: the step it is at, else the
    last step finished late, else the last step finished, else the responsible agency."""
    steps = Step.objects.filter(dossier=dossier, kind=Step.Kind.PROCESSING)
    active = steps.filter(state=Step.State.ACTIVE).order_by("order", "id").first()
    if active is not None:
        return active.agency_id, active.assignee_id
    done = steps.filter(state=Step.State.DONE).order_by("-done_at", "-id")
    step = done.filter(timeliness=Timeliness.LATE).first() or done.first()
    if step is not None:
        return step.agency_id, step.done_by_id
    return dossier.deciding_agency_id or dossier.receiving_agency_id, None


def overdue_before(now: dt.datetime) -> dt.datetime:
    """Anything due before this instant is late at ``now`` (as ``deadlines.classify``)."""
    from django.conf import settings

    if getattr(settings, "MOTCUA_TIMELINESS_PRECISION", "date") == "exact":
        return now
    return facts.day_start(facts.vn_day(now))


# --- the rules ---------------------------------------------------------------------------------


@register
class OutsideComponent(Rule):
    code = "outside_component"
    description = _("Tiếp nhận thành phần hồ sơ ngoài danh mục đã công bố")
    severity = Severity.HIGH
    actions = frozenset({"receive", "provide_supplement"})

    def check(self, event):
        rows = SubmittedComponent.objects.filter(dossier_id=event.dossier_id, in_list=False)
        if event.action == "provide_supplement":
            if event.status_after == Status.SUBMITTED:
                return []  # still at intake: accepted (or not) when received
            rows = rows.filter(pause_id=(event.data or {}).get("pause"))
        found = list(rows.order_by("order", "id").values("id", "name", "outside_reason"))
        if not found:
            return []
        names = "; ".join(
            f"«{row['name'][:120]}» (lý do: {row['outside_reason'][:200]})" for row in found
        )
        return [
            self.finding(
                dossier_id=event.dossier_id,
                agency_id=event.dossier.receiving_agency_id,
                officer_id=event.actor_id,
                occurred_at=event.at,
                detail=f"Tiếp nhận giấy tờ ngoài danh mục công bố: {names}.",
                data={"components": [row["id"] for row in found]},
            )
        ]


@register
class StepLate(Rule):
    code = "step_late"
    description = _("Bước xử lý quá hạn")
    severity = Severity.MEDIUM
    actions = frozenset({"complete_step", "record_result"})

    def check(self, event):
        step = event.step
        if step is None or step.kind != Step.Kind.PROCESSING:
            return []
        if step.timeliness != Timeliness.LATE:
            return []
        return [
            self.finding(
                dossier_id=event.dossier_id,
                step_id=step.pk,
                agency_id=step.agency_id,
                officer_id=step.done_by_id,
                occurred_at=step.done_at or event.at,
                detail=(
                    f"Bước «{step.name}» hoàn thành lúc {_when(step.done_at)}, "
                    f"quá hạn xử lý {_when(step.due_at)}."
                ),
            )
        ]

    def sweep(self, since, until, now):
        yield from super().sweep(since, until, now)
        # Open steps already past their due time. A dossier waiting for the applicant is left
        # out: its clock is stopped and its steps' deadlines move on when it resumes.
        threshold = overdue_before(now)
        for agency_id in Agency.objects.order_by("pk").values_list("pk", flat=True):
            steps = (
                Step.objects.filter(
                    agency_id=agency_id,
                    state=Step.State.ACTIVE,
                    due_at__lt=threshold,
                    kind=Step.Kind.PROCESSING,
                )
                .exclude(dossier__status__in=[Status.AWAITING_SUPPLEMENT, Status.AWAITING_PAYMENT])
                .exclude(Exists(_recorded(self.code).filter(step=OuterRef("pk"))))
                .values("pk", "dossier_id", "name", "assignee_id", "due_at")
            )
            for step in steps:
                yield self.finding(
                    dossier_id=step["dossier_id"],
                    step_id=step["pk"],
                    agency_id=agency_id,
                    officer_id=step["assignee_id"],
                    occurred_at=facts.late_threshold(step["due_at"]),
                    detail=(
                        f"Bước «{step['name']}» đã quá hạn xử lý {_when(step['due_at'])} "
                        "mà chưa hoàn thành."
                    ),
                )


def _recorded(rule: str):
    return Violation.objects.filter(rule=rule)


def _open_late_tracks(now: dt.datetime, rule: str):
    """Open dossiers late at ``now`` without a violation of ``rule`` yet."""
    return (
        DossierTrack.objects.filter(is_open=True, late_from__lte=now)
        .exclude(Exists(_recorded(rule).filter(dossier=OuterRef("pk"), step__isnull=True)))
        .select_related("dossier")
    )


@register
class DossierLate(Rule):
    code = "dossier_late"
    description = _("Hồ sơ giải quyết quá hạn")
    severity = Severity.HIGH
    actions = frozenset({"record_result", "stop", "withdraw"})

    def check(self, event):
        dossier = event.dossier
        if dossier.timeliness != Timeliness.LATE:
            return []
        agency_id, officer_id = responsible(dossier)
        return [
            self.finding(
                dossier_id=dossier.pk,
                agency_id=agency_id,
                officer_id=officer_id,
                occurred_at=dossier.finished_at or event.at,
                detail=(
                    f"Hồ sơ kết thúc xử lý lúc {_when(dossier.finished_at)}, "
                    f"quá hạn so với ngày hẹn trả {_when(dossier.due_at)}."
                ),
            )
        ]

    def sweep(self, since, until, now):
        yield from super().sweep(since, until, now)
        for track in _open_late_tracks(now, self.code).iterator(2000):
            dossier = track.dossier
            agency_id, officer_id = responsible(dossier)
            if track.supplements > 1:
                why = "đã yêu cầu bổ sung hồ sơ quá một lần trong quá trình giải quyết"
            else:
                why = f"đã quá ngày hẹn trả {_when(track.due_at)}"
            yield self.finding(
                dossier_id=dossier.pk,
                agency_id=agency_id,
                officer_id=officer_id,
                occurred_at=track.late_from,
                detail=f"Hồ sơ đang giải quyết, {why}.",
            )


def _timely_apologies():
    """Approved extensions proposed and approved before the appointment they moved."""
    return Extension.objects.filter(
        state=Extension.State.APPROVED,
        after_due=False,
        decided_at__lte=F("previous_due_at"),
    )


@register
class LateWithoutApology(Rule):
    code = "late_without_apology"
    description = _("Hồ sơ quá hạn không có văn bản xin lỗi, hoặc xin lỗi sau thời hạn")
    severity = Severity.HIGH
    actions = frozenset({"record_result", "decide_extension", "stop", "withdraw"})

    def check(self, event):
        dossier = event.dossier
        late = dossier.late_without_apology or (
            dossier.timeliness == Timeliness.LATE
            and not _timely_apologies().filter(dossier=dossier).exists()
        )
        if not late:
            return []
        agency_id, officer_id = responsible(dossier)
        apology = (
            Extension.objects.filter(dossier=dossier, state=Extension.State.APPROVED)
            .order_by("decided_at")
            .first()
        )
        if apology is None:
            detail = "Hồ sơ quá hạn mà không có văn bản xin lỗi và gia hạn được phê duyệt."
        else:
            detail = (
                f"Văn bản xin lỗi được phê duyệt lúc {_when(apology.decided_at)}, sau ngày hẹn "
                f"trả {_when(apology.previous_due_at)}."
            )
        return [
            self.finding(
                dossier_id=dossier.pk,
                agency_id=agency_id,
                officer_id=officer_id,
                occurred_at=event.at,
                detail=detail,
            )
        ]

    def sweep(self, since, until, now):
        yield from super().sweep(since, until, now)
        tracks = (
            _open_late_tracks(now, self.code)
            .filter(supplements__lte=1)
            .exclude(Exists(_timely_apologies().filter(dossier=OuterRef("pk"))))
        )
        for track in tracks.iterator(2000):
            agency_id, officer_id = responsible(track.dossier)
            yield self.finding(
                dossier_id=track.dossier_id,
                agency_id=agency_id,
                officer_id=officer_id,
                occurred_at=track.late_from,
                detail=(
                    f"Hồ sơ đã quá ngày hẹn trả {_when(track.due_at)} mà không có văn bản xin "
                    "lỗi và gia hạn được phê duyệt trước hạn."
                ),
            )


@register
class RepeatedSupplement(Rule):
    code = "repeated_supplement"
    description = _("Yêu cầu bổ sung hồ sơ quá một lần trong quá trình giải quyết")
    severity = Severity.MEDIUM
    actions = frozenset({"request_supplement"})

    def check(self, event):
        data = event.data or {}
        if data.get("stage") != Pause.Stage.PROCESSING or data.get("pause") is None:
            return []
        requests = Pause.objects.filter(
            dossier_id=event.dossier_id,
            kind=Pause.Kind.SUPPLEMENT,
            stage=Pause.Stage.PROCESSING,
            pk__lte=data["pause"],
        )
        count = requests.count()
        if count < 2:
            return []
        pause = requests.filter(pk=data["pause"]).select_related("approved_by").first()
        approval = ""
        if pause is not None and pause.approved_by is not None:
            who = pause.approved_by.get_full_name() or pause.approved_by.get_username()
            approval = f" Người phê duyệt: {who}; lý do: {pause.approval_reason}."
        return [
            self.finding(
                dossier_id=event.dossier_id,
                agency_id=event.agency_id or event.dossier.receiving_agency_id,
                officer_id=event.actor_id,
                occurred_at=event.at,
                detail=f"Yêu cầu bổ sung lần thứ {count} trong quá trình giải quyết.{approval}",
                data={"requests": count},
            )
        ]


_NON_WORD = re.compile(r"[\W_]+")


def note_problem(note: str | None) -> str | None:
    """Why a processing note is missing or unclear, or None if it is acceptable.

    Empty; a placeholder such as "ok", "xong", "đã xử lý" (compared folded, without
    punctuation); or shorter than ``MOTCUA_MIN_NOTE_LENGTH`` characters.
    """
    text = " ".join((note or "").split())
    words = _NON_WORD.sub(" ", fold(text)).strip()
    if not words:
        return "bỏ trống"
    if words in conf.placeholder_notes():
        return "chỉ ghi chung chung"
    if len(text) < conf.min_note_length():
        return f"quá ngắn (dưới {conf.min_note_length()} ký tự)"
    return None


@register
class UnclearNote(Rule):
    code = "unclear_note"
    description = _("Ý kiến xử lý khi hoàn thành bước bị bỏ trống hoặc không rõ ràng")
    severity = Severity.LOW
    actions = frozenset({"complete_step", "record_result"})

    def check(self, event):
        step = event.step
        if step is None or step.kind != Step.Kind.PROCESSING or step.state != Step.State.DONE:
            return []
        problem = note_problem(step.note)
        if problem is None:
            return []
        shown = f": «{step.note.strip()[:200]}»" if step.note.strip() else ""
        return [
            self.finding(
                dossier_id=event.dossier_id,
                step_id=step.pk,
                agency_id=step.agency_id,
                officer_id=step.done_by_id,
                occurred_at=step.done_at or event.at,
                detail=f"Ý kiến xử lý bước «{step.name}» {problem}{shown}.",
                data={"note": step.note[:500]},
            )
        ]


@register
class NoRecipient(Rule):
    code = "no_recipient"
    description = _("Trả kết quả không ghi nhận người nhận")
    severity = Severity.MEDIUM
    actions = frozenset({"return_result"})

    def check(self, event):
        result = Result.objects.filter(dossier_id=event.dossier_id).first()
        if result is None or result.returned_at is None:
            return []
        missing = []
        if result.return_method == Delivery.COUNTER:
            if not result.recipient_name.strip():
                missing.append("họ tên người nhận")
            if not result.recipient_id.strip():
                missing.append("giấy tờ tùy thân của người nhận")
        elif result.return_method == Delivery.POSTAL and not result.waybill.strip():
            missing.append("mã vận đơn bưu chính")
        if not missing:
            return []
        return [
            self.finding(
                dossier_id=event.dossier_id,
                agency_id=event.dossier.receiving_agency_id,
                officer_id=result.returned_by_id or event.actor_id,
                occurred_at=result.returned_at,
                detail=f"Trả kết quả lúc {_when(result.returned_at)} không ghi "
                + ", ".join(missing)
                + ".",
            )
        ]


# --- running the rules -------------------------------------------------------------------------


def record(findings: Iterable[Finding]) -> list[Violation]:
    """Store the findings not stored yet; return the new violations."""
    created: list[Violation] = []
    chunk: list[Finding] = []
    for finding in findings:
        chunk.append(finding)
        if len(chunk) >= 1000:
            created += _record_chunk(chunk)
            chunk = []
    if chunk:
        created += _record_chunk(chunk)
    return created


def _record_chunk(findings: list[Finding]) -> list[Violation]:
    dossiers = {f.dossier_id for f in findings}
    existing = set(
        Violation.objects.filter(dossier_id__in=dossiers).values_list(
            "rule", "dossier_id", "step_id"
        )
    )
    new: list[Violation] = []
    for finding in findings:
        if finding.key in existing:
            continue
        existing.add(finding.key)
        new.append(
            Violation(
                rule=finding.rule,
                severity=RULES[finding.rule].severity,
                dossier_id=finding.dossier_id,
                step_id=finding.step_id,
                agency_id=finding.agency_id,
                officer_id=finding.officer_id,
                occurred_at=finding.occurred_at,
                detail=finding.detail,
                data=finding.data,
            )
        )
    # A concurrent writer may have stored the same finding: the unique constraints keep one.
    Violation.objects.bulk_create(new, ignore_conflicts=True)
    return new


def check_events(event_ids: Iterable[int]) -> list[Violation]:
    """Run the rules that look after these events (the outbox handler calls this)."""
    ids = list(event_ids)
    wanted = {action for rule in RULES.values() for action in rule.actions}
    events = (
        DossierEvent.objects.filter(pk__in=ids, action__in=wanted)
        .select_related("dossier", "step")
        .order_by("id")
    )
    findings = []
    for event in events:
        for rule in RULES.values():
            if event.action in rule.actions:
                findings += rule.check(event)
    return record(findings)


def sweep(
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    *,
    now: dt.datetime | None = None,
    rules: Iterable[str] | None = None,
) -> dict[str, int]:
    """Run every rule's sweep over ``[since, until)`` (all history if ``since`` is None) and
    what is overdue at ``now``; return the number of new violations per rule."""
    now = now or timezone.now()
    until = until or now
    counts: dict[str, int] = {}
    for code, rule in RULES.items():
        if rules is not None and code not in rules:
            continue
        counts[code] = len(record(rule.sweep(since, until, now)))
    return counts
