import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from motcua.agencies.models import WorkingSession

from .factories import AgencyFactory

pytestmark = pytest.mark.django_db


def _session(agency, weekday=0, start=(8, 0), end=(12, 0), valid_from=None, valid_to=None):
    return WorkingSession(
        agency=agency,
        weekday=weekday,
        start=dt.time(*start),
        end=dt.time(*end),
        valid_from=valid_from,
        valid_to=valid_to,
    )


def test_overlapping_sessions_of_one_agency_and_weekday_are_rejected():
    agency = AgencyFactory()
    _session(agency).save()
    with pytest.raises(ValidationError, match="trùng giờ"):
        _session(agency, start=(11, 0), end=(13, 0)).full_clean()


def test_sessions_in_disjoint_date_ranges_may_overlap_in_hours():
    agency = AgencyFactory()
    _session(agency, valid_to=dt.date(2026, 4, 30)).save()
    summer = _session(agency, start=(7, 0), end=(11, 30), valid_from=dt.date(2026, 5, 1))
    summer.full_clean()  # no error: the ranges do not meet


def test_back_to_back_sessions_and_other_weekdays_are_accepted():
    agency = AgencyFactory()
    _session(agency).save()
    _session(agency, start=(12, 0), end=(13, 0)).full_clean()
    _session(agency, weekday=1, start=(9, 0), end=(10, 0)).full_clean()


def test_session_ending_before_it_starts_is_rejected():
    agency = AgencyFactory()
    with pytest.raises(ValidationError):
        _session(agency, start=(13, 0), end=(12, 0)).full_clean()
