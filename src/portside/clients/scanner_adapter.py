"""A client of Harbor's Pluggable Scanner Adapter API v1.2 (`<adapter url>/api/v1`).

- `metadata()`: GET /metadata, the adapter's scanner and capabilities (also the "ping").
- `submit(request)`: POST /scan with a ScanRequest; the adapter answers 202 `{id}`.
- `report(id, mime)`: GET /scan/{id}/report once: ready (200) or not yet (302 + Refresh-After).
- `wait_for_report(id, mime)`: poll `report` until it is ready, honouring Refresh-After, bounded
  by a number of polls and a deadline (AdapterTimeout past either).

Authentication follows Harbor's registration `auth` types: `Basic` (the credential
`user:secret` is base64-encoded into `Authorization: Basic …`), `Bearer` (`Authorization: Bearer
<credential>`) and `X-ScannerAdapter-API-Key` (the credential in that header). Every request has
connect/read timeouts; redirects are never followed (302 is the protocol's "not ready").
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

API_PREFIX = "/api/v1"
METADATA_MIMES = ("application/vnd.scanner.adapter.metadata+json; version=1.1",
                  "application/vnd.scanner.adapter.metadata+json; version=1.0")
SCAN_REQUEST_MIME = "application/vnd.scanner.adapter.scan.request+json; version=1.1"
SCAN_RESPONSE_MIME = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
ERROR_MIME = "application/vnd.scanner.adapter.error+json; version=1.0"
AUTH_TYPES = ("", "Basic", "Bearer", "X-ScannerAdapter-API-Key")
API_KEY_HEADER = "X-ScannerAdapter-API-Key"

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
#: Polling bounds of `wait_for_report` (Harbor polls for about as long).
DEFAULT_MAX_POLLS = 360
DEFAULT_MAX_SECONDS = 1800.0
#: Refresh-After values are clamped into this range (a missing or unreadable one means the default).
DEFAULT_REFRESH_SECONDS = 5.0
MAX_REFRESH_SECONDS = 60.0
MAX_BODY_BYTES = 64 * 1024 * 1024  # a report larger than this is refused rather than held in memory

Sleep = Callable[[float], Awaitable[None]]


class AdapterError(Exception):
    """The adapter answered with an error status (or something unreadable). `status` 0: no answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"scanner adapter error {status}: {message}" if status else message)
        self.status = status
        self.message = message


class AdapterTimeout(AdapterError):
    """The report was not ready within the polling bounds."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


@dataclass(frozen=True, slots=True)
class AdapterAuth:
    """How to authenticate to an adapter: a registration's `auth` type and `access_credential`."""

    type: str = ""
    credential: str = ""

    def __post_init__(self) -> None:
        if self.type not in AUTH_TYPES:
            raise ValueError(f"unsupported scanner auth type {self.type[:40]!r}: use one of "
                             f"{', '.join(repr(t) for t in AUTH_TYPES)}")

    def headers(self) -> dict[str, str]:
        if not self.type or not self.credential:
            return {}
        if self.type == "Basic":
            return {"Authorization": "Basic " + base64.b64encode(self.credential.encode()).decode()}
        if self.type == "Bearer":
            return {"Authorization": f"Bearer {self.credential}"}
        return {API_KEY_HEADER: self.credential}


