"""Drafts of online dossiers and their resumable uploads, before they become dossier rows.

A ``Draft`` is what a signed-in citizen fills in on the portal: the e-form of one procedure
variant (``kind=submission``), or the answer to a supplement request on one of their dossiers
(``kind=supplement``). Its files arrive through the tus protocol as ``Upload`` rows whose bytes
are kept on local disk (``partial.py``) until the draft is submitted; then each verified file
goes to the dossier through ``dossiers.services.attach_file`` in the same transaction as the
dossier (or the supplement) itself, and the partial files are deleted.

Drafts and uploads expire (``expires_at``); ``sweep`` in ``services.py`` (hourly, from
``tasks.py``) deletes what has expired. Nothing here touches a dossier's status.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from motcua.dossiers.models import Delivery


class Draft(models.Model):
    class Kind(models.TextChoices):
        SUBMISSION = "submission", _("Nộp hồ sơ")
        SUPPLEMENT = "supplement", _("Nộp bổ sung")

    class State(models.TextChoices):
        EDITING = "editing", _("Đang soạn")
        SUBMITTED = "submitted", _("Đã nộp")
        EXPIRED = "expired", _("Đã hết hạn")

    uuid = models.UUIDField(_("mã bản nháp"), default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("tài khoản"),
        on_delete=models.CASCADE,
        related_name="submission_drafts",
    )
    kind = models.CharField(_("loại"), max_length=12, choices=Kind.choices)
    state = models.CharField(
        _("tình trạng"), max_length=10, choices=State.choices, default=State.EDITING
    )
    procedure = models.ForeignKey(
        "catalog.Procedure", verbose_name=_("thủ tục"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.ForeignKey(
        "catalog.ProcedureVersion",
        verbose_name=_("phiên bản thủ tục"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    variant = models.ForeignKey(
        "catalog.Variant", verbose_name=_("trường hợp"), on_delete=models.PROTECT, related_name="+"
    )
    receiving_agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("cơ quan tiếp nhận"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A submission: the dossier it became. A supplement: the dossier it answers, and the request.
    dossier = models.ForeignKey(
        "dossiers.Dossier",
        verbose_name=_("hồ sơ"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    pause = models.ForeignKey(
        "dossiers.Pause",
        verbose_name=_("yêu cầu bổ sung"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    data = models.JSONField(_("nội dung tờ khai"), default=dict, blank=True)
    delivery = models.CharField(
        _("hình thức nhận kết quả"), max_length=10, choices=Delivery.choices, blank=True
    )
    delivery_address = models.CharField(_("địa chỉ nhận kết quả"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("lưu lúc"), auto_now=True)
    expires_at = models.DateTimeField(_("hết hạn lúc"), db_index=True)
    submitted_at = models.DateTimeField(_("nộp lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("bản nháp hồ sơ trực tuyến")
        verbose_name_plural = _("bản nháp hồ sơ trực tuyến")
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "state", "-updated_at"])]
        constraints = [
            # One answer per supplement request.
            models.UniqueConstraint(
                fields=["owner", "pause"],
                condition=Q(kind="supplement"),
                name="one_supplement_draft_per_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.procedure_id} ({self.uuid})"


class Upload(models.Model):
    """One file sent with the tus protocol: bytes on local disk until the draft is submitted."""

    class State(models.TextChoices):
        RECEIVING = "receiving", _("Đang tải lên")
        VERIFIED = "verified", _("Đã kiểm tra")
        REJECTED = "rejected", _("Bị từ chối")
        ATTACHED = "attached", _("Đã đính kèm vào hồ sơ")

    uuid = models.UUIDField(_("mã tệp tải lên"), default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("tài khoản"),
        on_delete=models.CASCADE,
        related_name="submission_uploads",
    )
    draft = models.ForeignKey(
        Draft, verbose_name=_("bản nháp"), on_delete=models.CASCADE, related_name="uploads"
    )
    # "c<component id>" for a paper of the variant, "s<n>" for item n of a supplement request.
    slot = models.CharField(_("ô tải lên"), max_length=40)
    filename = models.CharField(_("tên tệp"), max_length=255)
    declared_type = models.CharField(_("loại tệp khai báo"), max_length=100, blank=True)
    length = models.PositiveBigIntegerField(_("kích thước (byte)"))
    offset = models.PositiveBigIntegerField(_("đã nhận (byte)"), default=0)
    sha256_expected = models.CharField(_("SHA-256 khai báo"), max_length=64)
    sha256_verified = models.CharField(_("SHA-256 đã kiểm tra"), max_length=64, blank=True)
    content_type = models.CharField(
        _("loại nội dung (theo nội dung tệp)"), max_length=100, blank=True
    )
    storage_path = models.CharField(_("tệp tạm"), max_length=500)
    state = models.CharField(
        _("tình trạng"), max_length=10, choices=State.choices, default=State.RECEIVING
    )
    error_code = models.CharField(_("mã lỗi"), max_length=60, blank=True)
    error_message = models.TextField(_("lỗi"), blank=True)
    # A PATCH in progress holds the upload until it ends (or until this time, if it died).
    lock_token = models.CharField(max_length=32, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)
    expires_at = models.DateTimeField(_("hết hạn lúc"), db_index=True)
    completed_at = models.DateTimeField(_("nhận đủ lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("tệp tải lên")
        verbose_name_plural = _("tệp tải lên")
        ordering = ["draft", "slot", "created_at", "id"]
        indexes = [models.Index(fields=["draft", "state"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(offset__lte=models.F("length")), name="upload_offset_within_length"
            )
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.offset}/{self.length})"

    @property
    def complete(self) -> bool:
        return self.offset == self.length

    @property
    def percent(self) -> int:
        return int(self.offset * 100 / self.length) if self.length else 100

    @property
    def size_label(self) -> str:
        if self.length >= 1024 * 1024:
            return f"{self.length / (1024 * 1024):.1f} MB".replace(".", ",")
        return f"{max(1, round(self.length / 1024))} KB"
