"""Building OCI image layouts with umoci (no container engine), as clients.md §3 describes.

umoci writes manifests without a top-level `mediaType`; `normalise_manifest` adds the field
(the jq step of clients.md, in Python) and the raw umoci manifest is kept under its own tag
as the edge case. Every build writes a random nonce into the layers, so the digests of one
session never collide with another session's (the PostgreSQL suite shares one database).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import secrets
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .commands import run_command

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
REF_NAME = "org.opencontainers.image.ref.name"

NOTEBOOK_LABELS: dict[str, str] = {
    "ca.nrc.cadc.skaha.type": "notebook",
    "org.opencontainers.image.title": "Portside e2e notebook",
}


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class OciLayout:
    """Read and write an OCI image layout directory (index.json + blobs/)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def blob_path(self, digest: str) -> Path:
        algorithm, hex_ = digest.split(":", 1)
        return self.path / "blobs" / algorithm / hex_

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def write_blob(self, data: bytes) -> str:
        digest = sha256_digest(data)
        target = self.blob_path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return digest

    def read_index(self) -> dict[str, Any]:
        index: dict[str, Any] = json.loads((self.path / "index.json").read_text())
        return index

    def descriptor(self, ref: str) -> dict[str, Any]:
        """The index.json descriptor tagged `ref`."""
        for entry in self.read_index().get("manifests", []):
            if (entry.get("annotations") or {}).get(REF_NAME) == ref:
                found: dict[str, Any] = entry
                return found
        raise KeyError(f"{ref!r} not in {self.path}/index.json")

    def tag(self, ref: str, media_type: str, data: bytes) -> dict[str, Any]:
        """Store `data` as a blob and point `ref` at it (replacing any previous entry for `ref`)."""
        digest = self.write_blob(data)
        descriptor: dict[str, Any] = {
            "mediaType": media_type, "digest": digest, "size": len(data), "annotations": {REF_NAME: ref},
        }
        index = self.read_index()
        index["manifests"] = [
            entry for entry in index.get("manifests", [])
            if (entry.get("annotations") or {}).get(REF_NAME) != ref
        ] + [descriptor]
        (self.path / "index.json").write_text(json.dumps(index, separators=(",", ":")))
        return descriptor


@dataclass(frozen=True)
class OciImage:
    """One image manifest in a layout, with the facts the tests compare against."""

    layout: OciLayout
    ref: str
    manifest_digest: str
    manifest_bytes: bytes
    config_digest: str
    layer_digests: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def oci_ref(self) -> str:
        """The skopeo source reference, `oci:<layout>:<tag>`."""
        return f"oci:{self.layout.path}:{self.ref}"

    @property
    def manifest(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.manifest_bytes)
        return parsed

    def blob(self, digest: str) -> bytes:
        return self.layout.read_blob(digest)


@dataclass(frozen=True)
class OciImageIndex:
    """A multi-arch image index in a layout and its per-architecture children."""

    layout: OciLayout
    ref: str
    digest: str
    raw: bytes
    children: dict[str, OciImage]

    @property
    def oci_ref(self) -> str:
        return f"oci:{self.layout.path}:{self.ref}"


@dataclass(frozen=True)
class NotebookImages:
    """The single-arch notebook image in three manifest variants over the same config and layers."""

    normalised: OciImage  # umoci output plus top-level mediaType (tag `latest`)
    raw: OciImage  # the untouched umoci manifest, no mediaType (tag `nomt`)
    annotated: OciImage  # normalised plus a manifest annotation: a second, distinct digest (tag `variant`)


def image_from_layout(layout: OciLayout, ref: str) -> OciImage:
    descriptor = layout.descriptor(ref)
    manifest_bytes = layout.read_blob(descriptor["digest"])
    manifest = json.loads(manifest_bytes)
    config = json.loads(layout.read_blob(manifest["config"]["digest"]))
    return OciImage(
        layout=layout,
        ref=ref,
        manifest_digest=descriptor["digest"],
        manifest_bytes=manifest_bytes,
        config_digest=manifest["config"]["digest"],
        layer_digests=tuple(layer["digest"] for layer in manifest["layers"]),
        labels=dict((config.get("config") or {}).get("Labels") or {}),
    )


