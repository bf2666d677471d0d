"""Identifiers: agency electronic ids, procedure codes, personal ids, tax codes, phones,
dossier codes; masking for lists and logs; the second factor of the public lookup.

Pure Python. Each ``validate_*``/``normalize_*``/``parse_*`` returns the normalised value or
raises ``InvalidCode`` with a stable machine code and a Vietnamese message
(``../shared/domain/one-stop-rules.md`` §1.8, §6, §9.2; ``decree-118-update.md`` §3). Only
ASCII digits count as digits. Messages never repeat a personal id, phone or tax code.
"""

from __future__ import annotations

import hmac
import re
from abc import ABC, abstractmethod
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from motcua.core.errors import InvalidInput
from motcua.core.worktime import VN_TZ


class InvalidCode(InvalidInput):
    code = "invalid_code"
    default_message = "Mã không hợp lệ."


# --- Agency electronic identifier (§6.5) ----------------------------------------------------
# Observed shape NNN.NN.NN.Xnn: levels 4, 3, 2 then the level-1 agency (letter class + digits).
# re.ASCII: \d would otherwise accept Arabic-Indic or full-width digits.
_AGENCY_ID = re.compile(r"^(\d{3})\.(\d{2})\.(\d{2})\.([A-Z])(\d{2})$", re.ASCII)


@dataclass(frozen=True)
class AgencyId:
    """Parsed view of an agency electronic identifier. The stored value stays opaque."""

    raw: str
    level4: str
    level3: str
    level2: str
    level1_class: str  # G = ministries, H = provinces, …
    level1_number: str

    @property
    def level1(self) -> str:
        return f"{self.level1_class}{self.level1_number}"

    @property
    def depth(self) -> int:
        """1 for a level-1 agency (000.00.00.H56), up to 4."""
        filled = [self.level2 != "00", self.level3 != "00", self.level4 != "000"]
        return 1 + sum(filled)


def parse_agency_id(value: str) -> AgencyId:
    """Parse ``000.00.06.H56`` into its segments; raise ``InvalidCode`` if it does not fit."""
    raw = (value or "").strip()
    match = _AGENCY_ID.match(raw)
    if not match:
        raise InvalidCode(
            f"Mã định danh cơ quan «{raw}» không đúng dạng NNN.NN.NN.Xnn (ví dụ 000.00.00.H56).",
            code="invalid_agency_id",
        )
    level4, level3, level2, klass, number = match.groups()
    return AgencyId(raw, level4, level3, level2, klass, number)


# --- Procedure code (§6.6) ------------------------------------------------------------------
_PROCEDURE_CODE = re.compile(r"^\d\.\d{6}$", re.ASCII)


def normalize_procedure_code(value: str) -> str:
    """Return the procedure code stripped of white space; raise if not ``D.DDDDDD``."""
    code = (value or "").strip()
    if not _PROCEDURE_CODE.match(code):
        raise InvalidCode(
            f"Mã thủ tục «{code}» không đúng dạng D.DDDDDD (ví dụ 1.001193).",
            code="invalid_procedure_code",
        )
    return code


def is_procedure_code(value: str) -> bool:
    return bool(_PROCEDURE_CODE.match((value or "").strip()))


# --- Shared helpers ---------------------------------------------------------------------------
_ASCII_DIGITS = frozenset("0123456789")


def _without_white_space(value: object) -> str:
    """``value`` with every white-space character removed; '' for anything but a string."""
    if not isinstance(value, str):
        return ""
    return "".join(value.split())


def _vietnam_today() -> date:
    # The receipt day is a Vietnamese calendar day whatever the server's time zone.
    return datetime.now(VN_TZ).date()


# --- Personal identifier (§6.1) ---------------------------------------------------------------
# PPP G YY RRRRRR. There is no check digit: the shape, a known place code and a birth year that
# is not in the future are all that can be checked.
_PERSONAL_ID = re.compile(r"[0-9]{12}", re.ASCII)

# Place-of-birth-registration codes: the 63 provinces before the 2025 merger (Decision
# 124/2004/QĐ-TTg codes with a leading 0; Circular 07/2016/TT-BCA). The 34 provinces of
# Decision 19/2025/QĐ-TTg kept codes from this list, so ids issued with a new-province code
# are accepted too (§11 Q15: post-merger issuance is not confirmed).
BIRTH_PLACE_CODES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa – Vũng Tàu",
    "079": "TP Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}

