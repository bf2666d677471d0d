"""Read-side catalogue queries: search, filters, detail prefetching, versions, field counts."""

from __future__ import annotations

import unicodedata

import pytest

from motcua.catalog.models import Procedure, ProcedureAgency
from motcua.catalog.queries import (
    InvalidFilter,
    ProcedureNotFound,
    VersionNotFound,
    fields_with_counts,
    procedure_detail,
    procedure_version,
    search_procedures,
)
from motcua.catalog.services import save_procedure
from tests.agencies.factories import AgencyFactory, DepartmentFactory

from .factories import procedure_content, steps

pytestmark = pytest.mark.django_db


def save(code, name, *, field="Hộ tịch", levels=("commune",), online="partial", **extra):
    content = procedure_content(
        code=code,
        name=name,
        field={"code": "", "name": field},
        levels=list(levels),
        online_mode=online,
        **extra,
    )
    return save_procedure(content, source="national").procedure


def found(queryset) -> list[str]:
    return list(queryset.values_list("code", flat=True))


# --- search ----------------------------------------------------------------------------------


def test_search_folds_diacritics_and_case_on_both_sides():
    save("1.001193", "Thủ tục đăng ký khai sinh")
    save("1.000894", "Thủ tục đăng ký kết hôn")
    decomposed = unicodedata.normalize("NFD", "ĐĂNG KÝ KHAI SINH")
    for q in ("dang ky khai sinh", "Đăng ký khai sinh", decomposed, "  khai   SINH "):
        assert found(search_procedures(q)) == ["1.001193"], q
    assert found(search_procedures("dang ky")) == ["1.000894", "1.001193"]


def test_search_matches_code_name_and_field_and_needs_every_term():
    save("1.001193", "Thủ tục đăng ký khai sinh")
    save("2.002123", "Cấp hộ chiếu phổ thông", field="Xuất nhập cảnh")
    assert found(search_procedures("nhap canh")) == ["2.002123"]
    assert found(search_procedures("2.002123")) == ["2.002123"]
    assert found(search_procedures("ho chieu khai sinh")) == []


def test_empty_query_lists_every_active_procedure_by_code():
    save("2.000001", "Thủ tục B")
    save("1.000001", "Thủ tục A")
    save("1.000002", "Thủ tục C")
    assert found(search_procedures("")) == ["1.000001", "1.000002", "2.000001"]
    assert found(search_procedures("   ")) == ["1.000001", "1.000002", "2.000001"]


def test_an_exact_code_match_comes_first():
    save("1.000500", "Thủ tục gốc")
    save("1.000100", "Thủ tục thay thế thủ tục 1.000500")
    assert found(search_procedures("1.000500")) == ["1.000500", "1.000100"]
    assert found(search_procedures("thu tuc")) == ["1.000100", "1.000500"]


def test_withdrawn_procedures_are_hidden_unless_asked_for():
    save("1.000001", "Thủ tục đăng ký khai sinh")
    withdrawn = save("1.000002", "Thủ tục đăng ký khai sinh cũ")
    Procedure.objects.filter(pk=withdrawn.pk).update(is_active=False)
    assert found(search_procedures("khai sinh")) == ["1.000001"]
    assert found(search_procedures("khai sinh", active_only=False)) == ["1.000001", "1.000002"]


# --- filters ---------------------------------------------------------------------------------


def test_filter_by_field_level_and_online_mode():
    birth = save("1.001193", "Đăng ký khai sinh", online="full")
    save("1.009972", "Cấp giấy phép xây dựng", field="Xây dựng", levels=("province",))
    save("2.002123", "Cấp hộ chiếu", field="Xuất nhập cảnh", levels=("ministry", "other"))
    assert found(search_procedures(field=birth.field_id)) == ["1.001193"]
    assert found(search_procedures(level="commune")) == ["1.001193"]
    assert found(search_procedures(level="province")) == ["1.009972"]
    assert found(search_procedures(level="ministry")) == ["2.002123"]
    assert found(search_procedures(level="other")) == ["2.002123"]
    assert found(search_procedures(online_mode="full")) == ["1.001193"]
    assert found(search_procedures(online_mode="partial")) == ["1.009972", "2.002123"]
    assert found(search_procedures(online_mode="none")) == []
    assert found(search_procedures("cap", level="province", online_mode="partial")) == ["1.009972"]


def test_level_follows_the_current_version():
    content = procedure_content(code="1.000001", levels=["commune"])
    save_procedure(content, source="national")
    content["levels"] = ["province"]
    save_procedure(content, source="national")
    assert found(search_procedures(level="commune")) == []
    assert found(search_procedures(level="province")) == ["1.000001"]


