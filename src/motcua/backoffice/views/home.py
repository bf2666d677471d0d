"""/can-bo/: the officer's start page, and the choice of membership in the top bar."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..access import officer_view
from ..context import choose_membership, current_membership, first_page_url
from ..middleware import refuse


@officer_view()
def home(request: HttpRequest) -> HttpResponse:
    """Send the officer to the first page their current role allows."""
    membership = current_membership(request)
    url = first_page_url(membership)
    if url is None:
        return refuse(
            request,
            _("Không có trang phù hợp"),
            _("Vai trò %(role)s chưa có trang nào trong khu vực cán bộ.")
            % {"role": membership.get_role_display()},
        )
    return redirect(url)


@officer_view()
@require_POST
def switch_membership(request: HttpRequest) -> HttpResponse:
    """Work in another of the officer's memberships (agency × role) from now on."""
    try:
        chosen = choose_membership(request, int(request.POST.get("membership", "")))
    except ValueError:
        chosen = None
    if chosen is None:
        messages.error(request, _("Không tìm thấy vai trò đã chọn."))
    else:
        messages.success(
            request,
            _("Đang làm việc với vai trò %(role)s tại %(agency)s.")
            % {"role": chosen.get_role_display(), "agency": chosen.agency},
        )
    return redirect("backoffice:home")


urlpatterns = [
    path("", home, name="home"),
    path("doi-vai-tro/", switch_membership, name="switch_membership"),
]