def normalise_manifest(raw: bytes, extra: dict[str, Any] | None = None) -> bytes:
    """The umoci manifest with `mediaType` added after `schemaVersion` (and optional extra fields)."""
    manifest = json.loads(raw)
    rest = {key: value for key, value in manifest.items() if key not in ("schemaVersion", "mediaType")}
    normalised = {"schemaVersion": manifest["schemaVersion"], "mediaType": OCI_MANIFEST,
                  **rest, **(extra or {})}
    return json.dumps(normalised, separators=(",", ":")).encode()


class Umoci:
    """The few umoci commands clients.md uses to build images without an engine."""

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def init(self, layout: Path) -> OciLayout:
        run_command([self.binary, "init", "--layout", str(layout)])
        return OciLayout(layout)

    def new(self, layout: OciLayout, ref: str) -> None:
        run_command([self.binary, "new", "--image", f"{layout.path}:{ref}"])

    def insert(self, layout: OciLayout, ref: str, source: Path, target: str = "/") -> None:
        run_command([self.binary, "insert", "--image", f"{layout.path}:{ref}", str(source), target])

    def config(self, layout: OciLayout, ref: str, *, architecture: str, labels: dict[str, str],
               cmd: str = "/bin/sh", workdir: str = "/opt") -> None:
        args = [self.binary, "config", "--image", f"{layout.path}:{ref}",
                "--os", "linux", "--architecture", architecture,
                "--config.cmd", cmd, "--config.workingdir", workdir]
        for key, value in labels.items():
            args += ["--config.label", f"{key}={value}"]
        run_command(args)

    def gc(self, layout: OciLayout) -> None:
        run_command([self.binary, "gc", "--layout", str(layout.path)])


def _layer_source(root: Path, name: str, files: dict[str, bytes]) -> Path:
    source = root / name
    for relative, content in files.items():
        target = source / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return source


def _build_umoci_image(umoci: Umoci, layout: OciLayout, scratch: Path, ref: str, *, architecture: str,
                       labels: dict[str, str], layers: list[dict[str, bytes]]) -> OciImage:
    umoci.new(layout, ref)
    for number, files in enumerate(layers):
        umoci.insert(layout, ref, _layer_source(scratch, f"{ref}-layer{number}", files))
    umoci.config(layout, ref, architecture=architecture, labels=labels)
    return image_from_layout(layout, ref)


def build_notebook_images(umoci: Umoci, workdir: Path) -> NotebookImages:
    """A single-arch linux/amd64 image with two small layers and the skaha labels."""
    nonce = secrets.token_hex(16).encode()
    layout = umoci.init(workdir / "notebook")
    scratch = workdir / "notebook-src"
    raw = _build_umoci_image(
        umoci, layout, scratch, "nomt", architecture="amd64", labels=NOTEBOOK_LABELS,
        layers=[
            {"etc/portside-e2e/nonce": nonce, "etc/motd": b"welcome to the portside e2e notebook\n"},
            {"opt/notebook/README.md": b"# notebook\n" + b"x" * 4096, "opt/notebook/nonce": nonce[::-1]},
        ],
    )
    assert "mediaType" not in raw.manifest, "umoci is expected to write manifests without mediaType"
    layout.tag("latest", OCI_MANIFEST, normalise_manifest(raw.manifest_bytes))
    layout.tag("variant", OCI_MANIFEST,
               normalise_manifest(raw.manifest_bytes, {"annotations": {"e2e.portside.variant": "delete-me"}}))
    umoci.gc(layout)
    return NotebookImages(
        normalised=image_from_layout(layout, "latest"),
        raw=image_from_layout(layout, "nomt"),
        annotated=image_from_layout(layout, "variant"),
    )


PLATFORMS: dict[str, dict[str, str]] = {
    "amd64": {"architecture": "amd64", "os": "linux"},
    "arm64": {"architecture": "arm64", "os": "linux", "variant": "v8"},
}


