import datetime as dt

import pytest

from motcua.agencies.calendar import calendar_for, days_off_between
from motcua.agencies.models import CalendarDay
from motcua.core.worktime import VN_TZ, Session, Unit

from .factories import AgencyFactory, CalendarDayFactory, WorkingSessionFactory

pytestmark = pytest.mark.django_db

TET_MONDAY = dt.date(2026, 2, 16)  # first weekday of the 2026 Tết break (national row)


def vn(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VN_TZ)


def test_national_calendar_has_the_shipped_days_off_and_make_up_saturdays():
    calendar = calendar_for(None)
    assert not calendar.is_working_day(TET_MONDAY)
    assert calendar.is_working_day(dt.date(2026, 1, 10))  # worked Saturday (CV 12729)
    assert not calendar.is_working_day(dt.date(2026, 1, 17))  # ordinary Saturday


def test_agency_without_rows_follows_the_national_calendar():
    agency = AgencyFactory()
    start = vn(2026, 2, 13, 10)
    assert calendar_for(agency).due(start, 1, Unit.WORKING_DAYS) == calendar_for(None).due(
        start, 1, Unit.WORKING_DAYS
    )


def test_agency_workday_cancels_a_national_day_off_for_that_agency_only():
    agency = AgencyFactory()
    CalendarDayFactory(agency=agency, date=TET_MONDAY, kind=CalendarDay.Kind.WORKDAY)
    assert calendar_for(agency).is_working_day(TET_MONDAY)
    assert not calendar_for(AgencyFactory()).is_working_day(TET_MONDAY)
    assert not calendar_for(None).is_working_day(TET_MONDAY)


def test_agency_day_off_adds_to_the_national_days_off():
    agency = AgencyFactory()
    extra = dt.date(2026, 3, 2)
    CalendarDayFactory(agency=agency, date=extra, kind=CalendarDay.Kind.DAY_OFF)
    calendar = calendar_for(agency)
    assert not calendar.is_working_day(extra)
    assert not calendar.is_working_day(TET_MONDAY)
    assert calendar_for(None).is_working_day(extra)


def test_agency_sessions_replace_the_default_hours():
    agency = AgencyFactory()
    WorkingSessionFactory(agency=agency, weekday=5, start=dt.time(7, 30), end=dt.time(11, 30))
    saturday = dt.date(2026, 3, 7)
    assert calendar_for(agency).sessions_on(saturday) == (Session(dt.time(7, 30), dt.time(11, 30)),)
    assert calendar_for(None).sessions_on(saturday) == ()


def test_sessions_apply_only_within_their_dates():
    agency = AgencyFactory()
    summer = dict(valid_from=dt.date(2026, 4, 1), valid_to=dt.date(2026, 9, 30))
    WorkingSessionFactory(agency=agency, weekday=0, start=dt.time(7), end=dt.time(11), **summer)
    WorkingSessionFactory(
        agency=agency, weekday=0, start=dt.time(13, 30), end=dt.time(17), **summer
    )
    calendar = calendar_for(agency)
    assert calendar.sessions_on(dt.date(2026, 4, 6))[0].start == dt.time(7)
    assert calendar.sessions_on(dt.date(2026, 3, 2))[0].start == dt.time(8)


def test_built_calendar_is_reused():
    agency = AgencyFactory()
    assert calendar_for(agency) is calendar_for(agency)


def test_cached_calendar_expires_so_edits_made_by_other_processes_show_up(monkeypatch):
    agency = AgencyFactory()
    day = dt.date(2026, 3, 5)
    assert calendar_for(agency).is_working_day(day)
    # A bulk write sends no signal, like an edit made in another worker process.
    CalendarDay.objects.bulk_create([CalendarDay(agency=agency, date=day, kind="day_off")])
    assert calendar_for(agency).is_working_day(day)
    monkeypatch.setattr("motcua.agencies.calendar.CACHE_TTL", 0)
    assert not calendar_for(agency).is_working_day(day)


def test_saving_a_calendar_day_refreshes_the_cached_calendar():
    agency = AgencyFactory()
    day = dt.date(2026, 3, 3)
    assert calendar_for(agency).is_working_day(day)
    row = CalendarDayFactory(agency=agency, date=day)
    assert not calendar_for(agency).is_working_day(day)
    row.delete()
    assert calendar_for(agency).is_working_day(day)


def test_saving_a_national_day_refreshes_every_cached_calendar():
    agency = AgencyFactory()
    day = dt.date(2026, 3, 4)
    assert calendar_for(agency).is_working_day(day)
    CalendarDayFactory(agency=None, date=day)
    assert not calendar_for(agency).is_working_day(day)
    assert not calendar_for(None).is_working_day(day)


def test_saving_a_working_session_refreshes_the_cached_calendar():
    agency = AgencyFactory()
    saturday = dt.date(2026, 3, 7)
    assert not calendar_for(agency).is_working_day(saturday)
    WorkingSessionFactory(agency=agency, weekday=5)
    assert calendar_for(agency).is_working_day(saturday)


def test_days_off_between_lists_national_rows_in_date_order():
    items = days_off_between(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert [(i["date"], i["kind"], i["scope"]) for i in items] == [
        (dt.date(2026, 1, 1), "day_off", "national"),
        (dt.date(2026, 1, 2), "day_off", "national"),
        (dt.date(2026, 1, 10), "workday", "national"),
    ]
    assert items[0]["name"] == "Tết Dương lịch"
    assert "CV 12729/VPCP-KGVX" in items[0]["basis"]


def test_days_off_between_shows_the_agency_row_instead_of_the_national_one():
    agency = AgencyFactory()
    CalendarDayFactory(
        agency=agency, date=TET_MONDAY, kind=CalendarDay.Kind.WORKDAY, name="Trực Tết"
    )
    CalendarDayFactory(agency=AgencyFactory(), date=dt.date(2026, 2, 23))  # someone else's
    items = days_off_between(dt.date(2026, 2, 16), dt.date(2026, 2, 23), agency)
    assert items[0] == {
        "date": TET_MONDAY,
        "kind": "workday",
        "name": "Trực Tết",
        "basis": "Quyết định của cơ quan",
        "scope": "agency",
    }
    assert [i["date"] for i in items] == [TET_MONDAY + dt.timedelta(days=n) for n in range(5)]
