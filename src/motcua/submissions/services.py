"""Drafts, resumable uploads and their hand-over to the dossier write path.

Uploads follow the tus 1.0 protocol (``views.py`` speaks HTTP; this module does the work):

* ``create_upload`` — a new upload for one slot of one of the user's drafts, after checking the
  declared size, name and whole-file SHA-256;
* ``write_chunk`` — bytes at the upload's current offset: a wrong offset is refused (409), a
  chunk whose ``Upload-Checksum`` does not match is cut off again (460), a transfer cut short
  keeps what arrived when it carried no checksum (so the client resumes from there);
* on the last byte the whole file is checked against the declared SHA-256 and sniffed
  (PDF, JPEG or PNG whose name agrees, ``dossiers.files``); a file that fails is discarded.

A draft becomes a dossier in ``submit_draft``: the dossier (``services.submit``, status 1) and
every verified file (``services.attach_file``) are written in one transaction, or nothing is.
``submit_supplement`` answers a supplement request the same way (``services.provide_supplement``).

Every lookup is by owner: another account's draft or upload is "not found", never "forbidden".
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import os
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from motcua.catalog.models import Channel, Component
from motcua.core.errors import Conflict, DomainError, InvalidInput, NotFound
from motcua.core.text import fold
from motcua.dossiers import files
from motcua.dossiers import services as dossier_services
from motcua.dossiers.models import Applicant, Dossier, Pause, Status, SubmittedComponent

from . import partial
from .models import Draft, Upload

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "expiration", "checksum", "termination")
# sha1 because the checksum extension requires it; sha256 is what our own uploader sends.
CHECKSUM_ALGORITHMS: dict[str, Callable] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
ALLOWED_EXTENSIONS = frozenset(ext for exts in files.ALLOWED.values() for ext in exts)
READ_BLOCK = 64 * 1024
# A PATCH holds its upload this long and renews the hold while bytes keep coming; a request
# that died without letting go blocks the upload at most this long.
LOCK_SECONDS = 60
LOCK_RENEW_SECONDS = 20
SUPPLEMENT_REASON = "Nộp bổ sung theo Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (trực tuyến)"


# --- settings -------------------------------------------------------------------------------


def draft_ttl() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "MOTCUA_DRAFT_DAYS", 30))


def upload_ttl() -> dt.timedelta:
    """How long an unfinished upload waits for its next chunk."""
    return dt.timedelta(hours=getattr(settings, "MOTCUA_UPLOAD_HOURS", 24))


def max_uploads_per_draft() -> int:
    return getattr(settings, "MOTCUA_MAX_UPLOADS_PER_DRAFT", 50)


def max_draft_bytes() -> int:
    return getattr(settings, "MOTCUA_MAX_DRAFT_BYTES", 200 * 1024 * 1024)


# --- errors ---------------------------------------------------------------------------------


class UploadError(DomainError):
    """A refused tus request; ``status`` is the HTTP status the protocol asks for."""

    code = "upload_error"


def _error(status: int, code: str, message: str, **details) -> UploadError:
    error = UploadError(message, code=code, **details)
    error.status = status
    return error


def _gone(upload: Upload) -> UploadError:
    if upload.state == Upload.State.REJECTED:
        return _error(410, upload.error_code or "upload_rejected", upload.error_message)
    if upload.state == Upload.State.ATTACHED:
        return _error(
            410,
            "upload_used",
            _("Tệp này đã được đính kèm vào hồ sơ đã nộp, không thể gửi lại hay dùng lại."),
        )
    return _error(
        410, "upload_expired", _("Lượt tải lên đã hết hạn: vui lòng chọn lại tệp để tải lên.")
    )


# --- drafts ---------------------------------------------------------------------------------


def draft_of(user, key, *, for_update: bool = False) -> Draft:
    """The user's draft ``key`` (a UUID) or ``NotFound`` (also for another account's)."""
    try:
        key = uuid.UUID(str(key))
    except (ValueError, TypeError, AttributeError):
        raise NotFound(_("Không tìm thấy bản nháp."), code="draft_not_found") from None
    rows = Draft.objects.select_related("procedure", "version", "variant", "receiving_agency")
    if for_update:
        rows = rows.select_for_update(of=("self",))
    draft = rows.filter(uuid=key, owner_id=getattr(user, "pk", None)).first()
    if draft is None:
        raise NotFound(_("Không tìm thấy bản nháp."), code="draft_not_found")
    return draft


def is_expired(draft: Draft, now: dt.datetime | None = None) -> bool:
    return draft.state == Draft.State.EXPIRED or (
        draft.state == Draft.State.EDITING and draft.expires_at <= (now or timezone.now())
    )


class DraftExpired(DomainError):
    code = "draft_expired"
    status = 410
    default_message = (
        "Bản nháp đã hết hạn và các tệp đã tải lên đã bị xóa. Vui lòng bắt đầu nộp hồ sơ lại."
    )


class DraftSubmitted(Conflict):
    code = "draft_submitted"
    default_message = "Bản nháp này đã được nộp."


def ensure_editable(draft: Draft, now: dt.datetime | None = None) -> None:
    if draft.state == Draft.State.SUBMITTED:
        raise DraftSubmitted(_("Bản nháp này đã được nộp."))
    if is_expired(draft, now):
        raise DraftExpired(
            _(
                "Bản nháp đã hết hạn và các tệp đã tải lên đã bị xóa. "
                "Vui lòng bắt đầu nộp hồ sơ lại."
            )
        )


def start_draft(user, *, procedure, variant, agency, data: dict | None = None) -> Draft:
    """A new e-form for ``variant`` of ``procedure``'s current version."""
    now = timezone.now()
    return Draft.objects.create(
        owner=user,
        kind=Draft.Kind.SUBMISSION,
        procedure=procedure,
        version=variant.version,
        variant=variant,
        receiving_agency=agency,
        data=data or {},
        expires_at=now + draft_ttl(),
    )


