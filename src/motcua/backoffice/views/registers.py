"""Sổ theo dõi — the register of the desk (Mẫu 07) by agency and period, on screen, as PDF or
as Excel, and the control slip (Mẫu 06) of one dossier by its code.

The register is built by ``dossiers.forms.register_context`` and rendered by ``printing``, as
the API does; an officer gets the registers of their own agencies, monitors and administrators
those of every agency.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from motcua import printing
from motcua.agencies.models import Agency
from motcua.core.errors import DomainError
from motcua.core.worktime import VN_TZ
from motcua.dossiers import forms as dossier_forms
from motcua.dossiers import queries
from motcua.dossiers.models import Dossier

from ..access import Page, officer_view
from ..context import current_membership

PREVIEW_ROWS = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def register_agencies(user) -> list[Agency]:
    """The agencies whose register ``user`` may print."""
    rows = Agency.objects.filter(is_active=True).order_by("level", "name")
    if queries.sees_everything(user):
        return list(rows)
    return list(rows.filter(pk__in=queries.agencies_of(user)))


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RegisterForm(forms.Form):
    agency = forms.TypedChoiceField(
        label=gettext_lazy("Cơ quan"),
        coerce=int,
        error_messages={"required": gettext_lazy("Cần chọn cơ quan.")},
    )
    date_from = forms.DateField(
        label=gettext_lazy("Từ ngày"),
        widget=_date_widget(),
        error_messages={
            "required": gettext_lazy("Cần chọn ngày bắt đầu."),
            "invalid": gettext_lazy("Ngày không hợp lệ."),
        },
    )
    date_to = forms.DateField(
        label=gettext_lazy("Đến ngày"),
        widget=_date_widget(),
        error_messages={
            "required": gettext_lazy("Cần chọn ngày kết thúc."),
            "invalid": gettext_lazy("Ngày không hợp lệ."),
        },
    )

    def __init__(self, *args, agencies: list[Agency], **kwargs):
        super().__init__(*args, **kwargs)
        self.agencies = {a.pk: a for a in agencies}
        self.fields["agency"].choices = [(a.pk, a.name) for a in agencies]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("Ngày kết thúc phải từ ngày bắt đầu trở đi."))
            elif (end - start).days > 366:
                self.add_error("date_to", _("Sổ theo dõi lập tối đa cho một năm."))
        return data


class SlipForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Mã hồ sơ"),
        max_length=40,
        error_messages={"required": gettext_lazy("Cần nhập mã hồ sơ.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def register_form(request: HttpRequest, data=None) -> RegisterForm:
    """The register's form; by default the officer's agency from the 1st of the month."""
    today = timezone.now().astimezone(VN_TZ).date()
    initial = {
        "agency": current_membership(request).agency_id,
        "date_from": today.replace(day=1),
        "date_to": today,
    }
    return RegisterForm(data, agencies=register_agencies(request.user), initial=initial)


@officer_view(Page.REGISTERS)
def registers(request: HttpRequest) -> HttpResponse:
    wanted = "agency" in request.GET
    form = register_form(request, request.GET if wanted else None)
    slip = SlipForm(prefix="slip")
    context = {"form": form, "slip": slip, "register": None}
    if wanted and form.is_valid():
        data = form.cleaned_data
        agency = Agency.objects.select_related("parent", "unit").get(pk=data["agency"])
        try:
            ctx = dossier_forms.register_context(agency, data["date_from"], data["date_to"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            name = f"so-theo-doi-{data['date_from']:%Y%m%d}-{data['date_to']:%Y%m%d}"
            output = request.GET.get("format")
            if output == "pdf":
                response = HttpResponse(printing.render_register_pdf(ctx), "application/pdf")
                response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
                return response
            if output == "xlsx":
                response = HttpResponse(printing.render_register_xlsx(ctx), XLSX)
                response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
                return response
            query = request.GET.copy()
            query.pop("format", None)
            codes = [row.dossier_code for row in ctx.rows[:PREVIEW_ROWS] if row.dossier_code]
            ids = dict(Dossier.objects.filter(code__in=codes).values_list("code", "pk"))
            context["register"] = {
                "agency": agency,
                "date_from": data["date_from"],
                "date_to": data["date_to"],
                "count": len(ctx.rows),
                "rows": [(row, ids.get(row.dossier_code)) for row in ctx.rows[:PREVIEW_ROWS]],
                "truncated": len(ctx.rows) > PREVIEW_ROWS,
                "shown": PREVIEW_ROWS,
                "pdf_url": "?" + _with(query, format="pdf"),
                "xlsx_url": "?" + _with(query, format="xlsx"),
            }
    return render(request, "backoffice/registers/registers.html", context)


def _with(query, **values) -> str:
    query = query.copy()
    for key, value in values.items():
        query[key] = value
    return query.urlencode()


@officer_view(Page.REGISTERS)
def control_slip(request: HttpRequest) -> HttpResponse:
    """Mẫu 06 of the dossier with this code, if the officer may see it."""
    slip = SlipForm(request.GET or None, prefix="slip")
    if slip.is_valid():
        code = slip.cleaned_data["code"].strip().upper()
        found = queries.visible_to(request.user).filter(code=code).values_list("pk", flat=True)
        pk = next(iter(found), None)
        if pk is not None:
            return redirect("backoffice:print_form", pk=pk, form="06")
        slip.add_error("code", _("Không tìm thấy hồ sơ có mã %(code)s.") % {"code": code})
    context = {"form": register_form(request), "slip": slip, "register": None}
    return render(request, "backoffice/registers/registers.html", context, status=400)


urlpatterns = [
    path("so-theo-doi/", registers, name="registers"),
    path("so-theo-doi/phieu-kiem-soat/", control_slip, name="control_slip"),
]
