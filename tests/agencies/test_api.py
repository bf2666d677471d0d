import pytest

from motcua.agencies.models import CalendarDay

from .factories import AgencyFactory, CalendarDayFactory, WorkingSessionFactory

pytestmark = pytest.mark.django_db

DUE = "/api/v1/calendar/due"
DAYS_OFF = "/api/v1/calendar/days-off"


def test_one_working_day_before_tet_2026_is_due_after_the_break(client):
    # Friday 13/02/2026 17:00; 16–20/02 are the Tết days off, then a weekend.
    response = client.get(
        DUE, {"start": "2026-02-13T17:00:00", "amount": "1", "unit": "working_days"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "due_at": "2026-02-23T17:00:00+07:00",
        "agency": None,
        "unit": "working_days",
        "amount": 1,
    }


def test_received_after_15h_same_day_is_due_at_the_end_of_the_next_working_day(client):
    response = client.get(DUE, {"start": "2026-02-13T15:30:00+07:00", "unit": "same_day"})
    assert response.json()["due_at"] == "2026-02-23T17:00:00+07:00"


def test_start_with_another_offset_is_converted_to_vietnam_time(client):
    # 02:00 UTC = 09:00 in Việt Nam; half a working day (4 h) later is 14:00.
    response = client.get(
        DUE, {"start": "2026-03-02T02:00:00Z", "amount": "0.5", "unit": "working_days"}
    )
    assert response.json()["due_at"] == "2026-03-02T14:00:00+07:00"
    assert response.json()["amount"] == 0.5


def test_agency_override_changes_the_due_date(client):
    agency = AgencyFactory()
    CalendarDayFactory(agency=agency, date="2026-02-20", kind=CalendarDay.Kind.WORKDAY)
    params = {"start": "2026-02-13T17:00:00", "amount": "1", "unit": "working_days"}
    by_id = client.get(DUE, {**params, "agency": agency.electronic_id}).json()
    by_pk = client.get(DUE, {**params, "agency": str(agency.pk)}).json()
    assert by_id["due_at"] == "2026-02-20T17:00:00+07:00"
    assert by_id["agency"] == agency.electronic_id
    assert by_pk == by_id


def test_agency_sessions_are_used_for_working_hours(client):
    agency = AgencyFactory()
    WorkingSessionFactory(agency=agency, weekday=0, start="07:00", end="11:00")
    response = client.get(
        DUE,
        {"start": "2026-03-02T07:00", "amount": "3", "unit": "working_hours", "agency": agency.pk},
    )
    assert response.json()["due_at"] == "2026-03-02T10:00:00+07:00"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"start": "13/02/2026 10:00", "amount": "1", "unit": "working_days"}, "invalid_datetime"),
        ({"start": "2026-02-13T10:00", "amount": "1", "unit": "weeks"}, "invalid_unit"),
        ({"start": "2026-02-13T10:00", "amount": "-1", "unit": "working_days"}, "negative_amount"),
        ({"start": "2026-02-13T10:00", "amount": "một", "unit": "working_days"}, "invalid_amount"),
        ({"start": "2026-02-13T10:00", "amount": "NaN", "unit": "working_days"}, "invalid_amount"),
        ({"start": "2026-02-13T10:00", "unit": "working_days"}, "invalid_amount"),
        ({"start": "2026-02-13T10:00", "amount": "1.5", "unit": "calendar_days"}, "invalid_amount"),
        ({"start": "2050-01-03T10:00", "amount": "1", "unit": "working_days"}, "out_of_range"),
        ({"start": "2026-02-13T10:00", "amount": "99999", "unit": "working_days"}, "out_of_range"),
        ({"amount": "1", "unit": "working_days"}, "invalid_parameters"),
    ],
)
def test_bad_due_parameters_answer_400_with_a_specific_code(client, params, code):
    response = client.get(DUE, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["message"]


@pytest.mark.parametrize("agency", ["000.00.00.H00", "987654", "99999999999999999999999"])
def test_unknown_agency_is_404(client, agency):
    response = client.get(
        DUE, {"start": "2026-02-13T10:00", "amount": "1", "unit": "working_days", "agency": agency}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "agency_not_found"


def test_days_off_lists_the_tet_break(client):
    response = client.get(DAYS_OFF, {"from": "2026-02-01", "to": "2026-02-28"})
    assert response.status_code == 200
    body = response.json()
    assert [item["date"] for item in body] == [f"2026-02-{day}" for day in range(16, 21)]
    assert body[1] == {
        "date": "2026-02-17",
        "kind": "day_off",
        "name": "Tết Nguyên Đán",
        "basis": "CV 12729/VPCP-KGVX; TB 9441/TB-BNV; CV 3383/BNV-CVL",
        "scope": "national",
    }


def test_days_off_of_an_agency_include_its_own_rows(client):
    agency = AgencyFactory()
    CalendarDayFactory(agency=agency, date="2026-03-02", name="Ngày truyền thống")
    body = client.get(
        DAYS_OFF, {"from": "2026-03-01", "to": "2026-03-31", "agency": agency.electronic_id}
    ).json()
    assert body == [
        {
            "date": "2026-03-02",
            "kind": "day_off",
            "name": "Ngày truyền thống",
            "basis": "Quyết định của cơ quan",
            "scope": "agency",
        }
    ]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"from": "2026-02-30", "to": "2026-03-01"}, 400, "invalid_date"),
        ({"from": "20260201", "to": "2026-03-01"}, 400, "invalid_date"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, 400, "invalid_range"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, 400, "invalid_range"),
        ({"from": "2026-01-01"}, 400, "invalid_parameters"),
        ({"from": "2026-01-01", "to": "2026-01-31", "agency": "x"}, 404, "agency_not_found"),
    ],
)
def test_bad_days_off_parameters_are_refused(client, params, status, code):
    response = client.get(DAYS_OFF, params)
    assert response.status_code == status
    assert response.json()["code"] == code
