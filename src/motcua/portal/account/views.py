"""Citizens' account pages: register (with a one-time code), sign in and out, the profile,
and the satisfaction rating of a returned dossier. Thin: parse, call the services, render.

Officers (users with a membership, staff, superusers) never sign in here: their second factor
lives in the back office (/can-bo/), and a portal session must not stand in for it.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlencode

from axes.helpers import get_client_ip_address, get_cool_off, get_failure_limit
from django.contrib import auth, messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET

from motcua.accounts import citizens
from motcua.accounts.models import CitizenProfile
from motcua.core.errors import DomainError, InvalidInput, NotFound
from motcua.dossiers import services
from motcua.dossiers.models import Dossier, Rating, Status
from motcua.notifications.direct import send_now
from motcua.notifications.providers import NotificationError, PermanentFailure

from . import oidc
from .access import citizen_required
from .forms import CodeForm, ProfileForm, RatingForm, RegisterForm, SignInForm, communes

log = logging.getLogger(__name__)

PENDING = "citizen_registration"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- helpers ------------------------------------------------------------------------------------


def _client_ip(request: HttpRequest) -> str | None:
    value = get_client_ip_address(request) or ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _next(request: HttpRequest) -> str | None:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _refused(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/account/officer.html", status=403)


def _profile_of(user) -> CitizenProfile | None:
    """The signed-in citizen's profile (made for a plain user who has none); ``None`` for an
    officer."""
    if citizens.is_officer(user):
        return None
    profile = citizens.citizen_of(user)
    if profile is None:
        profile, _created = CitizenProfile.objects.get_or_create(user=user)
    return profile


def dossiers_of(user):
    """The user's dossiers: those whose applicant or owner is linked to the account."""
    return Dossier.objects.filter(Q(applicant__user=user) | Q(owner__user=user))


def _send_code(identifier: citizens.Identifier, code: str) -> None:
    """Send the registration code; raise ``NotificationError`` if it cannot go."""
    context = {
        "code": code,
        "minutes": citizens.code_minutes(),
        "site": _site_name(),
    }
    if identifier.channel == "sms":
        text = render_to_string("portal/account/code_sms.txt", context).strip()
        send_now("sms", identifier.value, text=text)
        return
    subject = " ".join(render_to_string("portal/account/code_subject.txt", context).split())
    text = render_to_string("portal/account/code_email.txt", context).strip() + "\n"
    send_now("email", identifier.value, subject=subject, text=text)


def _site_name() -> str:
    from motcua.portal.templatetags.portal import site_name

    return site_name({})


def _send_failed_message(exc: NotificationError) -> str:
    if isinstance(exc, PermanentFailure):
        return _(
            "Không gửi được mã xác minh tới địa chỉ này. Vui lòng kiểm tra lại số điện thoại "
            "hoặc địa chỉ thư điện tử."
        )
    return _("Chưa gửi được mã xác minh do lỗi đường truyền. Vui lòng thử lại sau ít phút.")


# --- sign in and out ----------------------------------------------------------------------------


def _locked_message(request: HttpRequest, credentials: dict) -> str:
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0
    limit = get_failure_limit(request, credentials)
    if not minutes:
        return _("Tài khoản bị tạm khóa vì đăng nhập sai %(limit)d lần.") % {"limit": limit}
    return ngettext(
        "Tài khoản tạm thời bị khóa vì đăng nhập sai %(limit)d lần. Vui lòng thử lại sau "
        "%(minutes)d phút.",
        "Tài khoản tạm thời bị khóa vì đăng nhập sai %(limit)d lần. Vui lòng thử lại sau "
        "%(minutes)d phút.",
        minutes,
    ) % {"limit": limit, "minutes": minutes}


