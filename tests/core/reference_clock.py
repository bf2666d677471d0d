"""A deliberately naive working clock, used as a test oracle for ``motcua.core.worktime``.

It walks the calendar day by day and session by session with plain ``datetime`` arithmetic:
slow, but simple enough to be obviously right. It shares nothing with the fast implementation
except the small value types (``Session``, ``SessionRule``, ``Unit``, ``DEFAULT_SESSIONS``).

Also holds the national days off and worked Saturdays of 2024–2027 (official notices, see
``../shared/domain/holidays-vn.csv``), embedded so the tests do not depend on a data file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from fractions import Fraction

from motcua.core.worktime import DEFAULT_SESSIONS, VN_TZ, SessionRule, Unit

# fmt: off
NATIONAL_DAYS_OFF = frozenset(date.fromisoformat(d) for d in (
    # 2024 — TB 5015, TB 1570
    "2024-01-01", "2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13", "2024-02-14",
    "2024-04-18", "2024-04-29", "2024-04-30", "2024-05-01", "2024-09-02", "2024-09-03",
    # 2025 — TB 6150/TB-BLĐTBXH
    "2025-01-01", "2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31",
    "2025-04-07", "2025-04-30", "2025-05-01", "2025-05-02", "2025-09-01", "2025-09-02",
    # 2026 — CV 12729/VPCP-KGVX; TB 9441/TB-BNV; CV 3383/BNV-CVL
    "2026-01-01", "2026-01-02", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
    "2026-02-20", "2026-04-27", "2026-04-30", "2026-05-01", "2026-08-31", "2026-09-01",
    "2026-09-02", "2026-11-24",
    # 2027 — estimated from the Labour Code, no notice yet
    "2027-01-01", "2027-02-04", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10",
    "2027-04-16", "2027-04-30", "2027-05-03", "2027-09-02", "2027-09-03", "2027-11-24",
))
NATIONAL_WORKDAYS = frozenset(date.fromisoformat(d) for d in (
    "2024-05-04", "2025-04-26", "2026-01-10", "2026-08-22",
))
# fmt: on

_ONE_DAY = timedelta(days=1)
# Far enough for any deadline the tests ask for; a bound keeps a bug from looping for ever.
_MAX_DAYS = 3 * 366


def to_local(t: datetime) -> datetime:
    """Naive Viet Nam wall-clock time of ``t`` (naive input is already local)."""
    return t.astimezone(VN_TZ).replace(tzinfo=None) if t.tzinfo else t


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=VN_TZ)


class ReferenceClock:
    """Same constructor and queries as ``WorkCalendar``, computed by walking the days."""

    def __init__(
        self,
        *,
        days_off: Iterable[date] = (),
        workdays: Iterable[date] = (),
        session_rules: Sequence[SessionRule] = (),
        hours_per_day: int = 8,
        same_day_cutoff: time = time(15),
    ) -> None:
        self.days_off = set(days_off)
        self.workdays = set(workdays)
        self.rules = list(session_rules)
        self.hours_per_day = hours_per_day
        self.same_day_cutoff = same_day_cutoff

    def _hours_of_weekday(self, d: date, weekday: int) -> list[tuple[time, time]]:
        valid = [
            r
            for r in self.rules
            if (r.valid_from is None or r.valid_from <= d)
            and (r.valid_to is None or d <= r.valid_to)
        ]
        if not valid:
            return [(s.start, s.end) for s in DEFAULT_SESSIONS] if weekday < 5 else []
        return sorted((r.start, r.end) for r in valid if r.weekday == weekday)

    def sessions(self, d: date) -> list[tuple[datetime, datetime]]:
        """Sessions of ``d`` as naive local (start, end) pairs."""
        if d in self.days_off:
            return []
        hours = self._hours_of_weekday(d, d.weekday())
        if not hours and d in self.workdays:
            hours = self._hours_of_weekday(d, 0)
        return [(datetime.combine(d, a), datetime.combine(d, b)) for a, b in hours]

    def is_working_day(self, d: date) -> bool:
        return bool(self.sessions(d))

    def _next_working_day(self, d: date) -> date:
        for _ in range(_MAX_DAYS):
            if self.is_working_day(d):
                return d
            d += _ONE_DAY
        raise AssertionError("no working day found")

    def _snap(self, t: datetime) -> datetime:
        d = t.date()
        for _ in range(_MAX_DAYS):
            for a, b in self.sessions(d):
                if a <= t <= b:
                    return t
                if t < a:
                    return a
            d += _ONE_DAY
        raise AssertionError("no working moment found")

    def next_working_moment(self, t: datetime) -> datetime:
        return _aware(self._snap(to_local(t)))

    def add_working_time(self, start: datetime, delta: timedelta) -> datetime:
        cursor = self._snap(to_local(start))
        remaining = delta
        if remaining == timedelta(0):
            return _aware(cursor)
        d = cursor.date()
        for _ in range(_MAX_DAYS):
            for a, b in self.sessions(d):
                if b <= cursor:
                    continue
                begin = max(a, cursor)
                if remaining <= b - begin:
                    return _aware(begin + remaining)
                remaining -= b - begin
            d += _ONE_DAY
        raise AssertionError("deadline not found")

    def due(self, start: datetime, amount, unit: Unit | str) -> datetime:
        unit = Unit(unit)
        local = to_local(start)
        if unit in (Unit.WORKING_HOURS, Unit.WORKING_DAYS):
            hours = Fraction(str(amount))
            if unit is Unit.WORKING_DAYS:
                hours *= self.hours_per_day
            seconds = hours * 3600
            assert seconds.denominator == 1, "the oracle only takes whole seconds"
            return self.add_working_time(start, timedelta(seconds=int(seconds)))
        if unit is Unit.CALENDAR_DAYS:
            d = self._next_working_day(local.date() + timedelta(days=int(amount)))
            return _aware(self.sessions(d)[-1][1])
        s = self._snap(local)
        if s.time() < self.same_day_cutoff:
            d = s.date()
        else:
            d = self._next_working_day(s.date() + _ONE_DAY)
        return _aware(self.sessions(d)[-1][1])

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        a, b = to_local(a), to_local(b)
        if b < a:
            return -self.working_time_between(b, a)
        total = timedelta(0)
        d = a.date()
        while d <= b.date():
            for start, end in self.sessions(d):
                overlap = min(end, b) - max(start, a)
                if overlap > timedelta(0):
                    total += overlap
            d += _ONE_DAY
        return total
