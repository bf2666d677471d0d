"""Who may do what: officers' memberships (agency × department × role) and API tokens.

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
