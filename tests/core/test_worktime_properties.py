"""Properties of the working-day clock, checked against a naive oracle on the real calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from motcua.core.worktime import VN_TZ, SessionRule, Unit, WorkCalendar

from .reference_clock import NATIONAL_DAYS_OFF, NATIONAL_WORKDAYS, ReferenceClock, to_local

SEASONAL_RULES = [
    rule
    for year in (2024, 2025, 2026, 2027)
    for weekday in range(5)
    for rule in (
        SessionRule(weekday, time(7), time(11, 30), date(year, 4, 15), date(year, 10, 14)),
        SessionRule(weekday, time(13, 30), time(17), date(year, 4, 15), date(year, 10, 14)),
        SessionRule(weekday, time(7, 30), time(11, 30), date(year, 10, 15), date(year + 1, 4, 14)),
        SessionRule(weekday, time(13), time(17), date(year, 10, 15), date(year + 1, 4, 14)),
    )
]
CONFIGS = {
    "default": {},
    "seasonal": {"session_rules": SEASONAL_RULES},
}
CALENDARS = {
    name: (
        WorkCalendar(days_off=NATIONAL_DAYS_OFF, workdays=NATIONAL_WORKDAYS, **kwargs),
        ReferenceClock(days_off=NATIONAL_DAYS_OFF, workdays=NATIONAL_WORKDAYS, **kwargs),
    )
    for name, kwargs in CONFIGS.items()
}
CALENDAR, _ = CALENDARS["default"]

calendars = st.sampled_from(sorted(CALENDARS))

naive_starts = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 10, 31))
# Mostly whole minutes, like real receipts; sometimes any microsecond.
minute_starts = naive_starts.map(lambda t: t.replace(second=0, microsecond=0))
starts = st.one_of(
    minute_starts.map(lambda t: t.replace(tzinfo=VN_TZ)),
    minute_starts,
    naive_starts.map(lambda t: t.replace(tzinfo=VN_TZ).astimezone(UTC)),
)
working_units = st.sampled_from([Unit.WORKING_HOURS, Unit.WORKING_DAYS])
whole_amounts = st.integers(min_value=0, max_value=40)
half_amounts = st.integers(min_value=0, max_value=60).map(lambda n: Decimal(n) / 2)
amounts = st.one_of(whole_amounts, half_amounts)

FAST = settings(max_examples=200, deadline=None)
ORACLE = settings(max_examples=120, deadline=None)


def inside_a_session(calendar: WorkCalendar, t: datetime) -> bool:
    local = t.astimezone(VN_TZ)
    return any(s.start <= local.time() <= s.end for s in calendar.sessions_on(local.date()))


def aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=VN_TZ)


def working_seconds(amount, unit: Unit) -> timedelta:
    hours = Decimal(amount) * (8 if unit is Unit.WORKING_DAYS else 1)
    return timedelta(seconds=int(hours * 3600))


@FAST
@given(start=starts, amount=amounts.filter(lambda a: a > 0), unit=working_units)
def test_due_is_inside_a_session_of_a_working_day(start, amount, unit):
    got = CALENDAR.due(start, amount, unit)
    assert got.tzinfo is VN_TZ
    assert CALENDAR.is_working_day(got.date())
    assert got.date() not in NATIONAL_DAYS_OFF
    assert inside_a_session(CALENDAR, got)
    assert got > aware(start)


@FAST
@given(start=starts, a=amounts, b=amounts, unit=working_units, name=calendars)
def test_due_composes(start, a, b, unit, name):
    calendar, _ = CALENDARS[name]
    assert calendar.due(calendar.due(start, a, unit), b, unit) == calendar.due(start, a + b, unit)


@FAST
@given(start=starts, amount=amounts, unit=working_units, name=calendars)
def test_working_time_between_start_and_due_is_the_amount(start, amount, unit, name):
    calendar, _ = CALENDARS[name]
    got = calendar.due(start, amount, unit)
    assert calendar.working_time_between(start, got) == working_seconds(amount, unit)
    assert calendar.working_time_between(got, start) == -working_seconds(amount, unit)


@FAST
@given(start=starts, amount=amounts, unit=working_units)
def test_add_working_time_agrees_with_due(start, amount, unit):
    assert CALENDAR.add_working_time(start, working_seconds(amount, unit)) == CALENDAR.due(
        start, amount, unit
    )


@FAST
@given(start=starts, name=calendars)
def test_next_working_moment_is_in_a_session_and_costs_no_working_time(start, name):
    calendar, _ = CALENDARS[name]
    snapped = calendar.next_working_moment(start)
    assert snapped >= aware(start)
    assert inside_a_session(calendar, snapped)
    assert calendar.next_working_moment(snapped) == snapped
    assert calendar.working_time_between(start, snapped) == timedelta(0)
    assert calendar.due(start, 0, Unit.WORKING_HOURS) == snapped


@FAST
@given(start=starts, name=calendars)
def test_same_day_is_at_a_session_end_of_a_working_day(start, name):
    calendar, _ = CALENDARS[name]
    got = calendar.due(start, 0, Unit.SAME_DAY)
    sessions = calendar.sessions_on(got.date())
    assert sessions
    assert got.timetz().replace(tzinfo=None) == sessions[-1].end
    assert got > aware(start)


@ORACLE
@given(start=starts, amount=amounts, unit=working_units, name=calendars)
def test_working_time_due_equals_the_reference(start, amount, unit, name):
    fast, reference = CALENDARS[name]
    assert fast.due(start, amount, unit) == reference.due(start, amount, unit)


@ORACLE
@given(
    start=starts,
    amount=st.integers(min_value=0, max_value=60),
    unit=st.sampled_from([Unit.CALENDAR_DAYS, Unit.SAME_DAY]),
    name=calendars,
)
def test_calendar_and_same_day_due_equal_the_reference(start, amount, unit, name):
    fast, reference = CALENDARS[name]
    assert fast.due(start, amount, unit) == reference.due(start, amount, unit)


@ORACLE
@given(a=starts, b=starts, name=calendars)
def test_working_time_between_equals_the_reference(a, b, name):
    fast, reference = CALENDARS[name]
    # Keep the oracle's day loop short.
    b = to_local(a) + (to_local(b) - to_local(a)) % timedelta(days=90)
    assert fast.working_time_between(a, b) == reference.working_time_between(a, b)


@ORACLE
@given(start=starts, name=calendars)
def test_next_working_moment_equals_the_reference(start, name):
    fast, reference = CALENDARS[name]
    assert fast.next_working_moment(start) == reference.next_working_moment(start)


# --- random calendars ------------------------------------------------------------------------

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
RULE_WINDOWS = [
    (None, None),
    (date(2025, 3, 1), None),
    (None, date(2025, 3, 31)),
    (date(2025, 2, 10), date(2025, 4, 20)),
]
quarter_hours = st.integers(min_value=6 * 4, max_value=20 * 4)


@st.composite
def session_rules(draw) -> list[SessionRule]:
    """Up to three non-overlapping sessions per weekday, some limited to half the year."""
    rules = []
    for weekday in range(7):
        bounds = sorted(draw(st.sets(quarter_hours, max_size=6)))
        pairs = list(zip(bounds[::2], bounds[1::2], strict=False))
        for start, end in pairs:
            rules.append(
                SessionRule(weekday, time(start // 4, start % 4 * 15), time(end // 4, end % 4 * 15))
            )
    # Part of the year under these rules, the rest under the defaults.
    valid_from, valid_to = draw(st.sampled_from(RULE_WINDOWS))
    return [SessionRule(r.weekday, r.start, r.end, valid_from, valid_to) for r in rules]


year_days = st.dates(min_value=YEAR[0], max_value=YEAR[1])


@settings(max_examples=60, deadline=None)
@given(
    rules=session_rules(),
    days_off=st.frozensets(year_days, max_size=40),
    workdays=st.frozensets(year_days, max_size=10),
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2025, 6, 30)),
    hours=st.integers(min_value=0, max_value=120),
    cal_days=st.integers(min_value=0, max_value=30),
)
def test_any_calendar_equals_the_reference(rules, days_off, workdays, start, hours, cal_days):
    kwargs = {"days_off": days_off, "workdays": workdays, "session_rules": rules}
    fast = WorkCalendar(first_day=YEAR[0], last_day=date(2026, 12, 31), **kwargs)
    reference = ReferenceClock(**kwargs)
    for d in (start.date(), start.date() + timedelta(days=1)):
        assert [(s.start, s.end) for s in fast.sessions_on(d)] == [
            (a.time(), b.time()) for a, b in reference.sessions(d)
        ]
    # A sparse calendar (15 minutes a week) may not hold the hours before its range ends.
    available = reference.working_time_between(start, start + timedelta(days=400))
    hours = min(hours, int(available.total_seconds()) // 3600)
    if not available:
        return  # no working time at all: nothing to compare
    for unit, amount in (
        (Unit.WORKING_HOURS, hours),
        (Unit.CALENDAR_DAYS, cal_days),
        (Unit.SAME_DAY, 0),
    ):
        assert fast.due(start, amount, unit) == reference.due(start, amount, unit)
    end = start + timedelta(days=cal_days)
    assert fast.working_time_between(start, end) == reference.working_time_between(start, end)
