"""The same image pushed by skopeo to docker-registry 2.8.2 and to Portside reads back identically."""

from __future__ import annotations

from pathlib import Path

import pytest

from .images import NotebookImages
from .images import sha256_digest as digest_of
from .servers import PortsideServer, ReferenceRegistry
from .skopeo import ANONYMOUS_DENIED, Skopeo

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("format_flags", [(), ("--format", "v2s2")], ids=["oci", "v2s2"])
def test_same_push_gives_same_manifest_as_reference_registry(
        portside: PortsideServer, reference_registry: ReferenceRegistry, skopeo: Skopeo,
        notebook_images: NotebookImages, project: str, format_flags: tuple[str, ...], tmp_path: Path) -> None:
    skopeo = skopeo.logged_in(portside, reference_registry)  # --creds for Portside only
    image = notebook_images.normalised
    refs = {
        "docker-registry": f"docker://{reference_registry.host}/{project}/parity:1.0",
        "portside": f"docker://{portside.host}/{project}/parity:1.0",
    }
    for ref in refs.values():
        skopeo.copy(image.oci_ref, ref, *format_flags)

    raw = {name: skopeo.inspect_raw(ref) for name, ref in refs.items()}
    assert raw["portside"] == raw["docker-registry"]
    assert digest_of(raw["portside"]) == digest_of(raw["docker-registry"])
    if not format_flags:
        assert raw["portside"] == image.manifest_bytes
        assert digest_of(raw["portside"]) == image.manifest_digest

    digests = {name: skopeo.inspect(ref)["Digest"] for name, ref in refs.items()}
    assert digests["portside"] == digests["docker-registry"] == digest_of(raw["docker-registry"])

    # The difference: Portside's new project is private, docker-registry has no access control.
    denied = skopeo.anonymous_pull_fails(refs["portside"], f"oci:{tmp_path / 'anonymous'}:1.0")
    assert ANONYMOUS_DENIED in denied, denied
    skopeo.copy(refs["docker-registry"], f"oci:{tmp_path / 'anonymous-reference'}:1.0", "--src-no-creds")
