"""The national-portal importer: real data, malformed records, re-imports, the command."""

from __future__ import annotations

import copy
import gzip
import io
import json
import os
import random
import string
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from motcua.catalog.importers import (
    Failure,
    import_procedures,
    levels_from_departments,
    parse_record,
)
from motcua.catalog.models import (
    Component,
    Fee,
    Procedure,
    ProcedureVersion,
    TimeLimit,
    Variant,
)
from motcua.catalog.queries import search_procedures

pytestmark = pytest.mark.django_db


# --- building source records ---------------------------------------------------------------


def detail(code: str = "1.000001", **overrides) -> dict:
    """A clean national detail record (the ``data`` object): one case, counter and online."""
    data = {
        "id": f"id-{code}",
        "code": code,
        "name": f"Thủ tục thử nghiệm {code}",
        "type": "STANDARD",
        "isWard": True,
        "categoriesDetails": [{"code": "G15-TP01", "name": "Hộ tịch"}],
        "departmentPromulgateName": "Bộ Tư pháp",
        "procedureProposal": {"proposalNumber": "163/QĐ-BTP"},
        "subjectTypesDetails": [{"name": "Công dân Việt Nam"}],
        "executionMethods": [
            {
                "submissionMethod": "DIRECT",
                "processingTime": 3,
                "processingTimeUnit": "WORKING_DAY",
                "description": "",
                "fees": [{"type": "FEE", "value": 8000, "description": ""}],
            },
            {
                "submissionMethod": "ONLINE",
                "processingTime": 2,
                "processingTimeUnit": "WORKING_DAY",
                "description": "",
                "fees": [{"type": "FEE", "value": 4000, "description": ""}],
            },
        ],
        "executionCases": [
            {
                "name": "",
                "profileComponents": [
                    {"code": "TK", "name": "Tờ khai", "originalQty": 1, "copyQty": 0},
                    {"name": "Giấy ủy quyền (nếu có)", "originalQty": 1, "copyQty": 1},
                ],
            }
        ],
        "legalBasisesDetails": [{"code": "60/2014/QH13", "name": "Luật Hộ tịch"}],
        "resultsDetails": [{"code": "KQ1", "name": "Giấy khai sinh"}],
    }
    data.update(copy.deepcopy(overrides))
    return data


def method(channel: str = "DIRECT", time=3, unit="WORKING_DAY", fees=None, **extra) -> dict:
    return {
        "submissionMethod": channel,
        "processingTime": time,
        "processingTimeUnit": unit,
        "description": "",
        "fees": fees or [],
        **extra,
    }


def wrapped(data: dict) -> dict:
    """A detail record as the portal's detail API answers it."""
    return {"code": data.get("code"), "response": {"code": "OK", "data": data}}


def catalog_row(code: str = "1.000001", **overrides) -> dict:
    row = {
        "id": f"id-{code}",
        "name": f"Thủ tục thử nghiệm {code}",
        "code": code,
        "codeNotation": code,
        "categories": ["Hộ tịch"],
        "departments": ["UBND xã"],
        "departmentPromulgate": "Bộ Tư pháp",
        "formalityTargetType": ["Công dân Việt Nam"],
        "state": "ACTIVE",
        "type": "STANDARD",
    }
    row.update(overrides)
    return row


def line(record) -> str:
    """A JSONL line; a string is written as is (to write invalid JSON)."""
    if isinstance(record, str):
        return record
    # allow_nan: Python writes NaN/Infinity, as a broken exporter would.
    return json.dumps(record, ensure_ascii=False)


def write(path: Path, records, *, gz: bool = False) -> Path:
    text = "".join(line(record) + "\n" for record in records).encode("utf-8")
    path.write_bytes(gzip.compress(text) if gz else text)
    return path