Gender = Literal["male", "female"]


@dataclass(frozen=True)
class PersonalIdInfo:
    """What a 12-digit personal id says about its holder (§6.1)."""

    place_code: str  # "038": province where the birth was registered (pre-2025 list)
    gender: Gender  # even gender-century digit = male, odd = female
    century: int  # first year of the century of birth: 1900, 2000, … 2300
    birth_year: int

    @property
    def place_name(self) -> str:
        return BIRTH_PLACE_CODES[self.place_code]


def _invalid_personal_id(reason: str) -> InvalidCode:
    # The value itself is never echoed: messages end up in logs.
    return InvalidCode(f"Số định danh cá nhân không hợp lệ: {reason}", code="invalid_personal_id")


def personal_id_info(value: str, *, today: date | None = None) -> PersonalIdInfo:
    """Validate a personal id (see :func:`validate_personal_id`) and decode it."""
    digits = _without_white_space(value)
    if not _PERSONAL_ID.fullmatch(digits):
        raise _invalid_personal_id("phải gồm đúng 12 chữ số (0–9).")
    place_code = digits[:3]
    if place_code not in BIRTH_PLACE_CODES:
        raise _invalid_personal_id(f"mã nơi đăng ký khai sinh «{place_code}» không tồn tại.")
    gender_century = int(digits[3])
    century = 1900 + 100 * (gender_century // 2)
    birth_year = century + int(digits[4:6])
    reference_year = (today or _vietnam_today()).year
    if birth_year > reference_year:
        raise _invalid_personal_id(f"năm sinh {birth_year} chưa tới.")
    gender: Gender = "female" if gender_century % 2 else "male"
    return PersonalIdInfo(place_code, gender, century, birth_year)


def validate_personal_id(value: str, *, today: date | None = None) -> str:
    """Return the 12-digit personal id with white space removed, or raise ``InvalidCode``.

    Checks (§6.1): exactly 12 ASCII digits once spaces are removed; a known place code (first
    three digits); a birth year (century from the 4th digit, year from the 5th–6th) that is not
    after ``today``'s year (default: today in Viet Nam). Code ``invalid_personal_id``.
    """
    personal_id_info(value, today=today)
    return _without_white_space(value)


# --- Tax code (§6.2) --------------------------------------------------------------------------
_TAX_CODE = re.compile(r"([0-9]{10})(?:-?([0-9]{3}))?", re.ASCII)
_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


def _tax_check_digit(first_nine: str) -> int | None:
    """N10 for the first nine digits, or None when r = 0 (no single digit fits)."""
    r = sum(int(d) * w for d, w in zip(first_nine, _TAX_WEIGHTS, strict=True)) % 11
    return None if r == 0 else 10 - r


def validate_tax_code(value: str, *, today: date | None = None) -> str:
    """Return the normalised tax code (mã số thuế), or raise ``InvalidCode`` (``invalid_tax_code``).

    Accepted (§6.2), white space removed:

    * ``NNNNNNNNNN``: 10 digits whose 10th is the check digit
      ``10 − (Σ Nᵢ·Wᵢ mod 11)``, W = 31 29 23 19 17 13 7 5 3. When the sum is ≡ 0 (mod 11) no
      digit fits and the code is rejected.
    * ``NNNNNNNNNN-BBB``: a dependent unit, the parent's 10 digits (check digit verified) and a
      3-digit suffix. The 13 digits written without the dash are accepted and returned with it.
    * 12 digits: an individual's or household business's personal id, the tax code since
      01/7/2025 (Circular 86/2024/TT-BTC), checked by :func:`validate_personal_id`.
    """
    code = _without_white_space(value)
    if _PERSONAL_ID.fullmatch(code):
        try:
            return validate_personal_id(code, today=today)
        except InvalidCode as exc:
            raise InvalidCode(
                f"Mã số thuế 12 số phải là số định danh cá nhân hợp lệ. {exc.message}",
                code="invalid_tax_code",
            ) from exc
    match = _TAX_CODE.fullmatch(code)
    if not match:
        raise InvalidCode(
            "Mã số thuế phải gồm 10 chữ số, 10 chữ số kèm «-» và 3 chữ số của đơn vị phụ thuộc, "
            "hoặc 12 chữ số (số định danh cá nhân).",
            code="invalid_tax_code",
        )
    parent, branch = match.groups()
    if _tax_check_digit(parent[:9]) != int(parent[9]):
        raise InvalidCode(
            "Mã số thuế không hợp lệ: chữ số kiểm tra (chữ số thứ 10) không khớp.",
            code="invalid_tax_code",
        )
    return f"{parent}-{branch}" if branch else parent


# --- Phone numbers (§6.3) ---------------------------------------------------------------------
_PHONE_SEPARATORS = str.maketrans("", "", ".-()")
_MOBILE = re.compile(r"0[35789][0-9]{8}", re.ASCII)
# §6.3 [M]: 0 + area code starting with 2 + 7–8 digits, 10–11 digits in all.
_LANDLINE = re.compile(r"02[0-9]{8,9}", re.ASCII)
_COUNTRY_PREFIXES = ("+84", "0084", "84")


def normalize_phone(value: str, *, allow_landline: bool = False) -> str:
    """Return a Vietnamese phone number in the national form ``0xxxxxxxxx``, or raise.

    Accepts the prefixes ``+84``, ``0084``, ``84`` or ``0``, optionally ``+84`` followed by
    the trunk ``0`` (``+84 0912…``), with spaces, dots, dashes and parentheses anywhere. A
    mobile number is 10 digits starting 03, 05, 07, 08 or 09 (§6.3). With
    ``allow_landline=True``, 10–11-digit numbers starting 02 are accepted too. Digits must be
    ASCII. Code ``invalid_phone``. Idempotent on its own output.
    """
    compact = _without_white_space(value).translate(_PHONE_SEPARATORS)
    national = ""
    if compact.startswith("0") and not compact.startswith("00"):
        national = compact
    else:
        for prefix in _COUNTRY_PREFIXES:
            if compact.startswith(prefix):
                rest = compact[len(prefix) :]
                national = rest if rest.startswith("0") else "0" + rest
                break
    if _MOBILE.fullmatch(national) or (allow_landline and _LANDLINE.fullmatch(national)):
        return national
    kinds = "số di động hoặc số cố định" if allow_landline else "số di động"
    raise InvalidCode(
        f"Số điện thoại không hợp lệ: phải là {kinds} Việt Nam, ví dụ 0912 345 678 "
        "hoặc +84 912 345 678.",
        code="invalid_phone",
    )


# --- Masking for lists and logs (§9.2) --------------------------------------------------------
# The public lookup's second factor is the last 4 digits of the phone or the personal id
# (:func:`second_factor_matches`), so a mask never shows all 4 of them: it shows the last
# MASK_VISIBLE_TAIL digits only (plus, for phones, the 3-digit network prefix, which says only
# which operator). Anything that is not of the expected shape is masked entirely, with a
# fixed length so that the mask does not even reveal the length of the junk.
MASK_CHAR = "*"
MASK_VISIBLE_TAIL = 2
PHONE_MASK_VISIBLE_HEAD = 3


def _mask_tail(digits: str) -> str:
    hidden = len(digits) - MASK_VISIBLE_TAIL
    return MASK_CHAR * hidden + digits[hidden:]


def mask_personal_id(value: object) -> str:
    """``**********34`` for a 12-digit id (white space ignored); 12 ``*`` for anything else.

    Never raises. Only the shape is checked, not the place code or the year.
    """
    digits = _without_white_space(value)
    if _PERSONAL_ID.fullmatch(digits):
        return _mask_tail(digits)
    return MASK_CHAR * 12


def mask_phone(value: object) -> str:
    """``091*****78``: network prefix and last 2 digits of the normalised number.

    Landlines are masked the same way (``024******86``). Anything :func:`normalize_phone`
    rejects gives 10 ``*``. Never raises.
    """
    try:
        national = normalize_phone(value, allow_landline=True)  # type: ignore[arg-type]
    except InvalidCode:
        return MASK_CHAR * 10
    head = national[:PHONE_MASK_VISIBLE_HEAD]
    return head + _mask_tail(national[PHONE_MASK_VISIBLE_HEAD:])


def mask_tax_code(value: object) -> str:
    """``********06`` (10 digits), ``********06-001`` (dependent unit), or the personal-id mask
    for a 12-digit tax code. Only the shape is checked; anything else gives 10 ``*``. Never
    raises. The branch suffix stays visible: it only numbers the units of one enterprise.
    """
    code = _without_white_space(value)
    if _PERSONAL_ID.fullmatch(code):
        return mask_personal_id(code)
    match = _TAX_CODE.fullmatch(code)
    if not match:
        return MASK_CHAR * 10
    parent, branch = match.groups()
    return _mask_tail(parent) + (f"-{branch}" if branch else "")


# --- Second factor of the public lookup -------------------------------------------------------
_FOUR_DIGITS = re.compile(r"[0-9]{4}", re.ASCII)


def last4(value: object) -> str:
    """The last 4 ASCII digits of ``value``, other characters ignored; '' if there are fewer."""
    if not isinstance(value, str):
        return ""
    digits = [c for c in value if c in _ASCII_DIGITS]
    return "".join(digits[-4:]) if len(digits) >= 4 else ""


def second_factor_matches(given: str, phone: str | None, personal_id: str | None) -> bool:
    """Whether ``given`` is the last 4 digits of the applicant's phone or personal id.

    ``given`` must be exactly 4 ASCII digits (no white space, no other digit scripts), else
    False. Both candidates are always compared, each with :func:`hmac.compare_digest`; a
    missing candidate, or one with fewer than 4 digits, never matches.
    """
    if not isinstance(given, str) or not _FOUR_DIGITS.fullmatch(given):
        return False
    matched = False
    for candidate in (last4(phone), last4(personal_id)):
        if candidate:
            matched |= hmac.compare_digest(given.encode(), candidate.encode())
    return matched


# --- Dossier code (§1.8; decree-118-update §3) ------------------------------------------------
# Agency part: decree-118-update §3's lenient pattern. It accepts both the 000.00.00.H56 order
# and the newer H15.50.05.13 order (seen on a provincial code of 2026); §1.8's stricter
# pattern accepts only the first. The tail is 4 digits on provincial systems and 6–7 on
# ministry systems (2 digits of the ministry + sequence, TT04 clause 3); it is bounded at 10
# so that a code always fits in 40 characters.
_DOSSIER_AGENCY = r"[0-9A-Z]{1,4}(?:\.[0-9A-Z]{2,3}){1,3}"
_DOSSIER_AGENCY_RE = re.compile(_DOSSIER_AGENCY, re.ASCII)
_DOSSIER_CODE = re.compile(rf"({_DOSSIER_AGENCY})-([0-9]{{6}})-([0-9]{{4,10}})", re.ASCII)
_PROVINCIAL_DOSSIER_CODE = re.compile(rf"({_DOSSIER_AGENCY})-([0-9]{{6}})-([0-9]{{4}})", re.ASCII)
PROVINCIAL_MAX_SEQUENCE = 9999


@dataclass(frozen=True)
class ParsedDossierCode:
    agency_id: str  # receiving (or, for TT04 clause 3, deciding) agency's electronic id
    day: date  # receipt date
    sequence: int  # the numeric tail; leading zeros are not kept


def _invalid_dossier_code(code: str) -> InvalidCode:
    if len(code) > 40:
        code = code[:40] + "…"
    return InvalidCode(
        f"Mã hồ sơ «{code}» không đúng dạng {{mã định danh cơ quan}}-{{yyMMdd}}-{{số thứ tự}} "
        "(ví dụ 000.00.00.H56-250714-0001).",
        code="invalid_dossier_code",
    )


def _match_dossier_code(pattern: re.Pattern[str], value: object) -> ParsedDossierCode:
    raw = value.strip() if isinstance(value, str) else ""
    # isascii() before upper(): "ı".upper() == "I", "ﬀ".upper() == "FF".
    code = raw.upper() if raw.isascii() else raw
    match = pattern.fullmatch(code)
    if not match:
        raise _invalid_dossier_code(raw)
    agency_id, yymmdd, tail = match.groups()
    try:
        day = date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        raise _invalid_dossier_code(raw) from None
    return ParsedDossierCode(agency_id, day, int(tail))


def parse_dossier_code(code: str) -> ParsedDossierCode:
    """Parse any dossier code seen in practice; raise ``InvalidCode`` (``invalid_dossier_code``).

    Lenient, for import and lookup: surrounding white space and lower case are accepted, the
    agency part may be in either segment order, the tail may have 4–10 digits. The date must
    exist (yy is read as 20yy).
    """
    return _match_dossier_code(_DOSSIER_CODE, code)


def is_dossier_code(value: str) -> bool:
    try:
        parse_dossier_code(value)
    except InvalidCode:
        return False
    return True


class DossierCodeRule(ABC):
    """One legal rule for generating dossier codes (mã số hồ sơ).

    The rule can be re-issued (Decree 309/2026 hands it to the Ministry of Justice), so each
    rule says from when it applies and on what legal basis; :func:`dossier_code_rule` picks the
    one in force on the receipt date.
    """

    valid_from: date
    basis: str

    @abstractmethod
    def format(self, agency_id: str, day: date, sequence: int) -> str:
        """The code of the ``sequence``-th dossier received by ``agency_id`` on ``day``."""

    @abstractmethod
    def parse(self, code: str) -> ParsedDossierCode:
        """Parse a code of exactly this rule's shape; raise ``InvalidCode`` otherwise."""


@dataclass(frozen=True)
class ProvincialDossierCodeRule(DossierCodeRule):
    """``{mã định danh cơ quan tiếp nhận}-{yyMMdd}-{NNNN}`` (§1.8).

    The sequence counts per agency per receipt day from 1 and is padded to 4 digits; above 9999
    the day's numbers are exhausted (``dossier_sequence_exhausted``): §1.8 gives provincial
    systems 4 digits, the longer tails belong to ministry systems.
    """

    valid_from: date = date(2018, 4, 23)
    basis: str = (
        "Nghị định 61/2018/NĐ-CP và Thông tư 01/2018/TT-VPCP; giữ nguyên cho hệ thống cấp tỉnh "
        "theo Nghị định 118/2025/NĐ-CP và Thông tư 03/2025/TT-VPCP (Điều 13)"
    )

    def format(self, agency_id: str, day: date, sequence: int) -> str:
        agency = agency_id.strip() if isinstance(agency_id, str) else ""
        if not _DOSSIER_AGENCY_RE.fullmatch(agency):
            raise InvalidCode(
                f"Mã định danh cơ quan «{agency}» không dùng được trong mã hồ sơ.",
                code="invalid_agency_id",
            )
        if isinstance(day, datetime) or not isinstance(day, date):
            # An aware datetime's date may not be the Vietnamese receipt day: convert first.
            raise TypeError("day must be a date (the receipt day in Viet Nam), not a datetime")
        if not 2000 <= day.year <= 2099:
            raise InvalidCode(
                f"Ngày tiếp nhận {day:%d/%m/%Y} nằm ngoài khoảng mã hồ sơ biểu diễn được.",
                code="invalid_dossier_date",
            )
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
            raise InvalidCode(
                "Số thứ tự hồ sơ trong ngày phải là số nguyên từ 1.",
                code="invalid_dossier_sequence",
            )
        if sequence > PROVINCIAL_MAX_SEQUENCE:
            raise InvalidCode(
                f"Đã hết số thứ tự hồ sơ trong ngày {day:%d/%m/%Y} của cơ quan {agency} "
                f"(tối đa {PROVINCIAL_MAX_SEQUENCE}).",
                code="dossier_sequence_exhausted",
            )
        return f"{agency}-{day:%y%m%d}-{sequence:04d}"

    def parse(self, code: str) -> ParsedDossierCode:
        parsed = _match_dossier_code(_PROVINCIAL_DOSSIER_CODE, code)
        if parsed.sequence < 1:
            raise _invalid_dossier_code(code.strip())
        return parsed


# Sorted by valid_from. A re-issued rule is appended here; old dossiers keep their codes.
DOSSIER_CODE_RULES: tuple[DossierCodeRule, ...] = (ProvincialDossierCodeRule(),)


def dossier_code_rule(on: date) -> DossierCodeRule:
    """The dossier-code rule in force on ``on`` (the receipt date)."""
    rules = DOSSIER_CODE_RULES
    index = bisect_right([rule.valid_from for rule in rules], on)
    if index == 0:
        raise InvalidCode(
            f"Không có quy định mã hồ sơ nào có hiệu lực vào ngày {on:%d/%m/%Y}.",
            code="no_dossier_code_rule",
        )
    return rules[index - 1]


def format_dossier_code(agency_id: str, day: date, sequence: int) -> str:
    """Shortcut: the code under the rule in force on ``day``."""
    return dossier_code_rule(day).format(agency_id, day, sequence)
