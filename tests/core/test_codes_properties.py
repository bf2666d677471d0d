"""Properties of ``motcua.core.codes``: dossier-code round trip, masks, personal ids, tax codes,
phones and the lookup second factor."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from motcua.core.codes import (
    BIRTH_PLACE_CODES,
    MASK_VISIBLE_TAIL,
    InvalidCode,
    ParsedDossierCode,
    dossier_code_rule,
    format_dossier_code,
    is_dossier_code,
    last4,
    mask_personal_id,
    mask_phone,
    mask_tax_code,
    normalize_phone,
    parse_dossier_code,
    personal_id_info,
    second_factor_matches,
    validate_personal_id,
    validate_tax_code,
)

TODAY = date(2026, 11, 22)
PROPS = settings(max_examples=200, deadline=None)

ascii_digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
non_digit_chars = st.characters(codec="utf-8").filter(
    lambda c: c not in "0123456789" and not c.isspace()
)
white_space = st.sampled_from([" ", "\t", "\n", "\u00a0", "\u3000"])


def digit_strings(n: int):
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def sprinkled(draw, value: str):
    """``value`` with white space inserted at random places."""
    out = []
    for char in value:
        if draw(st.booleans()) and draw(st.booleans()):
            out.append(draw(white_space))
        out.append(char)
    if draw(st.booleans()):
        out.append(draw(white_space))
    return "".join(out)


# --- Personal ids -----------------------------------------------------------------------------


@st.composite
def personal_ids(draw):
    """A valid id: a known place, any gender, a birth year from 1900 to TODAY's year."""
    place = draw(st.sampled_from(sorted(BIRTH_PLACE_CODES)))
    birth_year = draw(st.integers(min_value=1900, max_value=TODAY.year))
    female = draw(st.booleans())
    gender_century = 2 * ((birth_year - 1900) // 100) + female
    return f"{place}{gender_century}{birth_year % 100:02d}{draw(digit_strings(6))}"


@PROPS
@given(st.data())
def test_every_generated_valid_personal_id_is_accepted_and_decoded(data):
    value = data.draw(personal_ids())
    assert validate_personal_id(value, today=TODAY) == value
    assert validate_personal_id(data.draw(sprinkled(value)), today=TODAY) == value
    info = personal_id_info(value, today=TODAY)
    assert info.place_code == value[:3]
    assert info.gender == ("female" if int(value[3]) % 2 else "male")
    assert info.birth_year % 100 == int(value[4:6])
    assert info.century == info.birth_year - info.birth_year % 100
    assert 1900 <= info.birth_year <= TODAY.year


@PROPS
@given(personal_ids(), st.data())
def test_a_personal_id_with_a_non_digit_is_rejected(value, data):
    index = data.draw(st.integers(min_value=0, max_value=12))
    char = data.draw(non_digit_chars)
    inserted = value[:index] + char + value[index:]
    replaced = value[:index] + char + value[index + 1 :]
    for bad in (inserted, replaced):
        with pytest.raises(InvalidCode) as excinfo:
            validate_personal_id(bad, today=TODAY)
        assert excinfo.value.code == "invalid_personal_id"


@PROPS
@given(st.text(alphabet="0123456789", max_size=30).filter(lambda s: len(s) != 12))
def test_a_personal_id_of_the_wrong_length_is_rejected(value):
    with pytest.raises(InvalidCode) as excinfo:
        validate_personal_id(value, today=TODAY)
    assert excinfo.value.code == "invalid_personal_id"


@PROPS
@given(st.text(max_size=20))
def test_validate_personal_id_accepts_only_12_ascii_digits(value):
    try:
        result = validate_personal_id(value, today=TODAY)
    except InvalidCode as exc:
        assert exc.code == "invalid_personal_id"
    else:
        assert re.fullmatch(r"[0-9]{12}", result)


# --- Tax codes --------------------------------------------------------------------------------

WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


@st.composite
def tax_codes(draw):
    """A valid 10-digit tax code, computed independently of the implementation."""
    first_nine = draw(digit_strings(9))
    r = sum(int(d) * w for d, w in zip(first_nine, WEIGHTS, strict=True)) % 11
    assume(r != 0)
    return first_nine + str(10 - r)


@PROPS
@given(tax_codes(), digit_strings(3), st.data())
def test_valid_tax_codes_are_accepted_and_branch_codes_normalised(code, branch, data):
    assert validate_tax_code(code) == code
    assert validate_tax_code(data.draw(sprinkled(code))) == code
    assert validate_tax_code(f"{code}-{branch}") == f"{code}-{branch}"
    assert validate_tax_code(f"{code}{branch}") == f"{code}-{branch}"


@PROPS
@given(tax_codes(), st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_changing_any_one_digit_of_a_tax_code_is_detected(code, index, delta):
    # Every weight is prime to 11, so a one-digit change always moves the check digit.
    changed = code[:index] + str((int(code[index]) + delta) % 10) + code[index + 1 :]
    with pytest.raises(InvalidCode) as excinfo:
        validate_tax_code(changed)
    assert excinfo.value.code == "invalid_tax_code"


# --- Phones -----------------------------------------------------------------------------------

mobiles = st.builds(lambda p, rest: "0" + p + rest, st.sampled_from("35789"), digit_strings(8))


@st.composite
def written_phones(draw, national: str):
    """``national`` written the ways people write it."""
    prefix = draw(st.sampled_from(["0", "+84", "84", "0084", "+84 0", "(+84) ", "+84-"]))
    number = national[1:]
    separator = draw(st.sampled_from(["", " ", ".", "-"]))
    groups = [number[:2], number[2:5], number[5:]] if draw(st.booleans()) else [number]
    return prefix + separator.join(groups)


@PROPS
@given(mobiles, st.data())
def test_normalize_phone_recovers_the_national_form_and_is_idempotent(national, data):
    written = data.draw(written_phones(national))
    normalized = normalize_phone(written)
    assert normalized == national
    assert normalize_phone(normalized) == normalized
    assert normalize_phone(normalized, allow_landline=True) == normalized


@PROPS
@given(st.one_of(st.text(max_size=20), st.text(alphabet="+0123456789 .-()", max_size=20)))
def test_normalize_phone_is_idempotent_on_whatever_it_accepts(value):
    for allow_landline in (False, True):
        try:
            normalized = normalize_phone(value, allow_landline=allow_landline)
        except InvalidCode as exc:
            assert exc.code == "invalid_phone"
            continue
        assert re.fullmatch(r"0[2-9][0-9]{8,9}", normalized)
        assert allow_landline or len(normalized) == 10
        assert normalize_phone(normalized, allow_landline=allow_landline) == normalized


# --- Masks ------------------------------------------------------------------------------------

anything = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=20),
    st.text(alphabet="0123456789 -+.", max_size=16),
    personal_ids(),
    mobiles,
    tax_codes(),
)


