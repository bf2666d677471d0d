"""Citizens' accounts: sign-in identifiers, one-time codes, registration, single sign-on users,
and the profile as the applicant of a dossier.

A citizen signs in with the phone number or e-mail address they proved to own at registration:
it is their Django ``username`` in normal form (``0912345678``; ``ten@example.vn`` lower-cased).
Registration writes nothing but a ``OneTimeCode`` row until the code comes back: the user and
their profile are created in the same transaction that marks the code used, so a wrong, expired,
replayed or throttled code leaves no account behind.

The code itself is never stored (a keyed hash is) and never logged; the caller sends it (the
portal uses ``motcua.notifications.direct``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext

from motcua.core import codes
from motcua.core.errors import Conflict, DomainError, InvalidInput

from .models import CitizenKind, CitizenProfile, Membership, OneTimeCode

if TYPE_CHECKING:
    from motcua.dossiers.services import ApplicantInput

T = TypeVar("T")
CODE_DIGITS = 6
_HASH_SALT = "motcua.accounts.one-time-code"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def code_minutes() -> int:
    """How long a code is valid."""
    return _setting("MOTCUA_CITIZEN_CODE_MINUTES", 10)


def code_attempts() -> int:
    """Wrong tries a code allows; after that it is dead and a new one must be asked for."""
    return _setting("MOTCUA_CITIZEN_CODE_ATTEMPTS", 5)


# --- errors -------------------------------------------------------------------------------------


class InvalidIdentifier(InvalidInput):
    code = "invalid_identifier"
    default_message = (
        "Số điện thoại hoặc địa chỉ thư điện tử không hợp lệ. Số điện thoại di động gồm 10 chữ "
        "số, ví dụ 0912 345 678 hoặc +84 912 345 678."
    )


class AlreadyRegistered(Conflict):
    code = "already_registered"
    default_message = "Tài khoản này đã được đăng ký. Vui lòng đăng nhập."


class WeakPassword(InvalidInput):
    code = "weak_password"
    default_message = "Mật khẩu chưa đủ mạnh."


class CodeError(DomainError):
    """A one-time code that cannot be accepted."""


class WrongCode(CodeError):
    code = "wrong_code"
    default_message = "Mã xác minh không đúng."


class CodeExpired(CodeError):
    code = "code_expired"
    default_message = "Mã xác minh đã hết hạn. Vui lòng yêu cầu gửi mã mới."


class CodeUsed(CodeError):
    code = "code_used"
    status = 409
    default_message = "Mã xác minh này đã được sử dụng. Mỗi mã chỉ dùng được một lần."


class TooManyAttempts(CodeError):
    code = "too_many_attempts"
    status = 429
    default_message = "Bạn đã nhập sai mã quá nhiều lần. Vui lòng yêu cầu gửi mã mới."


class NoPendingCode(CodeError):
    code = "no_pending_code"
    default_message = "Không có yêu cầu xác minh nào đang chờ. Vui lòng đăng ký lại."


class CodeThrottled(DomainError):
    code = "too_many_codes"
    status = 429
    default_message = "Bạn đã yêu cầu quá nhiều mã xác minh. Vui lòng thử lại sau."


# --- identifiers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identifier:
    """A sign-in identifier in normal form: ``kind`` is ``phone`` or ``email``."""

    kind: str
    value: str

    @property
    def channel(self) -> str:
        """The notification channel a code for this identifier goes through."""
        return OneTimeCode.Channel.SMS if self.kind == "phone" else OneTimeCode.Channel.EMAIL

    @property
    def masked(self) -> str:
        if self.kind == "phone":
            return codes.mask_phone(self.value)
        name, _, domain = self.value.partition("@")
        return f"{name[:2]}{'*' * max(1, len(name) - 2)}@{domain}"


def parse_identifier(raw: str) -> Identifier:
    """A phone number (normalised to ``0xxxxxxxxx``) or an e-mail address (lower-cased)."""
    value = (raw or "").strip()
    if not value:
        raise InvalidIdentifier("Chưa nhập số điện thoại hoặc địa chỉ thư điện tử.")
    if "@" in value:
        value = value.lower()
        try:
            validate_email(value)
        except ValidationError:
            raise InvalidIdentifier("Địa chỉ thư điện tử không hợp lệ.") from None
        if len(value) > 150:
            raise InvalidIdentifier("Địa chỉ thư điện tử quá dài (tối đa 150 ký tự).")
        return Identifier("email", value)
    try:
        return Identifier("phone", codes.normalize_phone(value))
    except DomainError:
        raise InvalidIdentifier() from None


def is_officer(user) -> bool:
    """Officers (any membership), staff and superusers sign in at /can-bo/, never here."""
    if user is None or not getattr(user, "pk", None):
        return False
    return bool(user.is_superuser or user.is_staff or Membership.objects.filter(user=user).exists())


def citizen_of(user) -> CitizenProfile | None:
    """The user's citizen profile, or ``None`` (officers and service accounts have none)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.citizen_profile
    except CitizenProfile.DoesNotExist:
        return None