@dataclass(frozen=True, slots=True)
class Capability:
    """One `enabled_capabilities` entry of a scan request."""

    type: str  # vulnerability | sbom
    produces_mime_types: tuple[str, ...] = ()
    sbom_media_types: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {"type": self.type}
        if self.produces_mime_types:
            value["produces_mime_types"] = list(self.produces_mime_types)
        if self.sbom_media_types:
            value["parameters"] = {"sbom_media_types": list(self.sbom_media_types)}
        return value


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """What the adapter needs to pull and scan one artifact from a registry."""

    registry_url: str
    repository: str
    digest: str
    mime_type: str
    tag: str = ""
    registry_authorization: str = ""  # the Authorization header value the adapter sends to the registry
    capabilities: tuple[Capability, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        registry: dict[str, Any] = {"url": self.registry_url}
        if self.registry_authorization:
            registry["authorization"] = self.registry_authorization
        artifact: dict[str, Any] = {"repository": self.repository, "digest": self.digest,
                                    "mime_type": self.mime_type}
        if self.tag:
            artifact["tag"] = self.tag
        value: dict[str, Any] = {"registry": registry, "artifact": artifact}
        if self.capabilities:
            value["enabled_capabilities"] = [capability.to_json() for capability in self.capabilities]
        return value


@dataclass(frozen=True, slots=True)
class ReportPoll:
    """One answer of GET /scan/{id}/report: `ready` with the body, or the seconds to wait."""

    ready: bool
    body: Any = None
    retry_after: float = DEFAULT_REFRESH_SECONDS


def refresh_after(value: str | None) -> float:
    """Seconds from a Refresh-After header (an integer; Harbor's adapters send e.g. "5"),
    clamped to [0, MAX_REFRESH_SECONDS]; the default when absent or unreadable."""
    try:
        seconds = float(value) if value is not None else DEFAULT_REFRESH_SECONDS
    except ValueError:
        return DEFAULT_REFRESH_SECONDS
    if seconds != seconds:  # NaN
        return DEFAULT_REFRESH_SECONDS
    return min(max(seconds, 0.0), MAX_REFRESH_SECONDS)


def _error_message(response: httpx.Response) -> str:
    """The `{"error": {"message"}}` of an adapter error, else the start of the body."""
    try:
        body = response.json()
        message = body.get("error", {}).get("message") if isinstance(body, dict) else None
    except (ValueError, AttributeError):
        message = None
    return str(message or response.text[:500] or response.reason_phrase)


class ScannerAdapterClient:
    """An HTTP client of one adapter; use as `async with ScannerAdapterClient(url, auth) as adapter`."""

    def __init__(self, base_url: str, auth: AdapterAuth = AdapterAuth(), *, verify: bool = True,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT, transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Sleep = asyncio.sleep) -> None:
        self._base = base_url.rstrip("/") + API_PREFIX
        self._auth = auth
        self._sleep = sleep
        self._http = httpx.AsyncClient(timeout=timeout, verify=verify, transport=transport,
                                       follow_redirects=False, headers=auth.headers())

    async def __aenter__(self) -> ScannerAdapterClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, self._base + path, **kwargs)
        except httpx.TimeoutException:
            raise AdapterError(0, f"the scanner adapter at {self._base} did not answer in time") from None
        except httpx.HTTPError as error:
            raise AdapterError(0, f"cannot reach the scanner adapter at {self._base}: {error}") from None
        if len(response.content) > MAX_BODY_BYTES:
            raise AdapterError(response.status_code, f"the answer exceeds {MAX_BODY_BYTES} bytes")
        return response

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise AdapterError(response.status_code, f"the {what} is not JSON") from None

    async def metadata(self) -> dict[str, Any]:
        """The adapter's ScannerAdapterMetadata; raises AdapterError (also for a malformed one)."""
        response = await self._request("GET", "/metadata", headers={"Accept": ", ".join(METADATA_MIMES)})
        if response.status_code != 200:
            raise AdapterError(response.status_code, _error_message(response))
        body = self._json(response, "metadata")
        if not isinstance(body, dict) or not isinstance(body.get("scanner"), dict) \
                or not isinstance(body.get("capabilities"), list):
            raise AdapterError(response.status_code, "the metadata lacks `scanner` or `capabilities`")
        return body

    async def submit(self, request: ScanRequest) -> str:
        """Ask the adapter to scan; the scan request id it returned (202)."""
        response = await self._request("POST", "/scan", content=json.dumps(request.to_json()).encode(),
                                       headers={"Content-Type": SCAN_REQUEST_MIME,
                                                "Accept": f"{SCAN_RESPONSE_MIME}, {ERROR_MIME}"})
        if response.status_code != 202:
            raise AdapterError(response.status_code, _error_message(response))
        body = self._json(response, "scan response")
        if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body["id"]:
            raise AdapterError(response.status_code, "the scan response has no `id`")
        return str(body["id"])

    async def report(self, request_id: str, mime_type: str, *, sbom_media_type: str | None = None) -> ReportPoll:
        """One poll of the report in `mime_type` (an SBOM report also names `sbom_media_type`)."""
        params = {"sbom_media_type": sbom_media_type} if sbom_media_type else None
        response = await self._request("GET", f"/scan/{quote(request_id, safe='')}/report",
                                       headers={"Accept": mime_type}, params=params)
        if response.status_code == 302:
            return ReportPoll(False, retry_after=refresh_after(response.headers.get("Refresh-After")))
        if response.status_code != 200:
            raise AdapterError(response.status_code, _error_message(response))
        try:
            return ReportPoll(True, response.json())
        except ValueError:
            return ReportPoll(True, response.text)  # the `…vuln.report.raw` type may be any text

    async def wait_for_report(self, request_id: str, mime_type: str, *, sbom_media_type: str | None = None,
                              max_polls: int = DEFAULT_MAX_POLLS, max_seconds: float = DEFAULT_MAX_SECONDS) -> Any:
        """Poll until the report is ready and return it. Waits what each Refresh-After says;
        raises AdapterTimeout after `max_polls` answers or when the next wait would pass the
        deadline `max_seconds` from now; AdapterError as soon as the adapter reports an error."""
        deadline = time.monotonic() + max_seconds
        for _ in range(max(1, max_polls)):
            poll = await self.report(request_id, mime_type, sbom_media_type=sbom_media_type)
            if poll.ready:
                return poll.body
            if time.monotonic() + poll.retry_after > deadline:
                break
            await self._sleep(poll.retry_after)
        raise AdapterTimeout(f"the report of scan request {request_id[:80]} was not ready after "
                             f"{max_polls} polls or {max_seconds:g} s")