def supplement_draft(user, dossier: Dossier, pause: Pause) -> Draft:
    """The user's answer in progress to the supplement request ``pause`` (made once)."""
    now = timezone.now()
    draft, created = Draft.objects.get_or_create(
        owner=user,
        kind=Draft.Kind.SUPPLEMENT,
        pause=pause,
        defaults={
            "dossier": dossier,
            "procedure_id": dossier.procedure_id,
            "version_id": dossier.version_id,
            "variant_id": dossier.variant_id,
            "receiving_agency_id": dossier.receiving_agency_id,
            "expires_at": now + draft_ttl(),
        },
    )
    if not created and is_expired(draft, now):
        # Its files were swept; the request is still open, so the answer starts again.
        _delete_uploads(Upload.objects.filter(draft=draft))
        draft.state = Draft.State.EDITING
        draft.expires_at = now + draft_ttl()
        draft.save(update_fields=["state", "expires_at", "updated_at"])
    return draft


def save_draft(draft: Draft, *, data: dict, delivery: str = "", delivery_address: str = "") -> None:
    """Keep what was typed; the draft (and its finished files) live ``draft_ttl`` longer."""
    ensure_editable(draft)
    draft.data = data
    draft.delivery = delivery
    draft.delivery_address = delivery_address[:500]
    _extend(draft)
    draft.save(update_fields=["data", "delivery", "delivery_address", "expires_at", "updated_at"])


def _extend(draft: Draft) -> None:
    draft.expires_at = timezone.now() + draft_ttl()
    Upload.objects.filter(draft=draft, state=Upload.State.VERIFIED).update(
        expires_at=draft.expires_at
    )


def discard_draft(draft: Draft) -> None:
    ensure_editable(draft)
    with transaction.atomic():
        _delete_uploads(Upload.objects.filter(draft=draft))
        draft.delete()


# --- slots ----------------------------------------------------------------------------------


@dataclass
class Slot:
    """Where files go: a paper of the variant, or an item of a supplement request."""

    key: str
    name: str
    required: bool
    originals: int = 0
    copies: int = 0
    form_name: str = ""
    form_url: str = ""
    component: Component | None = None


def slots_of(draft: Draft) -> list[Slot]:
    if draft.kind == Draft.Kind.SUPPLEMENT:
        items = draft.pause.items if draft.pause_id else []
        return [Slot(key=f"s{i}", name=str(item), required=False) for i, item in enumerate(items)]
    return [
        Slot(
            key=f"c{c.pk}",
            name=c.name,
            required=c.required,
            originals=c.originals,
            copies=c.copies,
            form_name=c.form_name,
            form_url=c.form_url,
            component=c,
        )
        for c in draft.variant.components.order_by("order", "id")
    ]


def uploads_by_slot(draft: Draft, state: str = Upload.State.VERIFIED) -> dict[str, list[Upload]]:
    found: dict[str, list[Upload]] = defaultdict(list)
    for upload in draft.uploads.filter(state=state).order_by("created_at", "id"):
        found[upload.slot].append(upload)
    return found


# --- tus: creation --------------------------------------------------------------------------


def parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64(value)`` pairs (value optional)."""
    values: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _sep, encoded = pair.partition(" ")
        key, encoded = key.strip(), encoded.strip()
        if not key or " " in encoded or key in values:
            raise _error(400, "invalid_metadata", _("Upload-Metadata không hợp lệ."))
        try:
            values[key] = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise _error(
                400, "invalid_metadata", _("Upload-Metadata không hợp lệ (giá trị «%s»).") % key
            ) from None
    return values


def _sha256_hex(value: str) -> str:
    value = (value or "").strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise _error(
            400,
            "missing_sha256",
            _(
                "Thiếu hoặc sai mã kiểm tra SHA-256 của cả tệp (Upload-Metadata «sha256»: "
                "64 chữ số thập lục phân)."
            ),
        )
    return raw.hex()


def _clean_name(name: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    if not name:
        raise _error(400, "missing_file_name", _("Tệp không có tên."))
    return name[-255:]


def check_name(name: str) -> str:
    """Refuse at once a file whose name is not .pdf, .jpg, .jpeg or .png."""
    name = _clean_name(name)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED_EXTENSIONS:
        raise _error(
            415,
            "unsupported_file_type",
            _("Chỉ nhận tệp PDF, JPG hoặc PNG (tệp «%(name)s» không thuộc các loại này).")
            % {"name": name},
        )
    return name


def check_length(length: int) -> None:
    if length <= 0:
        raise _error(400, "empty_file", _("Tệp rỗng (0 byte): vui lòng chọn lại tệp."))
    limit = files.max_upload_bytes()
    if length > limit:
        raise _error(
            413,
            "file_too_large",
            _("Tệp vượt quá dung lượng cho phép (%(mb)s MB).") % {"mb": limit // (1024 * 1024)},
        )


def create_upload(user, metadata: dict[str, str], length: int) -> Upload:
    """A new upload for ``metadata['draft']``/``metadata['slot']`` of one of ``user``'s drafts."""
    check_length(length)
    name = check_name(metadata.get("filename") or metadata.get("name") or "")
    expected = _sha256_hex(metadata.get("sha256", ""))
    with transaction.atomic():
        draft = draft_of(user, metadata.get("draft", ""), for_update=True)
        try:
            ensure_editable(draft)
        except DomainError as exc:
            raise _error(exc.status, exc.code, exc.message) from None
        slot = metadata.get("slot", "")
        if slot not in {s.key for s in slots_of(draft)}:
            raise _error(400, "invalid_slot", _("Ô tải lên không thuộc bản nháp này."))
        live = Upload.objects.filter(
            draft=draft, state__in=[Upload.State.RECEIVING, Upload.State.VERIFIED]
        )
        # The same file announced again (a creation whose answer was lost, retried): the same
        # upload, so a retry never leaves an orphan behind.
        same = live.filter(
            state=Upload.State.RECEIVING,
            slot=slot,
            filename=name,
            length=length,
            sha256_expected=expected,
        ).first()
        if same is not None:
            return same
        if live.count() >= max_uploads_per_draft():
            raise _error(
                400,
                "too_many_files",
                _("Mỗi hồ sơ chỉ đính kèm tối đa %(n)s tệp.") % {"n": max_uploads_per_draft()},
            )
        used = live.aggregate(total=Sum("length"))["total"] or 0
        if used + length > max_draft_bytes():
            raise _error(
                413,
                "draft_too_large",
                _("Tổng dung lượng các tệp của hồ sơ vượt quá %(mb)s MB.")
                % {"mb": max_draft_bytes() // (1024 * 1024)},
            )
        now = timezone.now()
        key = uuid.uuid4()
        upload = Upload.objects.create(
            uuid=key,
            owner=user,
            draft=draft,
            slot=slot,
            filename=name,
            declared_type=(metadata.get("filetype") or "")[:100],
            length=length,
            sha256_expected=expected,
            storage_path=partial.name_for(key),
            expires_at=min(now + upload_ttl(), draft.expires_at),
        )
        partial.create(upload.storage_path)
    return upload


# --- tus: offset, chunks, termination -------------------------------------------------------


def upload_of(user, key) -> Upload:
    """The user's upload ``key`` or a 404 (also for another account's)."""
    try:
        key = uuid.UUID(str(key))
    except (ValueError, TypeError, AttributeError):
        raise _error(404, "upload_not_found", _("Không tìm thấy tệp đang tải lên.")) from None
    upload = (
        Upload.objects.select_related("draft")
        .filter(uuid=key, owner_id=getattr(user, "pk", None))
        .first()
    )
    if upload is None:
        raise _error(404, "upload_not_found", _("Không tìm thấy tệp đang tải lên."))
    return upload


def _usable(upload: Upload, now: dt.datetime) -> None:
    """Raise 410 for an upload that can no longer take or report bytes."""
    if upload.state in (Upload.State.REJECTED, Upload.State.ATTACHED):
        raise _gone(upload)
    if upload.expires_at <= now or is_expired(upload.draft, now):
        raise _gone(upload)
    if upload.draft.state != Draft.State.EDITING:
        raise _error(
            410, "draft_submitted", _("Bản nháp đã được nộp: không thể tải thêm tệp vào đây.")
        )


def status_of(user, key) -> Upload:
    """What a HEAD request reports."""
    upload = upload_of(user, key)
    _usable(upload, timezone.now())
    return upload


def parse_checksum(header: str) -> tuple[str, bytes] | None:
    """``Upload-Checksum: <algorithm> <base64 digest>`` or ``None`` when absent."""
    if not header:
        return None
    algorithm, _sep, encoded = header.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise _error(
            400,
            "checksum_algorithm",
            _("Thuật toán kiểm tra «%(name)s» không được hỗ trợ (dùng sha256 hoặc sha1).")
            % {"name": algorithm[:20]},
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _error(400, "invalid_checksum", _("Upload-Checksum không hợp lệ.")) from None
    if len(digest) != CHECKSUM_ALGORITHMS[algorithm]().digest_size:
        raise _error(400, "invalid_checksum", _("Upload-Checksum không hợp lệ."))
    return algorithm, digest


def _claim(upload: Upload, offset: int, now: dt.datetime) -> str:
    token = uuid.uuid4().hex
    claimed = (
        Upload.objects.filter(pk=upload.pk, offset=offset, state=Upload.State.RECEIVING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(lock_token=token, locked_until=now + dt.timedelta(seconds=LOCK_SECONDS))
    )
    if claimed:
        return token
    upload.refresh_from_db()
    if upload.offset != offset:
        raise _offset_conflict(upload)
    if upload.state != Upload.State.RECEIVING:
        raise _gone(upload)
    raise _error(
        423,
        "upload_busy",
        _("Tệp đang được tải lên từ một kết nối khác: vui lòng chờ giây lát rồi thử lại."),
    )


def _offset_conflict(upload: Upload) -> UploadError:
    return _error(
        409,
        "offset_mismatch",
        _(
            "Vị trí gửi không khớp: máy chủ đã nhận %(offset)s byte của tệp. Đoạn dữ liệu này "
            "đã được gửi trước đó hoặc gửi sai thứ tự nên không được lưu."
        )
        % {"offset": upload.offset},
        offset=upload.offset,
    )


def _release(upload: Upload, token: str, **changes) -> int:
    return Upload.objects.filter(pk=upload.pk, lock_token=token).update(
        lock_token="", locked_until=None, updated_at=timezone.now(), **changes
    )


class Interrupted(UploadError):
    code = "transfer_interrupted"
    status = 400


def write_chunk(
    user,
    key,
    *,
    offset: int,
    content_length: int,
    stream: IO[bytes],
    checksum: tuple[str, bytes] | None = None,
) -> Upload:
    """Append ``content_length`` bytes of ``stream`` at ``offset`` (which must be the upload's).

    Returns the upload with its new offset; when the last byte arrived, the whole file has been
    verified (or discarded with a 460/415 error).
    """
    now = timezone.now()
    upload = upload_of(user, key)
    _usable(upload, now)
    if upload.state == Upload.State.VERIFIED:
        if offset == upload.length and content_length == 0:
            return upload
        raise _offset_conflict(upload)
    if offset != upload.offset:
        raise _offset_conflict(upload)
    if content_length < 0 or offset + content_length > upload.length:
        raise _error(
            413,
            "chunk_too_large",
            _("Dữ liệu gửi vượt quá kích thước tệp đã khai báo (%(n)s byte).")
            % {"n": upload.length},
        )
    token = _claim(upload, offset, now)
    try:
        received, interrupted, intact = _append(
            upload, token, offset, content_length, stream, checksum
        )
    except BaseException:
        if _holds(upload, token):
            _restore(upload.storage_path, offset)
        _release(upload, token)
        raise
    if not intact:
        # A chunk that cannot be proven intact is never kept (checksum extension).
        _release(upload, token)
        if interrupted:
            raise Interrupted(
                _(
                    "Kết nối bị ngắt giữa chừng: đoạn dữ liệu chưa được lưu, "
                    "hãy gửi lại từ byte %(n)s."
                )
                % {"n": offset},
                offset=offset,
            )
        raise _error(
            460,
            "checksum_mismatch",
            _(
                "Đoạn dữ liệu bị hỏng khi truyền (mã kiểm tra không khớp) nên không được lưu: "
                "vui lòng gửi lại đoạn này."
            ),
        )
    new_offset = offset + received
    moment = timezone.now()
    held = _release(
        upload,
        token,
        offset=new_offset,
        expires_at=min(moment + upload_ttl(), upload.draft.expires_at),
    )
    if not held:
        # This request stalled so long that its hold expired and another one took over: what
        # that one recorded stands (the whole-file check guards the content).
        upload.refresh_from_db()
        raise _offset_conflict(upload)
    upload.offset = new_offset
    if interrupted:
        raise Interrupted(
            _("Kết nối bị ngắt giữa chừng: máy chủ đã lưu %(n)s byte, hãy tiếp tục từ đó.")
            % {"n": new_offset},
            offset=new_offset,
        )
    if new_offset == upload.length:
        return finish(upload)
    upload.refresh_from_db()
    return upload


def _append(
    upload: Upload,
    token: str,
    offset: int,
    content_length: int,
    stream: IO[bytes],
    checksum: tuple[str, bytes] | None,
) -> tuple[int, bool, bool]:
    """Write the request body at ``offset``: ``(bytes kept, interrupted, intact)``.

    Without a checksum whatever arrived is kept (a resumed transfer goes on from there); with
    one, a short or damaged chunk is cut off again and nothing is kept.
    """
    on_disk = partial.size(upload.storage_path)
    if on_disk < 0:
        raise _error(410, "upload_expired", _("Tệp tạm không còn: vui lòng tải lên lại."))
    if on_disk < offset:
        # Bytes recorded but not on disk (a lost disk write): the disk is the truth, and the
        # client resumes from there.
        Upload.objects.filter(pk=upload.pk, lock_token=token).update(offset=on_disk)
        upload.offset = on_disk
        raise _offset_conflict(upload)
    if on_disk > offset:
        # A crash between writing and recording the offset: the recorded offset wins.
        partial.truncate(upload.storage_path, offset)
    digest = CHECKSUM_ALGORITHMS[checksum[0]]() if checksum else None
    received = 0
    interrupted = False
    renewed = timezone.now()
    with open(partial.path(upload.storage_path), "r+b") as handle:
        handle.seek(offset)
        while received < content_length:
            try:
                block = stream.read(min(READ_BLOCK, content_length - received))
            except OSError:
                block = b""
            if not block:
                interrupted = True
                break
            handle.write(block)
            if digest is not None:
                digest.update(block)
            received += len(block)
            moment = timezone.now()
            if (moment - renewed).total_seconds() > LOCK_RENEW_SECONDS:
                Upload.objects.filter(pk=upload.pk, lock_token=token).update(
                    locked_until=moment + dt.timedelta(seconds=LOCK_SECONDS)
                )
                renewed = moment
        intact = digest is None or (not interrupted and digest.digest() == checksum[1])
        if not intact:
            if _holds(upload, token):
                handle.truncate(offset)
            received = 0
        handle.flush()
        os.fsync(handle.fileno())
    return received, interrupted, intact


def _holds(upload: Upload, token: str) -> bool:
    return Upload.objects.filter(pk=upload.pk, lock_token=token).exists()


def _restore(name: str, offset: int) -> None:
    try:
        if partial.size(name) > offset:
            partial.truncate(name, offset)
    except (OSError, ValueError):
        log.warning("could not cut partial upload %s back to %s bytes", name, offset)


def _reject(upload: Upload, code: str, message: str) -> UploadError:
    partial.delete(upload.storage_path)
    Upload.objects.filter(pk=upload.pk).update(
        state=Upload.State.REJECTED,
        error_code=code,
        error_message=message,
        expires_at=timezone.now() + dt.timedelta(days=1),
        updated_at=timezone.now(),
    )
    status = 460 if code == "file_checksum_mismatch" else 415
    return _error(status, code, message)


def finish(upload: Upload) -> Upload:
    """All bytes are in: check the whole file's SHA-256 and what it really is."""
    digest = partial.sha256_of(upload.storage_path)
    if digest != upload.sha256_expected:
        raise _reject(
            upload,
            "file_checksum_mismatch",
            _(
                "Tệp «%(name)s» nhận được không khớp với mã kiểm tra SHA-256 đã khai báo "
                "(tệp có thể đã bị hỏng hoặc bị thay đổi khi truyền): tệp đã bị hủy, "
                "vui lòng tải lên lại."
            )
            % {"name": upload.filename},
        )
    try:
        mime, _ext = files.sniff(upload.filename, partial.read_head(upload.storage_path, 8192))
    except DomainError as exc:
        raise _reject(upload, exc.code, exc.message + " " + _("Tệp đã bị hủy.")) from None
    now = timezone.now()
    Upload.objects.filter(pk=upload.pk).update(
        state=Upload.State.VERIFIED,
        sha256_verified=digest,
        content_type=mime,
        completed_at=now,
        expires_at=upload.draft.expires_at,
        updated_at=now,
    )
    upload.refresh_from_db()
    return upload


def terminate(user, key) -> None:
    """Delete an upload (tus termination); files of a submitted dossier stay where they are."""
    upload = upload_of(user, key)
    if upload.state == Upload.State.ATTACHED:
        raise _gone(upload)
    if upload.draft.state != Draft.State.EDITING:
        raise _error(410, "draft_submitted", _("Bản nháp đã được nộp."))
    with transaction.atomic():
        locked = Upload.objects.select_for_update().filter(pk=upload.pk).first()
        if locked is None:
            return
        if locked.locked_until is not None and locked.locked_until > timezone.now():
            raise _error(423, "upload_busy", _("Tệp đang được tải lên, chưa thể xóa."))
        _delete_uploads([locked])


def remove_upload(user, draft: Draft, key) -> None:
    """The citizen removes a file from a draft (a button on the e-form)."""
    ensure_editable(draft)
    try:
        upload = upload_of(user, key)
    except UploadError:
        raise NotFound(_("Không tìm thấy tệp."), code="upload_not_found") from None
    if upload.draft_id != draft.pk:
        raise NotFound(_("Không tìm thấy tệp."), code="upload_not_found")
    terminate(user, key)


def _delete_uploads(rows: Iterable[Upload]) -> int:
    count = 0
    for upload in list(rows):
        name = upload.storage_path
        upload.delete()
        transaction.on_commit(lambda name=name: partial.delete(name))
        count += 1
    return count


# --- drafts → dossiers ----------------------------------------------------------------------


def _ready_files(draft: Draft, slots: list[Slot]) -> dict[str, list[Upload]]:
    uploads = list(draft.uploads.exclude(state=Upload.State.REJECTED).order_by("created_at", "id"))
    busy = [u.filename for u in uploads if u.state == Upload.State.RECEIVING]
    if busy:
        raise InvalidInput(
            _("Còn tệp chưa tải lên xong: %(names)s. Vui lòng chờ tải xong hoặc xóa tệp đó.")
            % {"names": ", ".join(busy)},
            code="upload_in_progress",
        )
    found: dict[str, list[Upload]] = defaultdict(list)
    for upload in uploads:
        if upload.state != Upload.State.VERIFIED:
            raise _gone(upload)
        found[upload.slot].append(upload)
    known = {s.key for s in slots}
    if set(found) - known:
        raise InvalidInput(_("Có tệp không thuộc bản nháp này."), code="invalid_slot")
    return found


def _content(upload: Upload) -> bytes:
    """The verified bytes of an upload, checked once more against the digest."""
    try:
        content = partial.read_all(upload.storage_path)
    except (FileNotFoundError, OSError, ValueError):
        content = None
    if content is None or hashlib.sha256(content).hexdigest() != upload.sha256_verified:
        raise InvalidInput(
            _("Tệp «%(name)s» không còn nguyên vẹn trên máy chủ: vui lòng xóa và tải lên lại.")
            % {"name": upload.filename},
            code="stored_file_damaged",
        )
    return content


def _attach_all(dossier: Dossier, pairs, actor, at: dt.datetime | None, stored: list) -> None:
    """Attach each upload to its submitted component, one file in memory at a time."""
    for component_id, upload in pairs:
        row = dossier_services.attach_file(
            dossier,
            actor=actor,
            submitted_component_id=component_id,
            name=upload.filename,
            content_type=upload.content_type,
            content=_content(upload),
            at=at,
        )
        stored.append(row.file.name)


def _cleanup_stored(stored: list[str]) -> None:
    for name in stored:
        try:
            default_storage.delete(name)
        except Exception:  # best effort: the transaction already failed
            log.warning("could not delete %s after a failed submission", name)


def _consume(draft: Draft, uploads: list[Upload], now: dt.datetime) -> None:
    Upload.objects.filter(pk__in=[u.pk for u in uploads]).update(
        state=Upload.State.ATTACHED, expires_at=now + dt.timedelta(days=7), updated_at=now
    )
    names = [u.storage_path for u in uploads]
    transaction.on_commit(lambda: [partial.delete(name) for name in names])


def _check_identity(user, applicant: dossier_services.ApplicantInput) -> Applicant | None:
    """The applicant record already known for this personal id or tax code, if any; one tied
    to another account cannot be used here."""
    try:
        known = dossier_services.find_applicant(
            personal_id=applicant.personal_id, tax_code=applicant.tax_code
        )
    except DomainError:
        return None  # the service reports the invalid identifier itself
    if known is not None and known.user_id not in (None, user.pk):
        raise InvalidInput(
            _(
                "Số định danh (hoặc mã số thuế) này đã gắn với một tài khoản khác. Nếu đây là "
                "số của bạn, vui lòng liên hệ Bộ phận Một cửa."
            ),
            code="identifier_of_another_account",
        )
    return known


def submit_draft(
    draft: Draft,
    *,
    actor,
    applicant: dossier_services.ApplicantInput,
    summary: str = "",
) -> Dossier:
    """Turn the draft into a dossier in status 1 with every file, or write nothing.

    Submitting twice (a double click, a retried request) gives the same dossier.
    """
    stored: list[str] = []
    try:
        with transaction.atomic():
            draft = draft_of(actor, draft.uuid, for_update=True)
            if draft.state == Draft.State.SUBMITTED and draft.dossier_id:
                return draft.dossier
            ensure_editable(draft)
            if draft.kind != Draft.Kind.SUBMISSION:
                raise InvalidInput(_("Bản nháp không phải hồ sơ mới."), code="invalid_draft")
            slots = slots_of(draft)
            found = _ready_files(draft, slots)
            missing = [s.name for s in slots if s.required and not found.get(s.key)]
            if missing:
                raise InvalidInput(
                    _("Chưa tải lên giấy tờ bắt buộc: %(names)s.") % {"names": "; ".join(missing)},
                    code="missing_files",
                    missing=missing,
                )
            if draft.receiving_agency_id is None:
                raise InvalidInput(
                    _("Chưa chọn cơ quan tiếp nhận hồ sơ."), code="missing_receiving_agency"
                )
            known = _check_identity(actor, applicant)
            components = [
                dossier_services.ComponentInput(
                    component_id=s.component.pk, originals=s.originals, copies=s.copies
                )
                for s in slots
                if found.get(s.key)
            ]
            data = dossier_services.SubmissionInput(
                procedure_code=draft.procedure.code,
                variant_id=draft.variant_id,
                receiving_agency_id=draft.receiving_agency_id,
                applicant=applicant,
                channel=Channel.ONLINE,
                components=components,
                delivery=draft.delivery,
                delivery_address=draft.delivery_address,
                summary=summary,
            )
            dossier, created = dossier_services.submit(
                data, actor=actor, idempotency_key=f"portal-draft:{draft.uuid}"
            )
            # The applicant record made by this submission is the account's. A record that
            # existed before (dossiers filed at a counter) is not linked on a typed number
            # alone: that would open those dossiers to whoever knows the number. The dossier
            # is the account's anyway (submitted online by it: ``created_by``).
            owner_id = Applicant.objects.filter(pk=dossier.applicant_id).values_list(
                "user_id", flat=True
            )[0]
            if owner_id not in (None, actor.pk):
                raise InvalidInput(
                    _("Số định danh này đã gắn với một tài khoản khác."),
                    code="identifier_of_another_account",
                )
            if known is None:
                Applicant.objects.filter(pk=dossier.applicant_id, user__isnull=True).update(
                    user=actor
                )
            if created:
                by_component = {row.component_id: row.pk for row in dossier.new_components}
                pairs = [
                    (by_component[s.component.pk], upload)
                    for s in slots
                    for upload in found.get(s.key, [])
                ]
                _attach_all(dossier, pairs, actor, None, stored)
            now = timezone.now()
            draft.state = Draft.State.SUBMITTED
            draft.dossier = dossier
            draft.submitted_at = now
            draft.save(update_fields=["state", "dossier", "submitted_at", "updated_at"])
            _consume(draft, [u for rows in found.values() for u in rows], now)
            return dossier
    except BaseException:
        _cleanup_stored(stored)
        raise


def open_supplement(dossier: Dossier) -> Pause | None:
    """The supplement request the applicant may answer now, if any."""
    if dossier.status != Status.AWAITING_SUPPLEMENT:
        return None
    return (
        Pause.objects.filter(dossier=dossier, kind=Pause.Kind.SUPPLEMENT, ended_at__isnull=True)
        .order_by("-started_at")
        .first()
    )


def _listed_component(dossier: Dossier, item: str) -> Component | None:
    """The variant's paper an item of the request names exactly, if it names one."""
    wanted = fold(item)
    for component in dossier.variant.components.all():
        if fold(component.name) == wanted:
            return component
    return None


def submit_supplement(draft: Draft, *, actor, note: str = "") -> Dossier:
    """Answer the supplement request: the papers and their files, in one transaction."""
    stored: list[str] = []
    note = (note or "").strip()[:2000]
    try:
        with transaction.atomic():
            draft = draft_of(actor, draft.uuid, for_update=True)
            if draft.state == Draft.State.SUBMITTED and draft.dossier_id:
                return draft.dossier
            ensure_editable(draft)
            if draft.kind != Draft.Kind.SUPPLEMENT or draft.pause_id is None:
                raise InvalidInput(_("Bản nháp không phải hồ sơ bổ sung."), code="invalid_draft")
            pause = Pause.objects.select_related("dossier").get(pk=draft.pause_id)
            if pause.ended_at is not None:
                raise Conflict(
                    _("Yêu cầu bổ sung này đã được giải quyết: không cần nộp thêm."),
                    code="supplement_closed",
                )
            dossier = pause.dossier
            slots = slots_of(draft)
            found = _ready_files(draft, slots)
            if not found and not note:
                raise InvalidInput(
                    _("Vui lòng tải lên giấy tờ bổ sung hoặc ghi nội dung giải trình."),
                    code="empty_supplement",
                )
            chosen = [s for s in slots if found.get(s.key)]
            components = []
            for slot in chosen:
                listed = _listed_component(dossier, slot.name)
                components.append(
                    dossier_services.ComponentInput(
                        component_id=listed.pk if listed else None,
                        name=slot.name,
                        originals=0,
                        copies=1,
                        outside_reason="" if listed else SUPPLEMENT_REASON,
                    )
                )
            at = timezone.now()
            dossier_services.provide_supplement(
                dossier, actor=actor, components=components, note=note, at=at
            )
            rows = list(
                SubmittedComponent.objects.filter(dossier=dossier, pause=pause, added_at=at)
                .order_by("order", "id")
                .values_list("pk", flat=True)
            )
            pairs = [
                (component_id, upload)
                for component_id, slot in zip(rows, chosen, strict=True)
                for upload in found[slot.key]
            ]
            _attach_all(dossier, pairs, actor, at, stored)
            draft.state = Draft.State.SUBMITTED
            draft.submitted_at = at
            draft.save(update_fields=["state", "submitted_at", "updated_at"])
            _consume(draft, [u for rows in found.values() for u in rows], at)
            return Dossier.objects.get(pk=dossier.pk)
    except BaseException:
        _cleanup_stored(stored)
        raise


# --- housekeeping ---------------------------------------------------------------------------


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Expire drafts, delete expired uploads and their partial files; return the counts."""
    now = now or timezone.now()
    counts = {"drafts_expired": 0, "uploads_deleted": 0, "drafts_deleted": 0, "orphans": 0}
    with transaction.atomic():
        stale = Draft.objects.filter(state=Draft.State.EDITING, expires_at__lte=now)
        for draft in stale.select_for_update():
            counts["uploads_deleted"] += _delete_uploads(Upload.objects.filter(draft=draft))
            draft.state = Draft.State.EXPIRED
            draft.save(update_fields=["state", "updated_at"])
            counts["drafts_expired"] += 1
    with transaction.atomic():
        expired = Upload.objects.filter(expires_at__lte=now).filter(
            Q(locked_until__isnull=True) | Q(locked_until__lt=now)
        )
        counts["uploads_deleted"] += _delete_uploads(expired.select_for_update())
    # Finished drafts keep personal data no longer needed once the dossier has it.
    keep = now - draft_ttl()
    old = Draft.objects.filter(
        Q(state=Draft.State.EXPIRED, expires_at__lte=keep)
        | Q(state=Draft.State.SUBMITTED, submitted_at__lte=keep)
    )
    with transaction.atomic():
        counts["uploads_deleted"] += _delete_uploads(Upload.objects.filter(draft__in=old))
        counts["drafts_deleted"] = old.delete()[1].get(Draft._meta.label, 0)
    # Partial files without a row (a crash between creating the file and the row).
    known = set(Upload.objects.values_list("storage_path", flat=True))
    horizon = (now - dt.timedelta(hours=1)).timestamp()
    for name in partial.names():
        if name in known:
            continue
        try:
            if partial.path(name).stat().st_mtime < horizon:
                partial.delete(name)
                counts["orphans"] += 1
        except (FileNotFoundError, ValueError):
            continue
    if any(counts.values()):
        log.info("submissions sweep: %s", counts)
    return counts


__all__ = [
    "TUS_EXTENSIONS",
    "TUS_VERSION",
    "DraftExpired",
    "DraftSubmitted",
    "Interrupted",
    "Slot",
    "UploadError",
    "create_upload",
    "discard_draft",
    "draft_of",
    "ensure_editable",
    "finish",
    "open_supplement",
    "parse_checksum",
    "parse_metadata",
    "remove_upload",
    "save_draft",
    "slots_of",
    "start_draft",
    "status_of",
    "submit_draft",
    "submit_supplement",
    "supplement_draft",
    "sweep",
    "terminate",
    "uploads_by_slot",
    "write_chunk",
]