@sensitive_post_parameters("password")
@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    """The citizens' sign-in: phone number or e-mail address and password (django-axes counts
    failures per identifier and client address, as for officers)."""
    next_url = _next(request)
    if request.user.is_authenticated and not citizens.is_officer(request.user):
        return redirect(next_url or reverse("portal:account:profile"))
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["identifier"]
        credentials = {"username": identifier.value, "password": form.cleaned_data["password"]}
        user = auth.authenticate(request, **credentials)
        if user is None:
            if getattr(request, "axes_locked_out", False):
                # Our own page, not the back office's lockout page (AxesMiddleware would
                # otherwise replace this response with it).
                request.axes_locked_out = False
                form.add_error(None, _locked_message(request, {"username": identifier.value}))
                status = 429
            else:
                form.add_error(
                    None,
                    _("Số điện thoại (hoặc thư điện tử) hoặc mật khẩu không đúng."),
                )
                status = 400
        elif citizens.is_officer(user):
            form.add_error(
                None,
                _(
                    "Đây là tài khoản cán bộ: vui lòng đăng nhập tại trang dành cho cán bộ "
                    "(có xác thực hai bước)."
                ),
            )
            status = 403
        elif citizens.citizen_of(user) is None:
            form.add_error(None, _("Tài khoản này không phải tài khoản công dân."))
            status = 403
        else:
            auth.login(request, user)
            return redirect(next_url or reverse("portal:account:profile"))
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "next": next_url or "",
        "oidc": oidc.enabled(),
        "oidc_provider": oidc.provider_name(),
        "oidc_url": reverse("portal:account:oidc_start")
        + ("?" + urlencode({"next": next_url}) if next_url else ""),
    }
    return render(request, "portal/account/sign_in.html", context, status=status)


@never_cache
def sign_out(request: HttpRequest) -> HttpResponse:
    """POST signs out (a link or a prefetch cannot); GET shows the button."""
    if request.method == "POST":
        auth.logout(request)
        messages.info(request, _("Bạn đã đăng xuất."))
        response = redirect(reverse("portal:account:sign_in"))
        # The browser's HTTP cache may hold pages of the account; the service worker deletes
        # its own copy of "my dossiers" when it sees this request.
        response["Clear-Site-Data"] = '"cache"'
        return response
    if not request.user.is_authenticated:
        return redirect(reverse("portal:account:sign_in"))
    return render(request, "portal/account/sign_out.html")


# --- registration -------------------------------------------------------------------------------


@sensitive_post_parameters("password1", "password2")
@never_cache
def register(request: HttpRequest) -> HttpResponse:
    """Step 1: phone or e-mail and password; a code goes to the phone or address."""
    if request.user.is_authenticated and not citizens.is_officer(request.user):
        return redirect(reverse("portal:account:profile"))
    form = RegisterForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            identifier = form.cleaned_data["identifier"]
            try:
                row, code, identifier = citizens.start_registration(
                    identifier.value,
                    form.cleaned_data["password1"],
                    client_ip=_client_ip(request),
                )
            except DomainError as exc:
                form.add_error(exc.details.get("field") or None, exc.message)
                status = exc.status
            else:
                try:
                    _send_code(identifier, code)
                except NotificationError as exc:
                    row.delete()
                    form.add_error(None, _send_failed_message(exc))
                    status = 502 if not isinstance(exc, PermanentFailure) else 400
                else:
                    request.session[PENDING] = {
                        "code": row.pk,
                        "to": identifier.masked,
                        "kind": identifier.kind,
                    }
                    return redirect(reverse("portal:account:register_verify"))
    context = {"form": form, "oidc": oidc.enabled(), "oidc_provider": oidc.provider_name()}
    return render(request, "portal/account/register.html", context, status=status)


