"""Monitoring endpoints, mounted at /api/v1/monitoring (read only).

Bearer tokens need the ``monitoring:read`` scope; officers' sessions work too. Monitors and
administrators read the province; leaders their own agencies (``queries.readable_agencies``).
Field names are stable: dashboards and other systems read them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import create_model

from motcua.accounts.auth import API_AUTH, require_scope
from motcua.accounts.models import Scope

from . import queries, scorecard
from .models import COUNTERS, OPEN_COUNTERS
from .violations import RULES

router = Router(tags=["monitoring"], auth=API_AUTH)

AreaKind = Literal["province", "agency", "commune"]


class ErrorOut(Schema):
    code: str
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class AreaOut(Schema):
    kind: str
    id: int
    name: str
    agencies: int


class PeriodOut(Schema):
    kind: str
    date_from: dt.date
    date_to: dt.date
    label: str


class RuleSetOut(Schema):
    id: str
    version: str
    title: str
    legal_basis: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    sha256: str


class InProgressOut(Schema):
    kind: str  # live | daily
    as_of: dt.datetime
    open_in_time: int
    open_late: int
    open_extended: int


class IndicatorOut(Schema):
    code: str
    group: str
    name: str
    kind: str
    unit: str
    max: float
    target: float | None
    status: Literal["ok", "no_data"]
    status_label: str
    reason: str | None
    numerator: int | None
    denominator: int | None
    rate: float | None
    score: float | None
    note: str | None


class GroupOut(Schema):
    code: str
    name: str
    max: float
    score: float
    max_computed: float
    indicators: list[IndicatorOut]


class TotalOut(Schema):
    score: float
    max: float
    max_computed: float
    complete: bool
    indicators_without_data: int


class ScorecardOut(Schema):
    area: AreaOut
    period: PeriodOut
    rule_set: RuleSetOut
    computed_at: dt.datetime
    in_progress: InProgressOut
    total: TotalOut
    groups: list[GroupOut]


# One integer per rollup counter (models.COUNTERS), by name.
CountersOut = create_model("CountersOut", __base__=Schema, **{n: (int, ...) for n in COUNTERS})


class RollupRowOut(Schema):
    key: str | None
    label: str
    counters: CountersOut


class RollupsOut(Schema):
    area: AreaOut
    date_from: dt.date
    date_to: dt.date
    group_by: str
    rows: list[RollupRowOut]


OpenCountsOut = create_model(
    "OpenCountsOut", __base__=Schema, **{n: (int, ...) for n in OPEN_COUNTERS}
)


class AgencyOpenOut(Schema):
    agency_id: int
    agency_name: str
    open_in_time: int
    open_late: int
    open_extended: int


class OpenOut(Schema):
    area: AreaOut
    kind: str
    as_of: dt.datetime
    totals: OpenCountsOut
    agencies: list[AgencyOpenOut]


class ViolationOut(Schema):
    id: int
    rule: str
    rule_label: str
    severity: str
    status: str
    dossier_code: str | None
    dossier_uuid: str
    agency_id: int
    agency_name: str
    officer: str | None
    step: str | None
    detail: str
    occurred_at: dt.datetime
    detected_at: dt.datetime
    explanation: str


class ViolationPageOut(Schema):
    count: int
    page: int
    page_size: int
    items: list[ViolationOut]


class RuleOut(Schema):
    code: str
    description: str
    severity: str


def _area(request: HttpRequest, scope: AreaKind, id: int | None):
    require_scope(request, Scope.MONITORING_READ)
    return queries.resolve_area(request.auth, scope, id)


def _area_out(area) -> dict:
    return {"kind": area.kind, "id": area.id, "name": area.name, "agencies": len(area.agency_ids)}


@router.get(
    "/scorecard",
    response={200: ScorecardOut, **ERRORS},
    summary="Chấm điểm theo Bộ chỉ số 766 của tỉnh, cơ quan hoặc xã trong một kỳ",
)
def get_scorecard(
    request: HttpRequest,
    scope: AreaKind = "province",
    id: int | None = None,
    period: Literal["month", "quarter", "year", "range"] = "month",
    year: int | None = None,
    month: int | None = None,
    quarter: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    rule_set: str | None = None,
):
    """Every indicator as numerator, denominator, rate and score, with group totals and the
    total out of 100; an indicator the local data cannot compute is ``no_data`` with the
    reason. The rule set (id, version, file hash) used is returned with the scorecard."""
    area = _area(request, scope, id)
    chosen = scorecard.Period.parse(
        period, year=year, month=month, quarter=quarter, date_from=date_from, date_to=date_to
    )
    return scorecard.compute(area, chosen, rule_set=rule_set)


@router.get(
    "/rollups",
    response={200: RollupsOut, **ERRORS},
    summary="Số liệu tổng hợp (tiếp nhận, giải quyết, …) theo ngày, tháng, cơ quan, thủ tục, kênh",
)
def get_rollups(
    request: HttpRequest,
    date_from: dt.date,
    date_to: dt.date,
    scope: AreaKind = "province",
    id: int | None = None,
    group_by: Literal["total", "day", "month", "agency", "procedure", "channel"] = "total",
    channel: Literal["counter", "online", "postal"] | None = None,
    procedure: int | None = None,
    limit: int = 500,
):
    area = _area(request, scope, id)
    rows = queries.rollup_summary(
        area,
        date_from,
        date_to,
        group_by=group_by,
        channel=channel,
        procedure_id=procedure,
        limit=max(1, min(limit, 2000)),
    )
    return {
        "area": _area_out(area),
        "date_from": date_from,
        "date_to": date_to,
        "group_by": group_by,
        "rows": rows,
    }


@router.get(
    "/in-progress",
    response={200: OpenOut, **ERRORS},
    summary="Hồ sơ đang giải quyết trong hạn / quá hạn: hiện tại hoặc cuối một ngày đã qua",
)
def get_in_progress(
    request: HttpRequest,
    scope: AreaKind = "province",
    id: int | None = None,
    day: dt.date | None = None,
):
    area = _area(request, scope, id)
    return {"area": _area_out(area), **queries.in_progress(area, day=day)}


@router.get(
    "/violations",
    response={200: ViolationPageOut, **ERRORS},
    summary="Vi phạm quy trình của tỉnh, cơ quan hoặc xã",
)
def list_violations(
    request: HttpRequest,
    scope: AreaKind = "province",
    id: int | None = None,
    status: Literal["open", "explained", "closed"] | None = None,
    rule: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = 1,
    page_size: int = 50,
):
    area = _area(request, scope, id)
    page = max(page, 1)
    page_size = max(1, min(page_size, 200))
    rows = queries.violations(area, status=status, rule=rule, date_from=date_from, date_to=date_to)
    count = rows.count()
    items = []
    for v in rows[(page - 1) * page_size : page * page_size]:
        officer = None
        if v.officer is not None:
            officer = v.officer.get_full_name() or v.officer.get_username()
        items.append(
            {
                "id": v.pk,
                "rule": v.rule,
                "rule_label": v.rule_label,
                "severity": v.severity,
                "status": v.status,
                "dossier_code": v.dossier.code,
                "dossier_uuid": str(v.dossier.uuid),
                "agency_id": v.agency_id,
                "agency_name": v.agency.name,
                "officer": officer,
                "step": v.step.name if v.step is not None else None,
                "detail": v.detail,
                "occurred_at": v.occurred_at,
                "detected_at": v.detected_at,
                "explanation": v.explanation,
            }
        )
    return {"count": count, "page": page, "page_size": page_size, "items": items}


@router.get("/rules", response={200: list[RuleOut], **ERRORS}, summary="Các quy tắc vi phạm")
def list_rules(request: HttpRequest):
    require_scope(request, Scope.MONITORING_READ)
    queries.readable_agencies(request.auth)
    return [
        {"code": r.code, "description": str(r.description), "severity": r.severity}
        for r in RULES.values()
    ]


@router.get(
    "/rule-sets",
    response={200: list[RuleSetOut], **ERRORS},
    summary="Các bộ quy tắc chấm điểm (phiên bản, hiệu lực)",
)
def list_rule_sets(request: HttpRequest):
    require_scope(request, Scope.MONITORING_READ)
    queries.readable_agencies(request.auth)
    return [rs.describe() for rs in scorecard.load_rule_sets()]
