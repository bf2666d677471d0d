"""Template helpers of the public portal: site name, money and time-limit formatting."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from motcua.agencies.models import AdministrativeUnit
from motcua.catalog.models import TimeUnit

register = template.Library()

# ProcedureVersion.levels returns these Vietnamese labels; listed here so they are translated.
LEVEL_LABELS = [
    gettext_noop("Cấp bộ"),
    gettext_noop("Cấp tỉnh"),
    gettext_noop("Cấp xã"),
    gettext_noop("Cơ quan khác"),
]


@register.simple_tag(takes_context=True)
def site_name(context) -> str:
    """The portal's name: ``MOTCUA_SITE_NAME``, else "Dịch vụ công — <province>", else motcua.

    The province is the demo/served province (``MOTCUA_DEMO_PROVINCE``) when it exists in the
    database. Cached on the request so a page asks the database once.
    """
    configured = getattr(settings, "MOTCUA_SITE_NAME", "")
    if configured:
        return configured
    request = context.get("request")
    cached = getattr(request, "_motcua_site_name", None)
    if cached is not None:
        return cached
    name = "motcua"
    code = getattr(settings, "MOTCUA_DEMO_PROVINCE", "")
    unit = (
        AdministrativeUnit.objects.filter(
            level=AdministrativeUnit.Level.PROVINCE, code=code, valid_to__isnull=True
        )
        .only("name", "name_en", "unit_type")
        .first()
        if code
        else None
    )
    if unit is not None:
        if (get_language() or "vi").startswith("en") and unit.name_en:
            place = unit.name_en
        else:
            place = f"{unit.unit_type.lower()} {unit.name}".strip()
        name = _("Dịch vụ công — %(place)s") % {"place": place}
    if request is not None:
        request._motcua_site_name = name
    return name


@register.filter
def vnd(amount) -> str:
    """Format an integer amount of VND: 8000 → "8.000 đồng" (None → "Theo quy định")."""
    if amount is None or amount == "":
        return _("Theo quy định")
    amount = int(amount)
    if amount == 0:
        return _("Miễn phí")
    return _("%(amount)s đồng") % {"amount": f"{amount:,}".replace(",", ".")}


@register.filter
def time_limit(limit) -> str:
    """Human text of a TimeLimit: "5 ngày làm việc", "Trong ngày", "Không quy định cụ thể"."""
    if limit is None:
        return ""
    if limit.unit == TimeUnit.SAME_DAY:
        return _("Trong ngày")
    if limit.unit == TimeUnit.UNSPECIFIED or limit.amount is None:
        return _("Không quy định cụ thể")
    amount = limit.amount
    if isinstance(amount, Decimal):
        amount = amount.normalize()
        text = f"{amount:f}".replace(".", ",")
    else:
        text = str(amount)
    return f"{text} {TimeUnit(limit.unit).label}"
