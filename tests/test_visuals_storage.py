"""Content-addressed storage: the filesystem by default, an S3-compatible bucket when configured.

The bucket is a local S3 server (moto in server mode, on loopback) reached through
django-storages and boto3, as a deployment reaches MinIO or S3.
"""

from __future__ import annotations

import hashlib
import io
import socket

import boto3
import pytest
from django.core.files.storage import storages
from PIL import Image

from signoff.visuals.models import Blob
from signoff.visuals.storage import blob_path, put_blob, read_blob


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3_bucket(settings, monkeypatch):
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
        Bucket="signoff-test"
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "signoff": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "signoff-test",
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "file_overwrite": False,
                "default_acl": None,
            },
        },
    }
    yield boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    server.stop()


@pytest.mark.django_db
def test_the_filesystem_stores_each_file_once_under_its_workspace(lumen_workspace, settings):
    data = _png((200, 10, 10))
    blob = put_blob(lumen_workspace, data, fmt="png", width=64, height=48)
    digest = hashlib.sha256(data).hexdigest()
    assert blob.sha256 == digest
    assert blob.name == f"lumen-home/blobs/{digest[:2]}/{digest}.png"
    assert read_blob(blob) == data
    assert blob_path(blob).startswith(str(settings.SIGNOFF_HOME))
    again = put_blob(lumen_workspace, data, fmt="png", width=64, height=48)
    assert again.pk == blob.pk
    assert Blob.objects.count() == 1


@pytest.mark.django_db
def test_another_workspace_gets_its_own_copy(lumen_workspace, other_workspace):
    data = _png((10, 200, 10))
    mine = put_blob(lumen_workspace, data, fmt="png", width=64, height=48)
    theirs = put_blob(other_workspace, data, fmt="png", width=64, height=48)
    assert mine.pk != theirs.pk
    assert mine.name.startswith("lumen-home/")
    assert theirs.name.startswith("other-brand/")


@pytest.mark.django_db
def test_an_s3_bucket_through_django_storages(lumen_workspace, s3_bucket):
    data = _png((10, 10, 200))
    blob = put_blob(lumen_workspace, data, fmt="png", width=64, height=48)
    listed = s3_bucket.list_objects_v2(Bucket="signoff-test")["Contents"]
    assert [item["Key"] for item in listed] == [blob.name]
    assert s3_bucket.get_object(Bucket="signoff-test", Key=blob.name)["Body"].read() == data
    assert read_blob(blob) == data
    assert blob_path(blob) is None  # no local path: files are read through the API
    # Stored once: putting it again writes nothing.
    put_blob(lumen_workspace, data, fmt="png", width=64, height=48)
    assert len(s3_bucket.list_objects_v2(Bucket="signoff-test")["Contents"]) == 1
    assert storages["signoff"].exists(blob.name)