def content_of(code: str) -> tuple:
    """What the database holds for a procedure: (versions, variants, components, limits, fees)."""
    return (
        ProcedureVersion.objects.filter(procedure__code=code).count(),
        Variant.objects.filter(version__procedure__code=code).count(),
        Component.objects.filter(variant__version__procedure__code=code).count(),
        TimeLimit.objects.filter(variant__version__procedure__code=code).count(),
        Fee.objects.filter(variant__version__procedure__code=code).count(),
    )


NOTHING = (0, 0, 0, 0, 0)


# --- real national data ----------------------------------------------------------------------

REAL_FAILURES = [
    (1309, "1.014325", "trùng với dòng 973"),  # line 973 is " 1.014325" (leading space)
    (1310, "1.0133611", "D.DDDDDD"),
    (1320, "1.014955-Xoa", "D.DDDDDD"),
    (1402, "2.009182739", "D.DDDDDD"),
]


@pytest.fixture
def opengov(shared_data) -> Path:
    path = shared_data / "tthc" / "opengov"
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"national procedure data is required in CI and was not found at {path}")
        pytest.skip(f"national procedure data not found at {path}: set MOTCUA_SHARED_DATA")
    return path


@pytest.mark.shared_data
def test_real_catalogue_then_details_import_with_the_known_counts(opengov):
    # One test for the whole chain: the catalogue import alone takes ~7 s.
    out = io.StringIO()
    call_command("import_procedures", str(opengov / "catalog.jsonl"), stdout=out)
    output = out.getvalue()
    assert (
        "Đã đọc 5670 bản ghi: 5666 thủ tục mới, 0 phiên bản mới, 0 không thay đổi, "
        "0 giữ bản chi tiết, 4 bỏ qua do lỗi"
    ) in output
    assert "Bản ghi bị bỏ qua (4):" in output
    for number, code, reason in REAL_FAILURES:
        assert f"catalog.jsonl:{number} [{code}] " in output
        listed = next(row for row in output.splitlines() if f":{number} [" in row)
        assert reason in listed
    assert Procedure.objects.count() == ProcedureVersion.objects.count() == 5666
    assert not Procedure.objects.filter(code__in=["1.0133611", "1.014955-Xoa"]).exists()
    # The first of the two 1.014325 rows is kept, its code stripped of the leading space.
    assert Procedure.objects.get(code="1.014325").name.startswith("Thủ tục thực hiện chính sách")

    birth = Procedure.objects.get(code="1.001193")
    assert (birth.name, birth.field.name) == ("Thủ tục đăng ký khai sinh", "Hộ tịch")
    assert birth.current_version.at_commune and birth.current_version.online_mode == "none"

    details = import_procedures([opengov / "details_raw.jsonl.gz"])
    assert (details.read, details.created, details.new_versions) == (502, 0, 502)
    assert (details.unchanged, details.kept, details.failures) == (0, 0, [])
    assert ProcedureVersion.objects.count() == 5666 + 502

    birth.refresh_from_db()
    version = birth.current_version
    assert version.number == 2 and version.source == "national"
    assert (version.online_mode, version.postal_allowed, version.same_day_cutoff) == (
        "partial",
        True,
        True,
    )
    assert (version.decision_no, version.issuing_agency) == ("163/QĐ-BTP", "Bộ Tư pháp")
    assert version.variants.count() == 4
    limits = {(t.channel, t.unit) for t in TimeLimit.objects.filter(variant__version=version)}
    assert limits == {("counter", "same_day"), ("online", "same_day"), ("postal", "same_day")}
    mobile = Procedure.objects.get(code="1.003583").current_version.variants.first()
    assert [(t.channel, t.amount, t.unit) for t in mobile.time_limits.all()] == [
        ("counter", Decimal("5.00"), "working_days")
    ]
    assert [(f.channel, f.kind, f.amount) for f in mobile.fees.all()] == [
        ("counter", "service_fee", 0)
    ]
    # The first version (from the catalogue row) is kept untouched.
    first = birth.versions.get(number=1)
    assert first.online_mode == "none" and "executionMethods" not in first.raw

    found = list(search_procedures("dang ky khai sinh").values_list("code", flat=True))
    assert "1.001193" in found and len(found) == 24
    assert search_procedures("1.001193").first().code == "1.001193"

    again = import_procedures([opengov / "details_raw.jsonl.gz"])
    assert (again.created, again.new_versions, again.unchanged, again.failures) == (0, 0, 502, [])
    # The catalogue list again: no downgrade of the 502 detailed procedures, nothing new.
    catalogue = import_procedures([opengov / "catalog.jsonl"])
    assert (catalogue.created, catalogue.new_versions) == (0, 0)
    assert (catalogue.unchanged, catalogue.kept, catalogue.skipped) == (5164, 502, 4)
    assert ProcedureVersion.objects.count() == 5666 + 502


