"""save_procedure: validation, versioning by content hash, local configuration."""

from __future__ import annotations

import copy
import unicodedata
from decimal import Decimal

import pytest

from motcua.catalog.models import Procedure, ProcedureAgency, ProcedureVersion, TimeLimit
from motcua.catalog.services import (
    InvalidProcedure,
    content_hash,
    normalize_content,
    save_procedure,
)
from motcua.core.codes import InvalidCode
from tests.agencies.factories import AgencyFactory, DepartmentFactory

from .factories import procedure_content, saved_procedure, steps

pytestmark = pytest.mark.django_db


def _variant(content: dict, **changes) -> dict:
    content["variants"][0].update(changes)
    return content


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"code": "1.0133611"}, "invalid_procedure_code"),
        ({"code": "1.014955-Xoa"}, "invalid_procedure_code"),
        ({"name": "   "}, "missing_name"),
        ({"levels": ["district"]}, "invalid_level"),
        ({"online_mode": "level4"}, "invalid_online_mode"),
        ({"postal_allowed": "yes"}, "invalid_flag"),
        ({"decision_no": "x" * 256}, "value_too_long"),
    ],
)
def test_invalid_top_level_content_is_refused_with_a_specific_code(change, code):
    with pytest.raises((InvalidProcedure, InvalidCode)) as info:
        save_procedure(procedure_content(**change), source="demo")
    assert info.value.code == code
    assert Procedure.objects.count() == 0


@pytest.mark.parametrize(
    ("variant_change", "code"),
    [
        (
            {"time_limits": [{"channel": "fax", "amount": "1", "unit": "working_days"}]},
            "invalid_channel",
        ),
        ({"time_limits": [{"channel": "online", "amount": "1", "unit": "weeks"}]}, "invalid_unit"),
        (
            {"time_limits": [{"channel": "online", "amount": "-1", "unit": "working_days"}]},
            "invalid_time_limit",
        ),
        (
            {"time_limits": [{"channel": "online", "amount": "năm", "unit": "working_days"}]},
            "invalid_time_limit",
        ),
        (
            {"time_limits": [{"channel": "online", "amount": None, "unit": "working_days"}]},
            "invalid_time_limit",
        ),
        (
            {
                "time_limits": [
                    {"channel": "online", "amount": "1", "unit": "working_days"},
                    {"channel": "online", "amount": "2", "unit": "working_days"},
                ]
            },
            "invalid_time_limit",
        ),
        ({"fees": [{"channel": "online", "kind": "charge", "amount": -5000}]}, "negative_fee"),
        ({"fees": [{"channel": "online", "kind": "tip", "amount": 5000}]}, "invalid_fee_kind"),
        ({"fees": [{"channel": "online", "kind": "charge", "amount": "1000.5"}]}, "invalid_fee"),
        ({"components": [{"name": ""}]}, "missing_component_name"),
        ({"components": [{"name": "Tờ khai", "originals": -1}]}, "invalid_component"),
        ({"steps": steps("50", "40")}, "invalid_share"),
        ({"steps": steps("150", "-50")}, "invalid_share"),
        ({"steps": [{"name": "Thụ lý", "role": "boss", "share": "100"}]}, "invalid_role"),
        ({"steps": steps("100", agency="000.00.99.H99")}, "unknown_agency"),
    ],
)
def test_invalid_variant_content_is_refused_with_a_specific_code(variant_change, code):
    content = _variant(procedure_content(), **variant_change)
    with pytest.raises(InvalidProcedure) as info:
        save_procedure(content, source="demo")
    assert info.value.code == code
    assert info.value.message  # Vietnamese, for people
    assert ProcedureVersion.objects.count() == 0


def test_unknown_applying_agency_is_refused():
    with pytest.raises(InvalidProcedure) as info:
        save_procedure(procedure_content(agencies=["000.00.98.H98"]), source="demo")
    assert info.value.code == "unknown_agency"
    assert "000.00.98.H98" in info.value.message


def test_department_must_belong_to_the_step_agency():
    agency = AgencyFactory()
    other = DepartmentFactory()  # of another agency
    content = _variant(
        procedure_content(),
        steps=steps("100", agency=agency.electronic_id, department=other.name),
    )
    with pytest.raises(InvalidProcedure) as info:
        save_procedure(content, source="demo")
    assert info.value.code == "unknown_department"


def test_unknown_source_is_refused():
    with pytest.raises(InvalidProcedure) as info:
        save_procedure(procedure_content(), source="crawler")
    assert info.value.code == "invalid_source"


def test_code_is_stripped_and_text_is_stored_in_nfc():
    decomposed = unicodedata.normalize("NFD", "Đăng ký khai sinh")
    result = save_procedure(
        procedure_content(code=" 1.001193 ", name=f"  {decomposed} "), source="demo"
    )
    assert result.procedure.code == "1.001193"
    assert result.version.name == unicodedata.normalize("NFC", "Đăng ký khai sinh")
    assert result.procedure.search_text == "1.001193 dang ky khai sinh ho tich"


def test_hash_ignores_local_configuration_only():
    base = procedure_content(code="1.000001")
    local = copy.deepcopy(base)
    local["agencies"] = ["000.00.01.H56"]
    local["variants"][0]["steps"] = steps("100")
    national = copy.deepcopy(base)
    national["variants"][0]["fees"][0]["amount"] = 5000

    def digest(content):
        return content_hash(normalize_content(content)[0])

    assert digest(local) == digest(base)
    assert digest(national) != digest(base)