def visible(mask: str) -> str:
    return "".join(c for c in mask if c != "*")


@PROPS
@given(st.one_of(anything, personal_ids().flatmap(sprinkled)))
def test_personal_id_mask_shows_at_most_the_last_two_digits(value):
    mask = mask_personal_id(value)
    assert len(mask) == 12
    assert mask[: 12 - MASK_VISIBLE_TAIL] == "*" * (12 - MASK_VISIBLE_TAIL)
    digits = "".join(value.split()) if isinstance(value, str) else ""
    if re.fullmatch(r"[0-9]{12}", digits):
        assert mask[-2:] == digits[-2:]
        assert last4(digits) not in mask
    else:
        assert mask == "*" * 12


@PROPS
@given(st.one_of(anything, mobiles.flatmap(written_phones)))
def test_phone_mask_shows_at_most_the_prefix_and_the_last_two_digits(value):
    mask = mask_phone(value)
    try:
        national = normalize_phone(value, allow_landline=True)
    except InvalidCode:
        assert mask == "*" * 10
        return
    assert len(mask) == len(national)
    assert mask[:3] == national[:3]
    assert mask[3:-2] == "*" * (len(national) - 5)
    assert mask[-2:] == national[-2:]
    assert last4(national) not in mask


@PROPS
@given(st.one_of(anything, st.builds(lambda c, b: f"{c}-{b}", tax_codes(), digit_strings(3))))
def test_tax_code_mask_shows_at_most_two_digits_and_the_branch(value):
    mask = mask_tax_code(value)
    parent, _, branch = mask.partition("-")
    assert len(parent) in (10, 12)
    assert len(visible(parent)) <= MASK_VISIBLE_TAIL
    assert parent[: len(parent) - MASK_VISIBLE_TAIL] == "*" * (len(parent) - MASK_VISIBLE_TAIL)
    assert branch == "" or re.fullmatch(r"[0-9]{3}", branch)
    if not isinstance(value, str):
        assert mask == "*" * 10


