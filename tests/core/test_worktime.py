"""Examples for the working-day clock, on the real national calendar (§5 of the domain rules)."""

from __future__ import annotations

import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from motcua.core.worktime import (
    DEFAULT_SESSIONS,
    VN_TZ,
    InvalidWorktime,
    Session,
    SessionRule,
    Unit,
    WorkCalendar,
)

from .reference_clock import NATIONAL_DAYS_OFF, NATIONAL_WORKDAYS

WD, WH, CAL, SAME = Unit.WORKING_DAYS, Unit.WORKING_HOURS, Unit.CALENDAR_DAYS, Unit.SAME_DAY

NATIONAL = WorkCalendar(days_off=NATIONAL_DAYS_OFF, workdays=NATIONAL_WORKDAYS)

# Thanh Hóa hours (07:00–11:30, 13:30–17:00), Monday to Friday.
TH_RULES = [
    rule
    for weekday in range(5)
    for rule in (
        SessionRule(weekday, time(7), time(11, 30)),
        SessionRule(weekday, time(13, 30), time(17)),
    )
]

# A northern province that switches hours: summer 15/4–14/10, winter 15/10–14/4 (2025–26 only).
SUMMER = (date(2025, 4, 15), date(2025, 10, 14))
WINTER = (date(2025, 10, 15), date(2026, 4, 14))
SEASONAL_RULES = [
    rule
    for weekday in range(5)
    for rule in (
        SessionRule(weekday, time(7), time(11, 30), *SUMMER),
        SessionRule(weekday, time(13, 30), time(17), *SUMMER),
        SessionRule(weekday, time(7, 30), time(11, 30), *WINTER),
        SessionRule(weekday, time(13), time(17), *WINTER),
    )
]


def vn(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=VN_TZ)


def national(**kwargs) -> WorkCalendar:
    extra_off = kwargs.pop("extra_days_off", ())
    return WorkCalendar(
        days_off=NATIONAL_DAYS_OFF | set(extra_off), workdays=NATIONAL_WORKDAYS, **kwargs
    )


# --- the domain document's examples ----------------------------------------------------------


def test_monday_10h_plus_3_working_days_is_thursday_10h_with_default_sessions():
    assert NATIONAL.due(vn(2026, 3, 2, 10), 3, WD) == vn(2026, 3, 5, 10)


def test_monday_10h_plus_3_working_days_is_thursday_10h_with_thanh_hoa_sessions():
    calendar = national(session_rules=TH_RULES)
    assert calendar.due(vn(2026, 3, 2, 10), 3, "working_days") == vn(2026, 3, 5, 10)


def test_default_sessions_are_8_to_12_and_13_to_17_on_weekdays_only():
    assert NATIONAL.sessions_on(date(2026, 3, 2)) == DEFAULT_SESSIONS
    assert (Session(time(8), time(12)), Session(time(13), time(17))) == DEFAULT_SESSIONS
    assert NATIONAL.sessions_on(date(2026, 3, 7)) == ()
    assert not NATIONAL.is_working_day(date(2026, 3, 8))


# --- national calendar -----------------------------------------------------------------------


def test_tet_2026_days_are_not_working_days():
    for day in range(16, 21):
        assert not NATIONAL.is_working_day(date(2026, 2, day))
    assert NATIONAL.is_working_day(date(2026, 2, 13))
    assert NATIONAL.is_working_day(date(2026, 2, 23))


def test_one_working_day_from_the_friday_before_tet_is_due_the_monday_after():
    assert NATIONAL.due(vn(2026, 2, 13, 10), 1, WD) == vn(2026, 2, 23, 10)


def test_two_working_days_from_thursday_afternoon_before_tet_end_after_tet():
    # Thu 2 h + Fri 8 h + Mon 23/2 6 h = 16 h.
    assert NATIONAL.due(vn(2026, 2, 12, 15), 2, WD) == vn(2026, 2, 23, 15)


