import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from motcua.agencies.models import CalendarDay
from motcua.agencies.services import SHIPPED_HOLIDAYS, ImportFileError, load_calendar_csv

from .factories import AgencyFactory

pytestmark = pytest.mark.django_db

HEADER = "date,kind,name,basis\n"


def csv_file(*lines: str) -> io.StringIO:
    return io.StringIO(HEADER + "".join(line + "\n" for line in lines))


def shipped_rows() -> list[dict]:
    with SHIPPED_HOLIDAYS.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_shipped_file_is_the_domain_table():
    from django.conf import settings

    domain = settings.MOTCUA_SHARED_DATA.parent / "domain" / "holidays-vn.csv"
    if not domain.exists():
        pytest.skip(f"domain table not found at {domain}")
    assert SHIPPED_HOLIDAYS.read_text(encoding="utf-8") == domain.read_text(encoding="utf-8")


def test_fresh_database_has_the_national_calendar_from_the_migration():
    rows = shipped_rows()
    national = CalendarDay.objects.filter(agency__isnull=True)
    assert national.count() == len(rows)
    saturday = national.get(date=dt.date(2026, 1, 10))
    assert saturday.kind == CalendarDay.Kind.WORKDAY


def test_loading_the_shipped_file_again_changes_nothing():
    report = load_calendar_csv(SHIPPED_HOLIDAYS)
    assert (report.created, report.updated, report.unchanged) == (0, 0, len(shipped_rows()))


def test_load_creates_then_is_idempotent():
    CalendarDay.objects.filter(agency__isnull=True).delete()
    first = load_calendar_csv(SHIPPED_HOLIDAYS)
    second = load_calendar_csv(SHIPPED_HOLIDAYS)
    assert first.created == len(shipped_rows()) and first.errors == []
    assert (second.created, second.updated, second.unchanged) == (0, 0, first.created)


def test_load_updates_a_changed_name_in_place():
    report = load_calendar_csv(csv_file("2026-01-02,day_off,Nghỉ bù Tết Dương lịch,TB mới"))
    row = CalendarDay.objects.get(agency__isnull=True, date=dt.date(2026, 1, 2))
    assert (report.created, report.updated) == (0, 1)
    assert (row.name, row.basis) == ("Nghỉ bù Tết Dương lịch", "TB mới")


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("2028-02-30,day_off,,", "không tồn tại"),
        ("30/01/2028,day_off,,", "YYYY-MM-DD"),
        ("2028-01-31,holiday,,", "loại «holiday»"),
        ("2028-01-31,workday,,", "không phải thứ Bảy"),
        ("2028-01-29,day_off,,", "rơi vào thứ Bảy"),
    ],
)
def test_invalid_row_is_reported_with_its_line_and_nothing_is_written(line, fragment):
    before = CalendarDay.objects.count()
    report = load_calendar_csv(csv_file("2028-01-03,day_off,Ngày hợp lệ,", line))
    assert len(report.errors) == 1
    assert report.errors[0][0] == 3
    assert fragment in report.errors[0][1]
    assert CalendarDay.objects.count() == before


def test_a_date_twice_in_the_file_is_an_error():
    report = load_calendar_csv(csv_file("2028-01-03,day_off,,", "2028-01-03,day_off,,"))
    assert report.errors == [(3, "ngày 03/01/2028 đã có ở dòng 2")]
    assert not CalendarDay.objects.filter(date=dt.date(2028, 1, 3)).exists()


def test_file_without_date_and_kind_columns_is_refused():
    with pytest.raises(ImportFileError):
        load_calendar_csv(io.StringIO("ngay,loai\n2028-01-03,day_off\n"))


def test_agency_file_goes_to_the_agency_and_may_touch_weekdays_and_weekends():
    agency = AgencyFactory()
    report = load_calendar_csv(
        csv_file("2026-02-16,workday,Trực Tết,", "2026-03-07,day_off,Nghỉ thứ Bảy,"),
        agency=agency,
    )
    assert report.created == 2 and report.errors == []
    assert set(agency.calendar_days.values_list("kind", flat=True)) == {"workday", "day_off"}
    national = CalendarDay.objects.get(agency__isnull=True, date=dt.date(2026, 2, 16))
    assert national.kind == CalendarDay.Kind.DAY_OFF


def test_command_loads_an_agency_file(tmp_path):
    agency = AgencyFactory()
    path = tmp_path / "rieng.csv"
    path.write_text(HEADER + "2026-03-02,day_off,Ngày thành lập,QĐ 1\n", encoding="utf-8")
    out = io.StringIO()
    call_command("load_holidays", str(path), agency=agency.electronic_id, stdout=out)
    assert "tạo mới 1" in out.getvalue()
    assert agency.calendar_days.get().name == "Ngày thành lập"


def test_command_fails_and_writes_nothing_on_a_bad_row(tmp_path):
    path = tmp_path / "sai.csv"
    path.write_text(HEADER + "2028-01-03,day_off,,\n2028-13-01,day_off,,\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="chưa ghi gì"):
        call_command("load_holidays", str(path), stderr=err)
    assert "Dòng 3" in err.getvalue()
    assert not CalendarDay.objects.filter(date=dt.date(2028, 1, 3)).exists()


def test_command_refuses_an_unknown_agency():
    with pytest.raises(CommandError, match="Không tìm thấy cơ quan"):
        call_command("load_holidays", agency="999.99.99.H99")
