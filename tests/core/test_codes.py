"""Identifiers of the domain rules: agency ids and procedure codes (§6.5, §6.6), personal ids
(§6.1), tax codes (§6.2), phones (§6.3), masking (§9.2), the lookup second factor and dossier
codes (§1.8; decree-118-update §3). Properties are in ``test_codes_properties.py``."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from datetime import date, datetime

import pytest

from motcua.core import codes
from motcua.core.codes import (
    BIRTH_PLACE_CODES,
    DOSSIER_CODE_RULES,
    DossierCodeRule,
    InvalidCode,
    ParsedDossierCode,
    PersonalIdInfo,
    ProvincialDossierCodeRule,
    dossier_code_rule,
    format_dossier_code,
    is_dossier_code,
    is_procedure_code,
    last4,
    mask_personal_id,
    mask_phone,
    mask_tax_code,
    normalize_phone,
    normalize_procedure_code,
    parse_agency_id,
    parse_dossier_code,
    personal_id_info,
    second_factor_matches,
    validate_personal_id,
    validate_tax_code,
)
from motcua.core.errors import InvalidInput

TODAY = date(2026, 11, 22)


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


def assert_invalid(code, func, *args, **kwargs):
    with pytest.raises(InvalidCode) as excinfo:
        func(*args, **kwargs)
    assert excinfo.value.code == code
    assert excinfo.value.message  # Vietnamese, for people
    return excinfo.value


# --- Personal identifier (§6.1) ---------------------------------------------------------------


def test_the_section_6_1_example_is_decoded():
    info = personal_id_info("038205012345", today=TODAY)
    assert info == PersonalIdInfo(place_code="038", gender="male", century=2000, birth_year=2005)
    assert info.place_name == "Thanh Hóa"


def test_personal_id_is_returned_without_its_spaces():
    assert validate_personal_id("038 2 05 012345", today=TODAY) == "038205012345"
    assert validate_personal_id(" 001185012345\t", today=TODAY) == "001185012345"


@pytest.mark.parametrize(
    ("value", "gender", "century", "birth_year"),
    [
        ("001085000001", "male", 1900, 1985),
        ("001185000001", "female", 1900, 1985),
        ("079200000001", "male", 2000, 2000),
        ("079326000001", "female", 2000, 2026),
        ("092199000001", "female", 1900, 1999),
    ],
)
def test_gender_century_digit_even_is_male_odd_is_female(value, gender, century, birth_year):
    info = personal_id_info(value, today=TODAY)
    assert (info.gender, info.century, info.birth_year) == (gender, century, birth_year)


def test_the_63_pre_2025_province_codes_are_the_place_codes():
    assert len(BIRTH_PLACE_CODES) == 63
    for code in ("001", "022", "038", "079", "092"):  # the §6.1 examples
        assert code in BIRTH_PLACE_CODES
    # The 34 provinces of Decision 19/2025 kept codes of the old list (§6.4).
    new_provinces = "01 04 08 11 12 14 15 19 20 22 24 25 31 33 37 38 40 42 44 46 48 51 52 56 "
    new_provinces += "66 68 75 79 80 82 86 91 92 96"
    assert {"0" + code for code in new_provinces.split()} <= BIRTH_PLACE_CODES.keys()
    for code in BIRTH_PLACE_CODES:
        assert validate_personal_id(code + "085123456", today=TODAY) == code + "085123456"


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        "03820501234",  # 11 digits
        "0382050123456",  # 13 digits
        "03820501234a",
        "038-205-012345",
        "+38205012345",
        "038205012345\u0000",
        "\u0660\u0663\u0668205012345",  # Arabic-Indic digits
        "\uff10\uff13\uff18205012345",  # full-width digits
        "123456789",  # old 9-digit CMND
    ],
)
def test_personal_id_must_be_12_ascii_digits(value):
    err = assert_invalid("invalid_personal_id", validate_personal_id, value, today=TODAY)
    assert "12 chữ số" in err.message


@pytest.mark.parametrize("place", ["000", "003", "005", "097", "099", "100", "999"])
def test_unknown_place_codes_are_rejected(place):
    err = assert_invalid(
        "invalid_personal_id", validate_personal_id, place + "205012345", today=TODAY
    )
    assert f"«{place}»" in err.message


@pytest.mark.parametrize("value", ["038227012345", "038399012345", "038400012345", "038905012345"])
def test_birth_year_after_this_year_is_rejected(value):
    err = assert_invalid("invalid_personal_id", validate_personal_id, value, today=TODAY)
    assert "chưa tới" in err.message


def test_birth_year_is_checked_against_the_given_day():
    assert validate_personal_id("038227012345", today=date(2027, 1, 1)) == "038227012345"
    assert validate_personal_id("038226012345", today=TODAY) == "038226012345"


def test_default_day_is_today_in_viet_nam():
    # Runs on any date before 2100: 2005 is past, 2105 is not.
    assert validate_personal_id("038205012345") == "038205012345"
    assert_invalid("invalid_personal_id", validate_personal_id, "038405012345")


def test_personal_id_error_message_does_not_repeat_the_id():
    err = assert_invalid("invalid_personal_id", validate_personal_id, "003205012345", today=TODAY)
    assert "205012345" not in err.message
    assert isinstance(err, InvalidInput)


def test_personal_id_info_is_frozen():
    info = personal_id_info("038205012345", today=TODAY)
    with pytest.raises(FrozenInstanceError):
        info.birth_year = 1999


# --- Tax code (§6.2) --------------------------------------------------------------------------


def test_the_section_6_2_worked_example_is_valid():
    assert validate_tax_code("0100109106") == "0100109106"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" 0100109106 ", "0100109106"),
        ("0100109106-001", "0100109106-001"),
        ("0100109106001", "0100109106-001"),  # 13 digits without the dash
        ("0100 109 106 - 001", "0100109106-001"),
        ("0100109106-999", "0100109106-999"),
    ],
)
def test_tax_codes_are_normalised(value, expected):
    assert validate_tax_code(value) == expected


def test_individuals_tax_code_is_the_personal_id():
    assert validate_tax_code("038 205 012345", today=TODAY) == "038205012345"


def test_12_digit_tax_code_must_be_a_valid_personal_id():
    err = assert_invalid("invalid_tax_code", validate_tax_code, "003205012345", today=TODAY)
    assert "số định danh cá nhân" in err.message
    assert_invalid("invalid_tax_code", validate_tax_code, "038227012345", today=TODAY)


@pytest.mark.parametrize(
    "value",
    [
        "0100109107",  # check digit off by one
        "0100109105",
        "1100109106",  # first digit changed
        "0100109106-001".replace("6-", "7-"),  # parent check digit wrong in a branch code
        "1000000080",  # Σ ≡ 0 (mod 11): no check digit exists; 0 and 10 both refused
        "1000000081",
        "3100000070",
    ],
)
def test_tax_codes_with_a_wrong_check_digit_are_rejected(value):
    err = assert_invalid("invalid_tax_code", validate_tax_code, value)
    assert "chữ số kiểm tra" in err.message


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        "010010910",
        "01001091061",
        "0100109106-01",
        "0100109106-0001",
        "0100109106--001",
        "0100109106/001",
        "01001091060011",
        "A100109106",
        "\uff10100109106",  # full-width zero
        "\u0660100109106",  # Arabic-Indic zero
    ],
)
def test_malformed_tax_codes_are_rejected(value):
    err = assert_invalid("invalid_tax_code", validate_tax_code, value)
    assert "10 chữ số" in err.message


# --- Phones (§6.3) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "+84912345678",
        "+84 912 345 678",
        "(+84) 912-345-678",
        "84912345678",
        "0084 912 345 678",
        "+84 0912 345 678",  # country code and trunk 0 together
        "\u00a00912345678\n",
    ],
)
def test_mobile_numbers_are_normalised_to_the_national_form(value):
    assert normalize_phone(value) == "0912345678"


@pytest.mark.parametrize("prefix", ["03", "05", "07", "08", "09"])
def test_every_mobile_prefix_of_section_6_3_is_accepted(prefix):
    assert normalize_phone(prefix + "12345678") == prefix + "12345678"
    assert normalize_phone("+84" + prefix[1] + "12345678") == prefix + "12345678"


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        "0112345678",  # no mobile range 01/04/06 after 2018
        "0412345678",
        "0612345678",
        "0212345678",  # landline shape: refused unless allowed
        "091234567",
        "09123456789",
        "912345678",  # no prefix
        "+85912345678",
        "+84 91234567",
        "0912345678 9",
        "09123a5678",
        "0912/345/678",
        "+84+912345678",
        "\uff10\uff19\uff11\uff12345678",  # full-width digits
    ],
)
def test_malformed_phones_are_rejected(value):
    err = assert_invalid("invalid_phone", normalize_phone, value)
    assert "Số điện thoại" in err.message


def test_landlines_only_when_allowed():
    assert normalize_phone("024 3825 6686", allow_landline=True) == "02438256686"
    assert normalize_phone("+84 24 3825 6686", allow_landline=True) == "02438256686"
    assert normalize_phone("0237 385 2345", allow_landline=True) == "02373852345"
    assert normalize_phone("0912345678", allow_landline=True) == "0912345678"
    assert_invalid("invalid_phone", normalize_phone, "024 3825 6686")
    assert_invalid("invalid_phone", normalize_phone, "024 3825 66867", allow_landline=True)
    assert_invalid("invalid_phone", normalize_phone, "024 3825 66", allow_landline=True)


# --- Masking (§9.2) ---------------------------------------------------------------------------


def test_personal_id_mask_shows_the_last_two_digits():
    assert mask_personal_id("038205012345") == "**********45"
    assert mask_personal_id("038 205 012345") == "**********45"


def test_phone_mask_shows_the_network_prefix_and_the_last_two_digits():
    assert mask_phone("0912345678") == "091*****78"
    assert mask_phone("+84 912 345 678") == "091*****78"
    assert mask_phone("024 3825 6686") == "024******86"


def test_tax_code_mask():
    assert mask_tax_code("0100109106") == "********06"
    assert mask_tax_code("0100109106-001") == "********06-001"
    assert mask_tax_code("0100109106001") == "********06-001"
    assert mask_tax_code("038205012345") == "**********45"


@pytest.mark.parametrize(
    "junk",
    [
        None,
        "",
        "abc",
        38205012345,
        b"038205012345",
        "03820501234",
        "03820501234567",
        "\u0660\u0663\u0668205012345",  # Arabic-Indic digits
        "038205012345-0001",
    ],
)
def test_masks_never_raise_and_hide_junk_entirely(junk):
    assert mask_personal_id(junk) == "*" * 12
    assert mask_phone(junk) == "*" * 10
    assert mask_tax_code(junk) == "*" * 10


def test_masks_never_show_the_full_second_factor():
    assert last4("038205012345") not in mask_personal_id("038205012345")
    assert last4("0912345678") not in mask_phone("0912345678")


# --- Second factor of the public lookup -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0912 345 678", "5678"),
        ("+84-912-345-678", "5678"),
        ("038205012345", "2345"),
        ("1234", "1234"),
        ("12a3b4c5", "2345"),
        ("123", ""),
        ("", ""),
        (None, ""),
        ("abcd", ""),
        ("12\uff13\uff14", ""),  # full-width digits do not count
    ],
)
def test_last4(value, expected):
    assert last4(value) == expected


def test_second_factor_matches_the_phone_or_the_personal_id():
    assert second_factor_matches("5678", "0912 345 678", "038205012345")
    assert second_factor_matches("2345", "0912 345 678", "038205012345")
    assert second_factor_matches("5678", "0912345678", None)
    assert second_factor_matches("2345", None, "038205012345")
    assert not second_factor_matches("1234", "0912 345 678", "038205012345")
    assert not second_factor_matches("0912", "0912 345 678", "038205012345")  # first digits


@pytest.mark.parametrize(
    "given",
    [
        "",
        "567",
        "45678",
        " 5678",
        "5678 ",
        "5678\n",
        "56 78",
        "\uff15\uff16\uff17\uff18",
        None,
        5678,
    ],
)
def test_second_factor_must_be_exactly_four_ascii_digits(given):
    assert not second_factor_matches(given, "0912345678", "038205012345")


def test_second_factor_never_matches_missing_or_short_candidates():
    assert not second_factor_matches("0000", None, None)
    assert not second_factor_matches("0000", "", "")
    assert not second_factor_matches("0123", "123", "x12x3")  # 3 digits each: no last 4
    assert second_factor_matches("0123", "123", "x0123")
    assert second_factor_matches("0123", "9-0-1-2-3", None)


# --- Dossier codes (§1.8; decree-118-update §3) -----------------------------------------------


@pytest.mark.parametrize(
    ("agency", "sequence", "expected"),
    [
        ("000.00.00.H56", 1, "000.00.00.H56-250714-0001"),
        ("000.17.22.H56", 123, "000.17.22.H56-250714-0123"),
        ("000.00.00.H56", 9999, "000.00.00.H56-250714-9999"),
        ("H15.50.05.13", 975, "H15.50.05.13-250714-0975"),
    ],
)
def test_provincial_dossier_code_examples(agency, sequence, expected):
    assert ProvincialDossierCodeRule().format(agency, date(2025, 7, 14), sequence) == expected
    assert format_dossier_code(agency, date(2025, 7, 14), sequence) == expected


@pytest.mark.parametrize(
    ("code", "parsed"),
    [
        ("000.00.00.H56-250714-0001", ("000.00.00.H56", date(2025, 7, 14), 1)),
        ("000.17.22.H56-250714-0123", ("000.17.22.H56", date(2025, 7, 14), 123)),
        ("H15.50.05.13-261008-0975", ("H15.50.05.13", date(2026, 10, 8), 975)),  # reversed order
        (" 000.00.00.h56-250714-0001\n", ("000.00.00.H56", date(2025, 7, 14), 1)),
        ("000.00.00.G09-260115-090123", ("000.00.00.G09", date(2026, 1, 15), 90123)),  # ministry
        ("000.00.00.G18-260115-1800001", ("000.00.00.G18", date(2026, 1, 15), 1800001)),
        ("000.00.00.H56-240229-0001", ("000.00.00.H56", date(2024, 2, 29), 1)),
    ],
)
def test_dossier_codes_seen_in_practice_are_parsed(code, parsed):
    assert parse_dossier_code(code) == ParsedDossierCode(*parsed)
    assert is_dossier_code(code)


@pytest.mark.parametrize(
    "code",
    [
        "",
        None,
        "000.00.00.H56",
        "000.00.00.H56-250714",
        "000.00.00.H56-250714-001",  # tail shorter than 4
        "000.00.00.H56-250714-12345678901",  # tail longer than 10
        "000.00.00.H56-25071-0001",
        "000.00.00.H56-2507140-0001",
        "000.00.00.H56-250230-0001",  # 30 February
        "000.00.00.H56-250001-0001",  # month 0
        "000.00.00.H56-251301-0001",
        "000.00.00.H56-230229-0001",  # not a leap year
        "000.00.00.H56_250714_0001",
        "000.00.00.H56 - 250714 - 0001",
        "000-00-00-H56-250714-0001",
        "000.00.00.H56-250714-0001-01",
        "000.00.00.ı56-250714-0001",  # dotless i: upper() would make it I
        "000.00.00.H56-\uff12\uff15\uff10\uff17\uff11\uff14-0001",  # full-width
        "000.00.00.H56-250714-\u0660\u0660\u0660\u0661",  # Arabic-Indic
    ],
)
def test_malformed_dossier_codes_are_rejected(code):
    err = assert_invalid("invalid_dossier_code", parse_dossier_code, code)
    assert "000.00.00.H56-250714-0001" in err.message  # shows the expected shape
    assert not is_dossier_code(code)


def test_dossier_code_error_message_is_bounded():
    err = assert_invalid("invalid_dossier_code", parse_dossier_code, "X" * 10_000)
    assert len(err.message) < 200


def test_sequence_above_9999_exhausts_the_day():
    rule = ProvincialDossierCodeRule()
    for sequence in (10_000, 123_456):
        err = assert_invalid(
            "dossier_sequence_exhausted", rule.format, "000.00.00.H56", date(2025, 7, 14), sequence
        )
        assert "9999" in err.message


@pytest.mark.parametrize("sequence", [0, -1, True, 1.0, "1", None])
def test_sequence_must_be_a_positive_int(sequence):
    assert_invalid(
        "invalid_dossier_sequence",
        ProvincialDossierCodeRule().format,
        "000.00.00.H56",
        date(2025, 7, 14),
        sequence,
    )


@pytest.mark.parametrize(
    "agency",
    ["", None, "000-00-00-H56", "000.00.00.h56x", "000.00.00.H56-1", "H56", "\uff2815.50.05.13"],
)
def test_format_refuses_an_agency_id_that_would_not_parse_back(agency):
    assert_invalid(
        "invalid_agency_id", ProvincialDossierCodeRule().format, agency, date(2025, 7, 14), 1
    )


def test_format_wants_the_receipt_day_not_a_datetime():
    with pytest.raises(TypeError):
        ProvincialDossierCodeRule().format("000.00.00.H56", datetime(2025, 7, 14, 8), 1)


@pytest.mark.parametrize("day", [date(1999, 12, 31), date(2100, 1, 1)])
def test_format_refuses_days_that_yymmdd_cannot_express(day):
    assert_invalid(
        "invalid_dossier_date", ProvincialDossierCodeRule().format, "000.00.00.H56", day, 1
    )


def test_provincial_rule_parse_takes_only_its_own_shape():
    rule = ProvincialDossierCodeRule()
    assert rule.parse("000.00.00.H56-250714-0001") == ParsedDossierCode(
        "000.00.00.H56", date(2025, 7, 14), 1
    )
    for code in ("000.00.00.G09-260115-090123", "000.00.00.H56-250714-0000"):
        assert is_dossier_code(code)  # the lenient parser takes them …
        assert_invalid("invalid_dossier_code", rule.parse, code)  # … the provincial rule does not


def test_one_provincial_rule_in_force_since_decree_61():
    assert len(DOSSIER_CODE_RULES) == 1
    assert DOSSIER_CODE_RULES[0] == ProvincialDossierCodeRule()
    rule = dossier_code_rule(TODAY)
    assert isinstance(rule, ProvincialDossierCodeRule)
    assert rule.valid_from == date(2018, 4, 23)
    assert "61/2018/NĐ-CP" in rule.basis and "03/2025/TT-VPCP" in rule.basis
    assert dossier_code_rule(date(2018, 4, 23)) is rule
    err = assert_invalid("no_dossier_code_rule", dossier_code_rule, date(2018, 4, 22))
    assert "22/04/2018" in err.message


def test_rules_are_sorted_by_valid_from():
    starts = [rule.valid_from for rule in DOSSIER_CODE_RULES]
    assert starts == sorted(starts)


@dataclass(frozen=True)
class _ReissuedRule(DossierCodeRule):
    """Stands for a future Ministry of Justice rule."""

    valid_from: date = date(2027, 1, 1)
    basis: str = "Thông tư …/2026/TT-BTP"

    def format(self, agency_id, day, sequence):
        return f"BTP-{agency_id}-{day:%Y%m%d}-{sequence:06d}"

    def parse(self, code):
        raise NotImplementedError


def test_the_rule_in_force_on_the_receipt_day_is_chosen(monkeypatch):
    provincial, reissued = ProvincialDossierCodeRule(), _ReissuedRule()
    monkeypatch.setattr(codes, "DOSSIER_CODE_RULES", (provincial, reissued))
    assert dossier_code_rule(date(2026, 12, 31)) is provincial
    assert dossier_code_rule(date(2027, 1, 1)) is reissued
    assert dossier_code_rule(date(2030, 5, 5)) is reissued
    assert format_dossier_code("000.00.00.H56", date(2026, 12, 31), 7) == (
        "000.00.00.H56-261231-0007"
    )
    assert format_dossier_code("000.00.00.H56", date(2027, 1, 1), 7) == (
        "BTP-000.00.00.H56-20270101-000007"
    )


def test_dossier_code_rule_is_abstract():
    with pytest.raises(TypeError):
        DossierCodeRule()


def test_parsed_dossier_code_is_frozen():
    parsed = parse_dossier_code("000.00.00.H56-250714-0001")
    with pytest.raises(FrozenInstanceError):
        parsed.sequence = 2
