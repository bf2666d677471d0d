"""Agency electronic identifiers and procedure codes (§6.5, §6.6 of the domain rules)."""

from __future__ import annotations

import pytest

from motcua.core.codes import (
    InvalidCode,
    is_procedure_code,
    normalize_procedure_code,
    parse_agency_id,
)
from motcua.core.errors import InvalidInput


def test_level_1_agency_id_is_parsed_into_its_segments():
    agency = parse_agency_id("000.00.00.H56")
    assert agency.raw == "000.00.00.H56"
    assert (agency.level4, agency.level3, agency.level2) == ("000", "00", "00")
    assert agency.level1_class == "H"
    assert agency.level1_number == "56"
    assert agency.level1 == "H56"
    assert agency.depth == 1


@pytest.mark.parametrize(
    ("value", "depth"),
    [
        ("000.00.00.G04", 1),
        ("000.00.06.H56", 2),
        ("000.17.22.H56", 3),
        ("001.17.22.H56", 4),
    ],
)
def test_agency_id_depth_counts_the_filled_levels(value, depth):
    assert parse_agency_id(value).depth == depth


def test_agency_id_is_stripped_of_surrounding_white_space():
    assert parse_agency_id("  000.00.06.H56\n").raw == "000.00.06.H56"


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        "H56",
        "00.00.00.H56",
        "000.00.00.H5",
        "000.00.00.H567",
        "000.00.00.h56",
        "000-00-00-H56",
        "000.00.00.56H",
        "H15.50.05.13",  # reversed order seen in one province's system
        "000.00.00.H56.01",
        "000.00.00.H\u0665\u0666",  # Arabic-Indic digits
        "\uff10\uff10\uff10.00.00.H56",  # full-width digits
    ],
)
def test_malformed_agency_ids_are_rejected_with_invalid_agency_id(value):
    with pytest.raises(InvalidCode) as excinfo:
        parse_agency_id(value)
    assert excinfo.value.code == "invalid_agency_id"
    assert "không đúng dạng" in excinfo.value.message
    assert isinstance(excinfo.value, InvalidInput)


def test_procedure_code_with_a_leading_space_is_accepted_after_strip():
    # One of the national database's malformed codes.
    assert normalize_procedure_code(" 1.014325") == "1.014325"
    assert normalize_procedure_code("2.000635\t") == "2.000635"


@pytest.mark.parametrize(
    "value",
    [
        "1.0133611",
        "1.014955-Xoa",
        "2.009182739",
        "",
        None,
        "1.01432",
        "1014325",
        "1,014325",
        "12.014325",
        "\u0661.\u0660\u0661\u0664\u0663\u0662\u0665",  # Arabic-Indic digits
        "\uff11.\uff10\uff11\uff14\uff13\uff12\uff15",  # full-width digits
    ],
)
def test_malformed_procedure_codes_are_rejected(value):
    with pytest.raises(InvalidCode) as excinfo:
        normalize_procedure_code(value)
    assert excinfo.value.code == "invalid_procedure_code"
    assert "D.DDDDDD" in excinfo.value.message
    assert not is_procedure_code(value)


@pytest.mark.parametrize("value", ["1.001193", " 1.014325", "2.000908"])
def test_is_procedure_code_accepts_well_formed_codes(value):
    assert is_procedure_code(value)
