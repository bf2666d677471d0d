"""Read side of monitoring: who may read which figures, areas, rollup summaries, violations.

Monitors and administrators (memberships) and superusers read the whole province; leaders read
their own agencies (and the communes those agencies serve); nobody else reads monitoring.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from motcua.accounts.models import Membership, Role
from motcua.agencies.models import AdministrativeUnit, Agency
from motcua.catalog.models import Procedure
from motcua.core.errors import DomainError, InvalidInput, NotFound

from . import rollups
from .facts import day_start, vn_day
from .models import COUNTERS, OPEN_COUNTERS, DossierTrack, OpenSnapshot, SnapshotDay, Violation
from .scorecard import Area, Figures

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


def served_provinces():
    """The provinces whose agencies (or whose communes' agencies) are in the system.

    Semi-joins on the agencies' units rather than DISTINCT over the units × agencies join:
    the units table holds every commune of the country."""
    served_units = Agency.objects.values("unit_id")
    return AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.PROVINCE).filter(
        Q(pk__in=served_units)
        | Q(pk__in=AdministrativeUnit.objects.filter(pk__in=served_units).values("parent_id"))
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
            found = list(served_provinces().order_by("pk")[:2])
            if len(found) != 1:
                raise InvalidInput("Cần chọn tỉnh (tham số id).", code="area_required")
            unit = found[0]
        else:
            unit = units.filter(pk=area_id).first()
            if unit is None:
                raise NotFound("Không tìm thấy tỉnh.", code="unknown_area")
        ids = _province_agencies(unit)
        everything = len(ids) == Agency.objects.count()
        return Area("province", unit.pk, unit.full_name or unit.name, ids, everything)
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
        if allowed is not None:
            # A leader reads only the agencies they lead, even within their commune.
            ids = [pk for pk in ids if pk in allowed]
            if not ids:
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
        area.filter_ids, date_from, date_to, fields, COUNTERS, filters=filters
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
        figures = rollups.live_open(area.filter_ids, now)
    else:
        figures = rollups.stored_open(area.filter_ids, day) or rollups.compute_open(
            day, area.filter_ids
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


# --- dashboards ---------------------------------------------------------------------------------
#
# Every figure of a dashboard comes from the rollups (``sum_rollups``: whole months from the
# month rows) and the in-progress figures at the period's end (``scorecard.open_at_end``: the
# live index or the day's snapshot); the drill-down lists page through ``DossierTrack`` — one
# row per dossier with the same key and the same instants the rollups were counted with — on
# its indexes, newest first, by keyset (never an OFFSET or a COUNT over the dossiers).

FINISHED = ("finished_early", "finished_on_time", "finished_late")
DASHBOARD_COUNTERS = ("received", *FINISHED, "finished_extended")
TREND_MONTHS = 12
CHANNELS = ("counter", "online", "postal")


def on_time_rate(counts: dict[str, int]) -> float | None:
    """Early and on time ÷ finished × 100 (dossiers whose processing ended), 2 decimals."""
    finished = sum(counts.get(name, 0) for name in FINISHED)
    if not finished:
        return None
    good = counts.get("finished_early", 0) + counts.get("finished_on_time", 0)
    return round(good * 100 / finished, 2)


def _months_back(period_end: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """The ``months`` whole months ending with the month of ``period_end``."""
    index = period_end.year * 12 + period_end.month - 1 - (months - 1)
    first = dt.date(index // 12, index % 12 + 1, 1)
    last_month = period_end.replace(day=1)
    last = (last_month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first, last


def _month_key(value) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.replace(day=1)


def dashboard(area: Area, period, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The figures of the monitoring dashboard for ``area`` over ``period`` (a
    ``scorecard.Period``): totals, per agency, the monthly trend and channel mix of the twelve
    months ending with the period, the procedures most often late, open violations."""
    from .scorecard import open_at_end

    now = now or timezone.now()
    ids = area.filter_ids
    by_agency = rollups.sum_rollups(
        ids, period.start, period.end, ("agency_id",), DASHBOARD_COUNTERS
    )
    opens = open_at_end(ids, period, now)
    open_by_agency: dict[int, dict[str, int]] = {}
    for (agency_id, _p, _c), counts in opens.by_key.items():
        row = open_by_agency.setdefault(agency_id, dict.fromkeys(OPEN_COUNTERS, 0))
        for name in OPEN_COUNTERS:
            row[name] += counts.get(name, 0)
    agency_ids = sorted({key[0] for key in by_agency} | set(open_by_agency))
    names = {
        pk: (short or name, name, eid)
        for pk, name, short, eid in Agency.objects.filter(pk__in=agency_ids).values_list(
            "pk", "name", "short_name", "electronic_id"
        )
    }
    agencies = []
    totals = dict.fromkeys((*DASHBOARD_COUNTERS, *OPEN_COUNTERS), 0)
    for pk in agency_ids:
        counts = dict.fromkeys(DASHBOARD_COUNTERS, 0)
        counts.update(by_agency.get((pk,), {}))
        counts.update(open_by_agency.get(pk, dict.fromkeys(OPEN_COUNTERS, 0)))
        for name in totals:
            totals[name] += counts.get(name, 0)
        short, full, eid = names.get(pk, ("", "", ""))
        agencies.append(
            {
                "agency_id": pk,
                "name": full,
                "short_name": short,
                "electronic_id": eid,
                "finished": sum(counts[n] for n in FINISHED),
                "rate": on_time_rate(counts),
                **counts,
            }
        )
    agencies.sort(key=lambda row: (row["name"], row["agency_id"]))
    totals["finished"] = sum(totals[n] for n in FINISHED)
    totals["rate"] = on_time_rate(totals)

    first, last = _months_back(period.end, TREND_MONTHS)
    monthly = rollups.sum_rollups(ids, first, last, ("month", "channel"), ("received", *FINISHED))
    months: dict[dt.date, dict[str, Any]] = {}
    month = first
    while month <= last:
        months[month] = {"month": month, **dict.fromkeys(("received", *FINISHED), 0)}
        months[month].update({f"received_{c}": 0 for c in CHANNELS})
        month = (month + dt.timedelta(days=32)).replace(day=1)
    channels = dict.fromkeys(CHANNELS, 0)
    for (month_value, channel), counts in monthly.items():
        row = months.get(_month_key(month_value))
        if row is None:
            continue
        for name in ("received", *FINISHED):
            row[name] += counts.get(name, 0)
        row[f"received_{channel}"] += counts.get("received", 0)
        if period.start <= row["month"] <= period.end:
            channels[channel] += counts.get("received", 0)
    trend = list(months.values())
    for row in trend:
        row["finished"] = sum(row[n] for n in FINISHED)
        row["rate"] = on_time_rate(row)

    by_procedure = rollups.sum_rollups(
        ids, period.start, period.end, ("procedure_id",), ("received", *FINISHED)
    )
    late = sorted(
        ((key[0], counts) for key, counts in by_procedure.items() if counts["finished_late"]),
        key=lambda item: (-item[1]["finished_late"], item[0]),
    )[:10]
    procedures = dict(
        Procedure.objects.filter(pk__in=[pk for pk, _ in late]).values_list("pk", "name")
    )
    codes = dict(Procedure.objects.filter(pk__in=[pk for pk, _ in late]).values_list("pk", "code"))
    late_procedures = [
        {
            "procedure_id": pk,
            "code": codes.get(pk, ""),
            "name": procedures.get(pk, ""),
            "finished": sum(counts[n] for n in FINISHED),
            "rate": on_time_rate(counts),
            **counts,
        }
        for pk, counts in late
    ]
    return {
        "area": area,
        "period": period,
        "in_progress": {"kind": opens.kind, "as_of": opens.as_of},
        "totals": totals,
        "channels": channels,
        "agencies": agencies,
        "trend": trend,
        "late_procedures": late_procedures,
        "violations": open_violations(area),
    }


def open_violations(area: Area) -> dict[str, Any]:
    """Violations not closed yet in the area, by rule (open and explained)."""
    from .violations import RULES

    rows = Violation.objects.filter(status__in=(Violation.Status.OPEN, Violation.Status.EXPLAINED))
    if not area.everything:
        rows = rows.filter(agency_id__in=area.agency_ids)
    rows = rows.values("rule", "status").order_by().annotate(n=Count("pk"))
    by_rule: dict[str, dict[str, int]] = {}
    for row in rows:
        into = by_rule.setdefault(row["rule"], {"open": 0, "explained": 0})
        into[row["status"]] += row["n"]
    items = [
        {
            "rule": code,
            "label": str(RULES[code].description) if code in RULES else code,
            "severity": RULES[code].severity if code in RULES else "",
            **counts,
        }
        for code, counts in by_rule.items()
    ]
    items.sort(key=lambda item: (-item["open"], item["rule"]))
    return {
        "rules": items,
        "open": sum(i["open"] for i in items),
        "explained": sum(i["explained"] for i in items),
    }


def scorecard_trend(
    area: Area, period, *, months: int = TREND_MONTHS, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The Decision 766 total (computable part) and indicator 2.1 of each of the ``months``
    months ending with ``period``: one grouped read of the month rows and one of the
    end-of-month snapshots, scored with the rule set in force on each month's last day."""
    from . import scorecard as sc

    now = now or timezone.now()
    today = vn_day(now)
    first, last = _months_back(period.end, months)
    rule_sets = {}
    month_periods = []
    month = first
    while month <= last and month <= today:
        p = sc.Period.month(month.year, month.month)
        rs = sc.select_rule_set(p.end)
        rule_sets[p.start] = rs
        month_periods.append(p)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    if not month_periods:
        return []
    used = set()
    for rs in {id(r): r for r in rule_sets.values()}.values():
        used |= sc.counters_used(rs)
    counters = sorted(used & set(COUNTERS))
    sums = rollups.sum_rollups(
        area.filter_ids,
        month_periods[0].start,
        month_periods[-1].end,
        ("month", "procedure_id", "channel"),
        counters,
    )
    per_month: dict[dt.date, dict[tuple[int, str], dict[str, int]]] = {}
    for (month_value, procedure_id, channel), counts in sums.items():
        per_month.setdefault(_month_key(month_value), {})[(procedure_id, channel)] = dict(counts)
    # In progress at each month's end: the snapshots of the past month ends (one query), the
    # live index for the current month.
    ends = [p.end for p in month_periods if p.end < today]
    snapshots = OpenSnapshot.objects.filter(day__in=ends)
    if area.filter_ids is not None:
        snapshots = snapshots.filter(agency_id__in=area.filter_ids)
    # Summed in the database by procedure and channel (what the formulas read).
    snapshots = (
        snapshots.values("day", "procedure_id", "channel")
        .order_by()
        .annotate(**{name: Sum(name) for name in OPEN_COUNTERS})
    )
    taken = set(SnapshotDay.objects.filter(day__in=ends).values_list("day", flat=True))
    opens_by_day: dict[dt.date, rollups.OpenFigures] = {
        day: rollups.OpenFigures(as_of=now, kind="daily") for day in taken
    }
    for row in snapshots:
        figures = opens_by_day.setdefault(row["day"], rollups.OpenFigures(as_of=now, kind="daily"))
        key = (None, row["procedure_id"], row["channel"])
        figures.by_key[key] = {name: row[name] for name in OPEN_COUNTERS}
    catalogue_cache: dict[str, int] = {}
    out = []
    for p in month_periods:
        if p.end >= today:
            opens = rollups.live_open(area.filter_ids, now, fields=("procedure_id", "channel"))
        else:
            opens = opens_by_day.get(p.end) or rollups.compute_open(p.end, area.filter_ids)
        figures = _PreparedFigures(area.filter_ids, p, opens, counters, catalogue_cache)
        figures.__dict__["_sums"] = _with_opens(per_month.get(p.start, {}), opens)
        rs = rule_sets[p.start]
        total = Decimal(0)
        computed = Decimal(0)
        rate_21 = None
        for group in rs.groups:
            for indicator in group.indicators:
                result = sc.score_indicator(indicator, group.code, figures)
                if result.status == "ok" and result.score is not None:
                    total += result.score
                    computed += indicator.max
                if indicator.code == "2.1" and result.rate is not None:
                    rate_21 = float(round(result.rate, rs.rounding))
        out.append(
            {
                "month": p.start,
                "label": f"{p.start:%m/%Y}",
                "score": float(round(total, rs.rounding)),
                "max_computed": float(computed),
                "rate_21": rate_21,
            }
        )
    return out


def _with_opens(sums: dict, opens) -> dict:
    found = {key: dict(counts) for key, counts in sums.items()}
    for (_agency, procedure_id, channel), counts in opens.by_key.items():
        into = found.setdefault((procedure_id, channel), {})
        for name, n in counts.items():
            into[name] = into.get(name, 0) + n
    return found


class _PreparedFigures(Figures):
    """``Figures`` whose sums are given, with the catalogue counts shared across months."""

    def __init__(self, agency_ids, period, opens, counters, catalogue_cache):
        super().__init__(agency_ids, period, opens, counters)
        self._catalogue_cache = catalogue_cache

    def catalogue(self, measure: str) -> int:
        if measure not in self._catalogue_cache:
            self._catalogue_cache[measure] = super().catalogue(measure)
        return self._catalogue_cache[measure]


# --- drill-down: the dossiers behind a figure -----------------------------------------------

MEASURES = (
    "received",
    "finished",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "open",
    "open_in_time",
    "open_late",
)
PAGE_SIZE = 50


@dataclass
class DrillPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None  # the figure from the rollups, when the measure has one


def _cursor(value: str | None) -> tuple[dt.datetime, int] | None:
    if not value:
        return None
    try:
        when, pk = value.rsplit("|", 1)
        at = dt.datetime.fromisoformat(when)
        return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)), int(pk)
    except (ValueError, TypeError):
        raise InvalidInput("Trang không hợp lệ.", code="invalid_cursor") from None


