"""Blob uploads over plain HTTP (httpx): chunked PATCHes, out-of-order chunks, resume after a
restart, and concurrent pushes of one blob."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .images import sha256_digest as digest_of
from .protocol import absolute, finish_upload, http_client, patch_chunk, start_upload
from .servers import PortsideServer, Registry

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def _assert_upload_at(client: httpx.Client, upload_url: str, size: int) -> None:
    """GET on the upload URL reports 204 and `Range: 0-<size-1>`."""
    status = client.get(upload_url)
    assert status.status_code == 204, (status.status_code, status.text)
    assert status.headers["Range"] == f"0-{size - 1}"


def _patched(base_url: str, response: httpx.Response, size: int) -> str:
    """Check a PATCH answer (202, Range) and return the next upload URL."""
    assert response.status_code == 202, (response.status_code, response.text)
    assert response.headers["Range"] == f"0-{size - 1}"
    return absolute(base_url, response.headers["Location"])


def _assert_blob(client: httpx.Client, base_url: str, repository: str, data: bytes) -> None:
    url = f"{base_url}/v2/{repository}/blobs/{digest_of(data)}"
    head = client.head(url)
    assert head.status_code == 200, head.status_code
    assert int(head.headers["Content-Length"]) == len(data)
    assert head.headers["Docker-Content-Digest"] == digest_of(data)
    got = client.get(url, follow_redirects=True)
    assert got.status_code == 200, got.status_code
    assert got.content == data


def test_chunked_upload_in_three_patches(registry: Registry, project: str) -> None:
    repository = f"{project}/chunked"
    data = os.urandom(300_000 + 4321)
    chunks = [data[:100_000], data[100_000:250_000], data[250_000:]]
    with http_client(registry.credentials) as client:
        url = start_upload(client, registry.url, repository)
        offset = 0
        for chunk in chunks:
            response = patch_chunk(client, url, chunk, offset)
            offset += len(chunk)
            url = _patched(registry.url, response, offset)
            _assert_upload_at(client, url, offset)
        assert offset == len(data)

        done = finish_upload(client, url, digest_of(data))
        assert done.status_code == 201, (done.status_code, done.text)
        assert done.headers["Docker-Content-Digest"] == digest_of(data)
        assert absolute(registry.url, done.headers["Location"]).endswith(
            f"/v2/{repository}/blobs/{digest_of(data)}")
        _assert_blob(client, registry.url, repository, data)


def test_out_of_order_chunk_is_rejected_with_416(portside: PortsideServer, project: str) -> None:
    # Portside only: docker-registry 2.8.2 ignores Content-Range and answers this gap with 202.
    registry = portside
    repository = f"{project}/out-of-order"
    data = os.urandom(3000)
    with http_client(registry.credentials) as client:
        url = start_upload(client, registry.url, repository)
        url = _patched(registry.url, patch_chunk(client, url, data[:1000], 0), 1000)

        gap = patch_chunk(client, url, data[2000:], 2000)
        assert gap.status_code == 416, (gap.status_code, gap.text)

        # The upload is still at 0-999 and continues from there.
        _assert_upload_at(client, url, 1000)
        url = _patched(registry.url, patch_chunk(client, url, data[1000:], 1000), 3000)
        done = finish_upload(client, url, digest_of(data))
        assert done.status_code == 201, (done.status_code, done.text)
        _assert_blob(client, registry.url, repository, data)


def test_upload_resumes_after_server_restart(portside: PortsideServer, project: str) -> None:
    repository = f"{project}/resume"
    data = os.urandom(MiB + 12345)
    first, second = data[: MiB // 2], data[MiB // 2:]
    with http_client(portside.credentials) as client:
        url = start_upload(client, portside.url, repository)
        url = _patched(portside.url, patch_chunk(client, url, first, 0), len(first))

    portside.stop()
    portside.start()

    with http_client(portside.credentials) as client:
        _assert_upload_at(client, url, len(first))
        url = _patched(portside.url, patch_chunk(client, url, second, len(first)), len(data))
        done = finish_upload(client, url, digest_of(data))
        assert done.status_code == 201, (done.status_code, done.text)
        assert done.headers["Docker-Content-Digest"] == digest_of(data)
        _assert_blob(client, portside.url, repository, data)


def test_concurrent_pushes_of_one_blob_store_one_copy(portside: PortsideServer, project: str) -> None:
    repository = f"{project}/concurrent"
    clients = 8
    data = os.urandom(5 * MiB)
    digest = digest_of(data)
    ready = threading.Barrier(clients, timeout=30)

    def push(_: int) -> tuple[int, str]:
        with http_client(portside.credentials) as client:
            try:
                url = start_upload(client, portside.url, repository)
            except BaseException:
                ready.abort()  # release the other threads at once
                raise
            ready.wait()  # every upload session exists before the first byte moves
            url = _patched(portside.url, patch_chunk(client, url, data, 0), len(data))
            done = finish_upload(client, url, digest)
            return done.status_code, done.headers.get("Docker-Content-Digest", done.text)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = [future.result(timeout=90) for future in [pool.submit(push, n) for n in range(clients)]]

    assert results == [(201, digest)] * clients
    copies = [path for path in portside.blob_files() if path.stat().st_size == len(data)]
    assert len(copies) == 1, f"expected one stored copy of {digest}, found {copies}"
    with http_client(portside.credentials) as client:
        _assert_blob(client, portside.url, repository, data)
