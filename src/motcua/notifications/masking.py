"""Recipients as lists show them (pure Python).

Phones use ``core.codes.mask_phone`` (network prefix and the last 2 digits): never the last 4,
which are the public lookup's second factor. E-mail addresses keep the last 3 characters of the
local part (fewer for short ones) and the domain; the hidden part is always ``***`` so the mask
does not reveal the length.
"""

from __future__ import annotations

from motcua.core.codes import MASK_CHAR, mask_phone

HIDDEN = MASK_CHAR * 3
EMAIL_VISIBLE_TAIL = 3


def mask_email(value: object) -> str:
    """``nguyenthihang@gmail.com`` → ``***ang@gmail.com``; ``an@x.vn`` → ``***n@x.vn``."""
    if not isinstance(value, str) or value.count("@") != 1:
        return HIDDEN
    local, domain = value.strip().split("@")
    if not local or not domain:
        return HIDDEN
    visible = min(EMAIL_VISIBLE_TAIL, len(local) // 2)
    return HIDDEN + (local[-visible:] if visible else "") + "@" + domain


def mask_recipient(channel: str, value: object) -> str:
    if not value:
        return ""
    if channel == "email":
        return mask_email(value)
    return mask_phone(value)
