"""The Django admin behind the second factor.

Anyone who may open the admin (staff) can change agencies, procedures, tokens and users, so a
password alone is not enough: the admin asks for the TOTP code of the back office
(``backoffice:otp_verify``, which also enrols a first device) before it opens, like the back
office does for leaders and administrators. ``MOTCUA_ADMIN_REQUIRE_OTP=false`` turns this off
(a single-machine commune office without authenticator apps, at its own risk).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def _verified(request: HttpRequest) -> bool:
    if not settings.MOTCUA_ADMIN_REQUIRE_OTP:
        return True
    check = getattr(request.user, "is_verified", None)
    return bool(check and check())


class MotcuaAdminSite(AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and _verified(request)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        user = request.user
        if user.is_active and user.is_staff and not _verified(request):
            # Password given (here or at the back office): the code comes next, then the admin.
            next_url = request.GET.get(REDIRECT_FIELD_NAME) or ""
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                next_url = reverse("admin:index", current_app=self.name)
            query = urlencode({"next": next_url})
            return redirect(f"{reverse('backoffice:otp_verify')}?{query}")
        return super().login(request, extra_context)


class MotcuaAdminConfig(AdminConfig):
    default_site = "motcua.core.admin_site.MotcuaAdminSite"
