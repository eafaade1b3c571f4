"""A first push and pull through the in-process app."""

from __future__ import annotations

import hashlib
import json

import httpx


async def test_push_then_pull_round_trip(client: httpx.AsyncClient) -> None:
    data = b"layer bytes"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    created = await client.post(f"/v2/proj/app/blobs/uploads/?digest={digest}", content=data)
    assert created.status_code == 201, created.text
    config = b"{}"
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    assert (await client.post(f"/v2/proj/app/blobs/uploads/?digest={config_digest}", content=config)).status_code == 201
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": len(data)}],
    }).encode()
    put = await client.put("/v2/proj/app/manifests/v1", content=manifest,
                           headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert put.status_code == 201, put.text
    got = await client.get("/v2/proj/app/manifests/v1")
    assert got.content == manifest
    assert got.headers["docker-content-digest"] == "sha256:" + hashlib.sha256(manifest).hexdigest()
    blob = await client.get(f"/v2/proj/app/blobs/{digest}")
    assert blob.content == data
