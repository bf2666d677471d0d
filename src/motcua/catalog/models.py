"""The procedure catalogue (danh mục TTHC), versioned.

``Procedure`` is the stable identity (the national code). Its content lives in
``ProcedureVersion`` rows: a new version is written only when the imported or edited content
changes (``content_hash``), and a dossier pins the version and variant it was received under.
Variants (trường hợp) carry the components, time limits and fees per channel, and the local
process template. ``ProcedureAgency`` says which agencies of the province apply a procedure.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from motcua.core.text import fold


class Channel(models.TextChoices):
    """How a dossier is submitted; the values map to DVCQG ``KenhThucHien`` 1/2/3."""

    COUNTER = "counter", _("Trực tiếp")
    ONLINE = "online", _("Trực tuyến")
    POSTAL = "postal", _("Bưu chính công ích")


class TimeUnit(models.TextChoices):
    """Unit of a time limit; the first four are the units of ``core.worktime``."""

    WORKING_DAYS = "working_days", _("ngày làm việc")
    WORKING_HOURS = "working_hours", _("giờ làm việc")
    CALENDAR_DAYS = "calendar_days", _("ngày")
    SAME_DAY = "same_day", _("trong ngày")
    UNSPECIFIED = "unspecified", _("không quy định cụ thể")


class OnlineMode(models.TextChoices):
    FULL = "full", _("Toàn trình")
    PARTIAL = "partial", _("Một phần")
    NONE = "none", _("Không trực tuyến")


class Role(models.TextChoices):
    """Who performs a step of a process template (roles of the one-stop mechanism)."""

    COUNTER_OFFICER = "counter_officer", _("Cán bộ một cửa")
    SPECIALIST = "specialist", _("Chuyên viên")
    LEADER = "leader", _("Lãnh đạo")
    CLERK = "clerk", _("Văn thư")


class Field(models.Model):
    """A field (lĩnh vực) of procedures, e.g. Hộ tịch, Đất đai."""

    code = models.CharField(_("mã lĩnh vực"), max_length=40, blank=True)
    name = models.CharField(_("tên lĩnh vực"), max_length=255, unique=True)
    search_text = models.CharField(max_length=500, editable=False, db_index=True, default="")

    class Meta:
        verbose_name = _("lĩnh vực")
        verbose_name_plural = _("lĩnh vực")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = fold(f"{self.code} {self.name}")
        super().save(*args, **kwargs)


class Procedure(models.Model):
    """A procedure's identity: its national code. Content is in its versions."""

    code = models.CharField(_("mã thủ tục"), max_length=20, unique=True)
    national_id = models.CharField(_("mã trên CSDL quốc gia"), max_length=64, blank=True)
    current_version = models.OneToOneField(
        "ProcedureVersion",
        verbose_name=_("phiên bản hiện hành"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("đang công khai"), default=True)
    # Denormalised from the current version so lists filter and search on one table.
    # Text, not CharField: real national names run past 1,000 characters.
    name = models.TextField(_("tên thủ tục"), default="")
    field = models.ForeignKey(
        Field,
        verbose_name=_("lĩnh vực"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="procedures",
    )
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("thủ tục hành chính")
        verbose_name_plural = _("thủ tục hành chính")
        ordering = ["code"]
        indexes = [models.Index(fields=["field", "is_active"])]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class ProcedureVersion(models.Model):
    """One version of a procedure's content, immutable once a dossier refers to it."""

    class Source(models.TextChoices):
        NATIONAL = "national", _("CSDL quốc gia")
        LOCAL = "local", _("Cấu hình địa phương")
        DEMO = "demo", _("Dữ liệu mẫu")

    procedure = models.ForeignKey(
        Procedure, verbose_name=_("thủ tục"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("phiên bản"))
    content_hash = models.CharField(max_length=64, editable=False)
    source = models.CharField(_("nguồn"), max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)

    name = models.TextField(_("tên thủ tục"))
    field = models.ForeignKey(
        Field, verbose_name=_("lĩnh vực"), null=True, blank=True, on_delete=models.PROTECT
    )
    procedure_type = models.CharField(_("loại thủ tục"), max_length=40, blank=True)
    at_province = models.BooleanField(_("cấp tỉnh"), default=False)
    at_commune = models.BooleanField(_("cấp xã"), default=False)
    at_ministry = models.BooleanField(_("cấp bộ"), default=False)
    at_other = models.BooleanField(_("cơ quan khác"), default=False)
    decision_no = models.CharField(_("quyết định công bố"), max_length=255, blank=True)
    issuing_agency = models.CharField(_("cơ quan ban hành"), max_length=255, blank=True)
    competent_agencies = models.TextField(_("cơ quan có thẩm quyền"), blank=True)
    executing_agencies = models.TextField(_("cơ quan thực hiện"), blank=True)
    coordinating_agencies = models.TextField(_("cơ quan phối hợp"), blank=True)
    subjects = models.JSONField(_("đối tượng thực hiện"), default=list, blank=True)
    online_mode = models.CharField(
        _("dịch vụ công trực tuyến"), max_length=10, choices=OnlineMode.choices
    )
    postal_allowed = models.BooleanField(_("nhận qua bưu chính"), default=False)
    same_day_cutoff = models.BooleanField(
        _("giải quyết trong ngày, nhận sau 15 giờ trả ngày làm việc tiếp theo"), default=False
    )
    requirements = models.TextField(_("yêu cầu, điều kiện"), blank=True)
    description = models.TextField(_("mô tả"), blank=True)
    steps_text = models.TextField(_("trình tự thực hiện"), blank=True)
    legal_basis = models.JSONField(
        _("căn cứ pháp lý"), default=list, blank=True, help_text=_("[{code, name}]")
    )
    results = models.JSONField(
        _("kết quả thực hiện"), default=list, blank=True, help_text=_("[{code, name}]")
    )
    raw = models.JSONField(_("bản ghi gốc"), default=dict, blank=True)

    class Meta:
        verbose_name = _("phiên bản thủ tục")
        verbose_name_plural = _("phiên bản thủ tục")
        ordering = ["procedure", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code} v{self.number}"

    @property
    def levels(self) -> list[str]:
        labels = [
            (self.at_ministry, "Cấp bộ"),
            (self.at_province, "Cấp tỉnh"),
            (self.at_commune, "Cấp xã"),
            (self.at_other, "Cơ quan khác"),
        ]
        return [label for flag, label in labels if flag]


class Variant(models.Model):
    """A case (trường hợp) of a procedure version with its own components, time and fees."""

    version = models.ForeignKey(
        ProcedureVersion,
        verbose_name=_("phiên bản thủ tục"),
        on_delete=models.CASCADE,
        related_name="variants",
    )
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    code = models.CharField(_("mã trường hợp"), max_length=40, blank=True)
    # Real case names are whole paragraphs (up to ~2,300 characters).
    name = models.TextField(_("tên trường hợp"), blank=True)

    class Meta:
        verbose_name = _("trường hợp")
        verbose_name_plural = _("trường hợp")
        ordering = ["version", "order"]

    def __str__(self) -> str:
        return self.name or f"Trường hợp {self.order + 1}"


class Component(models.Model):
    """A paper (thành phần hồ sơ) of a variant."""

    variant = models.ForeignKey(
        Variant, verbose_name=_("trường hợp"), on_delete=models.CASCADE, related_name="components"
    )
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    code = models.CharField(_("mã giấy tờ"), max_length=64, blank=True)
    name = models.TextField(_("tên giấy tờ"))
    originals = models.PositiveSmallIntegerField(_("số bản chính"), default=0)
    copies = models.PositiveSmallIntegerField(_("số bản sao"), default=0)
    required = models.BooleanField(_("bắt buộc"), default=True)
    form_name = models.CharField(_("mẫu đơn, tờ khai"), max_length=500, blank=True)
    form_url = models.CharField(_("đường dẫn mẫu"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("thành phần hồ sơ")
        verbose_name_plural = _("thành phần hồ sơ")
        ordering = ["variant", "order"]

    def __str__(self) -> str:
        return self.name[:120]


class TimeLimit(models.Model):
    """The time limit of a variant for one channel."""

    variant = models.ForeignKey(
        Variant, verbose_name=_("trường hợp"), on_delete=models.CASCADE, related_name="time_limits"
    )
    channel = models.CharField(_("kênh"), max_length=10, choices=Channel.choices)
    amount = models.DecimalField(
        _("thời hạn"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    unit = models.CharField(_("đơn vị"), max_length=15, choices=TimeUnit.choices)
    description = models.TextField(_("mô tả"), blank=True)

    class Meta:
        verbose_name = _("thời hạn giải quyết")
        verbose_name_plural = _("thời hạn giải quyết")
        ordering = ["variant", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "channel"], name="time_limit_per_channel"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="time_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        if self.amount is None:
            return self.get_unit_display()
        return f"{self.amount.normalize():f} {self.get_unit_display()}"


class Fee(models.Model):
    """A fee or charge of a variant for one channel, in whole VND."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Lệ phí")
        SERVICE_FEE = "service_fee", _("Phí")
        PRICE = "price", _("Giá dịch vụ")

    variant = models.ForeignKey(
        Variant, verbose_name=_("trường hợp"), on_delete=models.CASCADE, related_name="fees"
    )
    channel = models.CharField(_("kênh"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("loại"), max_length=12, choices=Kind.choices)
    amount = models.BigIntegerField(
        _("số tiền (đồng)"),
        null=True,
        blank=True,
        help_text=_("Để trống khi mức thu do văn bản khác quy định (xem mô tả)."),
    )
    description = models.TextField(_("mô tả"), blank=True)

    class Meta:
        verbose_name = _("phí, lệ phí")
        verbose_name_plural = _("phí, lệ phí")
        ordering = ["variant", "channel", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="fee_non_negative"
            )
        ]

    def __str__(self) -> str:
        if self.amount is None:
            return f"{self.get_kind_display()}: theo quy định"
        return f"{self.get_kind_display()}: {self.amount:,} đồng".replace(",", ".")


class ProcessStep(models.Model):
    """One step of a variant's process template (quy trình nội bộ).

    ``share`` is the step's share of the variant's time limit in percent; the shares of a
    variant add up to 100.
    """

    variant = models.ForeignKey(
        Variant, verbose_name=_("trường hợp"), on_delete=models.CASCADE, related_name="steps"
    )
    order = models.PositiveSmallIntegerField(_("thứ tự"))
    name = models.CharField(_("tên bước"), max_length=500)
    role = models.CharField(_("vai trò"), max_length=20, choices=Role.choices)
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("cơ quan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Để trống: cơ quan tiếp nhận hồ sơ."),
    )
    department = models.ForeignKey(
        "agencies.Department",
        verbose_name=_("phòng, ban"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    share = models.DecimalField(_("tỷ lệ thời gian (%)"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("bước xử lý")
        verbose_name_plural = _("quy trình xử lý")
        ordering = ["variant", "order"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "order"], name="step_unique_order"),
            models.CheckConstraint(
                condition=Q(share__gte=0) & Q(share__lte=100), name="step_share_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class ProcedureAgency(models.Model):
    """An agency of the province that applies a procedure (receives its dossiers)."""

    procedure = models.ForeignKey(
        Procedure, verbose_name=_("thủ tục"), on_delete=models.CASCADE, related_name="applied_by"
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("cơ quan"),
        on_delete=models.CASCADE,
        related_name="procedures",
    )
    is_active = models.BooleanField(_("đang áp dụng"), default=True)

    class Meta:
        verbose_name = _("cơ quan áp dụng")
        verbose_name_plural = _("cơ quan áp dụng")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "agency"], name="procedure_agency_unique")
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code} @ {self.agency}"
