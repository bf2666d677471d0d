import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from motcua.agencies.models import AdministrativeUnit
from motcua.agencies.services import ImportFileError, import_units

pytestmark = pytest.mark.django_db

Level = AdministrativeUnit.Level
CURRENT = "admin_units/thanglequoc/vn_units_2026_full.json"
HISTORICAL = "admin_units/thanglequoc/vn_units_pre2025_v2.4.1_63provinces.json"
FORMED_FROM = "admin_units/thanglequoc/sapnhap_donvi_truocsapnhap.json"


def ward(code, name, province="38", kind="Xã", **extra):
    return {
        "Type": "ward",
        "Code": code,
        "Name": name,
        "NameEn": name,
        "FullName": f"{kind} {name}",
        "ProvinceCode": province,
        "AdministrativeUnitShortName": kind,
        **extra,
    }


def province(code, name, wards, kind="Tỉnh"):
    return {
        "Type": "province",
        "Code": code,
        "Name": name,
        "NameEn": name,
        "FullName": f"{kind} {name}",
        "AdministrativeUnitShortName": kind,
        "Wards": wards,
    }


def write(tmp_path, data, name="units.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def counts(**era) -> dict[str, int]:
    units = AdministrativeUnit.objects.filter(**era)
    return {level: units.filter(level=level).count() for level in Level.values}


def test_current_units_import_with_their_province_and_origin(shared_data):
    report = import_units(shared_data / CURRENT, formed_from=shared_data / FORMED_FROM)
    assert report.errors == []
    assert counts() == {"province": 34, "district": 0, "commune": 3321}
    ba_dinh = AdministrativeUnit.objects.get(level=Level.COMMUNE, code="00004")
    assert (ba_dinh.full_name, ba_dinh.unit_type, ba_dinh.name_en) == (
        "Phường Ba Đình",
        "Phường",
        "Ba Dinh",
    )
    assert ba_dinh.parent.code == "01"
    assert (ba_dinh.valid_from, ba_dinh.valid_to) == (dt.date(2025, 7, 1), None)
    assert ba_dinh.search_text.startswith("00004 phuong ba dinh")
    con_dao = AdministrativeUnit.objects.get(level=Level.COMMUNE, code="26732")
    assert con_dao.formed_from == "Huyện Côn Đảo"

    again = import_units(shared_data / CURRENT)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3355)
    con_dao.refresh_from_db()
    assert con_dao.formed_from == "Huyện Côn Đảo"  # a run without the origin file keeps it


def test_historical_units_import_three_levels_valid_until_the_reform(shared_data):
    report = import_units(shared_data / HISTORICAL, historical=True)
    assert report.errors == []
    assert counts() == {"province": 63, "district": 696, "commune": 10035}
    phuc_xa = AdministrativeUnit.objects.get(level=Level.COMMUNE, code="00001")
    assert (phuc_xa.name, phuc_xa.unit_type) == ("Phúc Xá", "Phường")
    assert phuc_xa.parent.full_name == "Quận Ba Đình"
    assert phuc_xa.parent.parent.code == "01"
    assert (phuc_xa.valid_from, phuc_xa.valid_to) == (None, dt.date(2025, 6, 30))


def test_current_and_historical_units_with_the_same_code_live_side_by_side(tmp_path):
    current = write(tmp_path, [province("38", "Thanh Hóa", [ward("14902", "Mới")])], "c.json")
    old = [
        {
            "Code": "38",
            "FullName": "Tỉnh Thanh Hóa",
            "District": [
                {
                    "Code": "380",
                    "FullName": "Thành phố Thanh Hóa",
                    "ProvinceCode": "38",
                    "Ward": [{"Code": "14902", "FullName": "Phường Cũ", "DistrictCode": "380"}],
                },
                {"Code": "381", "FullName": "Huyện Đảo", "ProvinceCode": "38", "Ward": None},
            ],
        }
    ]
    import_units(current)
    import_units(write(tmp_path, old, "h.json"), historical=True)
    communes = AdministrativeUnit.objects.filter(level=Level.COMMUNE, code="14902")
    assert sorted(c.name for c in communes) == ["Cũ", "Mới"]
    city = AdministrativeUnit.objects.get(level=Level.DISTRICT, code="380")
    assert (city.unit_type, city.name) == ("Thành phố", "Thanh Hóa")


