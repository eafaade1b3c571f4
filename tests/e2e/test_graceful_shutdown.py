"""SIGTERM during a streaming upload: the request in flight completes, then Portside exits 0."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from .images import sha256_digest as digest_of
from .protocol import absolute, finish_upload, http_client, start_upload
from .servers import PortsideServer

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def test_sigterm_lets_the_upload_in_flight_finish(portside: PortsideServer, project: str) -> None:
    repository = f"{project}/graceful"
    first, second = os.urandom(2 * MiB), os.urandom(2 * MiB)
    data = first + second
    first_sent = threading.Event()
    outcome: dict[str, httpx.Response | BaseException] = {}

    def body() -> Iterator[bytes]:
        yield first
        first_sent.set()
        time.sleep(1.5)  # SIGTERM arrives during this pause
        yield second

    with http_client(portside.credentials) as client:
        url = start_upload(client, portside.url, repository)

        def stream() -> None:
            try:
                outcome["response"] = client.patch(url, content=body(),
                                                   headers={"Content-Type": "application/octet-stream"})
            except BaseException as exc:  # reported by the main thread
                outcome["response"] = exc

        sender = threading.Thread(target=stream, daemon=True)
        sender.start()
        assert first_sent.wait(timeout=10), "the first 2 MiB were never sent"
        time.sleep(0.3)
        portside.send_signal(signal.SIGTERM)
        sender.join(timeout=30)
        assert not sender.is_alive(), "the streaming PATCH did not finish within 30 s"

    response = outcome["response"]
    assert isinstance(response, httpx.Response), f"the in-flight PATCH failed: {response!r}"
    assert response.status_code == 202, (response.status_code, response.text)
    assert response.headers["Range"] == f"0-{len(data) - 1}"
    assert portside.wait(timeout=15) == 0

    # The bytes that arrived during shutdown were kept: the upload finishes after a restart.
    portside.start()
    with http_client(portside.credentials) as client:
        url = absolute(portside.url, response.headers["Location"])
        status = client.get(url)
        assert (status.status_code, status.headers.get("Range")) == (204, f"0-{len(data) - 1}")
        done = finish_upload(client, url, digest_of(data))
        assert done.status_code == 201, (done.status_code, done.text)
        blob = client.get(f"{portside.url}/v2/{repository}/blobs/{digest_of(data)}", follow_redirects=True)
        assert blob.status_code == 200
        assert blob.content == data
