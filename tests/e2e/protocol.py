"""Small OCI distribution-spec requests over httpx, for the protocol-level e2e tests."""

from __future__ import annotations

import re
import ssl
from urllib.parse import urljoin

import httpx

from .images import OCI_INDEX, OCI_MANIFEST

DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
ALL_MANIFEST_TYPES = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_V2, DOCKER_MANIFEST_LIST])
TIMEOUT = httpx.Timeout(30.0)
SERVICE = "harbor-registry"  # the `service` of Portside's token challenge (as Harbor's)


def http_client(auth: tuple[str, str] | None = None, *, verify: ssl.SSLContext | bool = True) -> httpx.Client:
    """A client that never follows redirects silently and never waits forever.

    `auth` (a registry's `credentials`) is sent as Basic credentials on every request, which
    Portside accepts directly on /v2 (no token round trip).
    """
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False, auth=auth, verify=verify)


def bearer_token(base_url: str, credentials: tuple[str, str], scope: str, *,
                 verify: ssl.SSLContext | bool = True) -> str:
    """A token for `scope` from the registry's token service, found through the /v2/ challenge."""
    with httpx.Client(timeout=TIMEOUT, verify=verify) as client:
        challenge = client.get(f"{base_url}/v2/")
        assert challenge.status_code == 401, (challenge.status_code, challenge.text)
        params = parse_bearer_challenge(challenge.headers["WWW-Authenticate"])
        response = client.get(params["realm"], params={"service": params["service"], "scope": scope},
                              auth=credentials)
    assert response.status_code == 200, (response.status_code, response.text)
    token: str = response.json()["token"]
    return token


def parse_bearer_challenge(header: str) -> dict[str, str]:
    """The parameters of `Bearer realm="...",service="...",scope="..."`."""
    scheme, _, rest = header.partition(" ")
    assert scheme.lower() == "bearer", header
    return dict(re.findall(r'(\w+)="([^"]*)"', rest))


def absolute(base_url: str, location: str) -> str:
    """Resolve a (possibly relative) Location header against the registry URL."""
    return urljoin(base_url + "/", location)


def start_upload(client: httpx.Client, base_url: str, repository: str) -> str:
    """POST /v2/<name>/blobs/uploads/ and return the absolute upload URL."""
    response = client.post(f"{base_url}/v2/{repository}/blobs/uploads/")
    assert response.status_code == 202, (response.status_code, response.headers, response.text)
    location = response.headers.get("Location")
    assert location, f"202 without Location: {response.headers}"
    return absolute(base_url, location)


def patch_chunk(client: httpx.Client, upload_url: str, data: bytes, start: int) -> httpx.Response:
    """PATCH one chunk with Content-Range `<start>-<end>` (inclusive)."""
    return client.patch(upload_url, content=data, headers={
        "Content-Type": "application/octet-stream",
        "Content-Range": f"{start}-{start + len(data) - 1}",
        "Content-Length": str(len(data)),
    })


def finish_upload(client: httpx.Client, upload_url: str, digest: str, data: bytes = b"") -> httpx.Response:
    """PUT <upload>?digest=<digest> (with an optional final chunk), keeping the Location's own query."""
    url = httpx.URL(upload_url).copy_merge_params({"digest": digest})
    return client.put(url, content=data, headers={"Content-Type": "application/octet-stream"})


def get_manifest(client: httpx.Client, base_url: str, repository: str, reference: str,
                 accept: str = ALL_MANIFEST_TYPES) -> httpx.Response:
    return client.get(f"{base_url}/v2/{repository}/manifests/{reference}", headers={"Accept": accept})