def _drill_filters(
    area: Area, agency_id: int | None, procedure_id: int | None, channel: str | None
) -> Q:
    if agency_id is not None and agency_id not in area.agency_ids:
        raise NotFound("Không tìm thấy cơ quan.", code="unknown_area")
    if agency_id is not None:
        where = Q(agency_id=agency_id)
    elif area.everything:
        where = Q()
    else:
        where = Q(agency_id__in=area.agency_ids)
    if procedure_id is not None:
        where &= Q(procedure_id=procedure_id)
    if channel:
        if channel not in CHANNELS:
            raise InvalidInput("Kênh nộp không hợp lệ.", code="invalid_channel")
        where &= Q(channel=channel)
    return where


def measure_total(
    area: Area,
    period,
    measure: str,
    *,
    agency_id: int | None = None,
    procedure_id: int | None = None,
    channel: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """The dashboard's figure for ``measure`` with these filters (from the rollups, or the
    in-progress figures at the period's end): what the drill-down list adds up to."""
    from .scorecard import open_at_end

    if measure not in MEASURES:
        raise InvalidInput("Chỉ tiêu không hợp lệ.", code="invalid_measure")
    _drill_filters(area, agency_id, procedure_id, channel)
    ids = [agency_id] if agency_id is not None else area.filter_ids
    if measure.startswith("open"):
        opens = open_at_end(ids, period, now or timezone.now())
        total = 0
        for (_a, p, c), counts in opens.by_key.items():
            if (procedure_id is None or p == procedure_id) and (not channel or c == channel):
                if measure in ("open", "open_in_time"):
                    total += counts["open_in_time"]
                if measure in ("open", "open_late"):
                    total += counts["open_late"]
        return total
    names = FINISHED if measure == "finished" else (measure,)
    filters: dict[str, Any] = {}
    if procedure_id is not None:
        filters["procedure_id"] = procedure_id
    if channel:
        filters["channel"] = channel
    sums = rollups.sum_rollups(ids, period.start, period.end, (), names, filters=filters)
    return sum(int(sums.get((), {}).get(name) or 0) for name in names)


def drilldown(
    area: Area,
    period,
    measure: str,
    *,
    agency_id: int | None = None,
    procedure_id: int | None = None,
    channel: str | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
    now: dt.datetime | None = None,
) -> DrillPage:
    """One page of the dossiers behind a dashboard figure, newest first (keyset paging)."""
    if measure not in MEASURES:
        raise InvalidInput("Chỉ tiêu không hợp lệ.", code="invalid_measure")
    now = now or timezone.now()
    where = _drill_filters(area, agency_id, procedure_id, channel)
    start, end = day_start(period.start), day_start(period.end + dt.timedelta(days=1))
    cursor = _cursor(after)
    tracks = DossierTrack.objects.all()
    if measure.startswith("open"):
        cutoff = min(now, end - dt.timedelta(microseconds=1))
        if period.end >= vn_day(now):
            return _open_now(tracks.filter(where), measure, now, cursor, limit)
        return _open_at(tracks.filter(where), measure, period.end, cutoff, cursor, limit)
    if measure == "received":
        field = "received_at"
        rows = tracks.filter(where, received_at__gte=start, received_at__lt=end)
    else:
        field = "finished_at"
        rows = tracks.filter(where, finished_at__gte=start, finished_at__lt=end)
        if measure != "finished":
            rows = rows.filter(finished_as=measure.removeprefix("finished_"))
        else:
            rows = rows.exclude(finished_as="")
    return _page(rows, field, cursor, limit)


def _page(rows, field: str, cursor, limit: int, descending: bool = True) -> DrillPage:
    if cursor is not None:
        at, pk = cursor
        if descending:
            rows = rows.filter(Q(**{f"{field}__lt": at}) | Q(**{field: at, "pk__lt": pk}))
        else:
            rows = rows.filter(Q(**{f"{field}__gt": at}) | Q(**{field: at, "pk__gt": pk}))
    order = (f"-{field}", "-pk") if descending else (field, "pk")
    found = list(rows.order_by(*order).values_list("pk", field)[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    next_cursor = f"{found[-1][1].isoformat()}|{found[-1][0]}" if more and found else None
    return DrillPage(
        rows=_dossier_rows([pk for pk, _ in found]), next_cursor=next_cursor, total=None
    )


def _open_now(rows, measure: str, now, cursor, limit: int) -> DrillPage:
    rows = rows.filter(is_open=True)
    late = Q(late_from__isnull=False, late_from__lte=now)
    if measure == "open_late":
        rows = rows.filter(late)
    elif measure == "open_in_time":
        rows = rows.exclude(late)
    return _page(rows, "received_at", cursor, limit)


def _open_at(rows, measure: str, day: dt.date, cutoff, cursor, limit: int) -> DrillPage:
    """Open at the end of a past day: the candidates (received by then, not finished by
    then) replayed up to that instant, as the snapshot was computed, a batch at a time."""
    from .facts import replay

    rows = rows.filter(received_at__lte=cutoff).filter(Q(is_open=True) | Q(finished_at__gt=cutoff))
    wanted = {"open": {"in_time", "extended", "late"}, "open_late": {"late"}}.get(
        measure, {"in_time", "extended"}
    )
    found: list[int] = []
    last = None
    calendars = rollups.Calendars()
    scanned = 0
    while len(found) <= limit:
        batch = _page_keys(rows, "received_at", cursor, rollups.BATCH)
        if not batch:
            break
        ids = [pk for pk, _ in batch]
        dossier_facts = rollups.load_facts(ids)
        events = rollups.load_events(ids)
        for pk, at in batch:
            fact = dossier_facts.get(pk)
            cursor = (at, pk)
            if fact is None:
                continue
            state, _, _ = replay(
                events.get(pk, ()), fact, calendars.of(fact.receiving_agency_id), until=cutoff
            )
            if state.open_class(cutoff) in wanted:
                found.append(pk)
                last = cursor
                if len(found) > limit:
                    break
        scanned += len(batch)
        if len(batch) < rollups.BATCH:
            break
    more = len(found) > limit
    found = found[:limit]
    if more:
        # resume after the last row shown
        last_pk = found[-1]
        last_at = DossierTrack.objects.filter(pk=last_pk).values_list("received_at", flat=True)[0]
        last = (last_at, last_pk)
    next_cursor = f"{last[0].isoformat()}|{last[1]}" if more and last else None
    return DrillPage(rows=_dossier_rows(found), next_cursor=next_cursor, total=None)


def _page_keys(rows, field: str, cursor, size: int) -> list[tuple[int, dt.datetime]]:
    if cursor is not None:
        at, pk = cursor
        rows = rows.filter(Q(**{f"{field}__lt": at}) | Q(**{field: at, "pk__lt": pk}))
    return list(rows.order_by(f"-{field}", "-pk").values_list("pk", field)[:size])


def _dossier_rows(ids: list[int]) -> list[dict[str, Any]]:
    """The dossiers of a page, in the page's order, with what a list shows."""
    from motcua.dossiers.models import Dossier

    dossiers = {
        d.pk: d
        for d in Dossier.objects.filter(pk__in=ids).select_related(
            "procedure", "receiving_agency", "deciding_agency", "applicant"
        )
    }
    out = []
    for pk in ids:
        d = dossiers.get(pk)
        if d is None:
            continue
        out.append(
            {
                "pk": d.pk,
                "code": d.code or "",
                "procedure_code": d.procedure.code,
                "procedure": d.procedure.name,
                "agency": (d.deciding_agency or d.receiving_agency).name,
                "applicant": d.applicant.name,
                "channel": d.get_channel_display(),
                "status": d.get_status_display(),
                "received_at": d.received_at,
                "due_at": d.due_at,
                "finished_at": d.finished_at,
                "timeliness": d.get_timeliness_display() if d.timeliness else "",
            }
        )
    return out


# --- the period report ----------------------------------------------------------------------

REPORT_COUNTERS = ("received", *FINISHED, "returned")


def period_report(area: Area, period, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The summary report of a period: per agency and per procedure, received by channel,
    finished early / on time / late, in progress at the end, returned (from the rollups)."""
    from .scorecard import open_at_end

    now = now or timezone.now()
    ids = area.filter_ids
    by_agency = rollups.sum_rollups(
        ids, period.start, period.end, ("agency_id", "channel"), REPORT_COUNTERS
    )
    by_procedure = rollups.sum_rollups(
        ids, period.start, period.end, ("procedure_id", "channel"), REPORT_COUNTERS
    )
    opens = open_at_end(ids, period, now)

    def empty() -> dict[str, int]:
        row = dict.fromkeys((*REPORT_COUNTERS, *OPEN_COUNTERS), 0)
        row.update({f"received_{c}": 0 for c in CHANNELS})
        return row

    agencies: dict[int, dict[str, int]] = {}
    procedures: dict[int, dict[str, int]] = {}
    for grouped, into in ((by_agency, agencies), (by_procedure, procedures)):
        for (pk, channel), counts in grouped.items():
            row = into.setdefault(pk, empty())
            for name in REPORT_COUNTERS:
                row[name] += counts.get(name, 0)
            row[f"received_{channel}"] += counts.get("received", 0)
    for (agency_id, procedure_id, _channel), counts in opens.by_key.items():
        for pk, into in ((agency_id, agencies), (procedure_id, procedures)):
            row = into.setdefault(pk, empty())
            for name in OPEN_COUNTERS:
                row[name] += counts.get(name, 0)
    totals = empty()
    for row in agencies.values():
        for name in totals:
            totals[name] += row[name]
    for row in (*agencies.values(), *procedures.values(), totals):
        row["finished"] = sum(row[n] for n in FINISHED)
        row["rate"] = on_time_rate(row)
    agency_names = dict(Agency.objects.filter(pk__in=agencies).values_list("pk", "name"))
    procedure_rows = Procedure.objects.filter(pk__in=procedures).values_list("pk", "code", "name")
    procedure_names = {pk: (code, name) for pk, code, name in procedure_rows}
    return {
        "area": area,
        "period": period,
        "in_progress": {"kind": opens.kind, "as_of": opens.as_of},
        "totals": totals,
        "agencies": sorted(
            (
                {"agency_id": pk, "name": agency_names.get(pk, ""), **row}
                for pk, row in agencies.items()
            ),
            key=lambda r: (r["name"], r["agency_id"]),
        ),
        "procedures": sorted(
            (
                {
                    "procedure_id": pk,
                    "code": procedure_names.get(pk, ("", ""))[0],
                    "name": procedure_names.get(pk, ("", ""))[1],
                    **row,
                }
                for pk, row in procedures.items()
            ),
            key=lambda r: (-r["received"], r["code"]),
        ),
    }
