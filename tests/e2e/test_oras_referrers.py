"""oras-py artifacts and the OCI 1.1 referrers API (`subject`, `OCI-Subject`, `/referrers/<digest>`)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from .images import OCI_INDEX, OCI_MANIFEST
from .images import sha256_digest as digest_of
from .oras_client import FailFastOrasClient
from .protocol import http_client
from .servers import PortsideServer

pytestmark = pytest.mark.e2e

CONFIG_MEDIA_TYPE = "application/vnd.cadc.test.config.v1+json"
CYCLONEDX = "application/vnd.cyclonedx+json"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
TITLE = "org.opencontainers.image.title"


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_oras_artifact_with_referrer(portside: PortsideServer, project: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    nonce = secrets.token_hex(8)
    work = tmp_path / "push"
    work.mkdir()
    monkeypatch.chdir(work)  # oras-py wants pushed paths relative to the working directory
    files = {
        "payload.txt": f"portside e2e payload {nonce}\n".encode(),
        "data.json": json.dumps({"nonce": nonce, "values": list(range(10))}).encode(),
    }
    for name, content in files.items():
        _write(work / name, content)
    _write(work / "config.json", json.dumps({"kind": "e2e", "nonce": nonce}).encode())
    sbom = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": f"urn:uuid:{nonce}",
                       "components": []}).encode()
    _write(work / "sbom.cdx.json", sbom)
    _write(work / "empty.json", b"{}")
    assert digest_of(b"{}") == EMPTY_DIGEST

    repository = f"{project}/artifacts"
    client = FailFastOrasClient(hostname=portside.host, credentials=portside.credentials)
    client.use_repository(repository)

    # 1. An artifact of plain files with a custom config media type and manifest annotations.
    artifact_annotations = {"org.opencontainers.image.description": "e2e artifact",
                            "e2e.portside.nonce": nonce}
    pushed = client.push(
        target=f"{portside.host}/{repository}:v1",
        files=["payload.txt:text/plain", "data.json:application/json"],
        manifest_config=f"config.json:{CONFIG_MEDIA_TYPE}",
        manifest_annotations=artifact_annotations,
        quiet=True,
    )
    assert pushed.status_code == 201, pushed.text
    assert client.get_tags(f"{portside.host}/{repository}") == ["v1"]

    with http_client(portside.credentials) as http:
        head = http.head(f"{portside.url}/v2/{repository}/manifests/v1", headers={"Accept": OCI_MANIFEST})
        assert head.status_code == 200, head.headers
        subject = {
            "mediaType": head.headers["Content-Type"],
            "digest": head.headers["Docker-Content-Digest"],
            "size": int(head.headers["Content-Length"]),
        }
        assert subject["mediaType"] == OCI_MANIFEST
        assert subject["digest"] == pushed.headers["Docker-Content-Digest"] == digest_of(pushed.request.body)
        manifest = client.get_manifest(f"{portside.host}/{repository}:v1")
        assert manifest["config"]["mediaType"] == CONFIG_MEDIA_TYPE
        assert manifest["annotations"] == artifact_annotations

        # 2. An OCI 1.1 artifact manifest (artifactType, empty config) whose subject is the first artifact.
        container = client.get_container(f"{portside.host}/{repository}:sbom")
        empty = {"mediaType": EMPTY_MEDIA_TYPE, "digest": EMPTY_DIGEST, "size": 2}
        layer = {"mediaType": CYCLONEDX, "digest": digest_of(sbom), "size": len(sbom),
                 "annotations": {TITLE: "sbom.cdx.json"}}
        for path, descriptor in ((work / "empty.json", empty), (work / "sbom.cdx.json", layer)):
            uploaded = client.upload_blob(str(path), container, descriptor)
            assert uploaded.status_code in (200, 201), (descriptor["digest"], uploaded.status_code,
                                                        uploaded.text)
        referrer_annotations = {"org.opencontainers.image.created": "2026-11-28T00:00:00Z",
                                "e2e.portside.kind": "sbom"}
        referrer: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": CYCLONEDX,
            "config": empty,
            "layers": [layer],
            "subject": subject,
            "annotations": referrer_annotations,
        }
        put = client.upload_manifest(referrer, container)
        assert put.status_code == 201, put.text
        body = put.request.body
        assert isinstance(body, bytes)
        referrer_digest = digest_of(body)
        assert put.headers["Docker-Content-Digest"] == referrer_digest
        assert put.headers.get("OCI-Subject") == subject["digest"], dict(put.headers)

        # 3. The referrers API lists it, with and without an artifactType filter.
        expected = [{"mediaType": OCI_MANIFEST, "digest": referrer_digest, "size": len(body),
                     "artifactType": CYCLONEDX, "annotations": referrer_annotations}]
        referrers_url = f"{portside.url}/v2/{repository}/referrers/{subject['digest']}"
        listed = http.get(referrers_url)
        assert listed.status_code == 200, listed.text
        assert listed.headers["Content-Type"].split(";")[0] == OCI_INDEX
        index = listed.json()
        assert (index["schemaVersion"], index["mediaType"]) == (2, OCI_INDEX)
        assert index["manifests"] == expected

        filtered = http.get(referrers_url, params={"artifactType": CYCLONEDX})
        assert filtered.status_code == 200, filtered.text
        assert filtered.headers.get("OCI-Filters-Applied") == "artifactType"
        assert filtered.json()["manifests"] == expected

        other = http.get(referrers_url, params={"artifactType": "application/vnd.example.other+json"})
        assert other.status_code == 200, other.text
        assert other.json()["manifests"] == []

    # 4. Both artifacts pull back with oras, byte for byte.
    out = tmp_path / "pulled"
    pulled = client.pull(target=f"{portside.host}/{repository}:v1", outdir=str(out / "v1"))
    assert sorted(Path(path).name for path in pulled) == sorted(files)
    for name, content in files.items():
        assert (out / "v1" / name).read_bytes() == content
    pulled_sbom = client.pull(target=f"{portside.host}/{repository}@{referrer_digest}",
                              outdir=str(out / "sbom"))
    assert [Path(path).name for path in pulled_sbom] == ["sbom.cdx.json"]
    assert (out / "sbom" / "sbom.cdx.json").read_bytes() == sbom
