"""The working-day clock: working sessions, days off, and deadline arithmetic.

Pure Python (stdlib only). A :class:`WorkCalendar` is built once from the days off, the
make-up working days (worked Saturdays) and the agency's session rules
(``../shared/domain/one-stop-rules.md`` §5). ``__init__`` lays every working session of
``[first_day, last_day]`` out as sorted integer arrays (session starts, session ends, cumulative
working time); every query is then a couple of ``bisect`` calls — O(log n), never a day loop.

Time model. All arithmetic is done on Viet Nam wall-clock time, in integer microseconds since
``first_day`` 00:00. Viet Nam has had no daylight-saving time since 1975 (always UTC+7), so wall
clock and elapsed time agree. Naive datetimes are read as Asia/Ho_Chi_Minh local time; aware
ones are converted. Every datetime returned is aware, in :data:`VN_TZ`.

``pos(t)`` is the working time elapsed from the start of the range up to ``t``; a deadline of
``x`` working time from ``s`` is the earliest instant ``T >= next_working_moment(s)`` with
``pos(T) == pos(s) + x``. A deadline that lands exactly on a session end is that end (12:00,
not 13:00).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from motcua.core.errors import InvalidInput

__all__ = [
    "DEFAULT_SESSIONS",
    "VN_TZ",
    "InvalidWorktime",
    "Session",
    "SessionRule",
    "Unit",
    "WorkCalendar",
]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_US = 1_000_000
_DAY_US = 86_400 * _US
_ONE_US = timedelta(microseconds=1)
_MAX_AMOUNT = 10**9


class Unit(StrEnum):
    """Unit of a time limit (thời hạn giải quyết)."""

    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"
    SAME_DAY = "same_day"


_UNITS: dict[str, Unit] = {u.value: u for u in Unit}


@dataclass(frozen=True)
class Session:
    """One working session of a day, e.g. 08:00–12:00. ``end`` is included in the session."""

    start: time
    end: time


DEFAULT_SESSIONS = (Session(time(8), time(12)), Session(time(13), time(17)))
"""Monday–Friday sessions when an agency has no session rules (Decision 188/1999/QĐ-TTg)."""


@dataclass(frozen=True)
class SessionRule:
    """A session on one weekday (0 = Monday), valid over an optional date range.

    Rules let a province set its own hours and switch between summer and winter hours.
    ``valid_from``/``valid_to`` are inclusive; ``None`` leaves that side open.
    """

    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_to: date | None = None

    def is_valid_on(self, d: date) -> bool:
        """Return whether the rule applies on date ``d``."""
        return (self.valid_from is None or self.valid_from <= d) and (
            self.valid_to is None or d <= self.valid_to
        )


class InvalidWorktime(InvalidInput):
    """A time limit or an instant the working calendar cannot handle.

    Codes: ``invalid_unit``, ``negative_amount``, ``invalid_amount``, ``out_of_range``, and
    ``invalid_session`` for a calendar configured with impossible sessions.
    """

    code = "invalid_worktime"
    default_message = "Thời hạn hoặc thời điểm không hợp lệ."


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US + t.microsecond


_WEEKDAY_NAMES = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def _fmt_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


class WorkCalendar:
    """Working calendar of one agency over ``[first_day, last_day]``.

    ``days_off`` are weekdays off (public holidays, swapped days, agency-level extra days off);
    ``workdays`` are make-up working days (worked Saturdays), which get the sessions of a
    normal Monday on that date. A date listed in both is a day off, so an agency can add a day
    off on top of the national calendar by passing it in ``days_off``.

    Sessions on a date ``d``: if any ``session_rules`` are valid on ``d``, the rules valid on
    ``d`` for ``d``'s weekday; otherwise :data:`DEFAULT_SESSIONS` Monday–Friday and nothing at
    weekends. ``hours_per_day`` converts working days to working hours (1 day = 8 h by default),
    whatever the actual length of a day's sessions. ``same_day_cutoff`` is the 15:00 rule.
    """

    def __init__(
        self,
        *,
        days_off: Iterable[date] = (),
        workdays: Iterable[date] = (),
        session_rules: Sequence[SessionRule] = (),
        hours_per_day: int = 8,
        same_day_cutoff: time = time(15),
        first_day: date = date(2015, 1, 1),
        last_day: date = date(2040, 12, 31),
    ) -> None:
        if first_day > last_day:
            raise InvalidWorktime(
                "Ngày đầu của lịch làm việc phải trước ngày cuối.", code="out_of_range"
            )
        if hours_per_day <= 0:
            raise InvalidWorktime(
                "Số giờ làm việc mỗi ngày phải lớn hơn 0.", code="invalid_session"
            )
        rules = tuple(session_rules)
        for rule in rules:
            if not 0 <= rule.weekday <= 6 or rule.start >= rule.end:
                raise InvalidWorktime(
                    f"Buổi làm việc không hợp lệ (ngày trong tuần {rule.weekday}, "
                    f"{rule.start:%H:%M}–{rule.end:%H:%M}): giờ bắt đầu phải trước giờ kết "
                    "thúc, ngày trong tuần từ 0 (thứ Hai) đến 6 (Chủ nhật).",
                    code="invalid_session",
                )
        self.hours_per_day = hours_per_day
        self.same_day_cutoff = same_day_cutoff
        self.first_day = first_day
        self.last_day = last_day
        self._days_off = frozenset(days_off)
        self._workdays = frozenset(workdays)
        self._rules = rules
        self._first_ord = first_day.toordinal()
        self._n_days = last_day.toordinal() - self._first_ord + 1
        self._epoch = datetime.combine(first_day, time())
        self._span_us = self._n_days * _DAY_US
        self._cutoff_us = _time_us(same_day_cutoff)
        self._working_us = {
            Unit.WORKING_HOURS: 3600 * _US,
            Unit.WORKING_DAYS: 3600 * hours_per_day * _US,
        }
        self._build()

    # --- precomputation -------------------------------------------------------------------

    def _weekday_table(
        self, d: date
    ) -> list[tuple[tuple[Session, ...], tuple[tuple[int, int], ...]]]:
        """Sessions (and their spans in microseconds of the day) of each weekday on date ``d``."""
        valid = [r for r in self._rules if r.is_valid_on(d)]
        table = []
        for weekday in range(7):
            if valid:
                sessions = tuple(
                    sorted(
                        (Session(r.start, r.end) for r in valid if r.weekday == weekday),
                        key=lambda s: (s.start, s.end),
                    )
                )
            else:
                sessions = DEFAULT_SESSIONS if weekday < 5 else ()
            for before, after in pairwise(sessions):
                if after.start < before.end:
                    raise InvalidWorktime(
                        f"Các buổi làm việc {_WEEKDAY_NAMES[weekday]} (áp dụng ngày "
                        f"{_fmt_date(d)}) chồng lên nhau: {before.start:%H:%M}–{before.end:%H:%M}"
                        f" và {after.start:%H:%M}–{after.end:%H:%M}.",
                        code="invalid_session",
                    )
            spans = tuple((_time_us(s.start), _time_us(s.end)) for s in sessions)
            table.append((sessions, spans))
        return table

    def _build(self) -> None:
        # Rule validity only changes at these ordinals, so each weekday's sessions are constant
        # between two consecutive breakpoints: compute them once per period, not once per day.
        breaks = sorted(
            {r.valid_from.toordinal() for r in self._rules if r.valid_from is not None}
            | {r.valid_to.toordinal() + 1 for r in self._rules if r.valid_to is not None}
        )
        off = {d.toordinal() for d in self._days_off}
        extra = {d.toordinal() for d in self._workdays}
        tables: dict[int, list] = {}
        starts: list[int] = []
        ends: list[int] = []
        cum_end: list[int] = []
        day_sessions: list[tuple[Session, ...]] = []
        last_end: list[int | None] = []
        total = 0
        for i in range(self._n_days):
            ordinal = self._first_ord + i
            if ordinal in off:
                day_sessions.append(())
                last_end.append(None)
                continue
            period = bisect_right(breaks, ordinal)
            table = tables.get(period)
            if table is None:
                table = tables[period] = self._weekday_table(date.fromordinal(ordinal))
            sessions, spans = table[(ordinal - 1) % 7]  # ordinal 1 (0001-01-01) is a Monday
            if not spans and ordinal in extra:
                sessions, spans = table[0]
            day_sessions.append(sessions)
            base = i * _DAY_US
            for a, b in spans:
                starts.append(base + a)
                ends.append(base + b)
                total += b - a
                cum_end.append(total)
            last_end.append(base + spans[-1][1] if spans else None)
        # End of the last session of the first working day on or after each date.
        next_end: list[int | None] = [None] * self._n_days
        following: int | None = None
        for i in range(self._n_days - 1, -1, -1):
            if last_end[i] is not None:
                following = last_end[i]
            next_end[i] = following
        self._starts = starts
        self._ends = ends
        self._cum_end = cum_end
        self._n = len(starts)
        self._day_sessions = day_sessions
        self._last_end = last_end
        self._next_end = next_end

    # --- conversions ----------------------------------------------------------------------

    def _out_of_range(self, what: str) -> InvalidWorktime:
        return InvalidWorktime(
            f"{what} nằm ngoài phạm vi lịch làm việc "
            f"({_fmt_date(self.first_day)}–{_fmt_date(self.last_day)}).",
            code="out_of_range",
        )

    def _to_us(self, t: datetime) -> int:
        if not isinstance(t, datetime):
            raise TypeError(f"expected a datetime, got {type(t).__name__}")
        if t.tzinfo is not None:
            t = t.astimezone(VN_TZ).replace(tzinfo=None)
        us = (t - self._epoch) // _ONE_US
        if not 0 <= us < self._span_us:
            raise self._out_of_range(f"Thời điểm {t:%H:%M %d/%m/%Y}")
        return us

    def _to_datetime(self, us: int) -> datetime:
        return (self._epoch + timedelta(microseconds=us)).replace(tzinfo=VN_TZ)

    def _day_index(self, d: date) -> int:
        i = d.toordinal() - self._first_ord
        if not 0 <= i < self._n_days:
            raise self._out_of_range(f"Ngày {_fmt_date(d)}")
        return i

    def _pos(self, us: int) -> int:
        i = bisect_right(self._starts, us) - 1
        if i < 0:
            return 0
        end = self._ends[i]
        return self._cum_end[i] - (end - us if us < end else 0)

    def _snap(self, us: int) -> int:
        j = bisect_left(self._ends, us)
        if j == self._n:
            raise self._out_of_range("Thời điểm làm việc tiếp theo")
        start = self._starts[j]
        return us if start <= us else start

    def _add(self, us: int, amount_us: int) -> int:
        if amount_us == 0:
            return self._snap(us)
        target = self._pos(us) + amount_us
        k = bisect_left(self._cum_end, target)
        if k == self._n:
            raise self._out_of_range("Hạn xử lý")
        return self._ends[k] - (self._cum_end[k] - target)

    def _amount_us(self, amount: Any, unit: Unit) -> int:
        per_unit = self._working_us[unit]
        if type(amount) is int:
            if amount < 0:
                raise _negative()
            return amount * per_unit
        value = _to_decimal(amount)
        # Exact arithmetic: Decimal rounds to 28 digits and could pass 0.000277…8 h as 1 s.
        seconds = Fraction(value) * (per_unit // _US)
        if seconds.denominator != 1:
            raise InvalidWorktime(
                f"Thời hạn «{amount}» không quy đổi được thành số giây nguyên.",
                code="invalid_amount",
            )
        return seconds.numerator * _US

    # --- public API -----------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """Return whether ``d`` has at least one working session."""
        return bool(self._day_sessions[self._day_index(d)])

    def sessions_on(self, d: date) -> tuple[Session, ...]:
        """Return the working sessions of ``d`` in order (empty on a day off)."""
        return self._day_sessions[self._day_index(d)]

    def next_working_moment(self, t: datetime) -> datetime:
        """Return ``t`` if it is inside a session (end included), else the next session start.

        Saturday 10:00 → Monday 08:00; 12:30 (lunch break) → 13:00; 12:00 → 12:00.
        """
        return self._to_datetime(self._snap(self._to_us(t)))

    def due(
        self, start: datetime, amount: int | Decimal | float | str, unit: Unit | str
    ) -> datetime:
        """Return the deadline of a time limit of ``amount`` ``unit`` counted from ``start``.

        * ``working_hours``/``working_days``: the earliest instant after the start (snapped to
          working time) at which ``amount`` hours (× ``hours_per_day`` for days) of working time
          have elapsed. Fractions are allowed if they give whole seconds (0.5 day = 4 h).
        * ``calendar_days``: the date of ``start`` plus ``amount`` days, moved forward to a
          working day; due at the end of that day's last session.
        * ``same_day`` (``amount`` ignored): the end of the day of receipt, or of the next
          working day when received at or after ``same_day_cutoff`` (15:00).

        Raises :class:`InvalidWorktime` (``invalid_unit``, ``negative_amount``,
        ``invalid_amount``, ``out_of_range``).
        """
        try:
            kind = _UNITS.get(unit)
        except TypeError:
            kind = None
        if kind is None:
            raise InvalidWorktime(
                f"Đơn vị thời hạn «{unit}» không hợp lệ.", code="invalid_unit", unit=str(unit)
            )
        us = self._to_us(start)
        if kind is Unit.WORKING_DAYS or kind is Unit.WORKING_HOURS:
            return self._to_datetime(self._add(us, self._amount_us(amount, kind)))
        if kind is Unit.CALENDAR_DAYS:
            days = _whole_days(amount)
            i = us // _DAY_US + days
            end = self._next_end[i] if i < self._n_days else None
            if end is None:
                raise self._out_of_range("Hạn xử lý")
            return self._to_datetime(end)
        # SAME_DAY
        s = self._snap(us)
        i = s // _DAY_US
        if s % _DAY_US < self._cutoff_us:
            end = self._last_end[i]
        else:
            end = self._next_end[i + 1] if i + 1 < self._n_days else None
            if end is None:
                raise self._out_of_range("Hạn xử lý")
        return self._to_datetime(end)

    def add_working_time(self, start: datetime, delta: timedelta) -> datetime:
        """Return the instant at which ``delta`` of working time has elapsed since ``start``."""
        amount_us = delta // _ONE_US
        if amount_us < 0:
            raise _negative()
        return self._to_datetime(self._add(self._to_us(start), amount_us))

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Return the working time from ``a`` to ``b`` (negative if ``b`` is before ``a``)."""
        return timedelta(microseconds=self._pos(self._to_us(b)) - self._pos(self._to_us(a)))


