"""Settings of the monitoring app, each with a default (read from the environment).

Django settings of the same name win, so tests and deployments may set them either way.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from motcua.core.text import fold

# The placeholders an officer types instead of a processing note (compared folded, without
# punctuation): "ok", "xong", "đã xử lý"…
DEFAULT_PLACEHOLDER_NOTES = (
    "ok",
    "oke",
    "okay",
    "xong",
    "da xong",
    "xu ly",
    "da xu ly",
    "da xu ly xong",
    "dong y",
    "da xem",
    "xem xet",
    "da xem xet",
    "chuyen",
    "da chuyen",
    "chuyen tiep",
    "trinh",
    "da trinh",
    "duyet",
    "da duyet",
    "hoan thanh",
    "da hoan thanh",
    "nhu tren",
    "khong",
    "x",
)


def _setting(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return value


def min_note_length() -> int:
    """Shortest processing note (characters, without spaces at the ends) not flagged unclear."""
    return int(_setting("MOTCUA_MIN_NOTE_LENGTH", "15"))


def placeholder_notes() -> frozenset[str]:
    value = _setting("MOTCUA_PLACEHOLDER_NOTES", "")
    if isinstance(value, str):
        items = [item for item in value.split(",") if item.strip()] or DEFAULT_PLACEHOLDER_NOTES
    else:
        items = list(value)
    return frozenset(fold(item) for item in items)


def available_feeds() -> frozenset[str]:
    """Data feeds switched on beyond the built-in ones (comma-separated names)."""
    value = _setting("MOTCUA_MONITORING_FEEDS", "")
    if isinstance(value, str):
        value = value.split(",")
    return frozenset(item.strip() for item in value if item and item.strip())


def rules_dirs() -> list[Path]:
    """Where rule-set files are read from: the shipped ones, then the operator's directory."""
    dirs = [Path(__file__).resolve().parent / "data"]
    extra = _setting("MOTCUA_MONITORING_RULES_DIR", "")
    if extra:
        dirs.append(Path(extra))
    return dirs


def snapshot_backfill_days() -> int:
    """How many missing past days the hourly snapshot task fills by itself."""
    return int(_setting("MOTCUA_SNAPSHOT_BACKFILL_DAYS", "7"))
