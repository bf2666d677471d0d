"""The one gate of the back office: every view in the ``backoffice`` URL namespace passes here.

In order: the view must declare its access (``access.officer_view``/``public_view``; a view
that declares nothing is refused, so a forgotten decorator fails closed); the user must be
signed in (else the sign-in page, coming back afterwards); hold an active membership (else a
refusal page); have passed the second factor when they are a leader, administrator or
superuser (else the code page); and their current role must allow the page.

Back-office responses are never cached: counter computers are shared, and the browser's back
button must not show a dossier after the officer signed out.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from . import access
from .context import current_membership, in_backoffice

log = logging.getLogger(__name__)


def is_verified(user) -> bool:
    """Whether this request's user passed the second factor (django-otp's middleware says)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def needs_second_factor(user) -> bool:
    return access.requires_otp(user) and not is_verified(user)


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    # An htmx request would swap the sign-in page into a fragment: make the browser go there.
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _to(request: HttpRequest, name: str) -> HttpResponse:
    url = reverse(f"backoffice:{name}") + "?" + urlencode({"next": request.get_full_path()})
    return _redirect(request, url)


def refuse(request: HttpRequest, title: str, message: str) -> HttpResponse:
    return render(
        request, "backoffice/refused.html", {"title": title, "message": message}, status=403
    )


class BackofficeAccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if in_backoffice(request):
            add_never_cache_headers(response)
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not in_backoffice(request):
            return None
        rule = access.access_of(view_func)
        if rule is None:
            log.error("back-office view %s declares no access rule: refused", request.path)
            return refuse(
                request, _("Không được phép truy cập"), _("Trang này chưa được cấp quyền truy cập.")
            )
        if rule.public:
            return None
        user = request.user
        if not user.is_authenticated:
            return _to(request, "login")
        membership = current_membership(request)
        if membership is None:
            return refuse(
                request,
                _("Tài khoản chưa được phân công"),
                _(
                    "Tài khoản của bạn chưa được phân công vào cơ quan nào hoặc phân công đã hết "
                    "hiệu lực, nên chưa dùng được trang cán bộ. Vui lòng liên hệ quản trị hệ thống."
                ),
            )
        if needs_second_factor(user):
            return _to(request, "otp_verify")
        if rule.pages and not any(access.allows(membership.role, page) for page in rule.pages):
            return refuse(
                request,
                _("Không được phép truy cập"),
                _("Vai trò %(role)s tại %(agency)s không dùng trang này.")
                % {"role": membership.get_role_display(), "agency": membership.agency},
            )
        return None
