"""Sign-in, sign-out and the second factor (TOTP) of the back office.

Password first (``SignInForm`` through django-axes). Officers who need a second factor are then
sent to the code page, or to the enrolment page when they have no confirmed device yet; see
``signin`` for why they are not signed in before their code is right.
"""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

import django_otp
import segno
from axes.helpers import get_cool_off, get_failure_limit
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from .. import signin
from ..access import public_view, requires_otp
from ..context import memberships_of
from ..forms import CodeForm, SignInForm


def _next(request: HttpRequest) -> str | None:
    return signin.safe_next(request, request.POST.get("next") or request.GET.get("next"))


def _url(name: str, next_url: str | None = None) -> str:
    url = reverse(f"backoffice:{name}")
    return url + "?" + urlencode({"next": next_url}) if next_url else url


@public_view
@sensitive_post_parameters("password")
@never_cache
def login(request: HttpRequest) -> HttpResponse:
    """The officers' sign-in page (/can-bo/dang-nhap/)."""
    next_url = _next(request)
    if request.method != "POST":
        if request.user.is_authenticated:
            return redirect(next_url or _url("home"))
        form = SignInForm(request)
    else:
        form = SignInForm(request, data=request.POST)
        if form.is_valid():
            user = form.get_user()
            if not memberships_of(user):
                form.add_error(
                    None,
                    _(
                        "Tài khoản này chưa được phân công vào cơ quan nào (hoặc phân công đã hết "
                        "hiệu lực), nên chưa dùng được trang cán bộ. Vui lòng liên hệ quản trị "
                        "hệ thống."
                    ),
                )
            elif requires_otp(user):
                signin.start_pending(request, user, next_url)
                step = "otp_verify" if signin.confirmed_devices(user) else "otp_setup"
                return redirect(_url(step))
            else:
                auth.login(request, user)
                return redirect(next_url or _url("home"))
    return render(request, "backoffice/login.html", {"form": form, "next": next_url or ""})


def locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """django-axes' lockout response (``AXES_LOCKOUT_CALLABLE``): the sign-in page, HTTP 429,
    saying for how long sign-in is locked."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0
    limit = get_failure_limit(request, credentials)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    if minutes:
        message = ngettext(
            "Tài khoản tạm thời bị khóa vì đăng nhập sai %(limit)d lần. Vui lòng thử lại sau "
            "%(minutes)d phút, hoặc liên hệ quản trị hệ thống để được mở khóa.",
            "Tài khoản tạm thời bị khóa vì đăng nhập sai %(limit)d lần. Vui lòng thử lại sau "
            "%(minutes)d phút, hoặc liên hệ quản trị hệ thống để được mở khóa.",
            minutes,
        ) % {"limit": limit, "minutes": minutes}
    else:
        message = _(
            "Tài khoản bị khóa vì đăng nhập sai %(limit)d lần. Vui lòng liên hệ quản trị hệ "
            "thống để được mở khóa."
        ) % {"limit": limit}
    form = SignInForm(request, initial={"username": username[:150]})
    context = {"form": form, "next": _next(request) or "", "locked": message}
    return render(request, "backoffice/login.html", context, status=429)


@public_view
def logout(request: HttpRequest) -> HttpResponse:
    """Sign out (POST); a GET shows a button, so a link or a prefetch cannot sign anyone out."""
    if request.method == "POST":
        signin.clear_pending(request)
        auth.logout(request)
        messages.info(request, _("Bạn đã đăng xuất."))
        return redirect(_url("login"))
    if not request.user.is_authenticated:
        return redirect(_url("login"))
    return render(request, "backoffice/logout.html")


def _second_factor_user_or_redirect(request: HttpRequest):
    """(user, None) for the user who must give a code now, else (None, where to go)."""
    user = signin.second_factor_user(request)
    if user is not None and requires_otp(user):
        return user, None
    next_url = _next(request) or signin.pending_next(request)
    if request.user.is_authenticated:
        return None, redirect(next_url or _url("home"))
    messages.warning(request, _("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại."))
    return None, redirect(_url("login", next_url))


def _finish(request: HttpRequest, user, device) -> HttpResponse:
    next_url = _next(request) or signin.pending_next(request)
    signin.complete(request, user, device)
    return redirect(next_url or _url("home"))


def _throttled_message(device) -> str | None:
    allowed, _data = device.verify_is_allowed()
    if allowed:
        return None
    return _("Bạn đã nhập sai mã nhiều lần. Vui lòng chờ một lát rồi thử lại.")


@public_view
@sensitive_post_parameters("code")
@never_cache
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second factor: the current code of the officer's authenticator app."""
    user, elsewhere = _second_factor_user_or_redirect(request)
    if user is None:
        return elsewhere
    devices = signin.confirmed_devices(user)
    if not devices:
        return redirect(_url("otp_setup", _next(request)))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttled = None
        for device in devices:
            throttled = _throttled_message(device)
            if throttled:
                continue
            if django_otp.verify_token(user, device.persistent_id, form.cleaned_data["code"]):
                return _finish(request, user, device)
        form.add_error(
            "code", throttled or _("Mã xác thực không đúng hoặc đã hết hạn. Vui lòng thử lại.")
        )
    context = {"form": form, "next": _next(request) or "", "signin_user": user}
    return render(request, "backoffice/otp_verify.html", context)


def _qr_svg(device) -> str:
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=_("Mã QR thiết lập ứng dụng xác thực")
    )
    return mark_safe(svg)  # segno writes the SVG; the URL inside is escaped by segno


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@public_view
@sensitive_post_parameters("code")
@never_cache
def otp_setup(request: HttpRequest) -> HttpResponse:
    """First sign-in of a leader: scan the QR code into an authenticator app, confirm a code."""
    user, elsewhere = _second_factor_user_or_redirect(request)
    if user is None:
        return elsewhere
    if signin.confirmed_devices(user):
        return redirect(_url("otp_verify", _next(request)))
    device = signin.enrolment_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttled = _throttled_message(device)
        if throttled:
            form.add_error("code", throttled)
        elif device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            messages.success(request, _("Đã thiết lập xác thực hai bước cho tài khoản của bạn."))
            return _finish(request, user, device)
        else:
            form.add_error(
                "code",
                _(
                    "Mã xác thực không đúng. Kiểm tra đồng hồ của điện thoại và nhập mã đang hiển "
                    "thị."
                ),
            )
    context = {
        "form": form,
        "next": _next(request) or "",
        "signin_user": user,
        "qr_svg": _qr_svg(device),
        "secret": _grouped(b32encode(device.bin_key).decode()),
    }
    return render(request, "backoffice/otp_setup.html", context)


urlpatterns = [
    path("dang-nhap/", login, name="login"),
    path("dang-xuat/", logout, name="logout"),
    path("xac-thuc/", otp_verify, name="otp_verify"),
    path("xac-thuc/thiet-lap/", otp_setup, name="otp_setup"),
]