def is_registered(identifier: Identifier) -> bool:
    """Whether an account already signs in (or could) with this phone number or address."""
    users = get_user_model().objects.filter(username__iexact=identifier.value)
    if identifier.kind == "phone":
        profiles = CitizenProfile.objects.filter(phone=identifier.value, phone_verified=True)
    else:
        profiles = CitizenProfile.objects.filter(
            email__iexact=identifier.value, email_verified=True
        )
    return users.exists() or profiles.exists()


def _already_registered(identifier: Identifier) -> AlreadyRegistered:
    if identifier.kind == "phone":
        message = (
            "Số điện thoại này đã được đăng ký tài khoản. Vui lòng đăng nhập, hoặc dùng số "
            "điện thoại khác."
        )
    else:
        message = (
            "Địa chỉ thư điện tử này đã được đăng ký tài khoản. Vui lòng đăng nhập, hoặc dùng "
            "địa chỉ khác."
        )
    return AlreadyRegistered(message, field="identifier")


def password_problems(password: str, identifier: Identifier) -> list[str]:
    """The messages of Django's password validators (``AUTH_PASSWORD_VALIDATORS``)."""
    User = get_user_model()
    candidate = User(
        username=identifier.value, email=identifier.value if identifier.kind == "email" else ""
    )
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        return [_password_message(error) for error in exc.error_list]
    return []


def _password_message(error: ValidationError) -> str:
    """Our wording for Django's validators (its Vietnamese catalogue misses some of them)."""
    params = error.params or {}
    if error.code == "password_too_short":
        return gettext("Mật khẩu quá ngắn: cần ít nhất %(min_length)d ký tự.") % {
            "min_length": params.get("min_length", 8)
        }
    messages = {
        "password_too_common": gettext("Mật khẩu này quá phổ biến, dễ bị đoán."),
        "password_entirely_numeric": gettext("Mật khẩu không được chỉ gồm chữ số."),
        "password_too_similar": gettext(
            "Mật khẩu quá giống số điện thoại hoặc địa chỉ thư điện tử của bạn."
        ),
    }
    if error.code in messages:
        return messages[error.code]
    return " ".join(error.messages)


# --- one-time codes -----------------------------------------------------------------------------


def code_hash(row: OneTimeCode, code: str) -> str:
    """A keyed hash (HMAC-SHA256 with ``SECRET_KEY``): a leaked table reveals no code."""
    value = f"{row.purpose}:{row.address}:{code}"
    return salted_hmac(_HASH_SALT, value, algorithm="sha256").hexdigest()


def _throttle(identifier: Identifier, client_ip: str | None, now: dt.datetime) -> None:
    """Refuse a new code when the address or the client asked for too many lately."""
    gap = _setting("MOTCUA_CITIZEN_CODE_RESEND_SECONDS", 60)
    per_address = _setting("MOTCUA_CITIZEN_CODES_PER_HOUR", 5)
    per_client = _setting("MOTCUA_CITIZEN_CODES_PER_HOUR_PER_CLIENT", 20)
    hour_ago = now - dt.timedelta(hours=1)
    recent = OneTimeCode.objects.filter(address=identifier.value, created_at__gte=hour_ago)
    last = recent.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None and (now - last).total_seconds() < gap:
        wait = max(1, int(gap - (now - last).total_seconds()))
        raise CodeThrottled(
            f"Mã xác minh vừa được gửi. Vui lòng chờ {wait} giây rồi yêu cầu gửi lại.",
            code="resend_too_soon",
            retry_after=wait,
        )
    if recent.count() >= per_address or (
        client_ip
        and OneTimeCode.objects.filter(requested_from=client_ip, created_at__gte=hour_ago).count()
        >= per_client
    ):
        raise CodeThrottled(
            "Bạn đã yêu cầu quá nhiều mã xác minh trong một giờ. Vui lòng thử lại sau.",
            retry_after=3600,
        )