def test_filter_by_agency_key_or_electronic_id_keeps_active_links_only():
    agency, other = AgencyFactory(), AgencyFactory()
    save("1.000001", "Thủ tục A", agencies=[agency.electronic_id])
    dropped = save("1.000002", "Thủ tục B", agencies=[agency.electronic_id, other.electronic_id])
    ProcedureAgency.objects.filter(procedure=dropped, agency=agency).update(is_active=False)
    save("1.000003", "Thủ tục C")
    assert found(search_procedures(agency=agency.pk)) == ["1.000001"]
    assert found(search_procedures(agency=str(agency.pk))) == ["1.000001"]
    assert found(search_procedures(agency=f" {agency.electronic_id} ")) == ["1.000001"]
    assert found(search_procedures(agency=other.electronic_id)) == ["1.000002"]
    assert found(search_procedures(agency="")) == ["1.000001", "1.000002", "1.000003"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"level": "district"}, "invalid_level"), ({"online_mode": "level4"}, "invalid_online_mode")],
)
def test_unknown_filter_values_are_refused(kwargs, code):
    with pytest.raises(InvalidFilter) as info:
        search_procedures(**kwargs)
    assert info.value.code == code and info.value.status == 400


# --- detail and versions ------------------------------------------------------------------------


def test_procedure_detail_is_fully_prefetched(django_assert_num_queries):
    department = DepartmentFactory()
    agency = department.agency
    content = procedure_content(code="1.001193", agencies=[agency.electronic_id])
    content["variants"][0]["steps"] = steps(
        "30", "70", agency=agency.electronic_id, department=department.name
    )
    content["variants"].append({"name": "Quá hạn", "components": [{"name": "Tờ khai"}]})
    save_procedure(content, source="national")

    procedure = procedure_detail(" 1.001193 ")

    with django_assert_num_queries(0):
        version = procedure.current_version
        assert (version.number, version.field.name) == (1, "Hộ tịch")
        variants = list(version.variants.all())
        assert [v.name for v in variants] == ["Đăng ký khai sinh đúng hạn", "Quá hạn"]
        assert [c.name for c in variants[1].components.all()] == ["Tờ khai"]
        assert len(variants[0].time_limits.all()) == 2 and len(variants[0].fees.all()) == 2
        assert [(s.agency.name, s.department.name) for s in variants[0].steps.all()] == [
            (agency.name, department.name)
        ] * 2
        assert [link.agency.name for link in procedure.applied_by.all()] == [agency.name]


def test_procedure_detail_of_an_unknown_code():
    with pytest.raises(ProcedureNotFound) as info:
        procedure_detail("9.999999")
    assert info.value.status == 404 and "9.999999" in info.value.message


def test_procedure_version_gives_the_current_or_a_numbered_version():
    content = procedure_content(code="1.000001", name="Tên cũ")
    save_procedure(content, source="national")
    content["name"] = "Tên mới"
    save_procedure(content, source="national")

    current = procedure_version("1.000001")
    assert (current.number, current.name) == (2, "Tên mới")
    old = procedure_version(" 1.000001", 1)
    assert (old.number, old.name, old.procedure.code) == (1, "Tên cũ", "1.000001")
    assert [v.name for v in old.variants.all()] == ["Đăng ký khai sinh đúng hạn"]


def test_procedure_version_errors():
    save("1.000001", "Thủ tục A")
    Procedure.objects.create(code="1.000002", name="Chưa có phiên bản")
    with pytest.raises(ProcedureNotFound):
        procedure_version("9.999999")
    with pytest.raises(VersionNotFound, match="không có phiên bản 3"):
        procedure_version("1.000001", 3)
    with pytest.raises(VersionNotFound, match="chưa có phiên bản hiện hành"):
        procedure_version("1.000002")


# --- field counts ------------------------------------------------------------------------------


def test_fields_with_counts_count_active_procedures_of_fields_in_use():
    save("1.000001", "A", field="Hộ tịch")
    save("1.000002", "B", field="Hộ tịch")
    withdrawn = save("1.000003", "C", field="Đất đai")
    save("1.000004", "D", field="Cư trú")
    Procedure.objects.filter(pk=withdrawn.pk).update(is_active=False)

    counts = {field.name: field.procedure_count for field in fields_with_counts()}
    assert counts == {"Cư trú": 1, "Hộ tịch": 2}
    assert [field.name for field in fields_with_counts()] == ["Cư trú", "Hộ tịch"]
    every = {field.name: field.procedure_count for field in fields_with_counts(active_only=False)}
    assert every == {"Cư trú": 1, "Đất đai": 1, "Hộ tịch": 2}
