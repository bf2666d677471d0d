"""The tus 1.0.0 server with the Django test client: core, creation, checksum, expiration,
termination, and every refusal with its status, code and nothing half-stored."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from motcua.submissions import partial, services
from motcua.submissions.models import Draft, Upload

from .world import (
    TUS,
    b64,
    checksum,
    metadata,
    pdf,
    png,
    sha256,
    tus_create,
    tus_patch,
    upload_file,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, portal):
    client.force_login(portal.citizen)
    return client


def stored(upload: Upload) -> int:
    return partial.size(upload.storage_path)


def test_options_announces_the_protocol(client, portal):
    response = client.options("/tai-len/")
    assert response.status_code == 204
    assert response["Tus-Resumable"] == "1.0.0"
    assert response["Tus-Version"] == "1.0.0"
    assert set(response["Tus-Extension"].split(",")) == {
        "creation",
        "expiration",
        "checksum",
        "termination",
    }
    assert response["Tus-Max-Size"] == str(20 * 1024 * 1024)
    assert set(response["Tus-Checksum-Algorithm"].split(",")) == {"sha1", "sha256"}


def test_an_upload_in_chunks_is_verified_and_sniffed(signed_in, portal):
    draft = portal.draft()
    content = pdf(5000)
    created = tus_create(signed_in, draft, portal.slots()[0], "to-khai.pdf", content)
    assert created.status_code == 201
    assert created["Tus-Resumable"] == "1.0.0"
    location = created["Location"]
    assert location.startswith("http://testserver/tai-len/")
    expires = dt.datetime.strptime(created["Upload-Expires"], "%a, %d %b %Y %H:%M:%S GMT")
    assert expires.replace(tzinfo=dt.UTC) > timezone.now() + dt.timedelta(hours=23)

    head = signed_in.head(location, headers=TUS)
    assert (head.status_code, head["Upload-Offset"], head["Upload-Length"]) == (200, "0", "5000")
    assert head["Cache-Control"] == "no-store"

    first = tus_patch(signed_in, location, 0, content[:2048])
    assert (first.status_code, first["Upload-Offset"]) == (204, "2048")
    second = tus_patch(signed_in, location, 2048, content[2048:4096], algorithm="sha1")
    assert (second.status_code, second["Upload-Offset"]) == (204, "4096")
    last = tus_patch(signed_in, location, 4096, content[4096:], algorithm=None)
    assert (last.status_code, last["Upload-Offset"]) == (204, "5000")

    upload = Upload.objects.get()
    assert upload.state == Upload.State.VERIFIED
    assert upload.sha256_verified == sha256(content)
    assert upload.content_type == "application/pdf"
    assert partial.read_all(upload.storage_path) == content
    assert "Upload-Expires" not in signed_in.head(location, headers=TUS)


def test_every_request_needs_the_protocol_version(signed_in, portal):
    draft = portal.draft()
    content = pdf(100)
    response = tus_create(
        signed_in, draft, portal.slots()[0], "a.pdf", content, **{"Tus-Resumable": "0.2.2"}
    )
    assert response.status_code == 412
    assert response["Tus-Version"] == "1.0.0"
    assert response.json()["code"] == "tus_version"
    assert not Upload.objects.exists()


def test_anonymous_clients_are_refused(client, portal):
    draft = portal.draft()
    response = tus_create(client, draft, portal.slots()[0], "a.pdf", pdf(100))
    assert response.status_code == 401
    assert response.json()["message"] == "Vui lòng đăng nhập để tải tệp lên."


@pytest.mark.parametrize(
    ("name", "length", "status", "code"),
    [
        ("anh.gif", 100, 415, "unsupported_file_type"),
        ("khong-duoi", 100, 415, "unsupported_file_type"),
        ("to-khai.pdf", 20 * 1024 * 1024 + 1, 413, "file_too_large"),
        ("to-khai.pdf", 0, 400, "empty_file"),
    ],
)
def test_creation_refuses_wrong_types_and_sizes_at_once(
    signed_in, portal, name, length, status, code
):
    draft = portal.draft()
    headers = {
        **TUS,
        "Upload-Length": str(length),
        "Upload-Metadata": metadata(draft, portal.slots()[0], name, b"x"),
    }
    response = signed_in.post("/tai-len/", headers=headers)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code and body["message"]
    assert not Upload.objects.exists()
    assert list(partial.names()) == []


def test_oversize_message_is_vietnamese(signed_in, portal):
    draft = portal.draft()
    headers = {
        **TUS,
        "Upload-Length": str(25 * 1024 * 1024),
        "Upload-Metadata": metadata(draft, portal.slots()[0], "scan.pdf", b"x"),
    }
    response = signed_in.post("/tai-len/", headers=headers)
    assert response.json()["message"] == "Tệp vượt quá dung lượng cho phép (20 MB)."


def test_creation_needs_the_whole_file_checksum_a_slot_and_ones_own_draft(signed_in, portal):
    draft = portal.draft()
    slot = portal.slots()[0]
    no_sum = f"filename {b64('a.pdf')},draft {b64(str(draft.uuid))},slot {b64(slot)}"
    response = signed_in.post(
        "/tai-len/", headers={**TUS, "Upload-Length": "10", "Upload-Metadata": no_sum}
    )
    assert (response.status_code, response.json()["code"]) == (400, "missing_sha256")
    response = tus_create(signed_in, draft, "c999999", "a.pdf", pdf(100))
    assert (response.status_code, response.json()["code"]) == (400, "invalid_slot")
    elsewhere = portal.draft(user=portal.other)
    response = tus_create(signed_in, elsewhere, slot, "a.pdf", pdf(100))
    assert (response.status_code, response.json()["code"]) == (404, "draft_not_found")
    response = signed_in.post(
        "/tai-len/", headers={**TUS, "Upload-Length": "10", "Upload-Metadata": "draft ***"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_metadata")
    response = signed_in.post("/tai-len/", headers={**TUS, "Upload-Metadata": no_sum})
    assert (response.status_code, response.json()["code"]) == (400, "missing_length")
    assert not Upload.objects.exists()


def test_a_replayed_or_misplaced_chunk_gets_409_and_changes_nothing(signed_in, portal):
    draft = portal.draft()
    content = pdf(3000)
    location = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)["Location"]
    assert tus_patch(signed_in, location, 0, content[:1000]).status_code == 204
    upload = Upload.objects.get()

    again = tus_patch(signed_in, location, 0, content[:1000])  # the same chunk twice
    assert again.status_code == 409
    assert again.json()["code"] == "offset_mismatch"
    assert again["Upload-Offset"] == "1000"
    assert "1000 byte" in again.json()["message"]
    ahead = tus_patch(signed_in, location, 2000, content[2000:])
    assert ahead.status_code == 409
    upload.refresh_from_db()
    assert upload.offset == 1000 and stored(upload) == 1000


def test_a_tampered_chunk_is_not_appended(signed_in, portal):
    draft = portal.draft()
    content = pdf(3000)
    location = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)["Location"]
    assert tus_patch(signed_in, location, 0, content[:1000]).status_code == 204
    tampered = bytearray(content[1000:2000])
    tampered[10] ^= 0xFF
    response = signed_in.patch(
        location,
        data=bytes(tampered),
        content_type="application/offset+octet-stream",
        headers={**TUS, "Upload-Offset": "1000", "Upload-Checksum": checksum(content[1000:2000])},
    )
    assert response.status_code == 460
    assert response.json()["code"] == "checksum_mismatch"
    assert "không được lưu" in response.json()["message"]
    upload = Upload.objects.get()
    assert upload.offset == 1000 and stored(upload) == 1000
    # The client sends the chunk again, intact, and goes on.
    assert tus_patch(signed_in, location, 1000, content[1000:2000]).status_code == 204


def test_checksum_header_errors(signed_in, portal):
    draft = portal.draft()
    content = pdf(2000)
    location = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)["Location"]
    for value, code in (("md5 AAAA", "checksum_algorithm"), ("sha256 !!!", "invalid_checksum")):
        response = signed_in.patch(
            location,
            data=content[:100],
            content_type="application/offset+octet-stream",
            headers={**TUS, "Upload-Offset": "0", "Upload-Checksum": value},
        )
        assert (response.status_code, response.json()["code"]) == (400, code)
    assert Upload.objects.get().offset == 0


def test_patch_needs_the_offset_stream_content_type_and_fits_the_length(signed_in, portal):
    draft = portal.draft()
    content = pdf(2000)
    location = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)["Location"]
    response = signed_in.patch(
        location,
        data=content,
        content_type="application/octet-stream",
        headers={**TUS, "Upload-Offset": "0"},
    )
    assert response.status_code == 415
    response = tus_patch(signed_in, location, 0, content + b"more")
    assert (response.status_code, response.json()["code"]) == (413, "chunk_too_large")
    assert Upload.objects.get().offset == 0


def test_a_file_that_differs_from_its_declared_checksum_is_discarded(signed_in, portal):
    draft = portal.draft()
    content = pdf(2000)
    other = pdf(2000, seed=b"other")
    created = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", other)
    location = created["Location"]
    response = tus_patch(signed_in, location, 0, content)  # each chunk intact, file not
    assert response.status_code == 460
    assert response.json()["code"] == "file_checksum_mismatch"
    assert "tệp đã bị hủy" in response.json()["message"]
    upload = Upload.objects.get()
    assert upload.state == Upload.State.REJECTED
    assert stored(upload) == -1
    head = signed_in.head(location, headers=TUS)
    assert head.status_code == 410


@pytest.mark.parametrize(
    ("name", "content", "code", "words"),
    [
        ("anh.pdf", png(3000), "file_type_mismatch", "không khớp với nội dung (PNG)"),
        ("virus.pdf", b"MZ" + b"\x00" * 3000, "unsupported_file_type", "Chỉ nhận tệp PDF"),
    ],
)
def test_content_sniffing_refuses_a_lying_name(signed_in, portal, name, content, code, words):
    draft = portal.draft()
    location = tus_create(signed_in, draft, portal.slots()[0], name, content)["Location"]
    response = tus_patch(signed_in, location, 0, content)
    assert response.status_code == 415
    assert response.json()["code"] == code
    assert words in response.json()["message"]
    upload = Upload.objects.get()
    assert upload.state == Upload.State.REJECTED and stored(upload) == -1


def test_another_accounts_upload_is_not_found(client, portal):
    draft = portal.draft()
    content = pdf(2000)
    client.force_login(portal.citizen)
    location = tus_create(client, draft, portal.slots()[0], "a.pdf", content)["Location"]
    client.force_login(portal.other)
    assert client.head(location, headers=TUS).status_code == 404
    patched = tus_patch(client, location, 0, content)
    assert (patched.status_code, patched.json()["code"]) == (404, "upload_not_found")
    assert client.delete(location, headers=TUS).status_code == 404
    upload = Upload.objects.get()
    assert upload.offset == 0 and stored(upload) == 0


def test_termination_deletes_the_upload(signed_in, portal, django_capture_on_commit_callbacks):
    draft = portal.draft()
    content = pdf(2000)
    location = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)["Location"]
    tus_patch(signed_in, location, 0, content[:500])
    name = Upload.objects.get().storage_path
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.delete(location, headers=TUS)
    assert response.status_code == 204
    assert not Upload.objects.exists()
    assert partial.size(name) == -1
    assert signed_in.head(location, headers=TUS).status_code == 404


def test_an_expired_upload_is_gone(signed_in, portal):
    draft = portal.draft()
    content = pdf(2000)
    location = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)["Location"]
    Upload.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert signed_in.head(location, headers=TUS).status_code == 410
    response = tus_patch(signed_in, location, 0, content)
    assert (response.status_code, response.json()["code"]) == (410, "upload_expired")


def test_an_expired_draft_takes_no_upload(signed_in, portal):
    draft = portal.draft()
    Draft.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", pdf(100))
    assert response.status_code == 410
    assert response.json()["code"] == "draft_expired"
    assert "Bản nháp đã hết hạn" in response.json()["message"]


def test_a_busy_upload_answers_423(signed_in, portal):
    draft = portal.draft()
    content = pdf(2000)
    location = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)["Location"]
    Upload.objects.update(
        lock_token="x" * 32, locked_until=timezone.now() + dt.timedelta(seconds=30)
    )
    response = tus_patch(signed_in, location, 0, content)
    assert (response.status_code, response.json()["code"]) == (423, "upload_busy")
    # A hold left behind by a request that died expires.
    Upload.objects.update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert tus_patch(signed_in, location, 0, content).status_code == 204


def test_method_override_is_honoured(signed_in, portal):
    draft = portal.draft()
    content = pdf(1500)
    location = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)["Location"]
    response = signed_in.post(
        location,
        data=content,
        content_type="application/offset+octet-stream",
        headers={**TUS, "Upload-Offset": "0", "X-HTTP-Method-Override": "PATCH"},
    )
    assert (response.status_code, response["Upload-Offset"]) == (204, "1500")


class ShortStream(io.BytesIO):
    """A request body cut off by a dropped connection."""


def test_an_interrupted_transfer_keeps_what_arrived_without_a_checksum(portal):
    draft = portal.draft()
    content = pdf(4000)
    upload = services.create_upload(
        portal.citizen,
        {
            "filename": "a.pdf",
            "draft": str(draft.uuid),
            "slot": portal.slots()[0],
            "sha256": sha256(content),
        },
        len(content),
    )
    with pytest.raises(services.Interrupted) as caught:
        services.write_chunk(
            portal.citizen,
            upload.uuid,
            offset=0,
            content_length=4000,
            stream=ShortStream(content[:1500]),
        )
    assert caught.value.details["offset"] == 1500
    upload.refresh_from_db()
    assert upload.offset == 1500 and stored(upload) == 1500
    assert upload.lock_token == "" and upload.locked_until is None
    # The same cut with a checksum keeps nothing: the chunk cannot be proven intact.
    with pytest.raises(services.Interrupted):
        services.write_chunk(
            portal.citizen,
            upload.uuid,
            offset=1500,
            content_length=2500,
            stream=ShortStream(content[1500:2500]),
            checksum=services.parse_checksum(checksum(content[1500:])),
        )
    upload.refresh_from_db()
    assert upload.offset == 1500 and stored(upload) == 1500
    services.write_chunk(
        portal.citizen,
        upload.uuid,
        offset=1500,
        content_length=2500,
        stream=io.BytesIO(content[1500:]),
    )
    upload.refresh_from_db()
    assert upload.state == Upload.State.VERIFIED


def test_a_crash_after_writing_is_repaired_from_the_recorded_offset(signed_in, portal):
    draft = portal.draft()
    content = pdf(3000)
    location = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)["Location"]
    upload = Upload.objects.get()
    with open(partial.path(upload.storage_path), "wb") as handle:
        handle.write(b"garbage written before a crash")
    assert tus_patch(signed_in, location, 0, content).status_code == 204
    upload.refresh_from_db()
    assert upload.state == Upload.State.VERIFIED
    assert partial.read_all(upload.storage_path) == content


def test_limits_per_draft(signed_in, portal, settings):
    settings.MOTCUA_MAX_UPLOADS_PER_DRAFT = 2
    draft = portal.draft()
    slot = portal.slots()[0]
    for name in ("a.pdf", "b.pdf"):
        assert tus_create(signed_in, draft, slot, name, pdf(100)).status_code == 201
    response = tus_create(signed_in, draft, slot, "c.pdf", pdf(100))
    assert (response.status_code, response.json()["code"]) == (400, "too_many_files")
    settings.MOTCUA_MAX_UPLOADS_PER_DRAFT = 50
    settings.MOTCUA_MAX_DRAFT_BYTES = 250
    response = tus_create(signed_in, draft, slot, "c.pdf", pdf(100))
    assert (response.status_code, response.json()["code"]) == (413, "draft_too_large")


def test_uploads_of_a_submitted_draft_cannot_be_replayed(signed_in, portal):
    draft = portal.draft()
    first, second = portal.slots()[:2]
    one, two = pdf(1200, seed=b"1"), pdf(1300, seed=b"2")
    location = upload_file(signed_in, draft, first, "a.pdf", one)
    upload_file(signed_in, draft, second, "b.pdf", two)
    post = portal.applicant_post(action="submit")
    response = signed_in.post(f"/nop-ho-so/ban-nhap/{draft.uuid}/", post)
    assert response.status_code == 302, response.content.decode()[:2000]
    again = tus_patch(signed_in, location, 0, one)
    assert (again.status_code, again.json()["code"]) == (410, "upload_used")
    assert signed_in.head(location, headers=TUS).status_code == 410
    assert signed_in.delete(location, headers=TUS).status_code == 410
    response = tus_create(signed_in, draft, first, "a.pdf", one)
    assert (response.status_code, response.json()["code"]) == (409, "draft_submitted")


def test_bytes_missing_on_disk_move_the_offset_back(signed_in, portal):
    draft = portal.draft()
    content = pdf(3000)
    location = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)["Location"]
    assert tus_patch(signed_in, location, 0, content[:2000]).status_code == 204
    upload = Upload.objects.get()
    partial.truncate(upload.storage_path, 1500)  # a write the disk lost
    response = tus_patch(signed_in, location, 2000, content[2000:])
    assert response.status_code == 409 and response["Upload-Offset"] == "1500"
    assert signed_in.head(location, headers=TUS)["Upload-Offset"] == "1500"
    assert tus_patch(signed_in, location, 1500, content[1500:]).status_code == 204
    upload.refresh_from_db()
    assert upload.state == Upload.State.VERIFIED


class TakenOver(io.BytesIO):
    """A stalled request: while it reads, its hold expires and another request takes over."""

    def __init__(self, content: bytes, upload: Upload):
        super().__init__(content)
        self.upload = upload

    def read(self, size=-1):
        Upload.objects.filter(pk=self.upload.pk).update(lock_token="another", offset=700)
        return super().read(size)


def test_a_request_that_lost_its_hold_records_nothing(portal):
    draft = portal.draft()
    content = pdf(3000)
    upload = services.create_upload(
        portal.citizen,
        {
            "filename": "a.pdf",
            "draft": str(draft.uuid),
            "slot": portal.slots()[0],
            "sha256": sha256(content),
        },
        len(content),
    )
    with pytest.raises(services.UploadError) as caught:
        services.write_chunk(
            portal.citizen,
            upload.uuid,
            offset=0,
            content_length=len(content),
            stream=TakenOver(content, upload),
        )
    assert (caught.value.status, caught.value.details["offset"]) == (409, 700)
    upload.refresh_from_db()
    assert upload.offset == 700 and upload.state == Upload.State.RECEIVING


def test_a_retried_creation_gives_the_same_upload(signed_in, portal):
    draft = portal.draft()
    content = pdf(2000)
    first = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)
    again = tus_create(signed_in, draft, portal.slots()[0], "a.pdf", content)
    assert first.status_code == again.status_code == 201
    assert first["Location"] == again["Location"]
    assert Upload.objects.count() == 1