def test_swapped_day_off_on_2_january_2026_and_year_boundary_are_skipped():
    assert not NATIONAL.is_working_day(date(2026, 1, 1))
    assert not NATIONAL.is_working_day(date(2026, 1, 2))
    # Wed 31/12/2025 10:00: 6 h, then Mon 5/1 8 h, then Tue 6/1 2 h.
    assert NATIONAL.due(vn(2025, 12, 31, 10), 2, WD) == vn(2026, 1, 6, 10)


def test_saturday_10_january_2026_is_a_make_up_working_day():
    assert NATIONAL.is_working_day(date(2026, 1, 10))
    assert NATIONAL.sessions_on(date(2026, 1, 10)) == DEFAULT_SESSIONS
    assert not NATIONAL.is_working_day(date(2026, 1, 17))
    assert NATIONAL.due(vn(2026, 1, 9, 10), 1, WD) == vn(2026, 1, 10, 10)


def test_vietnamese_culture_day_24_november_is_off_from_2026_only():
    assert NATIONAL.is_working_day(date(2025, 11, 24))
    assert not NATIONAL.is_working_day(date(2026, 11, 24))
    assert NATIONAL.due(vn(2026, 11, 23, 10), 1, WD) == vn(2026, 11, 25, 10)


def test_days_between_across_tet_count_only_working_time():
    # Fri 13/2 10:00 to Mon 23/2 10:00: 6 h on Friday, 2 h on Monday.
    assert NATIONAL.working_time_between(vn(2026, 2, 13, 10), vn(2026, 2, 23, 10)) == timedelta(
        hours=8
    )


# --- snapping the start ----------------------------------------------------------------------


def test_received_in_the_lunch_break_counts_from_the_afternoon_session():
    assert NATIONAL.next_working_moment(vn(2026, 3, 2, 12, 30)) == vn(2026, 3, 2, 13)
    assert NATIONAL.due(vn(2026, 3, 2, 12, 30), 1, WH) == vn(2026, 3, 2, 14)


def test_session_end_is_inside_the_session():
    assert NATIONAL.next_working_moment(vn(2026, 3, 2, 12)) == vn(2026, 3, 2, 12)
    assert NATIONAL.next_working_moment(vn(2026, 3, 2, 17)) == vn(2026, 3, 2, 17)


def test_deadline_landing_on_a_session_end_is_that_end_not_the_next_start():
    assert NATIONAL.due(vn(2026, 3, 2, 8), 4, WH) == vn(2026, 3, 2, 12)
    assert NATIONAL.due(vn(2026, 3, 2, 8), 1, WD) == vn(2026, 3, 2, 17)


def test_received_after_17h_counts_from_the_next_working_morning():
    assert NATIONAL.due(vn(2026, 3, 2, 18), 1, WH) == vn(2026, 3, 3, 9)
    # Friday evening: the count starts on Monday 08:00.
    assert NATIONAL.due(vn(2026, 3, 6, 17, 30), 1, WD) == vn(2026, 3, 9, 17)


def test_received_on_saturday_counts_from_monday_morning():
    assert NATIONAL.due(vn(2026, 3, 7, 10), 1, WH) == vn(2026, 3, 9, 9)


def test_zero_working_time_is_the_next_working_moment():
    assert NATIONAL.due(vn(2026, 3, 2, 12, 30), 0, WD) == vn(2026, 3, 2, 13)
    assert NATIONAL.due(vn(2026, 3, 2, 12), 0, WH) == vn(2026, 3, 2, 12)


def test_working_time_between_is_negative_backwards_and_zero_outside_sessions():
    assert NATIONAL.working_time_between(vn(2026, 3, 3, 9), vn(2026, 3, 2, 16)) == -timedelta(
        hours=2
    )
    assert NATIONAL.working_time_between(vn(2026, 3, 2, 12), vn(2026, 3, 2, 13)) == timedelta(0)


# --- same-day procedures and the 15:00 cut-off -----------------------------------------------


def test_same_day_received_before_15h_is_due_at_the_end_of_the_day():
    assert NATIONAL.due(vn(2026, 4, 29, 14, 59), 0, SAME) == vn(2026, 4, 29, 17)


