"""Trả kết quả — the return desk: results ready to hand over at the officer's agency, searched
by code, name or identifier, and the hand-over itself (who received it, how).

Open to counter officers and clerks (``Page.RETURN_DESK``); the services let counter officers
of the receiving agency return a result, so a clerk sees the list and is told so. Returning
goes through ``services.return_result`` with the same form, version check and messages as the
dossier page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from motcua.accounts.models import Role
from motcua.core.errors import DomainError
from motcua.dossiers.lifecycle import Action
from motcua.dossiers.models import Dossier, Result, Status

from .. import actions, worklist
from ..access import Page, officer_view
from ..action_forms import ReturnResultForm, StaleDossier, attach_error, execute
from ..context import current_membership
from .dossier import STALE, visible_dossier


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Tìm hồ sơ"),
        required=False,
        max_length=100,
        help_text=gettext_lazy(
            "Mã hồ sơ, họ tên người nộp (có dấu hoặc không dấu), số định danh cá nhân hoặc mã "
            "số thuế."
        ),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


def ready_here(membership):
    """Dossiers with a result to hand over at the membership's agency, oldest first."""
    return Dossier.objects.filter(
        receiving_agency_id=membership.agency_id, status=Status.RESULT_READY
    )


def _returned(request: HttpRequest, pk: str | None) -> Result | None:
    """The result just handed over (for the confirmation), if the officer may see it."""
    if not pk or not pk.isdigit():
        return None
    dossier = visible_dossier_or_none(request, int(pk))
    if dossier is None or dossier.status != Status.RETURNED:
        return None
    return Result.objects.filter(dossier=dossier).select_related("dossier", "returned_by").first()


def visible_dossier_or_none(request: HttpRequest, pk: int) -> Dossier | None:
    try:
        return visible_dossier(request, pk)
    except Http404:
        return None


@officer_view(Page.RETURN_DESK)
def return_desk(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    form = SearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""
    rows = ready_here(membership)
    found = worklist.search_condition(q)
    if found is not None:
        rows = rows.filter(found)
    try:
        number = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        number = 1
    count = rows.count()
    size = worklist.PAGE_SIZE
    pages = max(1, -(-count // size))
    number = min(number, pages)
    items = list(
        rows.select_related("procedure", "applicant", "owner", "result").order_by(
            "finished_at", "id"
        )[(number - 1) * size : number * size]
    )
    kept = {"q": q} if q else {}
    context = {
        "form": form,
        "rows": [
            {
                "dossier": d,
                "result": getattr(d, "result", None),
                "identifier": d.applicant.masked_identifier,
            }
            for d in items
        ],
        "count": count,
        "number": number,
        "pages": pages,
        "previous_url": "?" + urlencode({**kept, "page": number - 1}) if number > 1 else "",
        "next_url": "?" + urlencode({**kept, "page": number + 1}) if number < pages else "",
        "q": q,
        "returned": _returned(request, request.GET.get("da-tra")),
        "can_return": membership.role == Role.COUNTER_OFFICER,
    }
    return render(request, "backoffice/returns/return_desk.html", context)


@officer_view(Page.RETURN_DESK)
def hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    """The hand-over form of one dossier (GET) and the hand-over itself (POST)."""
    dossier = visible_dossier(request, pk)
    state = actions.load_state(dossier)
    allowed = Action.RETURN_RESULT in actions.available_actions(state, request.user)
    notice = ""
    status = 200
    form = ReturnResultForm(state=state, user=request.user)
    if request.method == "POST":
        form = ReturnResultForm(request.POST, state=state, user=request.user)
        if not form.is_valid():
            if "version" in form.errors:
                notice, status = str(STALE), 409
                form = ReturnResultForm(state=actions.load_state(dossier), user=request.user)
            else:
                status = 400
        else:
            try:
                execute(form)
            except StaleDossier:
                notice, status = str(STALE), 409
                dossier = visible_dossier(request, pk)
                state = actions.load_state(dossier)
                allowed = Action.RETURN_RESULT in actions.available_actions(state, request.user)
                form = ReturnResultForm(state=state, user=request.user)
            except DomainError as exc:
                attach_error(form, exc)
                status = exc.status
            else:
                desk = reverse("backoffice:return_desk")
                return redirect(f"{desk}?{urlencode({'da-tra': dossier.pk})}")
    result = Result.objects.filter(dossier=dossier).first()
    context = {
        "dossier": dossier,
        "result": result,
        "form": form,
        "allowed": allowed,
        "notice": notice,
        "identifier": dossier.applicant.masked_identifier,
        "now": worklist.now(),
    }
    if not allowed and not notice:
        if dossier.status != Status.RESULT_READY:
            context["notice"] = _("Hồ sơ không ở trạng thái chờ trả kết quả (%(status)s).") % {
                "status": dossier.get_status_display()
            }
        else:
            context["notice"] = _(
                "Chỉ cán bộ một cửa của cơ quan tiếp nhận hồ sơ được trả kết quả."
            )
    return render(request, "backoffice/returns/hand_over.html", context, status=status)


urlpatterns = [
    path("tra-ket-qua/", return_desk, name="return_desk"),
    path("tra-ket-qua/<int:pk>/", hand_over, name="hand_over"),
]
