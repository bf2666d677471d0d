"""Vietnamese text normalisation for search.

``fold("Đăng ký khai sinh") == "dang ky khai sinh"``: NFD, drop combining marks, đ→d, lower
case, collapse white space. The same function builds the stored ``search_text`` columns and
folds the user's query, so both sides always agree.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_KEEP_CASE_D = str.maketrans({"đ": "d", "Đ": "D"})


def without_marks(text: str | None) -> str:
    """``"Hồ sơ Đã tiếp nhận"`` → ``"Ho so Da tiep nhan"``: marks dropped, đ→d, case kept."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.translate(_KEEP_CASE_D))
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def fold(text: str | None) -> str:
    """Return ``text`` without diacritics, with đ→d, lower-cased and single-spaced."""
    return _SPACES.sub(" ", without_marks(text)).strip().lower()


def nfc(text: str | None) -> str:
    """Return ``text`` in NFC (the form PDFs and the database should hold)."""
    return unicodedata.normalize("NFC", text or "")


def search_terms(query: str | None) -> list[str]:
    """Split a user's query into folded terms (every term must match)."""
    return [term for term in fold(query).split(" ") if term]