def test_same_day_received_at_or_after_15h_before_a_holiday_is_due_after_the_holiday():
    # 30/4 and 1/5 are days off, then a weekend.
    assert NATIONAL.due(vn(2026, 4, 29, 15), 0, SAME) == vn(2026, 5, 4, 17)
    assert NATIONAL.due(vn(2026, 4, 29, 15, 30), 0, SAME) == vn(2026, 5, 4, 17)


def test_same_day_received_after_15h_before_tet_is_due_after_tet():
    assert NATIONAL.due(vn(2026, 2, 13, 16), 1, SAME) == vn(2026, 2, 23, 17)


def test_same_day_received_on_a_day_off_is_due_the_next_working_day():
    assert NATIONAL.due(vn(2026, 2, 17, 9), 0, SAME) == vn(2026, 2, 23, 17)


def test_same_day_cutoff_is_configurable():
    calendar = national(same_day_cutoff=time(16))
    assert calendar.due(vn(2026, 3, 2, 15, 30), 0, SAME) == vn(2026, 3, 2, 17)


# --- calendar days ---------------------------------------------------------------------------


def test_calendar_days_ending_on_a_holiday_move_to_the_next_working_day():
    # Tue 10/2 + 10 days = Fri 20/2 (Tết), then the weekend: Monday 23/2 at the end of day.
    assert NATIONAL.due(vn(2026, 2, 10, 9), 10, CAL) == vn(2026, 2, 23, 17)


def test_calendar_days_count_weekends_and_holidays():
    assert NATIONAL.due(vn(2026, 3, 2, 9), 7, CAL) == vn(2026, 3, 9, 17)
    assert NATIONAL.due(vn(2026, 3, 2, 9), "3", CAL) == vn(2026, 3, 5, 17)


# --- custom and seasonal sessions, agency overrides ------------------------------------------


def test_seasonal_rules_switch_hours_on_their_dates():
    calendar = national(session_rules=SEASONAL_RULES)
    assert calendar.sessions_on(date(2025, 10, 14)) == (
        Session(time(7), time(11, 30)),
        Session(time(13, 30), time(17)),
    )
    assert calendar.sessions_on(date(2025, 10, 15)) == (
        Session(time(7, 30), time(11, 30)),
        Session(time(13), time(17)),
    )


def test_deadline_across_the_switch_to_winter_hours_uses_the_new_morning_start():
    calendar = national(session_rules=SEASONAL_RULES)
    # Tue 14/10 16:00: 1 h of summer time, then winter: Wed 15/10 starts 07:30.
    assert calendar.due(vn(2025, 10, 14, 16), 2, WH) == vn(2025, 10, 15, 8, 30)


def test_dates_outside_every_rule_range_use_the_default_sessions():
    calendar = national(session_rules=SEASONAL_RULES)
    assert calendar.sessions_on(date(2025, 3, 3)) == DEFAULT_SESSIONS
    assert calendar.sessions_on(date(2026, 4, 15)) == DEFAULT_SESSIONS


def test_rules_in_force_leave_weekdays_without_a_rule_off():
    # Only Monday–Thursday rules: while they are in force, Friday has no sessions.
    rules = [
        SessionRule(w, time(8), time(16), date(2026, 3, 1), date(2026, 3, 31)) for w in (0, 1, 2, 3)
    ]
    calendar = national(session_rules=rules)
    assert not calendar.is_working_day(date(2026, 3, 6))
    assert calendar.is_working_day(date(2026, 4, 3))


def test_make_up_saturday_has_the_sessions_of_a_monday():
    rules = [SessionRule(0, time(7), time(11)), SessionRule(0, time(13), time(16))] + [
        SessionRule(w, time(8), time(12)) for w in range(1, 5)
    ]
    calendar = national(session_rules=rules)
    assert calendar.sessions_on(date(2026, 1, 10)) == (
        Session(time(7), time(11)),
        Session(time(13), time(16)),
    )


