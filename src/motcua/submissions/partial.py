"""Where uploads in progress live: plain files on local disk, written at an offset.

Partial uploads need random-access writes (a chunk lands at its offset, a refused chunk is cut
off again), which object stores do not offer, so they are kept on local disk under
``MOTCUA_PARTIAL_UPLOAD_ROOT`` (default ``MEDIA_ROOT/partial``) whatever the default storage is.
Finished files go to the dossier through ``services.attach_file`` and so to the configured
storage (local disk or S3). With several web servers the folder must be shared (or requests of
one upload routed to one server).

File names are ``<upload uuid hex>.part``: nothing from the client ever reaches a path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

READ_BLOCK = 256 * 1024


def root() -> Path:
    configured = getattr(settings, "MOTCUA_PARTIAL_UPLOAD_ROOT", None)
    return Path(configured) if configured else Path(settings.MEDIA_ROOT) / "partial"


def name_for(key: uuid.UUID) -> str:
    return f"{key.hex}.part"


def path(name: str) -> Path:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"invalid partial file name {name!r}")
    return root() / name


def create(name: str) -> None:
    """An empty file for a new upload (fails if it exists)."""
    folder = root()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "xb"):
        pass


def size(name: str) -> int:
    try:
        return path(name).stat().st_size
    except FileNotFoundError:
        return -1


def truncate(name: str, length: int) -> None:
    with open(path(name), "r+b") as handle:
        handle.truncate(length)
        handle.flush()
        os.fsync(handle.fileno())


def delete(name: str) -> None:
    with contextlib.suppress(FileNotFoundError, ValueError):
        path(name).unlink()


def read_head(name: str, count: int) -> bytes:
    with open(path(name), "rb") as handle:
        return handle.read(count)


def read_all(name: str) -> bytes:
    with open(path(name), "rb") as handle:
        return handle.read()


def sha256_of(name: str) -> str:
    digest = hashlib.sha256()
    with open(path(name), "rb") as handle:
        for block in iter(lambda: handle.read(READ_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def names() -> Iterator[str]:
    folder = root()
    if not folder.is_dir():
        return iter(())
    return (entry.name for entry in os.scandir(folder) if entry.name.endswith(".part"))
