"""Giám sát — the monitoring centre's pages under /can-bo/giam-sat/: the dashboard, the
Decision 766 scorecard with its trend, the dossiers behind a figure, the period report, and
the violations with their explanation and closing.

Figures come from ``monitoring.queries`` (the rollups, never a scan of the dossiers). Who reads
what: monitors and administrators the province, leaders their own agencies
(``queries.readable_agencies``); every agency role sees and explains its own agency's
violations, the monitoring centre closes them. Exports: ``?format=xlsx`` or ``?format=pdf`` on
the dashboard, the scorecard and the report.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from motcua.accounts.models import Membership, Role
from motcua.agencies.models import AdministrativeUnit, Agency
from motcua.core.errors import DomainError
from motcua.core.worktime import VN_TZ
from motcua.monitoring import charts, exports, queries, scorecard
from motcua.monitoring.models import Severity, Violation
from motcua.monitoring.violations import RULES

from ..access import Page, officer_view
from ..context import current_membership
from ..middleware import refuse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERIOD_KINDS = (
    ("month", gettext_lazy("Tháng")),
    ("quarter", gettext_lazy("Quý")),
    ("year", gettext_lazy("Năm")),
)
MEASURE_LABELS = {
    "received": gettext_lazy("Hồ sơ tiếp nhận"),
    "finished": gettext_lazy("Hồ sơ đã giải quyết"),
    "finished_early": gettext_lazy("Hồ sơ giải quyết trước hạn"),
    "finished_on_time": gettext_lazy("Hồ sơ giải quyết đúng hạn"),
    "finished_late": gettext_lazy("Hồ sơ giải quyết quá hạn"),
    "open": gettext_lazy("Hồ sơ đang giải quyết"),
    "open_in_time": gettext_lazy("Hồ sơ đang giải quyết trong hạn"),
    "open_late": gettext_lazy("Hồ sơ đang giải quyết quá hạn"),
}
CHANNEL_LABELS = {
    "counter": gettext_lazy("Trực tiếp"),
    "online": gettext_lazy("Trực tuyến"),
    "postal": gettext_lazy("Bưu chính"),
}
CHART_AGENCIES = 25


def _today() -> dt.date:
    return timezone.now().astimezone(VN_TZ).date()


# --- who reads what --------------------------------------------------------------------------


@dataclass
class Scope:
    """The agencies the officer may read figures of (``None``: the whole province)."""

    agencies: set[int] | None

    def allows_agency(self, agency_id: int) -> bool:
        return self.agencies is None or agency_id in self.agencies


def _scope(request: HttpRequest) -> Scope | None:
    try:
        return Scope(queries.readable_agencies(request.user))
    except queries.Forbidden:
        return None


def _forbidden(request: HttpRequest) -> HttpResponse:
    return refuse(
        request,
        _("Không được phép truy cập"),
        _("Chỉ cán bộ giám sát, quản trị hoặc lãnh đạo được xem số liệu giám sát."),
    )


def area_choices(scope: Scope) -> list[tuple[str, str]]:
    """The areas the officer may choose: the province, each agency, each commune."""
    choices: list[tuple[str, str]] = []
    agencies = Agency.objects.filter(is_active=True).order_by("level", "name")
    if scope.agencies is None:
        province = queries.served_provinces().order_by("pk").first()
        if province is not None:
            choices.append(("province", _("Toàn tỉnh — %(name)s") % {"name": province.full_name}))
    else:
        agencies = agencies.filter(pk__in=scope.agencies)
    agency_rows = list(agencies.values_list("pk", "name", "unit_id", "level"))
    choices += [(f"agency-{pk}", name) for pk, name, _unit, _level in agency_rows]
    commune_ids = {unit for _pk, _name, unit, level in agency_rows if level == "commune"}
    communes = AdministrativeUnit.objects.filter(
        pk__in=commune_ids, level=AdministrativeUnit.Level.COMMUNE
    ).order_by("name")
    choices += [
        (f"commune-{u.pk}", _("Địa bàn %(name)s") % {"name": u.full_name or u.name})
        for u in communes
    ]
    return choices


class SelectionForm(forms.Form):
    area = forms.ChoiceField(label=gettext_lazy("Phạm vi"))
    period = forms.ChoiceField(label=gettext_lazy("Kỳ"), choices=PERIOD_KINDS)
    year = forms.IntegerField(
        label=gettext_lazy("Năm"),
        min_value=2000,
        max_value=2100,
        error_messages={"invalid": gettext_lazy("Năm không hợp lệ.")},
    )
    month = forms.TypedChoiceField(
        label=gettext_lazy("Tháng"),
        coerce=int,
        required=False,
        choices=[(m, str(m)) for m in range(1, 13)],
    )
    quarter = forms.TypedChoiceField(
        label=gettext_lazy("Quý"),
        coerce=int,
        required=False,
        choices=[(q, scorecard.ROMAN[q]) for q in range(1, 5)],
    )

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = choices

    def clean(self):
        data = super().clean()
        kind = data.get("period")
        if kind == "month" and not data.get("month"):
            self.add_error("month", _("Cần chọn tháng."))
        if kind == "quarter" and not data.get("quarter"):
            self.add_error("quarter", _("Cần chọn quý."))
        return data


@dataclass
class Selection:
    form: SelectionForm
    area: scorecard.Area | None = None
    period: scorecard.Period | None = None

    @property
    def query(self) -> dict[str, Any]:
        data = self.form.cleaned_data if self.form.is_bound else self.form.initial
        return {
            k: data.get(k) for k in ("area", "period", "year", "month", "quarter") if data.get(k)
        }


def _default_area(request: HttpRequest, scope: Scope, choices) -> str:
    if scope.agencies is None:
        return choices[0][0] if choices else ""
    membership = current_membership(request)
    if membership is not None and membership.agency_id in scope.agencies:
        return f"agency-{membership.agency_id}"
    return choices[0][0] if choices else ""


def _resolve(request: HttpRequest, value: str) -> scorecard.Area:
    kind, _, ident = value.partition("-")
    return queries.resolve_area(request.user, kind, int(ident) if ident else None)


def selection(request: HttpRequest, scope: Scope) -> Selection:
    """The area and period asked for in the query string (defaults: this month, the
    officer's widest area)."""
    choices = area_choices(scope)
    today = _today()
    initial = {
        "area": _default_area(request, scope, choices),
        "period": "month",
        "year": today.year,
        "month": today.month,
        "quarter": (today.month - 1) // 3 + 1,
    }
    keys = ("area", "period", "year", "month", "quarter")
    bound = any(key in request.GET for key in keys)
    # What the query string leaves out keeps its default (a link may give only the period).
    given = {key: request.GET.get(key, initial[key]) for key in keys} if bound else None
    form = SelectionForm(given, choices=choices, initial=initial)
    data = initial
    if bound:
        if not form.is_valid():
            return Selection(form)
        data = form.cleaned_data
    try:
        area = _resolve(request, data["area"])
        period = scorecard.Period.parse(
            data["period"],
            year=data["year"],
            month=data.get("month") or None,
            quarter=data.get("quarter") or None,
        )
    except DomainError as exc:
        form.is_valid()
        form.add_error(None, exc.message)
        return Selection(form)
    return Selection(form, area, period)


def _render(request: HttpRequest, template: str, context: dict, status: int = 200):
    """A monitoring page: its tab, the navigation's current page, the selection kept in the
    tabs' links."""
    request.backoffice_section = Page.MONITORING
    query = context.get("query")
    context["query_string"] = urlencode(query) if query else ""
    return render(request, f"backoffice/monitoring/{template}.html", context, status=status)


def _url(name: str, query: dict[str, Any], **extra) -> str:
    values = {**query, **{k: v for k, v in extra.items() if v not in (None, "")}}
    return reverse(f"backoffice:{name}") + "?" + urlencode(values)


def _linker(name: str, query: dict[str, Any]):
    """Links to one page with the selection and a few more parameters, cheaply (a province's
    table has over a thousand of them)."""
    base = reverse(f"backoffice:{name}") + "?" + urlencode(query)

    def link(**extra) -> str:
        # The values are codes and numbers: no quoting needed.
        return base + "".join(f"&{k}={v}" for k, v in extra.items() if v not in (None, ""))

    return link


AGENCY_MEASURES = (
    "received",
    "finished",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "open_in_time",
    "open_late",
)


def _rate(value) -> str:
    return "—" if value is None else number_format(value, 2) + "%"


def _cells(row: dict[str, Any], links: dict[str, str]) -> list[tuple[str, str, str]]:
    """(text, link, class) of a table row's figures, formatted once here: the province's
    table has a thousand figures and the template language is slow at formatting them."""
    out = []
    for name in AGENCY_MEASURES[:5]:
        out.append((str(row[name]), links[name], "late" if name == "finished_late" else ""))
    out.append((_rate(row["rate"]), "", ""))
    out.append((str(row["open_in_time"]), links["open_in_time"], ""))
    out.append((str(row["open_late"]), links["open_late"], "late"))
    return out


def _table_rows(rows: list[dict[str, Any]]) -> SafeString:
    """The rows of a figures table (``<tr>`` with a header cell and ``cells``), built here
    rather than in the template: a province's table has over a thousand linked figures, and
    the template language (or ``format_html``) spends milliseconds on each hundred."""
    esc = html.escape
    parts = []
    for row in rows:
        parts.append(f'<tr data-agency="{esc(str(row.get("agency_id", "")))}"><th scope="row">')
        parts.append(esc(row["name"]))
        parts.append("</th>")
        for text, href, cls in row["cells"]:
            klass = f"num {cls}" if cls else "num"
            if href:
                parts.append(f'<td class="{klass}"><a href="{esc(href)}">{esc(text)}</a></td>')
            else:
                parts.append(f'<td class="{klass}">{esc(text)}</td>')
        parts.append("</tr>")
    return mark_safe("".join(parts))  # every caller value above is escaped


def _report_cells(row: dict[str, Any], drill, **filters) -> list[tuple[str, str, str]]:
    def link(measure: str) -> str:
        return drill(measure=measure, **filters) if drill else ""

    return [
        (str(row["received"]), link("received"), ""),
        (str(row["received_online"]), "", ""),
        (str(row["received_postal"]), "", ""),
        (str(row["finished_early"]), "", ""),
        (str(row["finished_on_time"]), "", ""),
        (str(row["finished_late"]), link("finished_late"), "late"),
        (_rate(row["rate"]), "", ""),
        (str(row["open_in_time"]), "", ""),
        (str(row["open_late"]), "", ""),
        (str(row["returned"]), "", ""),
    ]


def _issuer(area: scorecard.Area) -> str:
    return area.name


def _export(request: HttpRequest, document: exports.Document, name: str) -> HttpResponse | None:
    wanted = request.GET.get("format")
    if wanted == "xlsx":
        response = HttpResponse(exports.to_xlsx(document), XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    if wanted == "pdf":
        response = HttpResponse(exports.to_pdf(document), "application/pdf")
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return response
    return None


def _file_name(prefix: str, period: scorecard.Period) -> str:
    return f"{prefix}-{period.start:%Y%m%d}-{period.end:%Y%m%d}"


# --- the dashboard ---------------------------------------------------------------------------


@officer_view(Page.MONITORING)
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    if scope is None:
        return _forbidden(request)
    sel = selection(request, scope)
    context: dict[str, Any] = {"form": sel.form, "data": None, "section": "dashboard"}
    if sel.area is None:
        return _render(request, "dashboard", context, status=400)
    data = queries.dashboard(sel.area, sel.period)
    exported = _export(
        request,
        exports.dashboard_document(data, _issuer(sel.area)),
        _file_name("giam-sat", sel.period),
    )
    if exported is not None:
        return exported
    query = sel.query
    drill = _linker("monitoring_dossiers", query)
    for row in data["agencies"]:
        row["links"] = {m: drill(measure=m, agency=row["agency_id"]) for m in AGENCY_MEASURES}
        row["cells"] = _cells(row, row["links"])
    for row in data["late_procedures"]:
        row["links"] = {
            m: drill(measure=m, procedure=row["procedure_id"])
            for m in ("finished", "finished_late")
        }
    totals_links = {m: drill(measure=m) for m in AGENCY_MEASURES}
    channel_links = {c: drill(measure="received", channel=c) for c in CHANNEL_LABELS}
    charted = [r for r in data["agencies"] if r["finished"]]
    charted.sort(key=lambda r: (-r["finished"], r["name"]))
    charted = sorted(charted[:CHART_AGENCIES], key=lambda r: (r["rate"] or 0, r["name"]))
    rate_chart = charts.bar_chart(
        _("Tỷ lệ giải quyết trước hạn, đúng hạn theo cơ quan"),
        _(
            "Tỷ lệ hồ sơ giải quyết trước hạn và đúng hạn trên số hồ sơ đã giải quyết trong kỳ, "
            "của %(n)s cơ quan có nhiều hồ sơ nhất, thấp nhất ở trên. Số liệu chi tiết ở bảng "
            "bên dưới."
        )
        % {"n": len(charted)},
        [charts.Bar(r["short_name"] or r["name"], r["rate"]) for r in charted],
    )
    trend = data["trend"]
    labels = [f"{r['month']:%m/%y}" for r in trend]
    trend_chart = charts.line_chart(
        _("Tỷ lệ giải quyết đúng hạn theo tháng"),
        _("Tỷ lệ hồ sơ giải quyết trước hạn, đúng hạn của 12 tháng đến hết kỳ đã chọn."),
        labels,
        [(_("Tỷ lệ trước hạn, đúng hạn"), [r["rate"] for r in trend])],
        minimum=_floor([r["rate"] for r in trend]),
    )
    mix_chart = charts.stacked_columns(
        _("Cơ cấu kênh nộp hồ sơ theo tháng"),
        _("Tỷ trọng hồ sơ tiếp nhận trực tiếp, trực tuyến và qua bưu chính mỗi tháng."),
        labels,
        [(str(CHANNEL_LABELS[c]), [r[f"received_{c}"] for r in trend]) for c in CHANNEL_LABELS],
    )
    channels_total = sum(data["channels"].values())
    context.update(
        data=data,
        agency_rows=_table_rows(data["agencies"]),
        totals_links=totals_links,
        channels=[
            {
                "code": c,
                "label": CHANNEL_LABELS[c],
                "count": data["channels"][c],
                "share": round(data["channels"][c] * 100 / channels_total, 1)
                if channels_total
                else None,
                "link": channel_links[c],
            }
            for c in CHANNEL_LABELS
        ],
        rate_chart=rate_chart,
        trend_chart=trend_chart,
        mix_chart=mix_chart,
        xlsx_url=_url("monitoring", query, format="xlsx"),
        pdf_url=_url("monitoring", query, format="pdf"),
        violations_url=reverse("backoffice:violations") + "?" + urlencode({"status": "open"}),
        query=query,
    )
    return _render(request, "dashboard", context)


def _floor(values) -> float:
    """A lower bound for a rate axis: 0, or a round figure under the lowest value."""
    known = [v for v in values if v is not None]
    if not known:
        return 0.0
    low = min(known)
    return float(max(0, int(low // 10) * 10 - 10)) if low > 20 else 0.0


# --- the scorecard ---------------------------------------------------------------------------


@officer_view(Page.MONITORING)
def scorecard_page(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    if scope is None:
        return _forbidden(request)
    sel = selection(request, scope)
    context: dict[str, Any] = {"form": sel.form, "card": None, "section": "scorecard"}
    if sel.area is None:
        return _render(request, "scorecard", context, status=400)
    try:
        card = scorecard.compute(sel.area, sel.period)
    except DomainError as exc:
        sel.form.add_error(None, exc.message)
        return _render(request, "scorecard", context, status=400)
    trend = queries.scorecard_trend(sel.area, sel.period)
    exported = _export(
        request,
        exports.scorecard_document(card, trend, _issuer(sel.area)),
        _file_name("chi-so-766", sel.period),
    )
    if exported is not None:
        return exported
    query = sel.query
    for group in card["groups"]:
        for indicator in group["indicators"]:
            if indicator["code"] == "2.1" and indicator["status"] == "ok":
                indicator["links"] = {
                    "finished_late": _url("monitoring_dossiers", query, measure="finished_late"),
                    "open_late": _url("monitoring_dossiers", query, measure="open_late"),
                }
    trend_chart = charts.line_chart(
        _("Tổng điểm Bộ chỉ số 766 theo tháng"),
        _(
            "Tổng điểm phần tính được của Bộ chỉ số 766 và tỷ lệ chỉ số 2.1 của 12 tháng đến hết "
            "kỳ đã chọn."
        ),
        [t["label"] for t in trend],
        [
            (_("Điểm (phần tính được)"), [t["score"] for t in trend]),
            (_("Chỉ số 2.1 (%)"), [t["rate_21"] for t in trend]),
        ],
        unit="",
    )
    context.update(
        card=card,
        trend=trend,
        trend_chart=trend_chart,
        xlsx_url=_url("monitoring_scorecard", query, format="xlsx"),
        pdf_url=_url("monitoring_scorecard", query, format="pdf"),
        query=query,
    )
    return _render(request, "scorecard", context)


# --- the dossiers behind a figure ------------------------------------------------------------


def _int(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise Http404 from None


@officer_view(Page.MONITORING)
def dossiers(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    if scope is None:
        return _forbidden(request)
    sel = selection(request, scope)
    measure = request.GET.get("measure", "")
    if sel.area is None or measure not in queries.MEASURES:
        raise Http404
    agency_id = _int(request.GET.get("agency"))
    procedure_id = _int(request.GET.get("procedure"))
    channel = request.GET.get("channel") or None
    if agency_id is not None and agency_id not in sel.area.agency_ids:
        raise Http404  # another area's agency: as if it did not exist
    try:
        total = queries.measure_total(
            sel.area,
            sel.period,
            measure,
            agency_id=agency_id,
            procedure_id=procedure_id,
            channel=channel,
        )
        page = queries.drilldown(
            sel.area,
            sel.period,
            measure,
            agency_id=agency_id,
            procedure_id=procedure_id,
            channel=channel,
            after=request.GET.get("after"),
        )
    except DomainError:
        raise Http404 from None
    query = sel.query
    filters = {"measure": measure, "agency": agency_id, "procedure": procedure_id}
    filters["channel"] = channel
    agency = Agency.objects.filter(pk=agency_id).first() if agency_id else None
    from motcua.catalog.models import Procedure

    procedure = Procedure.objects.filter(pk=procedure_id).first() if procedure_id else None
    context = {
        "form": sel.form,
        "section": "dashboard",
        "measure": measure,
        "measure_label": MEASURE_LABELS[measure],
        "area": sel.area,
        "period": sel.period,
        "agency": agency,
        "procedure": procedure,
        "channel_label": CHANNEL_LABELS.get(channel or "", ""),
        "total": total,
        "page": page,
        "next_url": _url("monitoring_dossiers", query, **filters, after=page.next_cursor)
        if page.next_cursor
        else "",
        "first_url": _url("monitoring_dossiers", query, **filters)
        if request.GET.get("after")
        else "",
        "back_url": _url("monitoring", query),
    }
    return _render(request, "dossiers", context)


# --- the period report -----------------------------------------------------------------------


@officer_view(Page.MONITORING)
def report(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    if scope is None:
        return _forbidden(request)
    sel = selection(request, scope)
    context: dict[str, Any] = {"form": sel.form, "report": None, "section": "report"}
    if sel.area is None:
        return _render(request, "report", context, status=400)
    data = queries.period_report(sel.area, sel.period)
    exported = _export(
        request, exports.report_document(data, _issuer(sel.area)), _file_name("bao-cao", sel.period)
    )
    if exported is not None:
        return exported
    query = sel.query
    drill = _linker("monitoring_dossiers", query)
    for row in data["agencies"]:
        row["cells"] = _report_cells(row, drill, agency=row["agency_id"])
    for row in data["procedures"]:
        row["cells"] = _report_cells(row, drill, procedure=row["procedure_id"])
        row["name"] = f"{row['code']} {row['name']}"
    data["totals"]["cells"] = _report_cells(data["totals"], None)
    data["totals"]["name"] = _("Tổng cộng")
    register_query = {}
    if sel.area.kind == "agency":
        register_query = {
            "agency": sel.area.id,
            "date_from": sel.period.start.isoformat(),
            "date_to": min(sel.period.end, _today()).isoformat(),
        }
    context.update(
        report=data,
        agency_rows=_table_rows(data["agencies"]),
        procedure_rows=_table_rows(data["procedures"]),
        total_row=_table_rows([data["totals"]]),
        xlsx_url=_url("monitoring_report", query, format="xlsx"),
        pdf_url=_url("monitoring_report", query, format="pdf"),
        register_url=reverse("backoffice:registers")
        + ("?" + urlencode(register_query) if register_query else ""),
        query=query,
    )
    return _render(request, "report", context)


# --- violations ------------------------------------------------------------------------------


def _violation_scope(request: HttpRequest) -> tuple[set[int] | None, bool]:
    """(agencies whose violations the officer sees — None: all, may close)."""
    membership = current_membership(request)
    user = request.user
    province_wide = user.is_superuser or (
        membership is not None and membership.role in (Role.MONITOR, Role.ADMINISTRATOR)
    )
    may_close = user.is_superuser or (membership is not None and membership.role == Role.MONITOR)
    if province_wide:
        return None, may_close
    agencies = set(
        Membership.objects.filter(user=user, is_active=True).values_list("agency_id", flat=True)
    )
    return agencies, False


def may_explain(user, membership, violation: Violation) -> bool:
    """The violation's agency explains: its leader, or the officer it names, while it is not
    closed."""
    if violation.status == Violation.Status.CLOSED or membership is None:
        return False
    if violation.officer_id is not None and violation.officer_id == user.pk:
        return True
    return membership.role == Role.LEADER and membership.agency_id == violation.agency_id


class ViolationFilter(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Tình trạng"),
        required=False,
        choices=[("", gettext_lazy("Tất cả")), *list(Violation.Status.choices)],
    )
    rule = forms.ChoiceField(label=gettext_lazy("Quy tắc"), required=False)
    severity = forms.ChoiceField(
        label=gettext_lazy("Mức độ"),
        required=False,
        choices=[("", gettext_lazy("Tất cả")), *list(Severity.choices)],
    )
    agency = forms.TypedChoiceField(label=gettext_lazy("Cơ quan"), required=False, coerce=int)
    date_from = forms.DateField(
        label=gettext_lazy("Từ ngày"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Ngày không hợp lệ.")},
    )
    date_to = forms.DateField(
        label=gettext_lazy("Đến ngày"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Ngày không hợp lệ.")},
    )
    dossier = forms.CharField(label=gettext_lazy("Mã hồ sơ"), required=False, max_length=40)

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("Tất cả"))] + [
            (code, rule.description) for code, rule in RULES.items()
        ]
        self.fields["agency"].choices = [("", _("Tất cả"))] + [(a.pk, a.name) for a in agencies]
        self.fields["agency"].empty_value = None


@officer_view(Page.VIOLATIONS)
def violations(request: HttpRequest) -> HttpResponse:
    visible, may_close = _violation_scope(request)
    agencies = Agency.objects.filter(is_active=True).order_by("level", "name")
    if visible is not None:
        agencies = agencies.filter(pk__in=visible)
    form = ViolationFilter(request.GET or None, agencies=list(agencies))
    rows = Violation.objects.select_related("dossier", "agency", "officer")
    if visible is not None:
        rows = rows.filter(agency_id__in=visible)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            rows = rows.filter(status=data["status"])
        if data["rule"]:
            rows = rows.filter(rule=data["rule"])
        if data["severity"]:
            rows = rows.filter(severity=data["severity"])
        if data["agency"]:
            rows = rows.filter(agency_id=data["agency"])
        if data["date_from"]:
            rows = rows.filter(occurred_at__gte=_day_start(data["date_from"]))
        if data["date_to"]:
            rows = rows.filter(occurred_at__lt=_day_start(data["date_to"] + dt.timedelta(days=1)))
        if data["dossier"].strip():
            rows = rows.filter(dossier__code__icontains=data["dossier"].strip())
    rows = rows.order_by("-occurred_at", "-id")
    paginator = Paginator(rows, 50)
    page = paginator.get_page(request.GET.get("trang"))
    query = request.GET.copy()
    query.pop("trang", None)
    request.backoffice_section = Page.VIOLATIONS
    return render(
        request,
        "backoffice/monitoring/violations.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "may_close": may_close,
            "section": "violations",
        },
    )


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=VN_TZ)


class ExplainForm(forms.Form):
    explanation = forms.CharField(
        label=gettext_lazy("Nội dung giải trình"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        error_messages={"required": gettext_lazy("Cần nhập nội dung giải trình.")},
    )


class CloseForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Ý kiến của trung tâm giám sát"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
    )


def _visible_violation(request: HttpRequest, pk: int) -> Violation:
    visible, _may_close = _violation_scope(request)
    rows = Violation.objects.select_related(
        "dossier", "agency", "officer", "step", "explained_by", "closed_by"
    )
    if visible is not None:
        rows = rows.filter(agency_id__in=visible)
    return get_object_or_404(rows, pk=pk)  # another agency's violation: 404


def _violation_page(request, violation, explain_form=None, close_form=None, status=200):
    _visible, may_close = _violation_scope(request)
    membership = current_membership(request)
    request.backoffice_section = Page.VIOLATIONS
    return render(
        request,
        "backoffice/monitoring/violation.html",
        {
            "violation": violation,
            "changes": violation.changes.select_related("actor").order_by("at", "id"),
            "may_explain": may_explain(request.user, membership, violation),
            "may_close": may_close and violation.status != Violation.Status.CLOSED,
            "explain_form": explain_form or ExplainForm(initial={"explanation": ""}),
            "close_form": close_form or CloseForm(),
            "section": "violations",
        },
        status=status,
    )


@officer_view(Page.VIOLATIONS)
def violation(request: HttpRequest, pk: int) -> HttpResponse:
    return _violation_page(request, _visible_violation(request, pk))


@require_POST
@officer_view(Page.VIOLATIONS)
def explain(request: HttpRequest, pk: int) -> HttpResponse:
    found = _visible_violation(request, pk)
    if not may_explain(request.user, current_membership(request), found):
        return refuse(
            request,
            _("Không được phép giải trình"),
            _("Chỉ lãnh đạo cơ quan có vi phạm hoặc cán bộ được nêu tên mới giải trình được."),
        )
    form = ExplainForm(request.POST)
    if not form.is_valid():
        return _violation_page(request, found, explain_form=form, status=400)
    try:
        found.explain(form.cleaned_data["explanation"], by=request.user)
    except DomainError as exc:
        form.add_error("explanation", exc.message)
        return _violation_page(request, found, explain_form=form, status=400)
    messages.success(request, _("Đã ghi nhận giải trình."))
    return redirect("backoffice:violation", pk=found.pk)


@require_POST
@officer_view(Page.VIOLATIONS)
def close(request: HttpRequest, pk: int) -> HttpResponse:
    found = _visible_violation(request, pk)
    _visible, may_close = _violation_scope(request)
    if not may_close:
        return refuse(
            request,
            _("Không được phép kết thúc"),
            _("Chỉ trung tâm giám sát kết thúc được vi phạm."),
        )
    form = CloseForm(request.POST)
    if not form.is_valid():
        return _violation_page(request, found, close_form=form, status=400)
    try:
        found.close(by=request.user, note=form.cleaned_data["note"])
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _violation_page(request, found, close_form=form, status=400)
    messages.success(request, _("Đã kết thúc vi phạm."))
    return redirect("backoffice:violation", pk=found.pk)


urlpatterns = [
    path("giam-sat/", dashboard, name="monitoring"),
    path("giam-sat/chi-so-766/", scorecard_page, name="monitoring_scorecard"),
    path("giam-sat/ho-so/", dossiers, name="monitoring_dossiers"),
    path("giam-sat/bao-cao/", report, name="monitoring_report"),
    path("giam-sat/vi-pham/", violations, name="violations"),
    path("giam-sat/vi-pham/<int:pk>/", violation, name="violation"),
    path("giam-sat/vi-pham/<int:pk>/giai-trinh/", explain, name="violation_explain"),
    path("giam-sat/vi-pham/<int:pk>/ket-thuc/", close, name="violation_close"),
]
