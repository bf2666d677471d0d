"""Hồ sơ cần xử lý — the inbox: the officer's worklist, their department's, or every dossier of
the agency, filtered and searched, with the working time left on each (``worklist``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from motcua.catalog.models import Channel, ProcedureAgency
from motcua.dossiers.models import Status

from .. import worklist
from ..access import Page, officer_view
from ..context import current_membership


class InboxFilterForm(forms.Form):
    """The filters of the worklist (GET); every field optional."""

    q = forms.CharField(
        label=gettext_lazy("Tìm hồ sơ"),
        required=False,
        max_length=100,
        help_text=gettext_lazy(
            "Mã hồ sơ, họ tên người nộp (gõ có dấu hoặc không dấu), số định danh cá nhân "
            "hoặc mã số thuế."
        ),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    procedure = forms.CharField(
        label=gettext_lazy("Mã thủ tục"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"list": "procedure-codes", "autocomplete": "off"}),
    )
    status = forms.TypedChoiceField(
        label=gettext_lazy("Trạng thái"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", gettext_lazy("Tất cả")), *Status.choices],
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Kênh nộp"),
        required=False,
        choices=[("", gettext_lazy("Tất cả")), *Channel.choices],
    )
    received_from = forms.DateField(
        label=gettext_lazy("Tiếp nhận từ ngày"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    received_to = forms.DateField(
        label=gettext_lazy("Tiếp nhận đến ngày"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and end < start:
            self.add_error("received_to", _("Ngày kết thúc phải từ ngày bắt đầu trở đi."))
        return data

    def filters(self) -> worklist.Filters:
        data = self.cleaned_data if self.is_valid() else {}
        return worklist.Filters(
            q=data.get("q") or "",
            procedure=data.get("procedure") or "",
            status=data.get("status"),
            channel=data.get("channel") or "",
            received_from=data.get("received_from"),
            received_to=data.get("received_to"),
        )


FILTER_FIELDS = ("q", "procedure", "status", "channel", "received_from", "received_to")


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _procedure_codes(membership) -> list[tuple[str, str]]:
    """Codes and names of the procedures the agency applies (suggestions for the filter)."""
    if worklist.access.is_read_only(membership.role):
        return []
    return list(
        ProcedureAgency.objects.filter(agency_id=membership.agency_id, is_active=True)
        .order_by("procedure__code")
        .values_list("procedure__code", "procedure__name")[:500]
    )


@officer_view(Page.INBOX)
def inbox(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    scopes = worklist.scopes_for(membership)
    try:
        scope = worklist.Scope(request.GET.get("scope") or scopes[0])
    except ValueError:
        scope = scopes[0]
    if scope not in scopes:
        scope = scopes[0]
    form = InboxFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else worklist.Filters()
    page = worklist.worklist(
        membership,
        request.user,
        scope,
        filters,
        page=_page_number(request.GET.get("page")),
        page_size=worklist.PAGE_SIZE,
    )
    kept = {
        name: request.GET[name] for name in FILTER_FIELDS if request.GET.get(name) and form.is_bound
    }
    labels = dict(worklist.SCOPE_LABELS)
    labels[worklist.Scope.UNIT] = worklist.unit_label(membership)
    tabs = [
        {
            "scope": s,
            "label": labels[s],
            "url": "?" + urlencode({**kept, "scope": s}),
            "current": s == scope,
        }
        for s in scopes
    ]

    def page_url(number: int) -> str:
        return "?" + urlencode({**kept, "scope": scope, "page": number})

    context = {
        "form": form,
        "page": page,
        "scope": scope,
        "tabs": tabs if len(tabs) > 1 else [],
        "scope_label": labels[scope],
        "filtered": filters.active,
        "reset_url": "?" + urlencode({"scope": scope}),
        "previous_url": page_url(page.number - 1) if page.has_previous else "",
        "next_url": page_url(page.number + 1) if page.has_next else "",
        "procedure_codes": _procedure_codes(membership),
        "legend": [
            (u, worklist.URGENCY_LABELS[u])
            for u in (
                worklist.Urgency.LATE,
                worklist.Urgency.DUE_TODAY,
                worklist.Urgency.DUE_SOON,
                worklist.Urgency.ON_TRACK,
                worklist.Urgency.PAUSED,
            )
        ],
    }
    template = "backoffice/inbox/inbox.html"
    if getattr(request, "htmx", False) and request.htmx.target == "worklist":
        template = "backoffice/inbox/_worklist.html"
    return render(request, template, context)


urlpatterns = [
    path("ho-so/", inbox, name="inbox"),
]
