"""Push a test image (from scan_images layers) through /v2 with an in-process client."""

from __future__ import annotations

import json

import httpx

from scan_images import digest_of, image_config

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


async def push(client: httpx.AsyncClient, layers: list[bytes], repository: str = "proj/app",
               tag: str = "1.0") -> str:
    """Push the config, the gzip layers and an OCI image manifest tagged `tag`; its digest."""
    config = json.dumps(image_config(layers)).encode()
    for blob in (config, *layers):
        response = await client.post(f"/v2/{repository}/blobs/uploads/?digest={digest_of(blob)}", content=blob)
        assert response.status_code == 201, response.text
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest_of(layer),
                    "size": len(layer)} for layer in layers],
    }).encode()
    response = await client.put(f"/v2/{repository}/manifests/{tag}", content=manifest,
                                headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 201, response.text
    return digest_of(manifest)
