"""Protocol compliance with a third-party client: tuspy against the live server.

tuspy creates the upload, sends chunks with its own checksums (sha1 by default, sha256 by
subclassing) and resumes an interrupted transfer from the offset the server reports (HEAD).
The interruption is real: a raw socket sends part of a PATCH body and closes the connection.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import socket
import time
from urllib.parse import urlsplit

import pytest
from django.test import Client
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError
from tusclient.uploader import Uploader

from motcua.submissions.models import Upload

from .world import build_portal, pdf, sha256

MB = 1024 * 1024


class Sha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


@pytest.fixture
def portal(transactional_db):
    return build_portal()


@pytest.fixture
def headers(portal):
    """A signed-in session for tuspy: session cookie, CSRF cookie and header."""
    browser = Client()
    browser.force_login(portal.citizen)
    secret = secrets.token_hex(16)  # 32 characters: a CSRF secret
    return {
        "Cookie": f"sessionid={browser.cookies['sessionid'].value}; csrftoken={secret}",
        "X-CSRFToken": secret,
    }


def tus(live_server, headers):
    return tus_client.TusClient(f"{live_server.url}/tai-len/", headers=headers)


def meta(portal, draft, content: bytes, name: str = "ho-so.pdf", slot: int = 0) -> dict:
    return {
        "filename": name,
        "draft": str(draft.uuid),
        "slot": portal.slots()[slot],
        "sha256": sha256(content),
    }


def test_tuspy_uploads_a_20_mb_scan_in_1_mb_chunks_with_sha1_checksums(
    live_server, portal, headers
):
    draft = portal.draft()
    content = pdf(20 * MB)
    uploader = tus(live_server, headers).uploader(
        file_stream=io.BytesIO(content),
        chunk_size=MB,
        metadata=meta(portal, draft, content),
        upload_checksum=True,
    )
    uploader.upload()
    assert uploader.offset == len(content)
    upload = Upload.objects.get()
    assert upload.state == Upload.State.VERIFIED
    assert upload.sha256_verified == sha256(content)
    assert upload.content_type == "application/pdf"


def test_tuspy_with_sha256_checksums(live_server, portal, headers):
    draft = portal.draft()
    content = pdf(3 * MB + 17)
    uploader = Sha256Uploader(
        file_stream=io.BytesIO(content),
        client=tus(live_server, headers),
        chunk_size=MB,
        metadata=meta(portal, draft, content),
        upload_checksum=True,
    )
    uploader.upload()
    assert Upload.objects.get().state == Upload.State.VERIFIED


def cut_patch(url: str, headers: dict, offset: int, body: bytes, sent: int) -> None:
    """Send a PATCH announcing ``len(body)`` bytes, send only ``sent`` of them, then hang up."""
    parts = urlsplit(url)
    lines = [
        f"PATCH {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Tus-Resumable: 1.0.0",
        "Content-Type: application/offset+octet-stream",
        f"Content-Length: {len(body)}",
        f"Upload-Offset: {offset}",
        *(f"{name}: {value}" for name, value in headers.items()),
        "",
        "",
    ]
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall("\r\n".join(lines).encode("latin-1"))
        conn.sendall(body[:sent])
        time.sleep(0.2)
        conn.shutdown(socket.SHUT_RDWR)


def server_offset(url: str, headers: dict) -> int:
    import requests

    response = requests.head(url, headers={"Tus-Resumable": "1.0.0", **headers}, timeout=10)
    assert response.status_code == 200, response.text
    return int(response.headers["Upload-Offset"])


def test_tuspy_resumes_after_a_dropped_connection(live_server, portal, headers):
    draft = portal.draft()
    content = pdf(3 * MB)
    first = tus(live_server, headers).uploader(
        file_stream=io.BytesIO(content), chunk_size=MB, metadata=meta(portal, draft, content)
    )
    first.upload_chunk()  # 1 MB arrives
    url = first.url
    assert server_offset(url, headers) == MB

    # The next chunk: the connection drops after 300 000 bytes.
    cut_patch(url, headers, MB, content[MB : 2 * MB], 300_000)
    deadline = time.monotonic() + 10
    while server_offset(url, headers) == MB and time.monotonic() < deadline:
        time.sleep(0.1)
    kept = server_offset(url, headers)
    assert kept == MB + 300_000  # without a checksum, what arrived is kept

    # A new tuspy uploader for the same URL asks the server (HEAD) and goes on from there.
    resumed = tus(live_server, headers).uploader(
        file_stream=io.BytesIO(content), url=url, chunk_size=MB, upload_checksum=True
    )
    assert resumed.offset == kept
    resumed.upload()
    upload = Upload.objects.get()
    assert upload.state == Upload.State.VERIFIED
    assert upload.sha256_verified == sha256(content)


def test_a_dropped_chunk_with_a_checksum_is_not_kept(live_server, portal, headers):
    import base64

    draft = portal.draft()
    content = pdf(2 * MB)
    uploader = tus(live_server, headers).uploader(
        file_stream=io.BytesIO(content), chunk_size=MB, metadata=meta(portal, draft, content)
    )
    url = uploader.url or uploader.create_url()
    uploader.set_url(url)
    digest = base64.b64encode(hashlib.sha256(content[:MB]).digest()).decode()
    cut_patch(url, {**headers, "Upload-Checksum": f"sha256 {digest}"}, 0, content[:MB], 500_000)
    time.sleep(0.5)
    assert server_offset(url, headers) == 0


def test_tuspy_sees_another_accounts_upload_as_missing(live_server, portal, headers):
    draft = portal.draft()
    content = pdf(MB)
    uploader = tus(live_server, headers).uploader(
        file_stream=io.BytesIO(content), chunk_size=MB, metadata=meta(portal, draft, content)
    )
    url = uploader.create_url()
    stranger = Client()
    stranger.force_login(portal.other)
    other_headers = {"Cookie": f"sessionid={stranger.cookies['sessionid'].value}"}
    with pytest.raises(TusCommunicationError) as caught:
        tus(live_server, other_headers).uploader(file_stream=io.BytesIO(content), url=url)
    assert caught.value.status_code == 404
