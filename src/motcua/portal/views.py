"""Public pages: home, procedure catalogue, procedure detail. Thin: parse, query, render."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from motcua.agencies.models import Agency
from motcua.catalog import queries
from motcua.catalog.models import Channel, TimeUnit
from motcua.core.errors import DomainError
from motcua.core.http import client_ip

from .forms import CatalogueFilterForm

PAGE_SIZE = 20
# Shown on the home page when present: the procedures citizens ask for most.
COMMON_CODES = ["1.001193", "1.000894", "1.004222", "2.000815", "3.000333", "1.001612"]


def _field_options() -> list[tuple[str, str, int]]:
    """(value, name, count) for every field that has active procedures."""
    return [(str(f.pk), f.name, f.procedure_count) for f in queries.fields_with_counts()]


def _agency_options() -> list[tuple[str, str]]:
    agencies = (
        Agency.objects.filter(is_active=True, procedures__is_active=True)
        .distinct()
        .order_by("level", "name")
        .values_list("electronic_id", "name")
    )
    return list(agencies)


def home(request: HttpRequest) -> HttpResponse:
    fields = _field_options()
    common = list(queries.search_procedures().filter(code__in=COMMON_CODES).select_related("field"))
    common.sort(key=lambda p: COMMON_CODES.index(p.code))
    context = {
        "fields": fields,
        "common": common,
        "procedure_count": queries.search_procedures().count(),
        "agency_count": Agency.objects.filter(is_active=True).count(),
        "field_count": len(fields),
    }
    return render(request, "portal/home.html", context)


def catalogue(request: HttpRequest) -> HttpResponse:
    fields = _field_options()
    form = CatalogueFilterForm(
        request.GET or None,
        fields=[(value, name) for value, name, _count in fields],
        agencies=_agency_options(),
    )
    values, invalid = form.valid_filters() if request.GET else ({}, [])
    results = queries.search_procedures(
        values.get("q", ""),
        field=int(values["field"]) if values.get("field") else None,
        level=values.get("level") or None,
        online_mode=values.get("online_mode") or None,
        agency=values.get("agency") or None,
    ).select_related("field")
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "invalid": invalid,
        "query_string": query.urlencode(),
        "filtered": any(values.values()),
    }
    # A history restore needs the whole page, not the fragment.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "portal/_results.html" if partial else "portal/catalogue.html"
    return render(request, template, context)


def procedure(request: HttpRequest, code: str) -> HttpResponse:
    try:
        item = queries.procedure_detail(code)
    except (ObjectDoesNotExist, DomainError) as exc:
        raise Http404(_("Không tìm thấy thủ tục có mã %(code)s.") % {"code": code}) from exc
    version = item.current_version
    if version is None:
        raise Http404(_("Không tìm thấy thủ tục có mã %(code)s.") % {"code": code})
    agencies = [link.agency for link in item.applied_by.all() if link.is_active]
    variants = list(version.variants.all())
    now = timezone.localtime()
    for variant in variants:
        variant.channel_rows = _channel_rows(variant, agencies[0] if agencies else None, now)
    context = {"procedure": item, "version": version, "variants": variants, "agencies": agencies}
    return render(request, "portal/procedure.html", context)


def _channel_rows(variant, agency: Agency | None, now) -> list[dict]:
    """One row per channel that has a time limit or a fee, with the expected result date."""
    limits = {limit.channel: limit for limit in variant.time_limits.all()}
    fees: dict[str, list] = {}
    for fee in variant.fees.all():
        fees.setdefault(fee.channel, []).append(fee)
    rows = []
    for channel in Channel:
        if channel not in limits and channel not in fees:
            continue
        limit = limits.get(channel)
        rows.append(
            {
                "label": channel.label,
                "limit": limit,
                "fees": fees.get(channel, []),
                "due": _expected_due(limit, agency, now),
            }
        )
    return rows


def _expected_due(limit, agency: Agency | None, now):
    """The appointment a dossier received now would get, or None if it cannot be computed."""
    if limit is None or limit.unit == TimeUnit.UNSPECIFIED:
        return None
    if limit.amount is None and limit.unit != TimeUnit.SAME_DAY:
        return None
    try:
        from motcua.agencies.calendar import calendar_for

        due = calendar_for(agency).due(now, limit.amount or 0, limit.unit)
    except (ImportError, DomainError, ValueError):
        return None
    return timezone.localtime(due)


def dossier_lookup(request: HttpRequest) -> HttpResponse:
    """Look a dossier up by its code (from the QR code of Mẫu 01); works without JavaScript."""
    from motcua.dossiers import lookup

    code = request.GET.get("code", "").strip()[:60]
    factor = request.GET.get("factor", "").strip()[:10]
    context = {"code": code, "factor_given": bool(factor)}
    status = 200
    if code:
        client = client_ip(request) or "unknown"
        try:
            if not lookup.allow_page_request(client):
                raise lookup.TooManyRequests()
            context["result"] = lookup.lookup(code, factor, client)
        except DomainError as exc:
            context["error"] = exc.message
            status = exc.status
    return render(request, "portal/dossier_lookup.html", context, status=status)