def test_agency_extra_day_off_moves_the_deadline_by_one_day():
    calendar = national(extra_days_off={date(2026, 3, 4)})
    assert not calendar.is_working_day(date(2026, 3, 4))
    assert calendar.due(vn(2026, 3, 2, 10), 3, WD) == vn(2026, 3, 6, 10)
    assert NATIONAL.due(vn(2026, 3, 2, 10), 3, WD) == vn(2026, 3, 5, 10)


def test_agency_day_off_wins_over_a_national_make_up_saturday():
    calendar = national(extra_days_off={date(2026, 1, 10)})
    assert not calendar.is_working_day(date(2026, 1, 10))


def test_hours_per_day_converts_working_days():
    calendar = national(hours_per_day=4)
    assert calendar.due(vn(2026, 3, 2, 8), 1, WD) == vn(2026, 3, 2, 12)


# --- amounts, units, time zones --------------------------------------------------------------


@pytest.mark.parametrize("amount", [Decimal("0.5"), 0.5, "0.5", " 0.5 "])
def test_half_a_working_day_is_four_working_hours(amount):
    assert NATIONAL.due(vn(2026, 3, 2, 10), amount, WD) == vn(2026, 3, 2, 15)


def test_fractional_hours_giving_whole_seconds_are_accepted():
    assert NATIONAL.due(vn(2026, 3, 2, 8), 0.1, WH) == vn(2026, 3, 2, 8, 6)
    assert NATIONAL.due(vn(2026, 3, 2, 8), Decimal("0.25"), WD) == vn(2026, 3, 2, 10)


@pytest.mark.parametrize(
    ("amount", "unit"),
    [
        (Decimal("0.0001"), WH),  # 0.36 s
        ("0.0002777777777777777777777777778", WH),  # 1.00000000000000000000000000008 s
        ("abc", WD),
        (float("nan"), WH),
        (float("inf"), WD),
        (True, WD),
        (None, WH),
        (1.5, CAL),
        ("2.5", CAL),
    ],
)
def test_amounts_that_are_not_whole_seconds_or_numbers_are_invalid(amount, unit):
    with pytest.raises(InvalidWorktime) as excinfo:
        NATIONAL.due(vn(2026, 3, 2, 8), amount, unit)
    assert excinfo.value.code == "invalid_amount"


@pytest.mark.parametrize(
    ("amount", "unit"), [(-1, WD), (-0.5, WH), ("-2", WD), (Decimal(-1), CAL), (-3, CAL)]
)
def test_negative_amounts_are_rejected(amount, unit):
    with pytest.raises(InvalidWorktime) as excinfo:
        NATIONAL.due(vn(2026, 3, 2, 8), amount, unit)
    assert excinfo.value.code == "negative_amount"
    assert excinfo.value.message == "Thời hạn không được là số âm."


@pytest.mark.parametrize(
    "amount", [Decimal("1e30"), "1e400", "1E+999999999", 1e300, 10**40, Decimal(10**9 + 1)]
)
def test_huge_amounts_are_out_of_range(amount):
    with pytest.raises(InvalidWorktime) as excinfo:
        NATIONAL.due(vn(2026, 3, 2, 8), amount, WD)
    assert excinfo.value.code == "out_of_range"


def test_negative_working_time_delta_is_rejected():
    with pytest.raises(InvalidWorktime) as excinfo:
        NATIONAL.add_working_time(vn(2026, 3, 2, 8), timedelta(hours=-1))
    assert excinfo.value.code == "negative_amount"


@pytest.mark.parametrize("unit", ["half_days", "ngay", "", None, ["working_days"]])
def test_unknown_unit_is_rejected(unit):
    with pytest.raises(InvalidWorktime) as excinfo:
        NATIONAL.due(vn(2026, 3, 2, 8), 1, unit)
    assert excinfo.value.code == "invalid_unit"
    assert "Đơn vị thời hạn" in excinfo.value.message


def test_same_day_ignores_the_amount():
    assert NATIONAL.due(vn(2026, 3, 2, 9), "không dùng", SAME) == vn(2026, 3, 2, 17)


