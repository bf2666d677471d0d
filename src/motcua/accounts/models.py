"""Who may do what: officers' memberships (agency × department × role), API tokens, and the
citizens' accounts of the portal (``CitizenProfile``, ``OneTimeCode``).

Django auth keeps the users; a ``Membership`` says that a user works for an agency (optionally
one department of it) in one role. A user may hold several memberships. API clients (the
national portal, other systems) authenticate with an ``ApiToken`` that carries scopes and acts
for a service user, whose memberships (if any) give its rights on dossiers.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles of the one-stop mechanism (one-stop-rules §1.2) plus monitoring and administration."""

    COUNTER_OFFICER = "counter_officer", _("Cán bộ một cửa")
    SPECIALIST = "specialist", _("Chuyên viên")
    LEADER = "leader", _("Lãnh đạo")
    CLERK = "clerk", _("Văn thư")
    MONITOR = "monitor", _("Giám sát")
    ADMINISTRATOR = "administrator", _("Quản trị")


class Membership(models.Model):
    """A user works for ``agency`` (and ``department`` if set) in ``role``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người dùng"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("cơ quan"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    department = models.ForeignKey(
        "agencies.Department",
        verbose_name=_("phòng, ban"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("vai trò"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("đang hiệu lực"), default=True)

    class Meta:
        verbose_name = _("phân quyền cán bộ")
        verbose_name_plural = _("phân quyền cán bộ")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "agency", "department", "role"], name="membership_unique"
            )
        ]
        indexes = [models.Index(fields=["agency", "role"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.agency}"


class Scope(models.TextChoices):
    """What an API token may do."""

    DOSSIERS_READ = "dossiers:read", _("Đọc hồ sơ")
    DOSSIERS_SUBMIT = "dossiers:submit", _("Nộp hồ sơ trực tuyến")
    DOSSIERS_PROCESS = "dossiers:process", _("Tiếp nhận và xử lý hồ sơ")
    MONITORING_READ = "monitoring:read", _("Đọc số liệu giám sát, chấm điểm")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token of an API client. Only its SHA-256 is stored; the raw value is shown once."""

    name = models.CharField(_("tên ứng dụng"), max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("tài khoản dịch vụ"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    prefix = models.CharField(_("tiền tố"), max_length=12, editable=False, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("phạm vi"), default=list)
    is_active = models.BooleanField(_("đang hiệu lực"), default=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dùng lần cuối"), null=True, blank=True)

    class Meta:
        verbose_name = _("mã truy cập API")
        verbose_name_plural = _("mã truy cập API")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, *, name: str, user, scopes: list[str]) -> tuple[ApiToken, str]:
        """Create a token; return it with the raw value (shown once, never stored)."""
        unknown = set(scopes) - set(Scope.values)
        if unknown:
            raise ValueError(f"unknown scopes: {sorted(unknown)}")
        raw = "mc_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            name=name, user=user, prefix=raw[:10], key_hash=hash_token(raw), scopes=list(scopes)
        )
        return token, raw

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


# --- citizens ---------------------------------------------------------------------------------


class CitizenKind(models.TextChoices):
    """The same values as ``dossiers.Applicant.Kind`` (this app sits below dossiers)."""

    INDIVIDUAL = "individual", _("Cá nhân")
    ORGANISATION = "organisation", _("Tổ chức")


class CitizenProfile(models.Model):
    """A citizen's (or an organisation's) account on the portal, one-to-one to a Django user.

    The user signs in with the phone number or e-mail address verified at registration (their
    ``username``, normalised: ``0xxxxxxxxx`` or the lower-cased address) or through single
    sign-on (``oidc_issuer`` + ``oidc_subject``). The personal data here fills the applicant
    part of online forms (``citizens.applicant_input_for``). Officers are not citizens: a user
    with a membership, staff or superuser status cannot use the portal's sign-in.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người dùng"),
        on_delete=models.CASCADE,
        related_name="citizen_profile",
    )
    kind = models.CharField(
        _("loại"), max_length=12, choices=CitizenKind.choices, default=CitizenKind.INDIVIDUAL
    )
    full_name = models.CharField(_("họ tên / tên tổ chức"), max_length=255, blank=True)
    personal_id = models.CharField(_("số định danh cá nhân"), max_length=12, blank=True)
    tax_code = models.CharField(_("mã số thuế"), max_length=14, blank=True)
    phone = models.CharField(_("số điện thoại"), max_length=15, blank=True)
    email = models.EmailField(_("thư điện tử"), blank=True)
    # What the user proved to own: the address the registration code went to, or what the
    # identity provider vouched for.
    phone_verified = models.BooleanField(_("đã xác minh số điện thoại"), default=False)
    email_verified = models.BooleanField(_("đã xác minh thư điện tử"), default=False)
    identity_verified = models.BooleanField(
        _("định danh do nhà cung cấp định danh xác nhận"), default=False
    )
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
    notify_email = models.BooleanField(_("nhận thông báo qua thư điện tử"), default=True)
    notify_sms = models.BooleanField(_("nhận thông báo qua tin nhắn SMS"), default=True)
    notify_zalo = models.BooleanField(_("nhận thông báo qua Zalo"), default=False)
    oidc_issuer = models.CharField(_("nhà cung cấp định danh"), max_length=255, blank=True)
    oidc_subject = models.CharField(_("mã định danh tại nhà cung cấp"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        verbose_name = _("tài khoản công dân")
        verbose_name_plural = _("tài khoản công dân")
        constraints = [
            models.UniqueConstraint(
                fields=["oidc_issuer", "oidc_subject"],
                condition=~models.Q(oidc_subject=""),
                name="citizen_unique_oidc_subject",
            )
        ]

    def __str__(self) -> str:
        return self.full_name or self.user.get_username()

    @property
    def masked_personal_id(self) -> str:
        from motcua.core import codes

        return codes.mask_personal_id(self.personal_id) if self.personal_id else ""

    def wants(self, channel: str) -> bool:
        return bool(getattr(self, f"notify_{channel}", False))


class OneTimeCode(models.Model):
    """A one-time code sent to a phone or an e-mail address to prove it is the user's.

    Only a keyed hash of the code is stored (``citizens.code_hash``); the code itself exists in
    the message sent and nowhere else (never in a log). A code expires, allows a few wrong
    tries, and is used once: ``used_at`` is set by the successful check, under a row lock.
    ``payload`` keeps what the verified step needs (for a registration: the password's hash),
    and is emptied once the code is used.
    """

    class Purpose(models.TextChoices):
        REGISTER = "register", _("Đăng ký tài khoản")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Thư điện tử")
        SMS = "sms", _("Tin nhắn SMS")

    purpose = models.CharField(_("mục đích"), max_length=20, choices=Purpose.choices)
    channel = models.CharField(_("kênh gửi"), max_length=10, choices=Channel.choices)
    address = models.CharField(_("gửi tới"), max_length=254)
    code_hash = models.CharField(max_length=64, editable=False)
    payload = models.JSONField(default=dict, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("số lần nhập sai"), default=0)
    requested_from = models.GenericIPAddressField(_("yêu cầu từ địa chỉ"), null=True, blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), default=timezone.now)
    expires_at = models.DateTimeField(_("hết hạn lúc"))
    used_at = models.DateTimeField(_("đã dùng lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("mã xác minh một lần")
        verbose_name_plural = _("mã xác minh một lần")
        indexes = [
            models.Index(fields=["address", "created_at"], name="onetimecode_address"),
            models.Index(fields=["requested_from", "created_at"], name="onetimecode_client"),
            models.Index(fields=["created_at"], name="onetimecode_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} — {self.get_channel_display()}"
