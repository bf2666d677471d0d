"""What a scan really is: files are checked by their content, never by their name alone.

Used by the API (uploads to a dossier) and the back office (counter intake) so both accept
exactly the same files with the same messages.
"""

from __future__ import annotations

from typing import IO

from django.conf import settings

from motcua.core.errors import InvalidInput

# Content types accepted for scans, with the file name extensions each may carry.
ALLOWED: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({"pdf"}),
    "image/jpeg": frozenset({"jpg", "jpeg"}),
    "image/png": frozenset({"png"}),
}
SNIFF_BYTES = 8192


def max_upload_bytes() -> int:
    return getattr(settings, "MOTCUA_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)


def sniff(name: str, head: bytes) -> tuple[str, str]:
    """``(mime, extension)`` of a file whose first bytes are ``head``; raise ``InvalidInput``
    when the content is not PDF, JPEG or PNG or when the name's extension disagrees with it."""
    import filetype

    guess = filetype.guess(head)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if guess is None or guess.mime not in ALLOWED:
        raise InvalidInput(
            "Chỉ nhận tệp PDF, JPEG hoặc PNG (nội dung tệp không thuộc các loại này).",
            code="unsupported_file_type",
        )
    if ext not in ALLOWED[guess.mime]:
        raise InvalidInput(
            f"Tên tệp «{name}» không khớp với nội dung ({guess.extension.upper()}).",
            code="file_type_mismatch",
        )
    return guess.mime, ext


def check_size(size: int) -> None:
    """Raise ``InvalidInput`` for a file above ``MOTCUA_MAX_UPLOAD_BYTES``."""
    limit = max_upload_bytes()
    if size > limit:
        raise InvalidInput(
            f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).",
            code="file_too_large",
        )


def file_kind(upload: IO[bytes]) -> tuple[str, str]:
    """Sniff an uploaded file (``name``, ``read``, ``seek``) without consuming it."""
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return sniff(upload.name or "", head)