def test_naive_input_is_vietnam_local_time_and_aware_input_is_converted():
    naive = NATIONAL.due(datetime(2026, 3, 2, 10), 1, WH)
    utc = NATIONAL.due(datetime(2026, 3, 2, 3, tzinfo=UTC), 1, WH)
    assert naive == utc == vn(2026, 3, 2, 11)
    assert naive.tzinfo is VN_TZ and naive.utcoffset() == timedelta(hours=7)


def test_microseconds_are_kept():
    start = vn(2026, 3, 2, 10).replace(microsecond=250)
    assert NATIONAL.due(start, 1, WH) == vn(2026, 3, 2, 11).replace(microsecond=250)


def test_add_working_time_consumes_sessions():
    got = NATIONAL.add_working_time(vn(2026, 3, 2, 11), timedelta(hours=2, minutes=30))
    assert got == vn(2026, 3, 2, 14, 30)


# --- range -----------------------------------------------------------------------------------


def test_instants_outside_the_calendar_range_are_rejected():
    calendar = national(first_day=date(2026, 1, 1), last_day=date(2026, 12, 31))
    for bad in (vn(2025, 12, 31, 10), vn(2027, 1, 1, 0)):
        with pytest.raises(InvalidWorktime) as excinfo:
            calendar.due(bad, 1, WD)
        assert excinfo.value.code == "out_of_range"
    with pytest.raises(InvalidWorktime) as excinfo:
        calendar.sessions_on(date(2027, 1, 4))
    assert excinfo.value.code == "out_of_range"


def test_deadlines_past_the_end_of_the_range_are_rejected():
    calendar = national(first_day=date(2026, 1, 1), last_day=date(2026, 12, 31))
    assert calendar.due(vn(2026, 12, 30, 9), 1, WD) == vn(2026, 12, 31, 9)
    for amount, unit in ((5, WD), (10, CAL)):
        with pytest.raises(InvalidWorktime) as excinfo:
            calendar.due(vn(2026, 12, 30, 9), amount, unit)
        assert excinfo.value.code == "out_of_range"
    with pytest.raises(InvalidWorktime) as excinfo:
        calendar.due(vn(2026, 12, 31, 16), 0, SAME)
    assert excinfo.value.code == "out_of_range"


# --- configuration errors --------------------------------------------------------------------


def test_overlapping_sessions_are_rejected_when_the_calendar_is_built():
    rules = [SessionRule(0, time(8), time(12)), SessionRule(0, time(11), time(17))]
    with pytest.raises(InvalidWorktime) as excinfo:
        WorkCalendar(session_rules=rules, first_day=date(2026, 1, 1), last_day=date(2026, 1, 31))
    assert excinfo.value.code == "invalid_session"


@pytest.mark.parametrize(
    "rule", [SessionRule(0, time(12), time(8)), SessionRule(7, time(8), time(12))]
)
def test_empty_sessions_and_bad_weekdays_are_rejected(rule):
    with pytest.raises(InvalidWorktime) as excinfo:
        WorkCalendar(session_rules=[rule])
    assert excinfo.value.code == "invalid_session"


def test_invalid_worktime_is_an_invalid_input_domain_error():
    from motcua.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as excinfo:
        NATIONAL.due(vn(2026, 3, 2), 1, "weeks")
    assert excinfo.value.as_dict()["code"] == "invalid_unit"


# --- speed -----------------------------------------------------------------------------------


def test_far_deadlines_cost_no_more_than_near_ones():
    # 2,000 deadlines 20 years away: a day-by-day loop would walk ~14 million days (many
    # seconds); the precomputed calendar answers each with two binary searches.
    began = time_module.perf_counter()
    for minute in range(2000):
        NATIONAL.due(vn(2016, 1, 4, 8) + timedelta(minutes=minute * 7), 5000, WD)
        NATIONAL.due(vn(2016, 1, 4, 8) + timedelta(minutes=minute * 7), 7000, CAL)
    assert time_module.perf_counter() - began < 1.0
