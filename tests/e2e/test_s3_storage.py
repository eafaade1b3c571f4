"""Portside on S3 storage (`--storage s3`) against a real moto server process: a skopeo round trip,
and a chunked upload larger than one part, which Portside turns into an S3 multipart upload.

The image is built for this module (its own nonce): with a shared database the session's other
images are already recorded as blobs in the filesystem storage of the other servers, and this
server must store and serve every byte from its bucket.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest

from .commands import require_binary
from .conftest import StartPortside, track_server
from .images import NotebookImages, OciLayout, Umoci, build_notebook_images
from .images import sha256_digest as digest_of
from .protocol import absolute, finish_upload, http_client, patch_chunk, start_upload
from .servers import MotoServer, PortsideServer, free_port
from .skopeo import ANONYMOUS_DENIED, Skopeo

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
REGION = "us-east-1"
ACCESS_KEY = SECRET_KEY = "test"
UPLOADS_PREFIX = "uploads/"  # pending writes' tails (storage/layout.py); none may outlive a commit


def _moto_binary() -> str:
    beside_python = Path(sys.executable).with_name("moto_server")
    return str(beside_python) if beside_python.exists() else require_binary("moto_server")


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    binary = _moto_binary()
    server = MotoServer(binary, free_port(), tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3_images(umoci: Umoci, tmp_path_factory: pytest.TempPathFactory) -> NotebookImages:
    return build_notebook_images(umoci, tmp_path_factory.mktemp("images-s3"))


def _s3_client(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY)


def _objects(s3: Any, bucket: str) -> dict[str, int]:
    """Every key in the bucket with its size."""
    objects: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        objects.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    return objects


def _pending_uploads(s3: Any, bucket: str) -> list[dict[str, Any]]:
    uploads: list[dict[str, Any]] = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return uploads


def _stored_digests(s3: Any, bucket: str, keys: list[str]) -> dict[str, str]:
    """sha256 digest -> key, for the objects `keys`."""
    found: dict[str, str] = {}
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        digest = hashlib.sha256()
        while chunk := body.read(MiB):
            digest.update(chunk)
        found["sha256:" + digest.hexdigest()] = key
    return found


def test_s3_storage_round_trip_and_multipart_upload(request: pytest.FixtureRequest, moto: MotoServer,
                                                    start_portside: StartPortside, skopeo: Skopeo,
                                                    s3_images: NotebookImages, project: str,
                                                    tmp_path: Path) -> None:
    track_server(request, moto)
    s3 = _s3_client(moto)
    bucket = f"portside-e2e-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    server: PortsideServer = start_portside("portside-s3", extra_args=[
        "--storage", "s3", "--s3-endpoint-url", moto.url, "--s3-bucket", bucket,
        "--s3-access-key-id", ACCESS_KEY, "--s3-secret-access-key", SECRET_KEY, "--s3-region", REGION,
    ])

    # 1. skopeo push and pull back, byte for byte.
    image = s3_images.normalised
    client = skopeo.logged_in(server)
    ref = f"docker://{server.host}/{project}/s3-notebook:1.0"
    client.copy(image.oci_ref, ref, "--preserve-digests")
    assert client.inspect(ref)["Digest"] == image.manifest_digest
    assert client.inspect_raw(ref) == image.manifest_bytes
    pulled = OciLayout(tmp_path / "pulled")
    client.copy(ref, f"oci:{pulled.path}:1.0", "--preserve-digests")
    assert pulled.descriptor("1.0")["digest"] == image.manifest_digest
    assert pulled.read_blob(image.manifest_digest) == image.manifest_bytes
    for digest in (image.config_digest, *image.layer_digests):
        assert pulled.read_blob(digest) == image.blob(digest), f"{digest} differs after the S3 round trip"
    denied = client.anonymous_pull_fails(ref, f"oci:{tmp_path / 'anonymous'}:1.0")
    assert ANONYMOUS_DENIED in denied, denied

    # 2. An 18 MiB blob in three 6 MiB PATCHes: larger than a part (8 MiB), so a multipart upload.
    repository = f"{project}/s3-chunked"
    data = os.urandom(18 * MiB)
    size = 6 * MiB
    with http_client(server.credentials) as http:
        url = start_upload(http, server.url, repository)
        for offset in range(0, len(data), size):
            response = patch_chunk(http, url, data[offset:offset + size], offset)
            assert response.status_code == 202, (response.status_code, response.text)
            assert response.headers["Range"] == f"0-{offset + size - 1}"
            url = absolute(server.url, response.headers["Location"])

        pending = _pending_uploads(s3, bucket)
        assert len(pending) == 1, pending  # skopeo's uploads are all committed: this is ours
        parts = s3.list_parts(Bucket=bucket, Key=pending[0]["Key"], UploadId=pending[0]["UploadId"])["Parts"]
        assert len(parts) >= 2 and all(part["Size"] >= 5 * MiB for part in parts), parts

        done = finish_upload(http, url, digest_of(data))
        assert done.status_code == 201, (done.status_code, done.text)
        assert done.headers["Docker-Content-Digest"] == digest_of(data)
        blob_url = f"{server.url}/v2/{repository}/blobs/{digest_of(data)}"
        head = http.head(blob_url)
        assert (head.status_code, int(head.headers["Content-Length"])) == (200, len(data))
        got = http.get(blob_url, follow_redirects=True)
        assert got.status_code == 200
        assert got.content == data

    # 3. The bucket holds every blob; no pending write is left behind.
    objects = _objects(s3, bucket)
    leftovers = [key for key in objects if key.startswith(UPLOADS_PREFIX)]
    assert leftovers == [], f"tails left after commit: {leftovers}"
    assert _pending_uploads(s3, bucket) == []
    stored = _stored_digests(s3, bucket, [key for key, length in objects.items() if length in {
        len(data), *(len(image.blob(digest)) for digest in (image.config_digest, *image.layer_digests))}])
    for digest in (image.config_digest, *image.layer_digests, digest_of(data)):
        assert digest in stored, f"{digest} is not an object in the bucket: {sorted(objects)}"
    etag = s3.head_object(Bucket=bucket, Key=stored[digest_of(data)])["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}-\d+"', etag), f"the 18 MiB blob was not assembled from parts: {etag}"
