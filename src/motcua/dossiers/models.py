"""The dossier (hồ sơ) and everything that happens to it.

Statuses follow the national portal's ``TrangThaiHoSo`` codes 1–10 (one-stop-rules §1.10) so
syncing is a mapping. Nothing outside ``services.py`` writes a status: every change goes through
one service function that locks the row, checks ``lifecycle``, writes the change with its
``DossierEvent`` and ``OutboxMessage`` rows in one transaction.

Times are aware datetimes stored in UTC. The appointment (``due_at``) changes only through a
resumed pause or an approved extension; ``original_due_at`` keeps the first appointment forever.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from motcua.catalog.models import Channel, Role
from motcua.core.text import fold


class Status(models.IntegerChoices):
    SUBMITTED = 1, _("Mới đăng ký")
    RECEIVED = 2, _("Đã tiếp nhận")
    REFUSED = 3, _("Không được tiếp nhận")
    PROCESSING = 4, _("Đang xử lý")
    AWAITING_SUPPLEMENT = 5, _("Yêu cầu bổ sung giấy tờ")
    AWAITING_PAYMENT = 6, _("Yêu cầu thực hiện nghĩa vụ tài chính")
    WITHDRAWN = 7, _("Công dân yêu cầu rút hồ sơ")
    STOPPED = 8, _("Dừng xử lý")
    RESULT_READY = 9, _("Đã xử lý xong")
    RETURNED = 10, _("Đã trả kết quả")


class Delivery(models.TextChoices):
    """How the applicant gets the result (hình thức nhận kết quả)."""

    COUNTER = "counter", _("Tại Bộ phận Một cửa")
    POSTAL = "postal", _("Qua dịch vụ bưu chính công ích")
    ONLINE = "online", _("Trực tuyến")


class Timeliness(models.TextChoices):
    EARLY = "early", _("Trước hạn")
    ON_TIME = "on_time", _("Đúng hạn")
    LATE = "late", _("Quá hạn")


class Applicant(models.Model):
    """A person or organisation that files dossiers; found again by personal id or tax code."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Cá nhân")
        ORGANISATION = "organisation", _("Tổ chức")

    kind = models.CharField(_("loại"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("họ tên / tên tổ chức"), max_length=255)
    personal_id = models.CharField(_("số định danh cá nhân"), max_length=12, blank=True)
    tax_code = models.CharField(_("mã số thuế"), max_length=14, blank=True)
    phone = models.CharField(_("số điện thoại"), max_length=15, blank=True)
    email = models.EmailField(_("thư điện tử"), blank=True)
    province = models.ForeignKey(
        "agencies.AdministrativeUnit",
        verbose_name=_("tỉnh, thành phố"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    commune = models.ForeignKey(
        "agencies.AdministrativeUnit",
        verbose_name=_("xã, phường"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    address_line = models.CharField(_("số nhà, đường, thôn, xóm"), max_length=500, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("tài khoản công dân"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applicant_profiles",
    )
    # The name folded (``core.text.fold``) for diacritics-insensitive search; kept by ``save``.
    search_text = models.CharField(max_length=255, editable=False, db_index=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("người nộp hồ sơ")
        verbose_name_plural = _("người nộp hồ sơ")
        constraints = [
            models.UniqueConstraint(
                fields=["personal_id"],
                condition=~Q(personal_id=""),
                name="applicant_unique_personal_id",
            ),
            models.UniqueConstraint(
                fields=["tax_code"],
                condition=Q(personal_id="") & ~Q(tax_code=""),
                name="applicant_unique_tax_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = fold(self.name)[:255]
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    @property
    def identifier(self) -> str:
        return self.personal_id or self.tax_code

    @property
    def masked_identifier(self) -> str:
        """The identifier as lists and logs show it (a few digits only)."""
        from motcua.core import codes

        if self.personal_id:
            return codes.mask_personal_id(self.personal_id)
        if self.tax_code:
            return codes.mask_tax_code(self.tax_code)
        return ""

    @property
    def address(self) -> str:
        parts = [self.address_line]
        parts += [unit.full_name for unit in (self.commune, self.province) if unit is not None]
        return ", ".join(part for part in parts if part)


class Dossier(models.Model):
    """One application by one applicant for one procedure variant."""

    uuid = models.UUIDField(_("mã tham chiếu"), default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("mã hồ sơ"), max_length=40, null=True, blank=True, unique=True)
    status = models.PositiveSmallIntegerField(
        _("trạng thái"), choices=Status.choices, default=Status.SUBMITTED
    )
    channel = models.CharField(_("kênh nộp"), max_length=10, choices=Channel.choices)
    procedure = models.ForeignKey(
        "catalog.Procedure", verbose_name=_("thủ tục"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.ForeignKey(
        "catalog.ProcedureVersion",
        verbose_name=_("phiên bản thủ tục"),
        on_delete=models.PROTECT,
        related_name="dossiers",
    )
    variant = models.ForeignKey(
        "catalog.Variant",
        verbose_name=_("trường hợp"),
        on_delete=models.PROTECT,
        related_name="dossiers",
    )
    receiving_agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("cơ quan tiếp nhận"),
        on_delete=models.PROTECT,
        related_name="received_dossiers",
    )
    deciding_agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("cơ quan giải quyết"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decided_dossiers",
    )
    counter = models.ForeignKey(
        "agencies.Counter",
        verbose_name=_("quầy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    applicant = models.ForeignKey(
        Applicant,
        verbose_name=_("người nộp"),
        on_delete=models.PROTECT,
        related_name="submitted_dossiers",
    )
    owner = models.ForeignKey(
        Applicant,
        verbose_name=_("chủ hồ sơ (nếu khác người nộp)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_dossiers",
    )
    authorisation = models.CharField(_("giấy ủy quyền"), max_length=500, blank=True)
    summary = models.TextField(_("nội dung yêu cầu giải quyết"), blank=True)
    sets = models.PositiveSmallIntegerField(_("số bộ hồ sơ"), default=1)
    delivery = models.CharField(
        _("hình thức nhận kết quả"), max_length=10, choices=Delivery.choices
    )
    delivery_address = models.CharField(_("địa chỉ nhận kết quả"), max_length=500, blank=True)

    # The variant's time limit for the channel, copied at receipt: the dossier keeps it even if
    # the catalogue changes.
    time_limit_amount = models.DecimalField(
        _("thời hạn"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    time_limit_unit = models.CharField(_("đơn vị thời hạn"), max_length=15, blank=True)
    time_limit_text = models.CharField(_("thời hạn theo quy định"), max_length=255, blank=True)
    fee_total = models.BigIntegerField(_("tổng phí, lệ phí (đồng)"), default=0)
    fee_lines = models.JSONField(_("các khoản phí, lệ phí"), default=list, blank=True)

    submitted_at = models.DateTimeField(_("nộp lúc"))
    received_at = models.DateTimeField(_("tiếp nhận lúc"), null=True, blank=True)
    original_due_at = models.DateTimeField(_("hẹn trả ban đầu"), null=True, blank=True)
    due_at = models.DateTimeField(_("hẹn trả kết quả"), null=True, blank=True, db_index=True)
    finished_at = models.DateTimeField(_("xử lý xong lúc"), null=True, blank=True)
    returned_at = models.DateTimeField(_("trả kết quả lúc"), null=True, blank=True)
    closed_at = models.DateTimeField(_("kết thúc lúc"), null=True, blank=True)
    timeliness = models.CharField(
        _("kết quả đúng hạn"), max_length=8, choices=Timeliness.choices, blank=True
    )
    late_without_apology = models.BooleanField(_("quá hạn không xin lỗi kịp thời"), default=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người tạo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # "<client scope>:<Idempotency-Key>": a retried create returns the same dossier.
    idempotency_key = models.CharField(max_length=300, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("hồ sơ")
        verbose_name_plural = _("hồ sơ")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["receiving_agency", "status", "-submitted_at"]),
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["-submitted_at"]),
            # The back office's lists of one status, newest first (worklist "all", filtered).
            models.Index(fields=["status", "-submitted_at"], name="dossier_status_submitted"),
        ]

    def __str__(self) -> str:
        return self.code or f"Hồ sơ chưa tiếp nhận {self.uuid}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


OPEN_STATUSES = frozenset(
    {
        Status.SUBMITTED,
        Status.RECEIVED,
        Status.PROCESSING,
        Status.AWAITING_SUPPLEMENT,
        Status.AWAITING_PAYMENT,
    }
)


class SubmittedComponent(models.Model):
    """A paper handed in: one of the variant's published components, or one outside the list."""

    dossier = models.ForeignKey(
        Dossier, verbose_name=_("hồ sơ"), on_delete=models.CASCADE, related_name="components"
    )
    component = models.ForeignKey(
        "catalog.Component",
        verbose_name=_("thành phần theo danh mục"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    name = models.TextField(_("tên giấy tờ"))
    originals = models.PositiveSmallIntegerField(_("số bản chính"), default=0)
    copies = models.PositiveSmallIntegerField(_("số bản sao"), default=0)
    in_list = models.BooleanField(_("thuộc danh mục công bố"), default=True)
    outside_reason = models.TextField(_("lý do nhận giấy tờ ngoài danh mục"), blank=True)
    pause = models.ForeignKey(
        "Pause",
        verbose_name=_("nộp bổ sung theo yêu cầu"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supplied_components",
    )
    added_at = models.DateTimeField(_("nhận lúc"))

    class Meta:
        verbose_name = _("thành phần hồ sơ đã nộp")
        verbose_name_plural = _("thành phần hồ sơ đã nộp")
        ordering = ["dossier", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(in_list=True) | ~Q(outside_reason=""),
                name="outside_component_has_reason",
            )
        ]

    def __str__(self) -> str:
        return self.name[:120]


def component_file_path(instance: ComponentFile, filename: str) -> str:
    dossier = instance.component.dossier
    return f"dossiers/{dossier.uuid}/{uuid.uuid4().hex}-{filename}"


class ComponentFile(models.Model):
    """A scan or electronic file of a submitted component, checked by content, not by name."""

    component = models.ForeignKey(
        SubmittedComponent,
        verbose_name=_("thành phần"),
        on_delete=models.CASCADE,
        related_name="files",
    )
    file = models.FileField(_("tệp"), upload_to=component_file_path, max_length=500)
    original_name = models.CharField(_("tên tệp gốc"), max_length=255)
    content_type = models.CharField(_("loại nội dung"), max_length=100)
    size = models.PositiveBigIntegerField(_("kích thước (byte)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("tải lên lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("tệp đính kèm")
        verbose_name_plural = _("tệp đính kèm")

    def __str__(self) -> str:
        return self.original_name


class Step(models.Model):
    """One step of the dossier's processing (a task instance), from the process template.

    ``kind`` tells the intake step and the final return step (both at the one-stop desk) from
    the processing steps between them. A step sent back stays as history (``sent_back``) and
    new rows are created for the steps to redo. When handling ends without a result (stopped
    or withdrawn) the steps not done yet become ``cancelled``: no inbox or deadline reads them.
    """

    class Kind(models.TextChoices):
        INTAKE = "intake", _("Tiếp nhận")
        PROCESSING = "processing", _("Xử lý")
        RETURN = "return", _("Trả kết quả")

    class State(models.TextChoices):
        PENDING = "pending", _("Chờ")
        ACTIVE = "active", _("Đang thực hiện")
        DONE = "done", _("Đã hoàn thành")
        SENT_BACK = "sent_back", _("Đã chuyển trả bước trước")
        CANCELLED = "cancelled", _("Không thực hiện (hồ sơ đã dừng hoặc rút)")

    dossier = models.ForeignKey(
        Dossier, verbose_name=_("hồ sơ"), on_delete=models.CASCADE, related_name="steps"
    )
    order = models.PositiveSmallIntegerField(_("thứ tự"))
    kind = models.CharField(_("loại bước"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("tên bước"), max_length=500)
    role = models.CharField(_("vai trò"), max_length=20, choices=Role.choices)
    agency = models.ForeignKey(
        "agencies.Agency", verbose_name=_("cơ quan"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "agencies.Department",
        verbose_name=_("phòng, ban"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    share = models.DecimalField(_("tỷ lệ thời gian (%)"), max_digits=5, decimal_places=2)
    state = models.CharField(_("tình trạng"), max_length=10, choices=State.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người xử lý"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_steps",
    )
    started_at = models.DateTimeField(_("bắt đầu lúc"), null=True, blank=True)
    due_at = models.DateTimeField(_("hạn xử lý bước"), null=True, blank=True)
    done_at = models.DateTimeField(_("hoàn thành lúc"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người hoàn thành"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("ý kiến xử lý"), blank=True)
    timeliness = models.CharField(
        _("kết quả đúng hạn"), max_length=8, choices=Timeliness.choices, blank=True
    )

    class Meta:
        verbose_name = _("bước xử lý")
        verbose_name_plural = _("bước xử lý")
        ordering = ["dossier", "order", "id"]
        indexes = [
            models.Index(fields=["agency", "state", "due_at"]),
            models.Index(fields=["assignee", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class Pause(models.Model):
    """A wait for the applicant: a supplement (the clock stops) or a financial obligation."""

    class Kind(models.TextChoices):
        SUPPLEMENT = "supplement", _("Yêu cầu bổ sung, hoàn thiện hồ sơ")
        PAYMENT = "payment", _("Yêu cầu thực hiện nghĩa vụ tài chính")

    class Stage(models.TextChoices):
        INTAKE = "intake", _("Kiểm tra đầu vào")
        PROCESSING = "processing", _("Thẩm định, giải quyết")

    dossier = models.ForeignKey(
        Dossier, verbose_name=_("hồ sơ"), on_delete=models.CASCADE, related_name="pauses"
    )
    kind = models.CharField(_("loại"), max_length=12, choices=Kind.choices)
    stage = models.CharField(_("giai đoạn"), max_length=12, choices=Stage.choices)
    items = models.JSONField(_("nội dung yêu cầu"), default=list, blank=True)
    reason = models.TextField(_("lý do"), blank=True)
    legal_basis = models.CharField(_("căn cứ"), max_length=500, blank=True)
    amount = models.BigIntegerField(_("số tiền (đồng)"), null=True, blank=True)
    stops_clock = models.BooleanField(_("dừng tính thời gian"), default=True)
    resume_status = models.PositiveSmallIntegerField(
        _("trạng thái khi tiếp tục"), choices=Status.choices
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người yêu cầu"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người phê duyệt"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approval_reason = models.TextField(_("lý do phê duyệt"), blank=True)
    started_at = models.DateTimeField(_("bắt đầu lúc"))
    ended_at = models.DateTimeField(_("kết thúc lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("tạm dừng")
        verbose_name_plural = _("tạm dừng")
        ordering = ["dossier", "started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier"], condition=Q(ended_at__isnull=True), name="one_open_pause"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.started_at:%d/%m/%Y})"


class Extension(models.Model):
    """An extension with apology (Mẫu 04): reason, new appointment, the leader's approval."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Chờ phê duyệt")
        APPROVED = "approved", _("Đã phê duyệt")
        REJECTED = "rejected", _("Không phê duyệt")

    dossier = models.ForeignKey(
        Dossier, verbose_name=_("hồ sơ"), on_delete=models.CASCADE, related_name="extensions"
    )
    state = models.CharField(_("tình trạng"), max_length=10, choices=State.choices)
    reason = models.TextField(_("lý do chậm"))
    previous_due_at = models.DateTimeField(_("hẹn trả trước đó"))
    new_due_at = models.DateTimeField(_("hẹn trả mới"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người đề nghị"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("đề nghị lúc"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lãnh đạo phê duyệt"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("phê duyệt lúc"), null=True, blank=True)
    after_due = models.BooleanField(_("xin lỗi sau thời hạn"), default=False)

    class Meta:
        verbose_name = _("xin lỗi và gia hạn")
        verbose_name_plural = _("xin lỗi và gia hạn")
        ordering = ["dossier", "requested_at", "id"]

    def __str__(self) -> str:
        return f"{self.dossier} → {self.new_due_at:%d/%m/%Y}"


def result_file_path(instance: Result, filename: str) -> str:
    return f"results/{instance.dossier.uuid}/{uuid.uuid4().hex}-{filename}"


class Result(models.Model):
    """The result of a dossier and how it was handed over."""

    class Kind(models.TextChoices):
        GRANTED = "granted", _("Giải quyết theo đề nghị")
        DENIED = "denied", _("Từ chối giải quyết (có văn bản nêu lý do)")

    dossier = models.OneToOneField(
        Dossier, verbose_name=_("hồ sơ"), on_delete=models.CASCADE, related_name="result"
    )
    kind = models.CharField(_("loại kết quả"), max_length=10, choices=Kind.choices)
    number = models.CharField(_("số, ký hiệu"), max_length=100)
    signed_on = models.DateField(_("ngày ký"))
    signer = models.CharField(_("người ký"), max_length=255)
    summary = models.TextField(_("trích yếu"), blank=True)
    file = models.FileField(_("tệp kết quả"), upload_to=result_file_path, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người cập nhật"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("cập nhật lúc"))
    returned_at = models.DateTimeField(_("trả lúc"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người trả"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    return_method = models.CharField(
        _("hình thức trả"), max_length=10, choices=Delivery.choices, blank=True
    )
    recipient_name = models.CharField(_("người nhận"), max_length=255, blank=True)
    recipient_id = models.CharField(_("giấy tờ của người nhận"), max_length=50, blank=True)
    waybill = models.CharField(_("mã vận đơn"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("kết quả giải quyết")
        verbose_name_plural = _("kết quả giải quyết")

    def __str__(self) -> str:
        return f"{self.number} ({self.dossier})"


class DossierEvent(models.Model):
    """Append-only history: who did what, when, and the status before and after.

    It renders the control slip (Mẫu 06), the register (Mẫu 07) and the public timeline.
    """

    dossier = models.ForeignKey(
        Dossier, verbose_name=_("hồ sơ"), on_delete=models.CASCADE, related_name="events"
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
    actor_label = models.CharField(_("người thực hiện (tên hiển thị)"), max_length=255)
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("cơ quan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("thao tác"), max_length=30)
    note = models.TextField(_("ghi chú"), blank=True)
    status_before = models.PositiveSmallIntegerField(
        _("trạng thái trước"), choices=Status.choices, null=True, blank=True
    )
    status_after = models.PositiveSmallIntegerField(_("trạng thái sau"), choices=Status.choices)
    step = models.ForeignKey(
        Step,
        verbose_name=_("bước"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    data = models.JSONField(_("dữ liệu"), default=dict, blank=True)

    class Meta:
        verbose_name = _("lịch sử xử lý")
        verbose_name_plural = _("lịch sử xử lý")
        ordering = ["dossier", "at", "id"]
        indexes = [models.Index(fields=["action", "at"]), models.Index(fields=["agency", "at"])]

    def __str__(self) -> str:
        return f"{self.dossier} {self.action} {self.at:%d/%m/%Y %H:%M}"


class DossierCodeCounter(models.Model):
    """The last sequence number issued by an agency on a day (dossier codes, §1.8)."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "day"], name="code_counter_per_agency_day")
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.day:%d/%m/%Y}: {self.last}"


class OutboxMessage(models.Model):
    """Work to do after a state change, written in the same transaction (never lost)."""

    topic = models.CharField(max_length=60, db_index=True)
    dossier = models.ForeignKey(
        Dossier, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox"
    )
    event = models.ForeignKey(
        DossierEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    available_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("việc chờ gửi")
        verbose_name_plural = _("việc chờ gửi")
        indexes = [
            models.Index(
                fields=["available_at"],
                condition=Q(delivered_at__isnull=True),
                name="outbox_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


class Rating(models.Model):
    """The applicant's satisfaction with how their dossier was handled: once, after the return.

    The scale is the three levels the national public-service portal asks citizens for
    (Rất hài lòng / Hài lòng / Không hài lòng); a "không hài lòng" counts against Decision 766
    indicator 5.4. The rating is about the responsible agency and the officer who handed the
    result over (else the one who finished the last step); monitoring sums it from the
    dossier's ``rate`` event (``data["score"]``).
    """

    class Score(models.IntegerChoices):
        UNSATISFIED = 1, _("Không hài lòng")
        SATISFIED = 2, _("Hài lòng")
        VERY_SATISFIED = 3, _("Rất hài lòng")

    dossier = models.OneToOneField(
        Dossier, verbose_name=_("hồ sơ"), on_delete=models.CASCADE, related_name="rating"
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("cơ quan được đánh giá"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cán bộ được đánh giá"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người đánh giá"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    score = models.PositiveSmallIntegerField(_("mức độ hài lòng"), choices=Score.choices)
    comment = models.TextField(_("ý kiến"), blank=True)
    created_at = models.DateTimeField(_("đánh giá lúc"))

    class Meta:
        verbose_name = _("đánh giá mức độ hài lòng")
        verbose_name_plural = _("đánh giá mức độ hài lòng")
        indexes = [models.Index(fields=["agency", "created_at"], name="rating_agency_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=3), name="rating_score_in_scale"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dossier} — {self.get_score_display()}"
