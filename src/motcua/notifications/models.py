"""What was sent to whom, and how each applicant wants to be told.

``Notification`` is one message for one event of a dossier on one channel: at most one row per
(event, channel), enforced by the database, so an event re-delivered by the outbox is never
sent twice. The row is written (state ``sending``) and committed before the provider is called,
and updated after (``sent``, ``failed`` — to be retried —, ``undeliverable``); a row left in
``sending`` by a worker that died becomes ``unknown`` and is not sent again automatically
(docs/notifications.md: at most once).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Thư điện tử")
    SMS = "sms", _("Tin nhắn SMS")
    ZALO = "zalo", _("Zalo")


class Kind(models.TextChoices):
    """The events of a dossier an applicant is told about."""

    RECEIVED = "received", _("Đã tiếp nhận hồ sơ")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Yêu cầu bổ sung, hoàn thiện hồ sơ")
    SUPPLEMENT_RECEIVED = "supplement_received", _("Đã nhận hồ sơ bổ sung")
    PAYMENT_REQUESTED = "payment_requested", _("Yêu cầu thực hiện nghĩa vụ tài chính")
    EXTENDED = "extended", _("Xin lỗi và hẹn lại ngày trả kết quả")
    RESULT_READY = "result_ready", _("Đã có kết quả giải quyết")
    RETURNED = "returned", _("Đã trả kết quả")
    REFUSED = "refused", _("Từ chối tiếp nhận hồ sơ")
    STOPPED = "stopped", _("Dừng giải quyết hồ sơ")
    WITHDRAWN = "withdrawn", _("Rút hồ sơ")


class Notification(models.Model):
    """One message about one event of a dossier on one channel."""

    class Status(models.TextChoices):
        SENDING = "sending", _("Đang gửi")
        SENT = "sent", _("Đã gửi")
        FAILED = "failed", _("Gửi lỗi, sẽ thử lại")
        UNDELIVERABLE = "undeliverable", _("Không gửi được")
        UNKNOWN = "unknown", _("Không rõ đã gửi chưa")

    dossier = models.ForeignKey(
        "dossiers.Dossier",
        verbose_name=_("hồ sơ"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    event = models.ForeignKey(
        "dossiers.DossierEvent",
        verbose_name=_("sự kiện"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("loại thông báo"), max_length=30, choices=Kind.choices)
    channel = models.CharField(_("kênh"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("người nhận (địa chỉ)"), max_length=254, blank=True)
    subject = models.CharField(_("tiêu đề"), max_length=255, blank=True)
    body = models.TextField(_("nội dung"))
    html = models.TextField(_("nội dung HTML"), blank=True)
    status = models.CharField(_("tình trạng"), max_length=15, choices=Status.choices)
    # Set by the provider that handled the row; a sandbox records what it would have sent.
    provider = models.CharField(_("nhà cung cấp"), max_length=200, blank=True)
    sandbox = models.BooleanField(_("thử nghiệm (không gửi thật)"), default=False)
    provider_message_id = models.CharField(_("mã tin của nhà cung cấp"), max_length=200, blank=True)
    provider_response = models.JSONField(_("phản hồi của nhà cung cấp"), default=dict, blank=True)
    error = models.TextField(_("lỗi"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("số lần gửi"), default=0)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    sending_since = models.DateTimeField(_("bắt đầu gửi lúc"), null=True, blank=True)
    sent_at = models.DateTimeField(_("gửi xong lúc"), null=True, blank=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        verbose_name = _("thông báo đã gửi")
        verbose_name_plural = _("thông báo đã gửi")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "channel"], name="one_notification_per_event")
        ]
        indexes = [
            models.Index(fields=["created_at"], name="notification_created"),
            models.Index(fields=["status", "created_at"], name="notification_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.get_channel_display()}"


class NotificationPreference(models.Model):
    """The channels an applicant wants to be told on.

    Without a row every applicant gets the default: e-mail and SMS wanted, Zalo not. A wanted
    channel is used only when the applicant has its address (an e-mail address, a phone
    number), so in practice: e-mail if an address is known, SMS if a phone is known. Officers
    change it in the admin; the portal will let citizens change it once they have accounts.
    """

    applicant = models.OneToOneField(
        "dossiers.Applicant",
        verbose_name=_("người nộp hồ sơ"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    email = models.BooleanField(_("nhận qua thư điện tử"), default=True)
    sms = models.BooleanField(_("nhận qua tin nhắn SMS"), default=True)
    zalo = models.BooleanField(_("nhận qua Zalo"), default=False)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        verbose_name = _("lựa chọn nhận thông báo")
        verbose_name_plural = _("lựa chọn nhận thông báo")

    def __str__(self) -> str:
        return str(self.applicant)

    def wants(self, channel: str) -> bool:
        return bool(getattr(self, channel, False))