# --- malformed records -----------------------------------------------------------------------


def _with_method(**changes) -> dict:
    return detail("1.000002", executionMethods=[method(**changes)])


def _with_fee(value) -> dict:
    return _with_method(fees=[{"type": "FEE", "value": value}])


def _with_component(**changes) -> dict:
    component = {"name": "Tờ khai", "originalQty": 1, **changes}
    return detail("1.000002", executionCases=[{"name": "", "profileComponents": [component]}])


LIST = "phải là một danh sách"
NON_FINITE = "NaN hoặc vô cực"
STRUCTURE = "Cấu trúc bản ghi không đúng"

MALFORMED = {
    "invalid JSON": ('{"code": "1.000002", "name": "Thủ tục"', "", "JSON không hợp lệ"),
    "not an object": ('["1.000002"]', "", "không phải một đối tượng JSON"),
    "unknown shape": ('{"ma": "1.000002"}', "", "Không nhận ra định dạng"),
    "missing code": (detail(""), "", "thiếu mã thủ tục"),
    "code not a string": (detail(1000002), "", "thiếu mã thủ tục"),
    "code too long": (detail("1.0000021"), "1.0000021", "D.DDDDDD"),
    "code with suffix": (catalog_row("1.000002-Xoa"), "1.000002-Xoa", "D.DDDDDD"),
    "missing name": (detail("1.000002", name=""), "1.000002", "thiếu tên"),
    "portal error": (
        {"code": "1.000002", "response": {"code": "NOT_FOUND", "data": None}},
        "1.000002",
        "không thành công",
    ),
    "response without data": (
        {"code": "1.000002", "response": {"code": "OK"}},
        "1.000002",
        "không có dữ liệu",
    ),
    "NaN time limit": (_with_method(time=float("nan")), "1.000002", NON_FINITE),
    "Infinity time limit": (_with_method(time=float("inf")), "1.000002", NON_FINITE),
    "-Infinity time limit": (_with_method(time=float("-inf")), "1.000002", NON_FINITE),
    "1e400 time limit": (
        line(_with_method(time=7)).replace('"processingTime": 7', '"processingTime": 1e400'),
        "1.000002",
        NON_FINITE,
    ),
    "NaN fee": (_with_fee(float("nan")), "1.000002", NON_FINITE),
    "Infinity fee": (_with_fee(float("inf")), "1.000002", NON_FINITE),
    "fee beyond BIGINT (integer)": (_with_fee(10**20), "1.000002", "quá lớn"),
    "fee beyond BIGINT (float)": (_with_fee(1e20), "1.000002", "quá lớn"),
    "Infinity copies": (_with_component(originalQty=float("inf")), "1.000002", NON_FINITE),
    "huge copies": (_with_component(originalQty=100000), "1.000002", "Số bản chính"),
    "copies not a number": (_with_component(copyQty="hai"), "1.000002", STRUCTURE),
    "executionMethods a string": (detail("1.000002", executionMethods="DIRECT"), "1.000002", LIST),
    "executionCases a string": (detail("1.000002", executionCases="Tờ khai"), "1.000002", LIST),
    "profileComponents a string": (
        detail("1.000002", executionCases=[{"name": "", "profileComponents": "Tờ khai"}]),
        "1.000002",
        LIST,
    ),
    "fees a string": (_with_method(fees="8000"), "1.000002", LIST),
    "subjects a string": (detail("1.000002", subjectTypesDetails="Công dân"), "1.000002", LIST),
    "legal basis a string": (detail("1.000002", legalBasisesDetails="Luật"), "1.000002", LIST),
    "catalogue categories a string": (
        catalog_row("1.000002", categories="Hộ tịch"),
        "1.000002",
        LIST,
    ),
    "catalogue departments a string": (
        catalog_row("1.000002", departments="Sở Tư pháp"),
        "1.000002",
        LIST,
    ),
    "component not an object": (
        detail("1.000002", executionCases=[{"name": "", "profileComponents": ["Tờ khai"]}]),
        "1.000002",
        STRUCTURE,
    ),
    # The first case and the first paper of the second are fine.
    "second case bad": (
        detail(
            "1.000002",
            executionCases=[
                {"name": "Trong nước", "profileComponents": [{"name": "Tờ khai"}]},
                {
                    "name": "Nước ngoài",
                    "profileComponents": [{"name": "Hộ chiếu"}, {"name": "Ảnh", "copyQty": "x"}],
                },
            ],
        ),
        "1.000002",
        STRUCTURE,
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_record_is_reported_and_skipped_between_good_ones(tmp_path, case):
    record, code, reason = MALFORMED[case]
    path = write(tmp_path / "mixed.jsonl", [detail("1.000001"), record, catalog_row("1.000003")])

    report = import_procedures([path])

    assert len(report.failures) == 1, report.failures
    failure = report.failures[0]
    assert (failure.file, failure.line, failure.code) == ("mixed.jsonl", 2, code)
    assert reason in failure.reason
    assert (report.read, report.created, report.skipped) == (3, 2, 1)
    assert set(Procedure.objects.values_list("code", flat=True)) == {"1.000001", "1.000003"}
    assert content_of("1.000002") == NOTHING
    assert content_of("1.000001") == (1, 1, 2, 2, 2)
    assert content_of("1.000003") == (1, 1, 0, 0, 0)


def test_a_record_failing_half_way_through_writing_leaves_no_row(tmp_path, monkeypatch):
    # The database refuses the fees, after the procedure, version, variants, components and
    # time limits of the record were written: its savepoint must take them all back.
    original = Fee.objects.bulk_create

    def refuse_boom(objs, *args, **kwargs):
        if any(fee.description == "boom" for fee in objs):
            raise IntegrityError("fee refused")
        return original(objs, *args, **kwargs)

    monkeypatch.setattr(Fee.objects, "bulk_create", refuse_boom)
    bad = _with_method(fees=[{"type": "FEE", "value": 1000, "description": "boom"}])
    bad["executionCases"].append({"name": "Thứ hai", "profileComponents": [{"name": "Đơn"}]})
    path = write(tmp_path / "a.jsonl", [detail("1.000001"), bad, detail("1.000003")])

    report = import_procedures([path], batch_size=10)

    assert [(f.line, f.code) for f in report.failures] == [(2, "1.000002")]
    assert "Cơ sở dữ liệu từ chối bản ghi" in report.failures[0].reason
    assert not Procedure.objects.filter(code="1.000002").exists()
    assert content_of("1.000002") == NOTHING
    assert content_of("1.000001") == content_of("1.000003") == (1, 1, 2, 2, 2)


def test_a_failed_update_keeps_the_current_version(tmp_path, monkeypatch):
    import_procedures([write(tmp_path / "v1.jsonl", [detail("1.000001")])])
    before = content_of("1.000001")

    def refuse(*args, **kwargs):
        raise IntegrityError("fee refused")

    monkeypatch.setattr(Fee.objects, "bulk_create", refuse)
    changed = detail("1.000001", name="Tên mới")
    report = import_procedures([write(tmp_path / "v2.jsonl", [changed])])

    assert [(f.line, f.code) for f in report.failures] == [(1, "1.000001")]
    procedure = Procedure.objects.get(code="1.000001")
    assert procedure.current_version.number == 1
    assert procedure.name == "Thủ tục thử nghiệm 1.000001"
    assert content_of("1.000001") == before


def test_failures_carry_line_numbers_counting_blank_lines(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(
        "\ufeff" + line(catalog_row("1.000001")) + "\n\n   \n" + "{oops\n" + "\n",
        encoding="utf-8",
    )
    report = import_procedures([path])
    assert report.read == 2 and report.created == 1
    assert [(f.line, f.code) for f in report.failures] == [(4, "")]
    assert str(report.failures[0]).startswith("a.jsonl:4 [—] JSON không hợp lệ")


def test_a_repeated_code_in_one_file_keeps_the_first_record(tmp_path):
    path = write(
        tmp_path / "dup.jsonl",
        [catalog_row(" 1.000001", name="Bản đầu"), catalog_row("1.000001", name="Bản sau")],
    )
    report = import_procedures([path])
    assert report.created == 1
    assert [(f.line, f.code) for f in report.failures] == [(2, "1.000001")]
    assert "trùng với dòng 1" in report.failures[0].reason
    assert Procedure.objects.get().name == "Bản đầu"


def test_failure_text_names_file_line_code_and_reason():
    failure = Failure("catalog.jsonl", 1310, "1.0133611", "Mã sai.")
    assert str(failure) == "catalog.jsonl:1310 [1.0133611] Mã sai."


# --- documented lenient mappings (kept, not refused) ------------------------------------------


def test_negative_or_fractional_fee_is_kept_as_unknown_with_a_note(tmp_path):
    fees = [
        {"type": "FEE", "value": -5000, "description": ""},
        {"type": "SERVICE_FEE", "value": 1500.5, "description": "Phí"},
    ]
    import_procedures([write(tmp_path / "a.jsonl", [_with_method(fees=fees)])])
    stored = {f.kind: f for f in Fee.objects.all()}
    assert stored["charge"].amount is None
    assert stored["charge"].description == "Giá trị gốc -5000 không hợp lệ, đã bỏ."
    assert stored["service_fee"].amount is None
    assert stored["service_fee"].description.startswith("Giá trị gốc 1500.5 không hợp lệ")


@pytest.mark.parametrize("value", [-3, 10**7, "ba ngày"])
def test_time_limit_out_of_range_or_not_a_number_is_kept_as_unspecified_with_its_text(
    tmp_path, value
):
    import_procedures([write(tmp_path / "a.jsonl", [_with_method(time=value)])])
    limit = TimeLimit.objects.get()
    assert (limit.channel, limit.amount, limit.unit) == ("counter", None, "unspecified")
    assert str(value) in limit.description


# --- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "gz"),
    [("plain.jsonl", False), ("plain.jsonl.gz", False), ("packed.jsonl.gz", True), ("p", True)],
)
def test_plain_and_gzip_files_are_told_apart_by_content(tmp_path, name, gz):
    records = [wrapped(detail("1.000001")), catalog_row("1.000002"), detail("1.000003")]
    report = import_procedures([write(tmp_path / name, records, gz=gz)])
    assert (report.read, report.created, report.failures, report.file_errors) == (3, 3, [], [])
    assert content_of("1.000001") == content_of("1.000003") == (1, 1, 2, 2, 2)


def test_a_missing_file_is_reported_and_the_other_files_still_import(tmp_path):
    good = write(tmp_path / "good.jsonl", [catalog_row("1.000001")])
    report = import_procedures([tmp_path / "missing.jsonl", good])
    assert report.created == 1
    assert len(report.file_errors) == 1 and "missing.jsonl" in report.file_errors[0]


def test_a_truncated_gzip_keeps_the_records_read_before_the_break(tmp_path):
    rng = random.Random(7)
    records = [
        catalog_row(f"1.{i:06d}", name="".join(rng.choices(string.ascii_letters, k=400)))
        for i in range(1, 201)
    ]
    packed = write(tmp_path / "full.jsonl.gz", records, gz=True).read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) // 2])

    report = import_procedures([cut], batch_size=25)

    assert len(report.file_errors) == 1 and "cut.jsonl.gz" in report.file_errors[0]
    assert 25 < report.created < 200 and report.failures == []
    assert Procedure.objects.count() == report.created == report.read


# --- re-imports --------------------------------------------------------------------------------


def test_reimporting_the_same_file_writes_nothing(tmp_path):
    path = write(tmp_path / "a.jsonl", [detail("1.000001"), catalog_row("1.000002")], gz=True)
    first = import_procedures([path])
    assert (first.created, first.new_versions) == (2, 0)
    rows = content_of("1.000001"), content_of("1.000002")

    again = import_procedures([path], batch_size=1)

    assert (again.read, again.created, again.new_versions, again.unchanged) == (2, 0, 0, 2)
    assert (content_of("1.000001"), content_of("1.000002")) == rows


def test_changed_content_makes_a_new_version_and_keeps_the_old_one(tmp_path):
    import_procedures([write(tmp_path / "v1.jsonl", [detail("1.000001")])])
    changed = detail("1.000001", executionMethods=[method(time=5, fees=[])])
    report = import_procedures([write(tmp_path / "v2.jsonl", [wrapped(changed)])])

    assert (report.created, report.new_versions, report.unchanged) == (0, 1, 0)
    procedure = Procedure.objects.get(code="1.000001")
    assert procedure.current_version.number == 2
    new, old = procedure.versions.order_by("-number")
    assert [(t.channel, t.amount) for t in TimeLimit.objects.filter(variant__version=new)] == [
        ("counter", Decimal("5.00"))
    ]
    assert sorted(
        (t.channel, t.amount) for t in TimeLimit.objects.filter(variant__version=old)
    ) == [("counter", Decimal("3.00")), ("online", Decimal("2.00"))]
    assert Fee.objects.filter(variant__version=old).count() == 2
    assert not Fee.objects.filter(variant__version=new).exists()

    again = import_procedures([tmp_path / "v2.jsonl"])
    assert (again.new_versions, again.unchanged) == (0, 1)
    assert procedure.versions.count() == 2


def test_a_catalogue_row_never_replaces_a_detail_version(tmp_path):
    import_procedures([write(tmp_path / "d.jsonl", [detail("1.000001")])])
    row = catalog_row("1.000001", name="Tên trong danh mục")
    report = import_procedures([write(tmp_path / "c.jsonl", [row, catalog_row("1.000002")])])
    assert (report.kept, report.created, report.new_versions) == (1, 1, 0)
    procedure = Procedure.objects.get(code="1.000001")
    assert procedure.versions.count() == 1
    assert procedure.name == "Thủ tục thử nghiệm 1.000001"


def test_a_detail_upgrades_a_catalogue_version(tmp_path):
    import_procedures([write(tmp_path / "c.jsonl", [catalog_row("1.000001")])])
    report = import_procedures([write(tmp_path / "d.jsonl", [detail("1.000001")])])
    assert (report.created, report.new_versions) == (0, 1)
    assert content_of("1.000001") == (2, 2, 2, 2, 2)
    assert Procedure.objects.get().current_version.variants.get().components.count() == 2


# --- the management command --------------------------------------------------------------


def test_command_lists_failures_and_prints_the_summary(tmp_path):
    path = write(
        tmp_path / "a.jsonl", [catalog_row("1.000001"), catalog_row("1.0133611"), detail()]
    )
    out = io.StringIO()
    call_command("import_procedures", str(path), "--batch-size", "1", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Bản ghi bị bỏ qua (2):"
    assert lines[1].startswith("  a.jsonl:2 [1.0133611] Mã thủ tục «1.0133611» không đúng dạng")
    assert lines[2].startswith("  a.jsonl:3 [1.000001] Mã thủ tục trùng với dòng 1")
    assert lines[3].startswith(
        "Đã đọc 3 bản ghi: 1 thủ tục mới, 0 phiên bản mới, 0 không thay đổi, "
        "0 giữ bản chi tiết, 2 bỏ qua do lỗi ("
    )
    assert lines[4] == "Nhập thủ tục hành chính xong."
    assert Procedure.objects.count() == 1


def test_command_fails_when_a_file_cannot_be_read_after_importing_the_others(tmp_path):
    good = write(tmp_path / "good.jsonl", [catalog_row("1.000001")])
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="Không đọc được tệp") as info:
        call_command(
            "import_procedures", str(tmp_path / "nope.jsonl"), str(good), stdout=out, stderr=err
        )
    assert "nope.jsonl" in str(info.value) and "nope.jsonl" in err.getvalue()
    assert "1 thủ tục mới" in out.getvalue()
    assert "xong" not in out.getvalue()
    assert Procedure.objects.filter(code="1.000001").exists()


def test_motcua_cli_accepts_the_dashed_command_name(monkeypatch):
    # Not run for real: the management entry point closes the database connections.
    import django.core.management

    from motcua import cli

    seen = []
    monkeypatch.setattr(django.core.management, "execute_from_command_line", seen.append)
    cli.main(["motcua", "import-procedures", "catalog.jsonl"])
    assert seen == [["motcua", "import_procedures", "catalog.jsonl"]]


# --- mapping rules (no database) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("departments", "levels"),
    [
        (["UBND xã"], ["commune"]),
        (["Ủy ban nhân dân phường"], ["commune"]),
        (["Công chức cấp xã"], ["commune"]),
        (["Sở Tư pháp"], ["province"]),
        (["Ủy ban nhân dân cấp tỉnh"], ["province"]),
        (["Bộ Công an"], ["ministry"]),
        (["Cục Hàng hải Việt Nam - Bộ Xây dựng"], ["ministry"]),
        (["Bộ phận Một cửa"], ["other"]),
        (["Bộ chỉ huy Quân sự"], ["other"]),
        (["Ngân hàng Nhà nước"], ["other"]),
        (["Sở Y tế", "UBND xã"], ["province", "commune"]),
        ([""], []),
        ([], []),
    ],
)
def test_levels_of_a_catalogue_row_come_from_its_departments(departments, levels):
    assert levels_from_departments(departments) == levels