def build_multi_arch_index(umoci: Umoci, workdir: Path) -> OciImageIndex:
    """An OCI image index over linux/amd64 and linux/arm64/v8 (tag `latest`; children `amd64`, `arm64`)."""
    nonce = secrets.token_hex(16).encode()
    layout = umoci.init(workdir / "multi")
    scratch = workdir / "multi-src"
    children: dict[str, OciImage] = {}
    entries: list[dict[str, Any]] = []
    for arch, platform in PLATFORMS.items():
        image = _build_umoci_image(
            umoci, layout, scratch, arch, architecture=platform["architecture"],
            labels={**NOTEBOOK_LABELS, "e2e.portside.arch": arch},
            layers=[{"etc/arch": arch.encode() + b"\n", "etc/portside-e2e/nonce": nonce}],
        )
        layout.tag(arch, OCI_MANIFEST, normalise_manifest(image.manifest_bytes))
        children[arch] = image_from_layout(layout, arch)
        entries.append({
            "mediaType": OCI_MANIFEST, "digest": children[arch].manifest_digest,
            "size": len(children[arch].manifest_bytes), "platform": platform,
        })
    raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries},
                     separators=(",", ":")).encode()
    descriptor = layout.tag("latest", OCI_INDEX, raw)
    umoci.gc(layout)
    return OciImageIndex(layout=layout, ref="latest", digest=descriptor["digest"], raw=raw, children=children)



#: Python packages the test advisories of shared/testdata/osv cover (see tests/scan_images.py):
#: PyYAML 5.3.1 (CVE-2020-14343, Critical), Jinja2 2.10 (one Medium, one without severity) and
#: urllib3 2.0.3 (three Medium).
VULNERABLE_PYTHON_PACKAGES: tuple[tuple[str, str], ...] = (("PyYAML", "5.3.1"), ("Jinja2", "2.10"),
                                                            ("urllib3", "2.0.3"))
SITE_PACKAGES = "usr/lib/python3.11/site-packages"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _tar_gzip_layer(files: dict[str, bytes]) -> tuple[bytes, str]:
    """A reproducible tar+gzip layer of `files` and its diff id (the digest of the tar).

    Built in Python, not with umoci: Debian's umoci 0.4.7 ends its layer tars without the
    last block's padding and the end-of-archive blocks (GNU tar: "Unexpected EOF in archive"),
    which the scanner rightly refuses as truncated."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(content), 0o644, 1_700_000_000
            archive.addfile(info, io.BytesIO(content))
    tar = buffer.getvalue()
    return gzip.compress(tar, mtime=0), sha256_digest(tar)


def build_vulnerable_notebook(workdir: Path) -> OciImage:
    """A linux/amd64 notebook image (the skaha labels) whose second layer installs
    VULNERABLE_PYTHON_PACKAGES (their dist-info METADATA); tag `latest`, unique per session."""
    nonce = secrets.token_hex(16).encode()
    layout = OciLayout(workdir / "vulnerable-notebook")
    layout.path.mkdir(parents=True, exist_ok=True)
    (layout.path / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (layout.path / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": []}))
    packages = {f"{SITE_PACKAGES}/{name}-{version}.dist-info/METADATA":
                f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: MIT\n".encode()
                for name, version in VULNERABLE_PYTHON_PACKAGES}
    layers = [_tar_gzip_layer({"etc/portside-e2e/nonce": nonce, "etc/motd": b"a notebook with old packages\n"}),
              _tar_gzip_layer({**packages, "opt/notebook/nonce": nonce[::-1]})]
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-03-15T10:30:00Z",
        "config": {"Cmd": ["/bin/sh"], "WorkingDir": "/opt", "Labels": NOTEBOOK_LABELS},
        "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id in layers]},
        "history": [{"created": "2024-03-15T10:30:00Z", "created_by": "ADD notebook files"},
                    {"created": "2024-03-15T10:30:00Z", "created_by": "RUN pip install PyYAML Jinja2 urllib3"}],
    }, separators=(",", ":")).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": layout.write_blob(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": layout.write_blob(blob), "size": len(blob)}
                   for blob, _ in layers],
    }, separators=(",", ":")).encode()
    layout.tag("latest", OCI_MANIFEST, manifest)
    return image_from_layout(layout, "latest")
