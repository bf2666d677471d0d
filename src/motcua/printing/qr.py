"""QR codes for the lookup link printed on the receipt (Mẫu 01), made with segno.

The code goes into the PDF as a small 1-bit PNG (8 pixels a module: crisp at print size, and a
scanner or a test can read it straight out of the file).
"""

from __future__ import annotations

import io
from functools import lru_cache

import segno

MODULE_PX = 8
QUIET_ZONE = 4  # modules of white border, as ISO/IEC 18004 asks


def make_qr(data: str) -> segno.QRCode:
    """The QR symbol for ``data``: error level M (raised if it fits), never a Micro QR."""
    return segno.make_qr(data, error="m", boost_error=True)


def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The modules of the symbol (True = dark), without the quiet zone."""
    return tuple(
        tuple(bool(module) for module in row)
        for row in make_qr(data).matrix_iter(scale=1, border=0)
    )


@lru_cache(maxsize=256)
def qr_png(data: str, scale: int = MODULE_PX, border: int = QUIET_ZONE) -> bytes:
    """A PNG of the symbol with its quiet zone (cached: a URL is printed more than once)."""
    buffer = io.BytesIO()
    make_qr(data).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()
