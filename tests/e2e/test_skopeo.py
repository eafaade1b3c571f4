"""skopeo 1.9.3 against the registry: push, inspect, list-tags, pull, delete, multi-arch, v2s2, mount."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .images import NOTEBOOK_LABELS, OCI_INDEX, OCI_MANIFEST, PLATFORMS, NotebookImages, OciImageIndex, OciLayout
from .images import sha256_digest as digest_of
from .protocol import DOCKER_MANIFEST_V2, get_manifest, http_client
from .servers import Registry
from .skopeo import ANONYMOUS_DENIED, Skopeo

pytestmark = pytest.mark.e2e

DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def test_skopeo_push_inspect_pull_and_delete(registry: Registry, skopeo: Skopeo,
                                             notebook_images: NotebookImages, project: str,
                                             tmp_path: Path) -> None:
    skopeo = skopeo.logged_in(registry)  # --creds for Portside, none for docker-registry
    image = notebook_images.normalised
    repo = f"{registry.host}/{project}/notebook"

    skopeo.copy(image.oci_ref, f"docker://{repo}:1.0", "--preserve-digests")
    if registry.credentials is not None:  # Portside: the project the push created is private
        denied = skopeo.anonymous_pull_fails(f"docker://{repo}:1.0", f"oci:{tmp_path / 'anonymous'}:1.0")
        assert ANONYMOUS_DENIED in denied, denied

    info = skopeo.inspect(f"docker://{repo}:1.0")
    assert info["Digest"] == image.manifest_digest
    assert info["Labels"]["ca.nrc.cadc.skaha.type"] == "notebook"
    assert info["Labels"] == NOTEBOOK_LABELS
    assert info["Layers"] == list(image.layer_digests)
    assert (info["Os"], info["Architecture"]) == ("linux", "amd64")

    assert skopeo.inspect_raw(f"docker://{repo}:1.0") == image.manifest_bytes
    assert skopeo.inspect_raw(f"docker://{repo}@{image.manifest_digest}") == image.manifest_bytes

    config_raw = skopeo.inspect_config_raw(f"docker://{repo}:1.0")
    assert config_raw == image.blob(image.config_digest)
    config = skopeo.inspect(f"docker://{repo}:1.0", "--config")
    assert config["config"]["Labels"] == NOTEBOOK_LABELS
    assert config["config"]["WorkingDir"] == "/opt"

    # A second tag on a manifest of its own (same layers, one extra annotation), so deleting it
    # by tag (skopeo resolves the tag and deletes the digest) leaves 1.0 alone.
    variant = notebook_images.annotated
    assert variant.manifest_digest != image.manifest_digest
    skopeo.copy(variant.oci_ref, f"docker://{repo}:delete-me", "--preserve-digests")
    assert sorted(skopeo.list_tags(f"docker://{repo}")) == ["1.0", "delete-me"]

    pulled = OciLayout(tmp_path / "pulled")
    skopeo.copy(f"docker://{repo}:1.0", f"oci:{pulled.path}:1.0", "--preserve-digests")
    assert pulled.descriptor("1.0")["digest"] == image.manifest_digest
    assert pulled.read_blob(image.manifest_digest) == image.manifest_bytes
    assert pulled.read_blob(image.config_digest) == image.blob(image.config_digest)
    for layer in image.layer_digests:
        assert pulled.read_blob(layer) == image.blob(layer), f"layer {layer} differs after the round trip"

    skopeo.delete(f"docker://{repo}:delete-me")
    assert "manifest unknown" in skopeo.inspect_fails(f"docker://{repo}:delete-me")
    assert "manifest unknown" in skopeo.inspect_fails(f"docker://{repo}@{variant.manifest_digest}")
    assert skopeo.list_tags(f"docker://{repo}") == ["1.0"]
    assert skopeo.inspect(f"docker://{repo}:1.0")["Digest"] == image.manifest_digest


def test_skopeo_push_of_umoci_manifest_without_media_type(registry: Registry, skopeo: Skopeo,
                                                          notebook_images: NotebookImages,
                                                          project: str) -> None:
    skopeo = skopeo.logged_in(registry)  # --creds for Portside, none for docker-registry
    image = notebook_images.raw
    assert "mediaType" not in image.manifest
    repo_path = f"{project}/notebook-nomt"
    ref = f"docker://{registry.host}/{repo_path}:nomt"

    skopeo.copy(image.oci_ref, ref, "--preserve-digests")

    raw = skopeo.inspect_raw(ref)
    assert raw == image.manifest_bytes
    assert "mediaType" not in json.loads(raw)
    info = skopeo.inspect(ref)
    assert info["Digest"] == image.manifest_digest
    assert info["Labels"] == NOTEBOOK_LABELS

    with http_client(registry.credentials) as client:
        response = get_manifest(client, registry.url, repo_path, "nomt")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == OCI_MANIFEST
    assert response.headers["Docker-Content-Digest"] == image.manifest_digest
    assert response.content == image.manifest_bytes


def test_skopeo_multi_arch_index(registry: Registry, skopeo: Skopeo, multi_arch_index: OciImageIndex,
                                 project: str, tmp_path: Path) -> None:
    skopeo = skopeo.logged_in(registry)  # --creds for Portside, none for docker-registry
    index = multi_arch_index
    repo = f"{registry.host}/{project}/multi"

    skopeo.copy(index.oci_ref, f"docker://{repo}:1.0", "--all", "--preserve-digests")

    raw = skopeo.inspect_raw(f"docker://{repo}:1.0")
    assert raw == index.raw
    parsed = json.loads(raw)
    assert parsed["mediaType"] == OCI_INDEX
    assert [entry["platform"] for entry in parsed["manifests"]] == list(PLATFORMS.values())

    for arch, child in index.children.items():
        info = skopeo.inspect(f"docker://{repo}:1.0", "--override-arch", arch)
        assert info["Architecture"] == arch
        assert info["Digest"] == index.digest
        assert info["Labels"]["e2e.portside.arch"] == arch
        assert info["Layers"] == list(child.layer_digests)
        assert skopeo.inspect_raw(f"docker://{repo}@{child.manifest_digest}") == child.manifest_bytes

    pulled = OciLayout(tmp_path / "pulled-multi")
    skopeo.copy(f"docker://{repo}:1.0", f"oci:{pulled.path}:1.0", "--all", "--preserve-digests")
    descriptor = pulled.descriptor("1.0")
    assert (descriptor["mediaType"], descriptor["digest"]) == (OCI_INDEX, index.digest)
    assert pulled.read_blob(index.digest) == index.raw
    for child in index.children.values():
        assert pulled.read_blob(child.manifest_digest) == child.manifest_bytes
        for digest in (child.config_digest, *child.layer_digests):
            assert pulled.read_blob(digest) == child.blob(digest)


def test_skopeo_push_as_docker_schema2(registry: Registry, skopeo: Skopeo, notebook_images: NotebookImages,
                                       project: str) -> None:
    skopeo = skopeo.logged_in(registry)  # --creds for Portside, none for docker-registry
    image = notebook_images.normalised
    repo_path = f"{project}/notebook-v2s2"
    ref = f"docker://{registry.host}/{repo_path}:1.0"

    skopeo.copy(image.oci_ref, ref, "--format", "v2s2")

    raw = skopeo.inspect_raw(ref)
    manifest = json.loads(raw)
    assert manifest["mediaType"] == DOCKER_MANIFEST_V2
    assert manifest["config"]["mediaType"] == DOCKER_CONFIG
    assert manifest["config"]["digest"] == image.config_digest
    assert [layer["mediaType"] for layer in manifest["layers"]] == [DOCKER_LAYER] * len(image.layer_digests)
    assert [layer["digest"] for layer in manifest["layers"]] == list(image.layer_digests)

    info = skopeo.inspect(ref)
    assert info["Digest"] == digest_of(raw)
    assert info["Labels"] == NOTEBOOK_LABELS

    with http_client(registry.credentials) as client:
        response = get_manifest(client, registry.url, repo_path, "1.0", accept=DOCKER_MANIFEST_V2)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == DOCKER_MANIFEST_V2
    assert response.headers["Docker-Content-Digest"] == digest_of(raw)
    assert response.content == raw


def test_skopeo_cross_repository_copy_mounts_layers(registry: Registry, skopeo: Skopeo,
                                                    notebook_images: NotebookImages, project: str) -> None:
    skopeo = skopeo.logged_in(registry)  # --creds for Portside, none for docker-registry
    image = notebook_images.normalised
    source = f"docker://{registry.host}/{project}/source:1.0"
    target_path = f"{project}/copied"
    skopeo.copy(image.oci_ref, source, "--preserve-digests")

    target = f"docker://{registry.host}/{target_path}:copied"
    result = skopeo.copy(source, target, "--preserve-digests", debug=True)

    log = result.stderr.decode(errors="replace")
    for layer in image.layer_digests:
        mount_query = f"mount=sha256%3A{layer.removeprefix('sha256:')}"
        assert mount_query in log, f"skopeo did not try to mount {layer}"
    assert log.count("... mount OK") == len(image.layer_digests), "the registry did not accept every mount"
    assert skopeo.inspect_raw(target) == image.manifest_bytes

    with http_client(registry.credentials) as client:
        for layer in image.layer_digests:
            response = client.get(f"{registry.url}/v2/{target_path}/blobs/{layer}", follow_redirects=True)
            assert response.status_code == 200, (layer, response.status_code, response.text)
            assert response.content == image.blob(layer)
            assert response.headers["Docker-Content-Digest"] == layer
