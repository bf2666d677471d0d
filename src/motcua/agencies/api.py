"""Calendar endpoints: deadline of a time limit, and the days off of a period.

Parameters arrive as strings and are parsed here so each mistake gets its own error code
(``invalid_datetime``, ``invalid_amount``…) rather than a generic validation error.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.http import HttpRequest
from ninja import Query, Router, Schema

from motcua.agencies.calendar import calendar_for, days_off_between
from motcua.agencies.models import Agency
from motcua.core.errors import InvalidInput, NotFound
from motcua.core.worktime import VN_TZ, Unit

router = Router(tags=["calendar"])

# Long enough for any report period, short enough to keep the answer small.
MAX_RANGE_DAYS = 3 * 366
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UNITS = {unit.value: unit for unit in Unit}


class ErrorOut(Schema):
    code: str
    message: str


class DueOut(Schema):
    due_at: str
    agency: str | None
    unit: str
    amount: int | float | None


class DayOffOut(Schema):
    date: dt.date
    kind: str
    name: str
    basis: str
    scope: str


def get_agency(value: str | None) -> Agency | None:
    """Find an agency by electronic id (``000.00.00.H56``) or numeric id; None if empty."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        # Beyond 64 bits it cannot be an id (and the database would refuse the number).
        agency = Agency.objects.filter(pk=int(value)).first() if len(value) < 19 else None
    else:
        agency = Agency.objects.filter(electronic_id=value).first()
    if agency is None:
        raise NotFound(f"Không tìm thấy cơ quan «{value}».", code="agency_not_found")
    return agency


def _parse_datetime(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.strip())
        return moment.replace(tzinfo=VN_TZ) if moment.tzinfo is None else moment.astimezone(VN_TZ)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"Thời điểm «{value}» không đúng định dạng ISO 8601 (ví dụ 2026-02-13T10:30:00+07:00).",
            code="invalid_datetime",
        ) from None


def _parse_date(value: str, label: str) -> dt.date:
    value = value.strip()
    try:
        if not _ISO_DATE.match(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"Ngày {label} «{value}» không đúng dạng YYYY-MM-DD.", code="invalid_date"
        ) from None


def _parse_amount(value: str | None, unit: Unit) -> Decimal | None:
    if value is None or not value.strip():
        if unit is Unit.SAME_DAY:
            return None
        raise InvalidInput("Thiếu thời hạn (amount).", code="invalid_amount")
    text = value.strip()
    try:
        amount = Decimal(text) if len(text) <= 20 else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise InvalidInput(f"Thời hạn «{value}» không phải là một số.", code="invalid_amount")
    if amount < 0:
        raise InvalidInput("Thời hạn không được là số âm.", code="negative_amount")
    return amount


def _number(amount: Decimal | None) -> int | float | None:
    if amount is None:
        return None
    return int(amount) if amount == amount.to_integral_value() else float(amount)


@router.get(
    "/due",
    response={200: DueOut, 400: ErrorOut, 404: ErrorOut},
    summary="Tính hạn xử lý",
    description=(
        "Hạn của một thời hạn `amount` `unit` tính từ `start` theo lịch làm việc của cơ quan "
        "(`agency`: mã định danh điện tử hoặc số id; để trống: lịch toàn quốc, giờ hành chính "
        "mặc định). `start` không có múi giờ được hiểu là giờ Việt Nam."
    ),
)
def due(
    request: HttpRequest,
    start: str,
    unit: str,
    amount: str | None = None,
    agency: str | None = None,
):
    kind = _UNITS.get(unit.strip())
    if kind is None:
        raise InvalidInput(
            f"Đơn vị thời hạn «{unit}» không hợp lệ (chọn một trong: {', '.join(_UNITS)}).",
            code="invalid_unit",
        )
    moment = _parse_datetime(start)
    value = _parse_amount(amount, kind)
    found = get_agency(agency)
    due_at = calendar_for(found).due(moment, value if value is not None else 0, kind)
    return {
        "due_at": due_at.isoformat(),
        "agency": found.electronic_id if found else None,
        "unit": kind.value,
        "amount": _number(value),
    }


@router.get(
    "/days-off",
    response={200: list[DayOffOut], 400: ErrorOut, 404: ErrorOut},
    summary="Ngày nghỉ và ngày làm bù trong một khoảng",
    description=(
        "Ngày nghỉ lễ, Tết (`day_off`) và ngày làm bù (`workday`) từ `from` đến `to` (tối đa "
        "3 năm), theo lịch toàn quốc hoặc lịch riêng của cơ quan (`scope`)."
    ),
)
def days_off(
    request: HttpRequest,
    date_from: str = Query(..., alias="from"),
    date_to: str = Query(..., alias="to"),
    agency: str | None = None,
):
    start = _parse_date(date_from, "bắt đầu")
    end = _parse_date(date_to, "kết thúc")
    if end < start:
        raise InvalidInput("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.", code="invalid_range")
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput("Khoảng thời gian tối đa là 3 năm.", code="invalid_range")
    return days_off_between(start, end, get_agency(agency))
