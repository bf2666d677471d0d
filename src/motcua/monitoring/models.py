"""Monitoring tables: daily rollups, the per-dossier track, daily in-progress snapshots, violations.

* ``DailyRollup`` — one row per Việt Nam day × agency × procedure × channel with counters of
  what happened that day (flows). Maintained incrementally by the outbox handler and rebuilt
  from the dossiers' histories by ``manage.py rebuild_rollups``; both go through the same
  replay (``facts.advance``), so they agree by construction.
* ``DossierTrack`` — monitoring's view of one dossier as of the last event it applied: the
  high-water mark that makes delivery idempotent, the state the replay needs, and the index
  over open dossiers that answers "in progress, in time / late" for today.
* ``OpenSnapshot`` + ``SnapshotDay`` — dossiers in progress at the end of each past day
  (in time / late), written once the day is over; ``SnapshotDay`` marks a day as taken.
* ``Violation`` — a broken rule (``violations.RULES``) found on a dossier, once per
  (rule, dossier, step).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from motcua.catalog.models import Channel

# Counters of ``DailyRollup`` (flows dated by the Việt Nam day of the event, except the cohort
# counters ``digitised`` and ``digitised_complete`` which are dated by the day of receipt).
COUNTERS = (
    "submitted",
    "received",
    "refused",
    "withdrawn",
    "stopped",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "finished_extended",
    "results",
    "eresults",
    "returned",
    "supplement_requests",
    "extensions",
    "with_fee",
    "paid_online",
    "received_full_online",
    "digitised",
    "digitised_complete",
    "result_seconds",
    "ratings",
    "rating_sum",
)
# Counters of ``OpenSnapshot`` (dossiers in progress at the end of a day).
OPEN_COUNTERS = ("open_in_time", "open_late", "open_extended")


def _counter(label: str, help_text: str = "") -> models.IntegerField:
    return models.IntegerField(label, default=0, help_text=help_text)


def _agency_key() -> models.ForeignKey:
    return models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("cơ quan"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )


def _procedure_key() -> models.ForeignKey:
    return models.ForeignKey(
        "catalog.Procedure",
        verbose_name=_("thủ tục"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )


def _channel_key() -> models.CharField:
    return models.CharField(_("kênh nộp"), max_length=10, choices=Channel.choices)


class RollupCounters(models.Model):
    """The counters shared by the rollup tables (whatever their key)."""

    submitted = _counter(_("nộp"))
    received = _counter(_("tiếp nhận"))
    refused = _counter(_("từ chối tiếp nhận"))
    withdrawn = _counter(_("rút hồ sơ"))
    stopped = _counter(_("dừng giải quyết"))
    finished_early = _counter(_("giải quyết trước hạn"))
    finished_on_time = _counter(_("giải quyết đúng hạn"))
    finished_late = _counter(_("giải quyết quá hạn"))
    finished_extended = _counter(
        _("đúng hạn nhờ gia hạn"),
        _("Không quá hạn theo ngày hẹn đã gia hạn nhưng quá ngày hẹn chưa gia hạn."),
    )
    results = _counter(_("có kết quả giải quyết"))
    eresults = _counter(_("có kết quả điện tử"))
    returned = _counter(_("đã trả kết quả"))
    supplement_requests = _counter(_("yêu cầu bổ sung"))
    extensions = _counter(_("gia hạn có xin lỗi"))
    with_fee = _counter(_("tiếp nhận có phí, lệ phí"))
    paid_online = _counter(
        _("thanh toán trực tuyến"), _("Chưa có nguồn dữ liệu: luôn bằng 0 cho đến khi tích hợp.")
    )
    received_full_online = _counter(_("tiếp nhận thuộc thủ tục trực tuyến toàn trình"))
    digitised = _counter(
        _("số hóa thành phần"), _("Hồ sơ tiếp nhận trong ngày có thành phần đính kèm tệp.")
    )
    digitised_complete = _counter(
        _("số hóa đầy đủ"),
        _(
            "Hồ sơ tiếp nhận trong ngày đã số hóa thành phần và, khi có kết quả, có kết quả "
            "điện tử."
        ),
    )
    result_seconds = models.BigIntegerField(
        _("tổng thời gian giải quyết (giây)"),
        default=0,
        help_text=_("Từ tiếp nhận đến khi có kết quả, của các hồ sơ có kết quả trong ngày."),
    )
    ratings = _counter(_("lượt đánh giá"), _("Do Cổng dịch vụ công cung cấp (chưa có)."))
    rating_sum = models.BigIntegerField(_("tổng điểm đánh giá"), default=0)

    class Meta:
        abstract = True


class RollupBase(RollupCounters):
    """The key (agency, procedure, channel) and the counters of the rollup tables.

    ``agency`` is the agency responsible for the dossier: the deciding agency, or the
    receiving one when no other decides. Online and postal figures are the rows whose
    ``channel`` is ``online`` / ``postal``.
    """

    agency = _agency_key()
    procedure = _procedure_key()
    channel = _channel_key()

    class Meta:
        abstract = True


class DailyRollup(RollupBase):
    """What happened on one Việt Nam day to the dossiers of one agency, procedure and channel."""

    day = models.DateField(_("ngày"))

    class Meta:
        verbose_name = _("số liệu tổng hợp theo ngày")
        verbose_name_plural = _("số liệu tổng hợp theo ngày")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "agency", "procedure", "channel"], name="rollup_unique_key"
            )
        ]
        indexes = [
            models.Index(fields=["agency", "day"], name="rollup_agency_day"),
            models.Index(fields=["procedure", "day"], name="rollup_procedure_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%d/%m/%Y} {self.agency_id}/{self.procedure_id}/{self.channel}"


class MonthlyRollup(RollupBase):
    """The sum of a month's ``DailyRollup`` rows (``month`` is its first day), kept in the same
    transaction, so a year reads twelve months of rows instead of 365 days."""

    month = models.DateField(_("tháng"))

    class Meta:
        verbose_name = _("số liệu tổng hợp theo tháng")
        verbose_name_plural = _("số liệu tổng hợp theo tháng")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "agency", "procedure", "channel"], name="monthly_unique_key"
            )
        ]
        indexes = [models.Index(fields=["agency", "month"], name="monthly_agency_month")]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y} {self.agency_id}/{self.procedure_id}/{self.channel}"


class MonthlyAgencyRollup(RollupCounters):
    """``MonthlyRollup`` summed over procedures: month × agency × channel, kept with it.

    The dashboards' per-agency figures and twelve-month trends read these rows: an agency has
    a few channels a month but may have hundreds of procedures."""

    month = models.DateField(_("tháng"))
    agency = _agency_key()
    channel = _channel_key()

    class Meta:
        verbose_name = _("số liệu tổng hợp theo tháng và cơ quan")
        verbose_name_plural = _("số liệu tổng hợp theo tháng và cơ quan")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "agency", "channel"], name="monthly_agency_unique_key"
            )
        ]
        indexes = [models.Index(fields=["agency", "month"], name="monthly_agency_only_month")]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y} {self.agency_id}/{self.channel}"


class MonthlyProcedureRollup(RollupCounters):
    """``MonthlyRollup`` summed over agencies: month × procedure × channel, kept with it.

    What the whole province's scorecard and procedure lists read (every agency at once)."""

    month = models.DateField(_("tháng"))
    procedure = _procedure_key()
    channel = _channel_key()

    class Meta:
        verbose_name = _("số liệu tổng hợp theo tháng và thủ tục")
        verbose_name_plural = _("số liệu tổng hợp theo tháng và thủ tục")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "procedure", "channel"], name="monthly_procedure_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y} {self.procedure_id}/{self.channel}"