def test_catalogue_row_maps_identity_field_and_levels_only():
    record = parse_record(line(catalog_row(" 1.000001 ", departments=["Sở Tư pháp"])).encode())
    assert (record.kind, record.code) == ("catalog", "1.000001")
    content = record.content
    assert content["field"] == {"code": "", "name": "Hộ tịch"}
    assert (content["levels"], content["online_mode"]) == (["province"], "none")
    assert content["executing_agencies"] == "Sở Tư pháp"
    assert content["subjects"] == ["Công dân Việt Nam"]
    assert content["variants"] == [
        {"code": "", "name": "", "components": [], "time_limits": [], "fees": []}
    ]


def test_wrapped_and_bare_detail_records_map_the_same():
    bare = parse_record(line(detail()).encode())
    api = parse_record(line(wrapped(detail())).encode())
    assert bare.kind == api.kind == "detail"
    assert bare.content == api.content
    assert api.raw == detail()


def test_detail_maps_channels_time_limits_fees_and_components():
    content = parse_record(line(detail()).encode()).content
    assert (content["online_mode"], content["postal_allowed"]) == ("partial", False)
    assert (content["levels"], content["decision_no"]) == (["commune"], "163/QĐ-BTP")
    assert content["field"] == {"code": "G15-TP01", "name": "Hộ tịch"}
    (variant,) = content["variants"]
    assert [(t["channel"], t["amount"], t["unit"]) for t in variant["time_limits"]] == [
        ("counter", Decimal(3), "working_days"),
        ("online", Decimal(2), "working_days"),
    ]
    assert [(f["channel"], f["kind"], f["amount"]) for f in variant["fees"]] == [
        ("counter", "charge", 8000),
        ("online", "charge", 4000),
    ]
    assert [(c["name"], c["required"]) for c in variant["components"]] == [
        ("Tờ khai", True),
        ("Giấy ủy quyền (nếu có)", False),
    ]


