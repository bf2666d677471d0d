"""Signing an officer in, in one or two steps.

Officers who need a second factor (``access.requires_otp``) are *not* signed in after their
password: the session only remembers, for ``MOTCUA_OTP_PENDING_SECONDS``, that this user passed
the password step. They are signed in (Django session and django-otp device together) only once
their TOTP code is right: a leader's password alone, given here, yields no session at all (so
neither the back office nor the session-authenticated API). The Django admin keeps its own
password-only sign-in; the back-office gate still asks such a session for the code.
"""

from __future__ import annotations

import time

import django_otp
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.plugins.otp_totp.models import TOTPDevice

PENDING_KEY = "backoffice_pending_signin"
# Name of the device created by the enrolment page.
DEVICE_NAME = "motcua"


def safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    """``candidate`` if it is a path on this site, else ``None`` (no open redirect)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def start_pending(request: HttpRequest, user, next_url: str | None) -> None:
    """Remember that ``user`` passed the password step; a new session key against fixation."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "at": time.time(),
        "next": next_url or "",
    }


def clear_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def pending_next(request: HttpRequest) -> str | None:
    pending = request.session.get(PENDING_KEY) or {}
    return safe_next(request, pending.get("next"))


def pending_user(request: HttpRequest):
    """The user waiting for their second factor in this session, or ``None`` (expired too)."""
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return None
    if time.time() - float(pending.get("at", 0)) > settings.MOTCUA_OTP_PENDING_SECONDS:
        clear_pending(request)
        return None
    user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None:
        clear_pending(request)
        return None
    user.backend = pending["backend"]
    return user


def second_factor_user(request: HttpRequest):
    """Whom the code pages serve: the pending user, else a signed-in user not yet verified
    (signed in elsewhere, e.g. the admin). ``None`` when there is nobody to verify."""
    user = pending_user(request)
    if user is not None:
        return user
    if request.user.is_authenticated:
        check = getattr(request.user, "is_verified", None)
        if not (check and check()):
            return request.user
    return None


def confirmed_devices(user) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk"))


def enrolment_device(user) -> TOTPDevice:
    """The user's unconfirmed device being set up (kept across reloads so the QR code scanned
    stays valid), created with a fresh random key when there is none."""
    device = (
        TOTPDevice.objects.devices_for_user(user, confirmed=False)
        .filter(name=DEVICE_NAME)
        .order_by("pk")
        .first()
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def complete(request: HttpRequest, user, device=None) -> None:
    """Sign ``user`` in (if the password step left them pending) and record ``device`` as the
    second factor of this session."""
    if not request.user.is_authenticated or request.user.pk != user.pk:
        # A new session key; the data of a pending sign-in is kept, another user's is not.
        auth.login(request, user, backend=getattr(user, "backend", None))
    clear_pending(request)
    if device is not None:
        django_otp.login(request, device)
