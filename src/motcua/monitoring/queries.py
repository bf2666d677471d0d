"""Read side of monitoring: who may read which figures, areas, rollup summaries, violations.

Monitors and administrators (memberships) and superusers read the whole province; leaders read
their own agencies (and the communes those agencies serve); nobody else reads monitoring.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from motcua.accounts.models import Membership, Role
from motcua.agencies.models import AdministrativeUnit, Agency
from motcua.catalog.models import Procedure
from motcua.core.errors import DomainError, InvalidInput, NotFound

from . import rollups
from .facts import day_start, vn_day
from .models import COUNTERS, OPEN_COUNTERS, Violation
from .scorecard import Area

PROVINCE_WIDE = (Role.MONITOR, Role.ADMINISTRATOR)


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_message = "Chỉ cán bộ giám sát, quản trị hoặc lãnh đạo được xem số liệu giám sát."


def readable_agencies(user) -> set[int] | None:
    """The agencies ``user`` may read figures of (None: all); ``Forbidden`` if none."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise Forbidden()
    if user.is_superuser:
        return None
    roles = list(
        Membership.objects.filter(user=user, is_active=True).values_list("role", "agency_id")
    )
    if any(role in PROVINCE_WIDE for role, _ in roles):
        return None
    led = {agency for role, agency in roles if role == Role.LEADER}
    if not led:
        raise Forbidden()
    return led


def _province_agencies(unit: AdministrativeUnit) -> list[int]:
    return list(
        Agency.objects.filter(Q(unit=unit) | Q(unit__parent=unit))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def resolve_area(user, kind: str, area_id: int | None) -> Area:
    """The area a user asks for, if they may read it."""
    allowed = readable_agencies(user)
    if kind == "province":
        if allowed is not None:
            raise Forbidden("Chỉ cán bộ giám sát, quản trị được xem số liệu toàn tỉnh.")
        units = AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.PROVINCE)
        if area_id is None:
            # The deployment's province: the one its agencies serve.
            with_agencies = units.filter(
                Q(agencies__isnull=False) | Q(children__agencies__isnull=False)
            ).distinct()
            found = list(with_agencies[:2])
            if len(found) != 1:
                raise InvalidInput("Cần chọn tỉnh (tham số id).", code="area_required")
            unit = found[0]
        else:
            unit = units.filter(pk=area_id).first()
            if unit is None:
                raise NotFound("Không tìm thấy tỉnh.", code="unknown_area")
        return Area("province", unit.pk, unit.full_name or unit.name, _province_agencies(unit))
    if area_id is None:
        raise InvalidInput("Cần chọn đơn vị (tham số id).", code="area_required")
    if kind == "agency":
        agency = Agency.objects.filter(pk=area_id).first()
        if agency is None or (allowed is not None and agency.pk not in allowed):
            raise NotFound("Không tìm thấy cơ quan.", code="unknown_area")
        return Area("agency", agency.pk, agency.name, [agency.pk])
    if kind == "commune":
        unit = AdministrativeUnit.objects.filter(
            pk=area_id, level=AdministrativeUnit.Level.COMMUNE
        ).first()
        if unit is None:
            raise NotFound("Không tìm thấy xã, phường.", code="unknown_area")
        ids = list(Agency.objects.filter(unit=unit).order_by("pk").values_list("pk", flat=True))
        if allowed is not None and not set(ids) & allowed:
            raise NotFound("Không tìm thấy xã, phường.", code="unknown_area")
        return Area("commune", unit.pk, unit.full_name or unit.name, ids)
    raise InvalidInput("Phạm vi phải là province, agency hoặc commune.", code="invalid_area")


GROUPINGS = ("total", "day", "month", "agency", "procedure", "channel")