@pytest.mark.parametrize(
    ("flags", "methods", "mode"),
    [
        ({"isFullProcess": True}, ["DIRECT", "ONLINE"], "full"),
        ({}, ["DIRECT", "ONLINE"], "partial"),
        ({"isOfflineOnly": True}, ["DIRECT", "ONLINE"], "none"),
        ({}, ["DIRECT", "POSTAL"], "none"),
    ],
)
def test_online_mode_of_a_detail(flags, methods, mode):
    data = detail(executionMethods=[method(channel) for channel in methods], **flags)
    content = parse_record(line(data).encode()).content
    assert content["online_mode"] == mode
    assert content["postal_allowed"] == ("POSTAL" in methods)


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([(2, "MONTH", "")], (None, "unspecified", "2 tháng")),
        ([(1, "OTHER", "")], (None, "same_day", "")),
        ([(0, "OTHER", "Trả kết quả trong ngày")], (None, "same_day", "trong ngày")),
        ([(4, "HOUR", "")], (Decimal(4), "working_hours", "")),
        ([(30, "DAY", "")], (Decimal(30), "calendar_days", "")),
        # Several entries for one channel: the longest clean one (the statutory ceiling).
        (
            [(3, "WORKING_DAY", "Cấp mới"), (10, "WORKING_DAY", "Cấp lại")],
            (Decimal(10), "working_days", "Cấp mới\nCấp lại"),
        ),
        ([(7, "OTHER", "")], (None, "unspecified", "không rõ đơn vị")),
    ],
)
def test_time_limit_rules(entries, expected):
    methods = [method(time=t, unit=u, description=d) for t, u, d in entries]
    (limit,) = parse_record(line(detail(executionMethods=methods)).encode()).content["variants"][0][
        "time_limits"
    ]
    amount, unit, text = expected
    assert limit["amount"] == amount
    assert limit["unit"] == unit
    assert text in limit["description"]