def issue_code(
    identifier: Identifier,
    *,
    purpose: str,
    payload: dict[str, Any] | None = None,
    client_ip: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[OneTimeCode, str]:
    """Create a code for ``identifier``; return the row and the code (to send, never to log).

    Raises ``CodeThrottled`` when the address had a code less than
    ``MOTCUA_CITIZEN_CODE_RESEND_SECONDS`` ago, or it or the client had too many in the last
    hour (``MOTCUA_CITIZEN_CODES_PER_HOUR``, ``MOTCUA_CITIZEN_CODES_PER_HOUR_PER_CLIENT``).
    """
    now = now or timezone.now()
    with transaction.atomic():
        _throttle(identifier, client_ip or None, now)
        # Codes older than a day are of no use, not even for throttling.
        OneTimeCode.objects.filter(created_at__lt=now - dt.timedelta(days=1)).delete()
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        row = OneTimeCode(
            purpose=purpose,
            channel=identifier.channel,
            address=identifier.value,
            payload=payload or {},
            requested_from=client_ip or None,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=code_minutes()),
        )
        row.code_hash = code_hash(row, code)
        row.save()
    return row, code


def _problem(row: OneTimeCode, code: str, now: dt.datetime) -> CodeError | None:
    if row.used_at is not None:
        return CodeUsed()
    if row.attempts >= code_attempts():
        return TooManyAttempts()
    if now >= row.expires_at:
        return CodeExpired()
    given = "".join((code or "").split())
    if not (given.isascii() and given.isdigit() and len(given) == CODE_DIGITS):
        return WrongCode(f"Mã xác minh gồm đúng {CODE_DIGITS} chữ số.", code="malformed_code")
    if not constant_time_compare(row.code_hash, code_hash(row, given)):
        left = code_attempts() - row.attempts - 1
        if left <= 0:
            return TooManyAttempts()
        return WrongCode(f"Mã xác minh không đúng. Bạn còn {left} lần thử.", attempts_left=left)
    return None


def redeem(
    row_id: int | None,
    code: str,
    *,
    purpose: str,
    then: Callable[[OneTimeCode], T],
    now: dt.datetime | None = None,
) -> T:
    """Check ``code`` against the row and, if right, call ``then(row)`` and mark the code used,
    all in one transaction (``then`` raising leaves the code unused and nothing written).

    A wrong code counts one attempt, committed even though the call raises.
    """
    now = now or timezone.now()
    problem: CodeError | None
    with transaction.atomic():
        row = (
            OneTimeCode.objects.select_for_update().filter(pk=row_id, purpose=purpose).first()
            if row_id
            else None
        )
        if row is None:
            raise NoPendingCode()
        problem = _problem(row, code, now)
        if problem is None:
            result = then(row)
            row.used_at = now
            row.payload = {}
            row.save(update_fields=["used_at", "payload"])
            return result
        counted = isinstance(problem, WrongCode | TooManyAttempts)
        if counted and problem.code != "malformed_code" and row.attempts < code_attempts():
            row.attempts += 1
            row.save(update_fields=["attempts"])
    raise problem


# --- registration -------------------------------------------------------------------------------


def start_registration(
    raw_identifier: str, password: str, *, client_ip: str | None = None
) -> tuple[OneTimeCode, str, Identifier]:
    """Check the identifier and password and issue the code; nothing else is stored.

    Returns the code row (its id goes into the session), the code (to send) and the
    identifier. The password is kept, hashed, in the code row until the code comes back.
    """
    identifier = parse_identifier(raw_identifier)
    if is_registered(identifier):
        raise _already_registered(identifier)
    problems = password_problems(password, identifier)
    if problems:
        raise WeakPassword(" ".join(problems), field="password")
    row, code = issue_code(
        identifier,
        purpose=OneTimeCode.Purpose.REGISTER,
        payload={"password": make_password(password)},
        client_ip=client_ip,
    )
    return row, code, identifier


def resend_code(row_id: int | None, *, client_ip: str | None = None) -> tuple[OneTimeCode, str]:
    """A new code for the same pending registration (the old one stops being asked for)."""
    row = (
        OneTimeCode.objects.filter(
            pk=row_id, purpose=OneTimeCode.Purpose.REGISTER, used_at__isnull=True
        ).first()
        if row_id
        else None
    )
    if row is None:
        raise NoPendingCode()
    identifier = parse_identifier(row.address)
    return issue_code(
        identifier, purpose=row.purpose, payload=dict(row.payload), client_ip=client_ip
    )