# The coarse month tables and the key fields each keeps (beside ``month``).
COARSE_MONTHLY = (
    (MonthlyAgencyRollup, ("agency_id", "channel")),
    (MonthlyProcedureRollup, ("procedure_id", "channel")),
)


class DossierTrack(models.Model):
    """Monitoring's view of one dossier as of the last event it applied (``last_event``).

    The fields mirror ``facts.TrackState``. ``late_from`` is the instant from which the dossier,
    while it stays as it is, counts as late (``None``: not while it stays so); ``late_from_base``
    the same against the appointment without extension (Decision 766 keeps the original).
    """

    dossier = models.OneToOneField(
        "dossiers.Dossier",
        verbose_name=_("hồ sơ"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    procedure = models.ForeignKey(
        "catalog.Procedure", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    last_event = models.BigIntegerField(_("sự kiện cuối đã tính"), default=0)
    last_at = models.DateTimeField(null=True, blank=True)
    status = models.PositiveSmallIntegerField(default=1)
    received_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    base_due_at = models.DateTimeField(null=True, blank=True)
    extended = models.BooleanField(default=False)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_stops_clock = models.BooleanField(default=False)
    supplements = models.PositiveSmallIntegerField(default=0)
    has_files = models.BooleanField(default=False)
    digitised = models.BooleanField(default=False)
    digitised_complete = models.BooleanField(default=False)
    eresult = models.BooleanField(null=True, blank=True)
    is_open = models.BooleanField(_("đang giải quyết"), default=False)
    late_from = models.DateTimeField(null=True, blank=True)
    late_from_base = models.DateTimeField(null=True, blank=True)
    finished_as = models.CharField(
        _("kết quả đúng hạn"), max_length=8, blank=True, default=""
    )  # early / on_time / late once processing ended, as counted in the rollups

    class Meta:
        verbose_name = _("theo dõi hồ sơ")
        verbose_name_plural = _("theo dõi hồ sơ")
        indexes = [
            models.Index(
                fields=["agency", "procedure", "channel"],
                condition=Q(is_open=True),
                name="track_open_by_agency",
            ),
            models.Index(fields=["late_from"], condition=Q(is_open=True), name="track_open_late"),
            models.Index(fields=["finished_at"], name="track_finished_at"),
            # Drill-down lists (the dossiers behind a dashboard figure), newest first.
            models.Index(fields=["agency", "received_at"], name="track_agency_received"),
            models.Index(fields=["agency", "finished_at"], name="track_agency_finished"),
            models.Index(fields=["received_at"], name="track_received_at"),
            models.Index(
                fields=["procedure", "finished_at"],
                condition=Q(finished_as="late"),
                name="track_late_by_procedure",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id} @ {self.last_event}"


class OpenSnapshot(models.Model):
    """Dossiers in progress at the end of ``day`` (Việt Nam time): in time, late, and in time
    only thanks to an extension (late against the appointment without extension)."""

    day = models.DateField(_("ngày"))
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    procedure = models.ForeignKey(
        "catalog.Procedure", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    open_in_time = _counter(_("đang giải quyết trong hạn"))
    open_late = _counter(_("đang giải quyết quá hạn"))
    open_extended = _counter(_("trong hạn nhờ gia hạn"))

    class Meta:
        verbose_name = _("hồ sơ đang giải quyết cuối ngày")
        verbose_name_plural = _("hồ sơ đang giải quyết cuối ngày")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "agency", "procedure", "channel"], name="snapshot_unique_key"
            )
        ]
        indexes = [models.Index(fields=["agency", "day"], name="snapshot_agency_day")]

    def __str__(self) -> str:
        return f"{self.day:%d/%m/%Y} {self.agency_id}/{self.procedure_id}/{self.channel}"


class SnapshotDay(models.Model):
    """Marks that the in-progress snapshot of ``day`` has been taken (even if empty)."""

    day = models.DateField(unique=True)
    taken_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.day:%d/%m/%Y}"


class Severity(models.TextChoices):
    LOW = "low", _("Thấp")
    MEDIUM = "medium", _("Trung bình")
    HIGH = "high", _("Cao")


class Violation(models.Model):
    """A rule of ``violations.RULES`` broken on a dossier (and a step, for per-step rules)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Chưa giải trình")
        EXPLAINED = "explained", _("Đã giải trình")
        CLOSED = "closed", _("Đã kết thúc")

    rule = models.CharField(_("quy tắc"), max_length=40)
    severity = models.CharField(_("mức độ"), max_length=10, choices=Severity.choices)
    dossier = models.ForeignKey(
        "dossiers.Dossier",
        verbose_name=_("hồ sơ"),
        on_delete=models.CASCADE,
        related_name="violations",
    )
    step = models.ForeignKey(
        "dossiers.Step",
        verbose_name=_("bước xử lý"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="violations",
    )
    agency = models.ForeignKey(
        "agencies.Agency", verbose_name=_("cơ quan"), on_delete=models.PROTECT, related_name="+"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cán bộ"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="violations",
    )
    detail = models.TextField(_("nội dung"))
    data = models.JSONField(_("dữ liệu"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("xảy ra lúc"))
    detected_at = models.DateTimeField(_("phát hiện lúc"), default=timezone.now)
    status = models.CharField(
        _("tình trạng"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    explanation = models.TextField(_("giải trình"), blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người giải trình"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    explained_at = models.DateTimeField(_("giải trình lúc"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người kết thúc"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("kết thúc lúc"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("vi phạm")
        verbose_name_plural = _("vi phạm")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "dossier", "step"],
                condition=Q(step__isnull=False),
                name="violation_once_per_step",
            ),
            models.UniqueConstraint(
                fields=["rule", "dossier"],
                condition=Q(step__isnull=True),
                name="violation_once_per_dossier",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "status", "-occurred_at"], name="violation_agency"),
            models.Index(fields=["rule", "-occurred_at"], name="violation_rule"),
            models.Index(fields=["officer", "status"], name="violation_officer"),
            models.Index(fields=["status", "-occurred_at"], name="violation_status"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} — {self.dossier}"

    @property
    def rule_label(self) -> str:
        from .violations import RULES

        rule = RULES.get(self.rule)
        return str(rule.description) if rule else self.rule

    def explain(self, text: str, *, by, at=None) -> None:
        """Record the officer's or agency's explanation (open → explained), with its history
        row, in one transaction. Permissions are the caller's (``monitoring.services``)."""
        from motcua.core.errors import InvalidInput

        text = (text or "").strip()
        if not text:
            raise InvalidInput("Cần nhập nội dung giải trình.", code="missing_explanation")
        if self.status == self.Status.CLOSED:
            raise InvalidInput("Vi phạm đã kết thúc, không thể giải trình.", code="closed")
        at = at or timezone.now()
        with transaction.atomic():
            before = self.status
            self.explanation = text
            self.explained_by = by
            self.explained_at = at
            self.status = self.Status.EXPLAINED
            self.save(
                update_fields=[
                    "explanation",
                    "explained_by",
                    "explained_at",
                    "status",
                    "updated_at",
                ]
            )
            ViolationChange.objects.create(
                violation=self,
                at=at,
                actor=by,
                status_before=before,
                status_after=self.status,
                note=text,
            )

    def close(self, *, by, note: str = "", at=None) -> None:
        """The monitoring centre closes the case (accepted explanation or handled), with its
        history row, in one transaction."""
        from motcua.core.errors import InvalidInput

        if self.status == self.Status.CLOSED:
            raise InvalidInput("Vi phạm đã kết thúc.", code="closed")
        at = at or timezone.now()
        with transaction.atomic():
            before = self.status
            self.closed_by = by
            self.closed_at = at
            self.status = self.Status.CLOSED
            self.save(update_fields=["closed_by", "closed_at", "status", "updated_at"])
            ViolationChange.objects.create(
                violation=self,
                at=at,
                actor=by,
                status_before=before,
                status_after=self.status,
                note=(note or "").strip(),
            )


class ViolationChange(models.Model):
    """One change of a violation's status (explained, closed), append-only: who, when, what."""

    violation = models.ForeignKey(
        Violation, verbose_name=_("vi phạm"), on_delete=models.CASCADE, related_name="changes"
    )
    at = models.DateTimeField(_("thời điểm"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người thực hiện"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status_before = models.CharField(
        _("tình trạng trước"), max_length=10, choices=Violation.Status.choices
    )
    status_after = models.CharField(
        _("tình trạng sau"), max_length=10, choices=Violation.Status.choices
    )
    note = models.TextField(_("nội dung"), blank=True)

    class Meta:
        verbose_name = _("lịch sử xử lý vi phạm")
        verbose_name_plural = _("lịch sử xử lý vi phạm")
        ordering = ["violation", "at", "id"]

    def __str__(self) -> str:
        return f"{self.violation_id}: {self.status_before} → {self.status_after}"
