"""Scans uploaded at the counter before their dossier exists.

The officer drops a scan onto a component while the applicant is still at the desk; there is no
dossier yet to attach it to. Each file is checked by its content at once (PDF, JPEG or PNG,
its name agreeing with it, below ``MOTCUA_MAX_UPLOAD_BYTES``) and kept in a staging area of the
default storage, under the officer and the intake form's token::

    intake-staging/<user id>/<form token>/<file id>.data   the bytes
    intake-staging/<user id>/<form token>/<file id>.json   name, content type, size, SHA-256

The form carries only the file ids. When the dossier is created, the intake view reads the
staged files of *its own* user and token (an id alone opens nothing) and attaches them with
``services.attach_file`` in the same transaction; the token's folder is emptied once that
transaction commits. A form abandoned at the desk leaves its folder behind: ``sweep`` (run
hourly by ``backoffice.tasks``) deletes staged files older than ``MOTCUA_INTAKE_STAGING_HOURS``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import uuid
from dataclasses import asdict, dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from motcua.core.errors import InvalidInput
from motcua.dossiers import files

log = logging.getLogger(__name__)

ROOT = "intake-staging"
# Files one intake form may stage (a dossier has a few dozen papers at most).
MAX_FILES_PER_FORM = 200


def ttl() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "MOTCUA_INTAKE_STAGING_HOURS", 24))


class StagingError(InvalidInput):
    code = "staged_file_missing"
    default_message = "Không tìm thấy tệp đã tải lên."


@dataclass(frozen=True)
class StagedFile:
    id: str
    name: str
    content_type: str
    size: int
    sha256: str

    @property
    def size_label(self) -> str:
        if self.size >= 1024 * 1024:
            return f"{self.size / (1024 * 1024):.1f} MB".replace(".", ",")
        return f"{max(1, round(self.size / 1024))} KB"


def _folder(user_id: int, token: uuid.UUID) -> str:
    return f"{ROOT}/{int(user_id)}/{token.hex}"


def parse_id(value: str) -> str | None:
    """A staged file id (32 hex digits) or ``None``: ids never reach a path unchecked."""
    try:
        return uuid.UUID(hex=str(value)).hex
    except (ValueError, TypeError, AttributeError):
        return None


def stage(user_id: int, token: uuid.UUID, upload: IO[bytes]) -> StagedFile:
    """Check an uploaded file and keep it for the form ``token`` of ``user_id``.

    Raises ``InvalidInput`` with a Vietnamese message when the file is not acceptable.
    """
    name = (getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise InvalidInput(_("Tệp không có tên."), code="missing_file_name")
    size = getattr(upload, "size", None)
    if size is not None:
        files.check_size(size)
    mime, _ext = files.file_kind(upload)
    content = upload.read()
    files.check_size(len(content))
    folder = _folder(user_id, token)
    try:
        _dirs, existing = default_storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        existing = []
    if sum(1 for f in existing if f.endswith(".json")) >= MAX_FILES_PER_FORM:
        raise InvalidInput(
            _("Mỗi hồ sơ chỉ đính kèm tối đa %(n)s tệp.") % {"n": MAX_FILES_PER_FORM},
            code="too_many_files",
        )
    staged = StagedFile(
        id=uuid.uuid4().hex,
        name=name[:255],
        content_type=mime,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    default_storage.save(f"{folder}/{staged.id}.data", ContentFile(content))
    default_storage.save(
        f"{folder}/{staged.id}.json", ContentFile(json.dumps(asdict(staged)).encode())
    )
    return staged


def find(user_id: int, token: uuid.UUID, file_id: str) -> StagedFile | None:
    """The staged file ``file_id`` of this user's form, or ``None`` (unknown, expired)."""
    file_id = parse_id(file_id)
    if file_id is None:
        return None
    path = f"{_folder(user_id, token)}/{file_id}.json"
    try:
        with default_storage.open(path, "rb") as handle:
            meta = json.loads(handle.read())
    except (FileNotFoundError, OSError, ValueError):
        return None
    if not default_storage.exists(f"{_folder(user_id, token)}/{file_id}.data"):
        return None
    return StagedFile(
        id=file_id,
        name=str(meta["name"]),
        content_type=str(meta["content_type"]),
        size=int(meta["size"]),
        sha256=str(meta["sha256"]),
    )


def read(user_id: int, token: uuid.UUID, staged: StagedFile) -> bytes:
    """The bytes of a staged file, checked against the digest taken when it was staged."""
    path = f"{_folder(user_id, token)}/{staged.id}.data"
    try:
        with default_storage.open(path, "rb") as handle:
            content = handle.read()
    except (FileNotFoundError, OSError) as exc:
        raise StagingError(
            _("Tệp «%(name)s» không còn trong bộ nhớ tạm: vui lòng tải lên lại.")
            % {"name": staged.name}
        ) from exc
    if hashlib.sha256(content).hexdigest() != staged.sha256:
        raise StagingError(
            _("Tệp «%(name)s» bị hỏng khi lưu tạm: vui lòng tải lên lại.") % {"name": staged.name}
        )
    return content


def _remove_folder(folder: str) -> None:
    """Remove an emptied folder on local disk (object stores have no folders to remove)."""
    try:
        path = default_storage.path(folder)
    except NotImplementedError:
        return
    with contextlib.suppress(OSError):  # not empty (a file staged meanwhile) or gone
        os.rmdir(path)


def discard(user_id: int, token: uuid.UUID) -> None:
    """Delete everything staged for one form (after its dossier was written)."""
    folder = _folder(user_id, token)
    try:
        _dirs, names = default_storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in names:
        default_storage.delete(f"{folder}/{name}")
    _remove_folder(folder)


def sweep(*, older_than: dt.timedelta | None = None, now: dt.datetime | None = None) -> int:
    """Delete staged files older than ``older_than`` (default ``ttl()``); return how many."""
    limit = (now or timezone.now()) - (older_than if older_than is not None else ttl())
    removed = 0
    try:
        users, _files = default_storage.listdir(ROOT)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for user in users:
        try:
            tokens, _files = default_storage.listdir(f"{ROOT}/{user}")
        except (FileNotFoundError, NotADirectoryError):
            continue
        for token in tokens:
            folder = f"{ROOT}/{user}/{token}"
            _dirs, names = default_storage.listdir(folder)
            for name in names:
                path = f"{folder}/{name}"
                try:
                    stale = default_storage.get_modified_time(path) < limit
                except (FileNotFoundError, OSError):
                    continue
                if stale:
                    default_storage.delete(path)
                    removed += 1
            _remove_folder(folder)
        _remove_folder(f"{ROOT}/{user}")
    if removed:
        log.info("intake staging: %d stale file(s) deleted", removed)
    return removed