def test_the_matching_case_gives_the_time_when_entries_are_ambiguous():
    data = detail(
        executionMethods=[method(time=1, unit="MONTH"), method(time=2, unit="OTHER")],
        executionCases=[{"name": "Cấp lại", "profileComponents": []}],
        cases=[{"name": "cap lai", "processingDay": {"qty": 15, "type": "WORKING_DAY"}}],
    )
    (limit,) = parse_record(line(data).encode()).content["variants"][0]["time_limits"]
    assert (limit["amount"], limit["unit"]) == (Decimal(15), "working_days")


@pytest.mark.parametrize(
    ("text", "cutoff"),
    [("Nhận hồ sơ sau 15 giờ thì trả trong ngày làm việc tiếp theo", True), ("", False)],
)
def test_same_day_cutoff_needs_a_same_day_limit_and_the_15h_rule(text, cutoff):
    data = detail(executionMethods=[method(time=1, unit="OTHER", description=text)])
    assert parse_record(line(data).encode()).content["same_day_cutoff"] is cutoff


def test_fee_without_amount_keeps_its_description_and_unknown_kinds_are_ignored():
    fees = [
        {"type": "PRICE_LEVEL", "value": None, "description": "Theo nghị quyết HĐND tỉnh"},
        {"type": "DEPOSIT", "value": 100, "description": ""},
    ]
    content = parse_record(line(_with_method(fees=fees)).encode()).content
    assert content["variants"][0]["fees"] == [
        {
            "channel": "counter",
            "kind": "price",
            "amount": None,
            "description": "Theo nghị quyết HĐND tỉnh",
        }
    ]