def test_changed_record_is_updated_in_place(tmp_path):
    import_units(write(tmp_path, [province("38", "Thanh Hóa", [ward("14902", "Cũ")])]))
    pk = AdministrativeUnit.objects.get(code="14902").pk
    report = import_units(
        write(tmp_path, [province("38", "Thanh Hóa", [ward("14902", "Hạc Thành", kind="Phường")])])
    )
    unit = AdministrativeUnit.objects.get(code="14902")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert (unit.pk, unit.full_name, unit.unit_type) == (pk, "Phường Hạc Thành", "Phường")


def test_bad_records_are_reported_and_skipped_while_the_rest_is_imported(tmp_path):
    data = [
        province(
            "38",
            "Thanh Hóa",
            [
                ward("14902", "Tốt"),
                ward("149", "Mã Ngắn"),
                ward("14903", "Sai Tỉnh", province="40"),
                ward("14902", "Trùng"),
                "không phải đối tượng",
            ],
        ),
        province("4X", "Nghệ An", [ward("16000", "Con Của Tỉnh Sai", province="4X")]),
        {"Code": "42", "FullName": "Tỉnh Hà Tĩnh", "Name": "Hà Tĩnh"},
    ]
    report = import_units(write(tmp_path, data))
    assert report.errors == [
        ("0.Wards.1", "149", "mã «149» phải gồm 5 chữ số"),
        ("0.Wards.2", "14903", "mã đơn vị cấp trên «40» khác «38»"),
        ("0.Wards.3", "14902", "mã bị trùng trong tệp"),
        ("0.Wards.4", "", "bản ghi không phải đối tượng JSON"),
        ("1", "4X", "mã «4X» phải gồm 2 chữ số"),
        ("2", "42", "thiếu danh sách xã, phường (Wards)"),
    ]
    assert set(AdministrativeUnit.objects.values_list("code", flat=True)) == {"38", "42", "14902"}


@pytest.mark.parametrize(
    "content",
    ['[{"Code": "38", "Wards": [', '{"Code": "38"}', "[]", "không phải JSON"],
    ids=["truncated", "not-a-list", "empty", "text"],
)
def test_structurally_broken_file_writes_nothing(tmp_path, content):
    with pytest.raises(ImportFileError):
        import_units(write(tmp_path, content))
    assert not AdministrativeUnit.objects.exists()


def test_command_reports_in_vietnamese_and_fails_on_skipped_records(tmp_path):
    path = write(tmp_path, [province("38", "Thanh Hóa", [ward("14902", "A"), ward("1", "B")])])
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 bản ghi bị bỏ qua"):
        call_command("import_units", str(path), stdout=out)
    assert "Lỗi bản ghi 0.Wards.1 (mã 1)" in out.getvalue()
    assert "Tạo mới 2" in out.getvalue()


def test_command_turns_a_broken_file_into_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="không phải JSON"):
        call_command("import_units", str(write(tmp_path, "{")), stdout=io.StringIO())


def test_formed_from_is_refused_for_historical_units(tmp_path):
    path = write(tmp_path, [province("38", "Thanh Hóa", [])])
    with pytest.raises(CommandError, match="hình thành từ"):
        call_command("import_units", str(path), historical=True, formed_from=str(path))


def test_progress_bar_is_drawn_only_when_asked(tmp_path, capsys):
    path = write(tmp_path, [province("38", "Thanh Hóa", [ward("14902", "A")])])
    import_units(path)
    assert "Đọc tệp" not in capsys.readouterr().err
    import_units(path, progress=True)
    assert "Đọc tệp" in capsys.readouterr().err


def test_bad_historical_records_are_reported_with_their_path(tmp_path):
    data = [
        {
            "Code": "38",
            "FullName": "Tỉnh Thanh Hóa",
            "District": [
                {"Code": "380", "FullName": "Thành phố Thanh Hóa", "ProvinceCode": "40"},
                {
                    "Code": "381",
                    "FullName": "Thị xã Bỉm Sơn",
                    "ProvinceCode": "38",
                    "Ward": [{"Code": "14800", "FullName": "", "DistrictCode": "381"}],
                },
            ],
        },
        {"Code": "40", "FullName": "Tỉnh Nghệ An"},
    ]
    report = import_units(write(tmp_path, data), historical=True)
    assert report.errors == [
        ("0.District.0", "380", "mã đơn vị cấp trên «40» khác «38»"),
        ("0.District.1.Ward.0", "14800", "thiếu tên đầy đủ (FullName)"),
        ("1", "40", "thiếu danh sách quận, huyện (District)"),
    ]
    assert report.counts == {"province": 2, "district": 1}
