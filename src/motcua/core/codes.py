"""Identifiers: agency electronic ids, procedure codes, personal ids, tax codes, phones.

Pure Python. Each ``validate_*``/``parse_*`` returns the normalised value or raises
``InvalidCode`` with a stable machine code and a Vietnamese message
(``../shared/domain/one-stop-rules.md`` §6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from motcua.core.errors import InvalidInput


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