def complete_registration(row_id: int | None, code: str, *, now: dt.datetime | None = None):
    """Check the code; create the user and their profile; return the user."""

    def create(row: OneTimeCode):
        identifier = parse_identifier(row.address)
        if is_registered(identifier):
            raise _already_registered(identifier)
        User = get_user_model()
        user = User(
            username=identifier.value,
            email=identifier.value if identifier.kind == "email" else "",
        )
        user.password = row.payload.get("password") or make_password(None)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # registered a moment ago by another request
            raise _already_registered(identifier) from None
        phone = identifier.kind == "phone"
        CitizenProfile.objects.create(
            user=user,
            phone=identifier.value if phone else "",
            phone_verified=phone,
            email=identifier.value if not phone else "",
            email_verified=not phone,
        )
        return user

    return redeem(row_id, code, purpose=OneTimeCode.Purpose.REGISTER, then=create, now=now)


# --- single sign-on -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SsoClaims:
    """What an identity provider said about the person, already picked from its claims."""

    issuer: str
    subject: str
    name: str = ""
    phone: str = ""
    email: str = ""
    personal_id: str = ""


def citizen_from_sso(claims: SsoClaims):
    """The user signed in by ``(issuer, subject)``: found, or created on first sign-in.

    Never linked to an existing account by e-mail, phone or personal id (those may be claimed
    by anyone on a local account): one provider identity, one account. Claims that do not
    validate (a malformed phone or personal id) are left out rather than refused. The details
    the provider vouches for refresh the profile at every sign-in.
    """
    if not claims.subject:
        raise InvalidInput("Nhà cung cấp định danh không trả về mã định danh người dùng.")
    phone = _valid(codes.normalize_phone, claims.phone)
    personal_id = _valid(codes.validate_personal_id, claims.personal_id)
    email = _valid(_email, claims.email)
    name = " ".join((claims.name or "").split())[:255]
    with transaction.atomic():
        profile = (
            CitizenProfile.objects.select_for_update()
            .select_related("user")
            .filter(oidc_issuer=claims.issuer, oidc_subject=claims.subject)
            .first()
        )
        if profile is None:
            User = get_user_model()
            digest = salted_hmac(_HASH_SALT, f"{claims.issuer}|{claims.subject}").hexdigest()
            user = User(username=f"sso-{digest[:24]}", email=email)
            user.set_unusable_password()
            user.save()
            profile = CitizenProfile(
                user=user, oidc_issuer=claims.issuer, oidc_subject=claims.subject
            )
        fields = {
            "full_name": name,
            "phone": phone,
            "email": email,
            "personal_id": personal_id,
        }
        for field, value in fields.items():
            if value:
                setattr(profile, field, value)
        profile.phone_verified = profile.phone_verified or bool(phone)
        profile.email_verified = profile.email_verified or bool(email)
        if personal_id:
            profile.kind = CitizenKind.INDIVIDUAL
            profile.identity_verified = True
        profile.save()
        return profile.user


def _email(value: str) -> str:
    value = value.strip().lower()
    validate_email(value)
    return value


def _valid(check: Callable[[str], str], value: str) -> str:
    if not value:
        return ""
    try:
        return check(str(value))
    except (DomainError, ValidationError):
        return ""


# --- the profile as the applicant of a dossier ------------------------------------------------


def applicant_input_for(user) -> ApplicantInput:
    """The applicant part of a dossier form, prefilled from the user's citizen profile.

    Empty fields (an empty ``ApplicantInput``) for a user without a profile. The address units
    are given by code, as ``services.submit`` wants them.
    """
    from motcua.dossiers.services import ApplicantInput

    profile = citizen_of(user)
    if profile is None:
        return ApplicantInput()
    return ApplicantInput(
        kind=profile.kind,
        name=profile.full_name,
        personal_id=profile.personal_id if profile.kind == CitizenKind.INDIVIDUAL else "",
        tax_code=profile.tax_code if profile.kind == CitizenKind.ORGANISATION else "",
        phone=profile.phone,
        email=profile.email,
        province_code=profile.province.code if profile.province_id else "",
        commune_code=profile.commune.code if profile.commune_id else "",
        address_line=profile.address_line,
    )


def notification_channels_for(user) -> dict[str, bool]:
    """The channels the citizen wants to be told on (``email``, ``sms``, ``zalo``)."""
    profile = citizen_of(user)
    if profile is None:
        return {"email": True, "sms": True, "zalo": False}
    return {name: profile.wants(name) for name in ("email", "sms", "zalo")}