def _negative() -> InvalidWorktime:
    return InvalidWorktime("Thời hạn không được là số âm.", code="negative_amount")


def _to_decimal(amount: Any) -> Decimal:
    if isinstance(amount, bool):
        value = None
    elif isinstance(amount, Decimal | int):
        value = Decimal(amount)
    elif isinstance(amount, float):
        # repr gives the shortest decimal that round-trips: 0.1 h is 360 s, not 360.00000000002.
        value = Decimal(repr(amount)) if math.isfinite(amount) else None
    elif isinstance(amount, str):
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            value = None
    else:
        value = None
    if value is None or not value.is_finite():
        raise InvalidWorktime(f"Thời hạn «{amount}» không phải là một số.", code="invalid_amount")
    if value < 0:
        raise _negative()
    if value > _MAX_AMOUNT:
        # Far beyond any calendar; refusing early also keeps 1E+999999999 from becoming an int.
        raise InvalidWorktime(f"Thời hạn «{amount}» quá lớn.", code="out_of_range")
    return value


def _whole_days(amount: Any) -> int:
    if type(amount) is int:
        if amount < 0:
            raise _negative()
        return amount
    value = _to_decimal(amount)
    if value != value.to_integral_value():
        raise InvalidWorktime(
            f"Thời hạn theo ngày lịch phải là số nguyên, không phải «{amount}».",
            code="invalid_amount",
        )
    return int(value)