# --- Second factor ----------------------------------------------------------------------------


@PROPS
@given(mobiles, personal_ids(), digit_strings(4))
def test_second_factor_is_the_last_four_digits_of_either(phone, personal_id, guess):
    assert second_factor_matches(phone[-4:], phone, personal_id)
    assert second_factor_matches(personal_id[-4:], phone, personal_id)
    expected = guess in (phone[-4:], personal_id[-4:])
    assert second_factor_matches(guess, phone, personal_id) is expected


@PROPS
@given(st.text(max_size=8).filter(lambda s: not re.fullmatch(r"[0-9]{4}", s)))
def test_second_factor_refuses_anything_but_four_ascii_digits(given_value):
    # Candidates whose every 4-character tail is a match if the guess were read leniently.
    assert not second_factor_matches(given_value, given_value, given_value)
    assert not second_factor_matches(given_value, "0912345678", "038205012345")


# --- Dossier codes ----------------------------------------------------------------------------

agency_ids = st.one_of(
    st.from_regex(
        re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}", re.ASCII), fullmatch=True
    ),
    st.from_regex(
        re.compile(r"[0-9A-Z]{1,4}(\.[0-9A-Z]{2,3}){1,3}", re.ASCII),
        fullmatch=True,
    ),
)
receipt_days = st.dates(min_value=date(2018, 4, 23), max_value=date(2099, 12, 31))
sequences = st.integers(min_value=1, max_value=9999)


@PROPS
@given(agency_ids, receipt_days, sequences)
def test_dossier_code_round_trip(agency_id, day, sequence):
    rule = dossier_code_rule(day)
    code = rule.format(agency_id, day, sequence)
    assert code == format_dossier_code(agency_id, day, sequence)
    assert len(code) <= 40  # Dossier.code max_length
    assert code.endswith(f"-{day:%y%m%d}-{sequence:04d}")
    expected = ParsedDossierCode(agency_id, day, sequence)
    assert rule.parse(code) == expected
    assert parse_dossier_code(code) == expected
    assert parse_dossier_code(f"  {code.lower()}\n") == expected
    assert is_dossier_code(code)


@PROPS
@given(agency_ids, receipt_days, st.integers(min_value=10_000, max_value=10**12))
def test_a_day_has_at_most_9999_provincial_dossiers(agency_id, day, sequence):
    with pytest.raises(InvalidCode) as excinfo:
        dossier_code_rule(day).format(agency_id, day, sequence)
    assert excinfo.value.code == "dossier_sequence_exhausted"


@PROPS
@given(st.one_of(st.text(max_size=40), st.text(alphabet="0123456789.-ABGH", max_size=30)))
def test_parse_dossier_code_raises_only_invalid_dossier_code(value):
    try:
        parsed = parse_dossier_code(value)
    except InvalidCode as exc:
        assert exc.code == "invalid_dossier_code"
        assert not is_dossier_code(value)
    else:
        assert is_dossier_code(value)
        assert 2000 <= parsed.day.year <= 2099
        assert value.strip().upper().startswith(parsed.agency_id + "-")
