"""Helpers for the /v2 auth tests (kept apart from factories.py, which another suite owns)."""

from __future__ import annotations

import hashlib
import json

import httpx


def error_code_of(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["code"])


async def push_small_image(client: httpx.AsyncClient, repo: str, tag: str) -> str:
    """Push a one-layer OCI image with `client` and return its manifest digest."""
    blobs = {"layer": f"layer of {repo}".encode(), "config": b"{}"}
    digests = {}
    for name, data in blobs.items():
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        response = await client.post(f"/v2/{repo}/blobs/uploads/?digest={digest}", content=data)
        assert response.status_code == 201, response.text
        digests[name] = digest
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digests["config"], "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digests["layer"],
                    "size": len(blobs["layer"])}],
    }).encode()
    response = await client.put(f"/v2/{repo}/manifests/{tag}", content=manifest,
                                headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert response.status_code == 201, response.text
    return "sha256:" + hashlib.sha256(manifest).hexdigest()
