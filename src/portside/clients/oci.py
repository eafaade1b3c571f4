"""A small OCI Distribution pull client: manifests and blobs, bounded and verified.

- `manifest(repository, reference)`: GET /v2/<repository>/manifests/<reference>, at most 4 MiB; a
  digest reference is checked against the bytes.
- `blob_to_file(repository, digest, path)`: streams the blob into `path` while hashing it, stops
  past `max_blob_bytes`, and removes the file unless the digest matches.

Authentication: the caller's `authorization` header value (`Basic …` or `Bearer …`) is sent as
is. A registry that answers 401 with a `Bearer realm=…` challenge gets the token flow: the
client asks the realm for a pull token (sending the same Basic credentials) and retries once
with it. The realm must be on the registry's own host (no credentials to third parties).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import anyio
import httpx

from portside.domain import media_types as mt

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_BLOB_BYTES = 8 * 1024 * 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
CHUNK = 1024 * 1024
ACCEPT_MANIFESTS = ", ".join([mt.OCI_MANIFEST, mt.DOCKER_MANIFEST, mt.OCI_INDEX, mt.DOCKER_MANIFEST_LIST])
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class PullError(Exception):
    """The registry refused, failed, or sent something wrong (size, digest, type)."""


@dataclass(frozen=True, slots=True)
class PulledManifest:
    media_type: str
    content: bytes
    digest: str


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryPullClient:
    """Pulls from one registry; use as `async with RegistryPullClient(url, authorization) as registry`."""

    def __init__(self, base_url: str, authorization: str = "", *, verify: bool = True,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT, transport: httpx.AsyncBaseTransport | None = None,
                 max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PullError(f"the registry url {base_url[:200]!r} is not an http(s) URL")
        self._base = f"{parts.scheme}://{parts.netloc}"
        self._host = parts.netloc
        self._authorization = authorization
        self._max_blob_bytes = max_blob_bytes
        self._http = httpx.AsyncClient(timeout=timeout, verify=verify, transport=transport, follow_redirects=True)
        self._tokens: dict[str, str] = {}  # repository -> bearer token from the token flow

    async def __aenter__(self) -> RegistryPullClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self._http.aclose()

    def _headers(self, repository: str, accept: str | None = None) -> dict[str, str]:
        headers = {"Accept": accept} if accept else {}
        token = self._tokens.get(repository)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif self._authorization:
            headers["Authorization"] = self._authorization
        return headers

    async def _token(self, repository: str, challenge: str) -> bool:
        """Get a pull token for `repository` from the challenge's realm; False if there is none."""
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() != "bearer" or repository in self._tokens:
            return False
        values = dict(_CHALLENGE_PARAM.findall(params))
        realm = values.get("realm", "")
        if urlsplit(realm).netloc != self._host:
            raise PullError(f"the registry's token realm {realm[:200]!r} is not on {self._host}")
        query = {"scope": f"repository:{repository}:pull"}
        if values.get("service"):
            query["service"] = values["service"]
        headers = {"Authorization": self._authorization} if self._authorization.lower().startswith("basic ") else {}
        response = await self._http.get(realm, params=query, headers=headers)
        if response.status_code != 200:
            raise PullError(f"the token service refused a pull token for {repository}: {response.status_code}")
        body = response.json()
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise PullError("the token service answered without a token")
        self._tokens[repository] = str(token)
        return True

    async def _send(self, repository: str, path: str, accept: str | None = None) -> httpx.Response:
        """GET with auth, doing the token flow once on a Bearer challenge; the response is streamed."""
        url = f"{self._base}/v2/{repository}/{path}"
        for _ in range(2):
            request = self._http.build_request("GET", url, headers=self._headers(repository, accept))
            try:
                response = await self._http.send(request, stream=True)
            except httpx.HTTPError as error:
                raise PullError(f"cannot reach the registry {self._base}: {error}") from None
            if response.status_code == 401 and await self._token(repository,
                                                                 response.headers.get("www-authenticate", "")):
                await response.aclose()
                continue
            if response.status_code != 200:
                text = (await response.aread())[:300].decode(errors="replace")
                await response.aclose()
                raise PullError(f"GET {path} from {repository}: {response.status_code} {text}")
            return response
        raise PullError(f"GET {path} from {repository}: unauthorized")

    async def manifest(self, repository: str, reference: str) -> PulledManifest:
        """The manifest a tag or digest names; raises PullError."""
        response = await self._send(repository, f"manifests/{reference}", ACCEPT_MANIFESTS)
        try:
            content = await _read_bounded(response, MAX_MANIFEST_BYTES, "manifest")
        finally:
            await response.aclose()
        digest = _sha256(content)
        if reference.startswith("sha256:") and digest != reference:
            raise PullError(f"the manifest's digest is {digest}, not {reference}")
        return PulledManifest(mt.base_type(response.headers.get("content-type")), content, digest)

    async def blob_to_file(self, repository: str, digest: str, path: Path) -> int:
        """Stream blob `digest` (sha256 only) into `path`; its size. Raises PullError (and leaves
        no file) when it is too large or its bytes do not match the digest."""
        if not digest.startswith("sha256:"):
            raise PullError(f"unsupported digest {digest[:80]!r}: only sha256 blobs are pulled")
        response = await self._send(repository, f"blobs/{digest}")
        hasher = hashlib.sha256()
        size = 0
        try:
            async with await anyio.open_file(path, "wb") as handle:
                async for chunk in response.aiter_bytes(CHUNK):
                    size += len(chunk)
                    if size > self._max_blob_bytes:
                        raise PullError(f"blob {digest} exceeds {self._max_blob_bytes} bytes")
                    hasher.update(chunk)
                    await handle.write(chunk)
            if "sha256:" + hasher.hexdigest() != digest:
                raise PullError(f"blob {digest} does not match its digest")
        except BaseException:
            await anyio.Path(path).unlink(missing_ok=True)
            raise
        finally:
            await response.aclose()
        return size


async def _read_bounded(response: httpx.Response, limit: int, what: str) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes(CHUNK):
        size += len(chunk)
        if size > limit:
            raise PullError(f"the {what} exceeds {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)