def test_equivalent_amount_spellings_hash_the_same():
    a = _variant(
        procedure_content(code="1.000002"),
        time_limits=[{"channel": "online", "amount": 7, "unit": "working_days"}],
    )
    b = _variant(
        procedure_content(code="1.000002"),
        time_limits=[{"channel": "online", "amount": "7.00", "unit": "working_days"}],
    )
    assert content_hash(normalize_content(a)[0]) == content_hash(normalize_content(b)[0])


# --- versioning ------------------------------------------------------------------------------


def test_first_save_creates_procedure_version_1_with_all_rows():
    result = saved_procedure(code="1.000010")
    assert result.created_procedure and result.created_version
    procedure = Procedure.objects.get(code="1.000010")
    version = procedure.current_version
    assert version.number == 1 and version.source == "demo"
    assert procedure.field.name == "Hộ tịch" and version.field == procedure.field
    assert version.at_commune and not version.at_province
    variant = version.variants.get()
    assert variant.components.count() == 1
    limits = {limit.channel: limit for limit in variant.time_limits.all()}
    assert limits["online"].amount == Decimal("3") and limits["counter"].unit == "same_day"
    assert {(f.channel, f.amount) for f in variant.fees.all()} == {("counter", 0), ("online", None)}


def test_saving_identical_content_writes_no_new_version():
    content = procedure_content(code="1.000011")
    save_procedure(content, source="national")
    again = save_procedure(copy.deepcopy(content), source="national")
    assert not again.created_version and not again.created_procedure
    assert ProcedureVersion.objects.filter(procedure__code="1.000011").count() == 1


def test_changed_content_creates_version_2_and_leaves_version_1_intact():
    content = procedure_content(code="1.000012")
    first = save_procedure(content, source="national").version
    changed = _variant(
        copy.deepcopy(content),
        time_limits=[{"channel": "online", "amount": "5", "unit": "working_days"}],
    )
    changed["name"] = "Thủ tục đăng ký khai sinh (sửa đổi)"
    second = save_procedure(changed, source="national")
    assert second.created_version and second.version.number == 2
    procedure = Procedure.objects.get(code="1.000012")
    assert procedure.current_version == second.version
    assert procedure.name == "Thủ tục đăng ký khai sinh (sửa đổi)"
    first.refresh_from_db()
    assert first.name == "Thủ tục đăng ký khai sinh"
    old_limits = {t.channel: t.amount for t in TimeLimit.objects.filter(variant__version=first)}
    assert old_limits == {"counter": None, "online": Decimal("3")}


def test_new_version_inherits_the_process_template_of_the_same_named_variant():
    content = _variant(procedure_content(code="1.000013"), steps=steps("10", "60", "30"))
    save_procedure(content, source="demo")
    update = copy.deepcopy(content)
    del update["variants"][0]["steps"]
    update["variants"].insert(0, {"name": "Đăng ký khai sinh quá hạn"})
    update["variants"][1]["components"][0]["copies"] = 1
    result = save_procedure(update, source="national")
    assert result.version.number == 2
    new_variant = result.version.variants.get(name="Đăng ký khai sinh đúng hạn")
    assert [s.share for s in new_variant.steps.order_by("order")] == [10, 60, 30]
    assert not result.version.variants.get(name="Đăng ký khai sinh quá hạn").steps.exists()


def test_changed_steps_with_unchanged_content_are_applied_in_place():
    content = _variant(procedure_content(code="1.000014"), steps=steps("50", "50"))
    first = save_procedure(content, source="demo")
    content["variants"][0]["steps"] = steps("20", "30", "50")
    second = save_procedure(content, source="demo")
    assert not second.created_version and second.local_changed
    assert second.version.pk == first.version.pk
    variant = first.version.variants.get()
    assert [s.share for s in variant.steps.order_by("order")] == [20, 30, 50]


def test_applying_agencies_are_synchronised():
    a, b = AgencyFactory(), AgencyFactory()
    content = procedure_content(code="1.000015", agencies=[a.electronic_id, b.electronic_id])
    save_procedure(content, source="demo")
    content["agencies"] = [b.electronic_id]
    result = save_procedure(content, source="demo")
    assert result.local_changed and not result.created_version
    links = {link.agency_id: link.is_active for link in ProcedureAgency.objects.all()}
    assert links == {a.pk: False, b.pk: True}


def test_omitting_agencies_leaves_them_alone():
    agency = AgencyFactory()
    content = procedure_content(code="1.000016", agencies=[agency.electronic_id])
    save_procedure(content, source="demo")
    del content["agencies"]
    assert not save_procedure(content, source="demo").local_changed
    assert ProcedureAgency.objects.get().is_active


def test_steps_resolve_agency_and_department():
    department = DepartmentFactory()
    agency = department.agency
    content = _variant(
        procedure_content(code="1.000017"),
        steps=steps("40", "60", agency=agency.electronic_id, department=department.name),
    )
    version = save_procedure(content, source="demo").version
    step = version.variants.get().steps.first()
    assert step.agency == agency and step.department == department


def test_field_learns_its_code_from_a_later_record():
    save_procedure(
        procedure_content(code="1.000018", field={"code": "", "name": "Cư trú"}), source="national"
    )
    save_procedure(
        procedure_content(code="1.000019", field={"code": "G01-CA05", "name": "Cư trú"}),
        source="national",
    )
    procedure = Procedure.objects.get(code="1.000018")
    assert procedure.field.code == "G01-CA05"