def rollup_summary(
    area: Area,
    date_from: dt.date,
    date_to: dt.date,
    *,
    group_by: str = "total",
    channel: str | None = None,
    procedure_id: int | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Counters summed over ``[date_from, date_to]`` for the area, grouped as asked."""
    if group_by not in GROUPINGS:
        raise InvalidInput(
            "Nhóm theo phải là total, day, month, agency, procedure hoặc channel.",
            code="invalid_group_by",
        )
    if date_to < date_from:
        raise InvalidInput("Ngày kết thúc phải sau ngày bắt đầu.", code="invalid_period")
    if (date_to - date_from).days > 3 * 366:
        raise InvalidInput("Khoảng thời gian dài tối đa 3 năm.", code="invalid_period")
    filters: dict[str, Any] = {}
    if channel:
        filters["channel"] = channel
    if procedure_id:
        filters["procedure_id"] = procedure_id
    field = {
        "total": None,
        "day": "day",
        "month": "month",
        "agency": "agency_id",
        "procedure": "procedure_id",
        "channel": "channel",
    }[group_by]
    fields = (field,) if field else ()
    sums = rollups.sum_rollups(
        area.agency_ids, date_from, date_to, fields, COUNTERS, filters=filters
    )
    if not fields and not sums:
        sums = {(): dict.fromkeys(COUNTERS, 0)}
    keys = list(sums)
    if group_by in ("agency", "procedure"):
        keys.sort(key=lambda k: (-sums[k]["received"], k))
        keys = keys[:limit]
    else:
        keys.sort()
    labels: dict[Any, str] = {}
    if group_by == "agency":
        labels = {
            pk: f"{name} ({eid})"
            for pk, name, eid in Agency.objects.filter(pk__in=[k[0] for k in keys]).values_list(
                "pk", "name", "electronic_id"
            )
        }
    elif group_by == "procedure":
        labels = dict(
            Procedure.objects.filter(pk__in=[k[0] for k in keys]).values_list("pk", "code")
        )
    out = []
    for key in keys:
        value = key[0] if key else None
        if group_by == "day":
            label = f"{value:%d/%m/%Y}"
        elif group_by == "month":
            label = f"{value:%m/%Y}"
        elif group_by in ("agency", "procedure"):
            label = labels.get(value, "")
        else:
            label = value or ""
        out.append(
            {
                "key": None if value is None else _key_text(value),
                "label": label,
                "counters": {name: int(sums[key].get(name, 0)) for name in COUNTERS},
            }
        )
    return out


def _key_text(value) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def in_progress(area: Area, *, day: dt.date | None = None, now=None) -> dict[str, Any]:
    """Dossiers in progress now (live) or at the end of a past ``day`` (snapshot), by agency."""
    now = now or timezone.now()
    if day is None or day >= vn_day(now):
        figures = rollups.live_open(area.agency_ids, now)
    else:
        figures = rollups.stored_open(area.agency_ids, day) or rollups.compute_open(
            day, area.agency_ids
        )
    by_agency: dict[int, dict[str, int]] = {}
    for (agency_id, _, _), counts in figures.by_key.items():
        row = by_agency.setdefault(agency_id, dict.fromkeys(OPEN_COUNTERS, 0))
        for name in OPEN_COUNTERS:
            row[name] += counts[name]
    names = dict(Agency.objects.filter(pk__in=by_agency).values_list("pk", "name"))
    return {
        "kind": figures.kind,
        "as_of": figures.as_of,
        "totals": figures.total(),
        "agencies": [
            {"agency_id": pk, "agency_name": names.get(pk, ""), **counts}
            for pk, counts in sorted(by_agency.items())
        ],
    }


def violations(
    area: Area,
    *,
    status: str | None = None,
    rule: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Violation]:
    rows = Violation.objects.filter(agency_id__in=area.agency_ids).select_related(
        "dossier", "agency", "officer", "step"
    )
    if status:
        rows = rows.filter(status=status)
    if rule:
        rows = rows.filter(rule=rule)
    if date_from:
        rows = rows.filter(occurred_at__gte=day_start(date_from))
    if date_to:
        rows = rows.filter(occurred_at__lt=day_start(date_to + dt.timedelta(days=1)))
    return rows.order_by("-occurred_at", "-id")
