"""The scanner adapter client against a fake v1.2 adapter served over real HTTP (uvicorn on
127.0.0.1, see adapter_support): metadata, scan requests, polling with 302 + Refresh-After,
its bounds, authentication and errors."""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from adapter_support import FAKE_REPORT, REPORT_MIME, FakeAdapter, serving
from portside.clients.scanner_adapter import (
    SCAN_REQUEST_MIME,
    AdapterAuth,
    AdapterError,
    AdapterTimeout,
    Capability,
    ScannerAdapterClient,
    ScanRequest,
    refresh_after,
)

REQUEST = ScanRequest(registry_url="https://registry.example.org", repository="library/app",
                      digest="sha256:" + "a" * 64, tag="1.0",
                      mime_type="application/vnd.docker.distribution.manifest.v2+json",
                      registry_authorization="Basic cm9ib3Q6c2VjcmV0",
                      capabilities=(Capability("vulnerability", (REPORT_MIME,)),))


class RecordedSleep:
    """Records the waits the client asks for, without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def test_metadata_returns_the_adapters_scanner() -> None:
    adapter = FakeAdapter()
    async with serving(adapter.app) as url, ScannerAdapterClient(url) as client:
        metadata = await client.metadata()
    assert metadata["scanner"] == {"name": "Fake", "vendor": "Tests", "version": "1.0"}
    assert "application/vnd.scanner.adapter.metadata+json; version=1.1" in adapter.headers_seen[0]["accept"]


@pytest.mark.parametrize(("auth", "header", "value"), [
    (AdapterAuth("Basic", "harbor:s3cret"), "authorization", "Basic " + base64.b64encode(b"harbor:s3cret").decode()),
    (AdapterAuth("Bearer", "token-123"), "authorization", "Bearer token-123"),
    (AdapterAuth("X-ScannerAdapter-API-Key", "key-456"), "x-scanneradapter-api-key", "key-456"),
])
async def test_each_auth_type_sends_its_header(auth: AdapterAuth, header: str, value: str) -> None:
    adapter = FakeAdapter(expected_headers={header: value})
    async with serving(adapter.app) as url, ScannerAdapterClient(url, auth) as client:
        metadata = await client.metadata()
    assert metadata["scanner"]["name"] == "Fake"


async def test_wrong_credentials_raise_the_adapters_401() -> None:
    adapter = FakeAdapter(expected_headers={"authorization": "Bearer right"})
    async with serving(adapter.app) as url, ScannerAdapterClient(url, AdapterAuth("Bearer", "wrong")) as client:
        with pytest.raises(AdapterError) as raised:
            await client.metadata()
    assert (raised.value.status, raised.value.message) == (401, "unauthorized")


def test_an_unknown_auth_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported scanner auth type"):
        AdapterAuth("Digest", "x")


async def test_submit_posts_the_scan_request_and_returns_its_id() -> None:
    adapter = FakeAdapter()
    async with serving(adapter.app) as url, ScannerAdapterClient(url) as client:
        request_id = await client.submit(REQUEST)
    assert request_id == "req-1"
    assert adapter.received == [{"content_type": SCAN_REQUEST_MIME, "body": {
        "registry": {"url": "https://registry.example.org", "authorization": "Basic cm9ib3Q6c2VjcmV0"},
        "artifact": {"repository": "library/app", "digest": "sha256:" + "a" * 64, "tag": "1.0",
                     "mime_type": "application/vnd.docker.distribution.manifest.v2+json"},
        "enabled_capabilities": [{"type": "vulnerability", "produces_mime_types": [REPORT_MIME]}]}}]


async def test_waiting_honours_refresh_after_until_the_report_is_ready() -> None:
    adapter = FakeAdapter(pending_polls=2, refresh_after="3")
    sleep = RecordedSleep()
    async with serving(adapter.app) as url, ScannerAdapterClient(url, sleep=sleep) as client:
        request_id = await client.submit(REQUEST)
        report = await client.wait_for_report(request_id, REPORT_MIME)
    assert report == FAKE_REPORT
    assert sleep.delays == [3.0, 3.0]
    assert [seen.headers["accept"] for seen in adapter.report_requests] == [REPORT_MIME] * 3


async def test_waiting_stops_after_the_maximum_number_of_polls() -> None:
    adapter = FakeAdapter(never_ready=True, refresh_after="1")
    sleep = RecordedSleep()
    async with serving(adapter.app) as url, ScannerAdapterClient(url, sleep=sleep) as client:
        request_id = await client.submit(REQUEST)
        with pytest.raises(AdapterTimeout, match="not ready after 3 polls"):
            await client.wait_for_report(request_id, REPORT_MIME, max_polls=3)
    assert len(adapter.report_requests) == 3


async def test_waiting_stops_when_the_next_wait_would_pass_the_deadline() -> None:
    adapter = FakeAdapter(never_ready=True, refresh_after="30")
    started = time.monotonic()
    async with serving(adapter.app) as url, ScannerAdapterClient(url) as client:
        request_id = await client.submit(REQUEST)
        with pytest.raises(AdapterTimeout):
            await client.wait_for_report(request_id, REPORT_MIME, max_seconds=2.0)
    assert len(adapter.report_requests) == 1
    assert time.monotonic() - started < 2.0


async def test_an_unknown_scan_request_is_the_adapters_404() -> None:
    adapter = FakeAdapter()
    async with serving(adapter.app) as url, ScannerAdapterClient(url) as client:
        with pytest.raises(AdapterError) as raised:
            await client.report("req-99", REPORT_MIME)
    assert (raised.value.status, raised.value.message) == (404, "scan request req-99 not found")


async def test_a_slow_adapter_fails_at_the_read_timeout() -> None:
    adapter = FakeAdapter(delay_seconds=1.5)
    started = time.monotonic()
    async with serving(adapter.app) as url, \
            ScannerAdapterClient(url, timeout=httpx.Timeout(0.3, connect=1.0)) as client:
        with pytest.raises(AdapterError, match="did not answer in time"):
            await client.metadata()
        assert time.monotonic() - started < 1.2


async def test_an_unreachable_adapter_is_an_adapter_error() -> None:
    async with ScannerAdapterClient("http://127.0.0.1:9") as client:
        with pytest.raises(AdapterError, match="cannot reach the scanner adapter"):
            await client.metadata()


@pytest.mark.parametrize(("header", "seconds"), [("5", 5.0), (None, 5.0), ("soon", 5.0), ("-3", 0.0),
                                                 ("9999", 60.0), ("2", 2.0)])
def test_refresh_after_is_read_as_bounded_seconds(header: str | None, seconds: float) -> None:
    assert refresh_after(header) == seconds