@sensitive_post_parameters("code")
@never_cache
def register_verify(request: HttpRequest) -> HttpResponse:
    """Step 2: the code. Right: the account is created and signed in."""
    pending = request.session.get(PENDING)
    if not pending:
        messages.warning(
            request, _("Không có yêu cầu đăng ký nào đang chờ xác minh. Vui lòng đăng ký.")
        )
        return redirect(reverse("portal:account:register"))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and "resend" in request.POST:
        form = CodeForm()
        try:
            row, code = citizens.resend_code(pending.get("code"), client_ip=_client_ip(request))
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            try:
                _send_code(citizens.parse_identifier(row.address), code)
            except NotificationError as exc:
                row.delete()
                messages.error(request, _send_failed_message(exc))
                status = 502
            else:
                request.session[PENDING] = {**pending, "code": row.pk}
                messages.success(request, _("Đã gửi mã xác minh mới."))
                return redirect(reverse("portal:account:register_verify"))
    elif request.method == "POST" and form.is_valid():
        try:
            user = citizens.complete_registration(pending.get("code"), form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.message)
            status = exc.status
        else:
            request.session.pop(PENDING, None)
            auth.login(request, user, backend=MODEL_BACKEND)
            messages.success(
                request,
                _(
                    "Đăng ký tài khoản thành công. Vui lòng bổ sung thông tin cá nhân để dùng khi "
                    "nộp hồ sơ."
                ),
            )
            return redirect(reverse("portal:account:profile"))
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "to": pending.get("to", ""),
        "kind": pending.get("kind", ""),
        "minutes": citizens.code_minutes(),
    }
    return render(request, "portal/account/register_verify.html", context, status=status)


# --- profile ------------------------------------------------------------------------------------


@citizen_required
@never_cache
def profile(request: HttpRequest) -> HttpResponse:
    """Personal data (reused in forms), notification channels, dossiers waiting for a rating."""
    citizen = _profile_of(request.user)
    if citizen is None:
        return _refused(request)
    form = ProfileForm(
        request.POST or None, instance=citizen, communes_url=reverse("portal:account:communes")
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Đã lưu thông tin cá nhân."))
            return redirect(reverse("portal:account:profile"))
        status = 400
    mine = dossiers_of(request.user).select_related("procedure")
    to_rate = list(
        mine.filter(status=Status.RETURNED, rating__isnull=True).order_by("-returned_at")[:20]
    )
    rated = list(
        Rating.objects.filter(dossier__in=mine)
        .select_related("dossier")
        .order_by("-created_at")[:20]
    )
    context = {"form": form, "citizen": citizen, "to_rate": to_rate, "rated": rated}
    return render(request, "portal/account/profile.html", context, status=status)


@require_GET
def commune_options(request: HttpRequest) -> HttpResponse:
    """The communes of a province as ``<option>`` elements (htmx on the profile form)."""
    province = (request.GET.get("province") or "").strip()[:10]
    return render(request, "portal/account/_communes.html", {"communes": communes(province)})


# --- rating -------------------------------------------------------------------------------------


@citizen_required
@never_cache
def rate(request: HttpRequest, code: str) -> HttpResponse:
    """Rate a returned dossier of one's own, once. Someone else's dossier: 404."""
    if citizens.is_officer(request.user):
        raise Http404(_("Không tìm thấy hồ sơ."))
    dossier = (
        dossiers_of(request.user)
        .select_related("procedure", "receiving_agency", "deciding_agency")
        .filter(code=code[:40])
        .first()
    )
    if dossier is None:
        raise Http404(_("Không tìm thấy hồ sơ."))
    rating = Rating.objects.filter(dossier=dossier).first()
    form = RatingForm(request.POST or None)
    status = 200
    problem = ""
    if rating is None and dossier.status != Status.RETURNED:
        problem = _("Hồ sơ chưa được trả kết quả nên chưa thể đánh giá mức độ hài lòng.")
        status = 409
    elif request.method == "POST" and rating is not None:
        problem = _("Hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ được đánh giá một lần.")
        status = 409
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.rate(
                    dossier,
                    actor=request.user,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                )
            except NotFound as exc:
                raise Http404(exc.message) from None
            except InvalidInput as exc:
                form.add_error(None, exc.message)
            except DomainError as exc:
                problem, status = exc.message, exc.status
                rating = Rating.objects.filter(dossier=dossier).first()
            else:
                messages.success(
                    request, _("Cảm ơn bạn đã đánh giá. Ý kiến của bạn đã được ghi nhận.")
                )
                return redirect(reverse("portal:account:rate", args=[dossier.code]))
    context = {
        "dossier": dossier,
        "rating": rating,
        "form": form,
        "problem": problem,
        "agency": dossier.deciding_agency or dossier.receiving_agency,
    }
    return render(request, "portal/account/rate.html", context, status=status)
