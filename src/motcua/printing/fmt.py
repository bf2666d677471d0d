"""How dates, times, money and blanks are written on the forms (pure Python).

Dates follow Decree 30/2020: "Thanh Hóa, ngày 05 tháng 02 năm 2026" — a leading zero for days
below 10 and for January and February only. Aware datetimes are shown in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from motcua.core.text import nfc

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BLANK = "…………"


def local(moment: datetime) -> datetime:
    """``moment`` in Vietnamese local time (naive datetimes are taken as local already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(LOCAL_TZ)


def _day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return local(value).date()
    return value


def long_date(value: date | datetime | None) -> str:
    """ "ngày 14 tháng 7 năm 2025" (Decree 30 zero-padding); dotted blanks for ``None``."""
    if value is None:
        return "ngày …… tháng …… năm ……"
    day = _day(value)
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def place_and_date(place: str, value: date | datetime | None) -> str:
    """The date line under the national motto: "Thanh Hóa, ngày 14 tháng 7 năm 2025"."""
    return f"{nfc(place) or '……'}, {long_date(value)}"


def long_datetime(value: datetime | date | None) -> str:
    """ "08 giờ 30 phút, ngày 14 tháng 7 năm 2025" (a date alone prints the date part only)."""
    if value is None:
        return "…… giờ …… phút, ngày …… tháng …… năm ……"
    if not isinstance(value, datetime):
        return long_date(value)
    moment = local(value)
    return f"{moment.hour:02d} giờ {moment.minute:02d} phút, {long_date(moment)}"


def short_datetime(value: datetime | date | None) -> str:
    """ "14/07/2025 08:30" for tables; "" for ``None``."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return f"{value:%d/%m/%Y}"
    return f"{local(value):%d/%m/%Y %H:%M}"


def short_date(value: date | datetime | None) -> str:
    """ "14/07/2025"; "" for ``None``."""
    if value is None:
        return ""
    return f"{_day(value):%d/%m/%Y}"


def money(amount: int) -> str:
    """Integer VND with dot thousands: "1.250.000 đồng"."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def count(value: int) -> str:
    """Small counts as forms write them: "01", "02", …, "12"."""
    return f"{value:02d}"


def or_blank(text: str | None) -> str:
    """NFC text, or dotted leaders where the form has a blank to fill by hand."""
    text = nfc(text).strip()
    return text or BLANK


def naive_local(value: datetime | date | None) -> datetime | date | None:
    """A datetime for a spreadsheet cell: local time without tzinfo (Excel has no zones)."""
    if isinstance(value, datetime):
        return local(value).replace(tzinfo=None)
    return value
