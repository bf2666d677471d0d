"""Scans and results go to an S3-compatible bucket when one is configured.

The bucket is served by moto's S3 server over real HTTP on a free local port, and read back
with boto3, so the same code path as MinIO or AWS is exercised.
"""

from __future__ import annotations

import hashlib
import socket

import boto3
import pytest
from django.core.files.storage import storages
from moto.server import ThreadedMotoServer

from motcua.dossiers import services

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def bucket(settings):
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    credentials = dict(aws_access_key_id="test", aws_secret_access_key="test")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)
    s3.create_bucket(Bucket="motcua-files")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "motcua-files",
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "test",
                "secret_key": "test",
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    yield s3
    server.stop()


def test_scan_is_stored_in_the_bucket(world, bucket):
    dossier = world.submit()
    component = dossier.components.first()
    stored = services.attach_file(
        dossier,
        actor=world.counter,
        submitted_component_id=component.pk,
        name="to-khai.pdf",
        content_type="application/pdf",
        content=PDF,
    )
    assert storages["default"].__class__.__name__ == "S3Storage"
    body = bucket.get_object(Bucket="motcua-files", Key=stored.file.name)["Body"].read()
    assert body == PDF
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert "X-Amz-Signature" in stored.file.url or "Signature" in stored.file.url
