"""Test images for the scanner, built in Python (no network, no container engine).

The packages are chosen so that the real advisories in shared/testdata/osv (CC-BY-4.0 records
of the GitHub Advisory Database, the PyPI Advisory Database and the Go Vulnerability Database;
derived Alpine records built from alpine-secdb — see that directory's README) match them:

- an Alpine 3.10 base (lib/apk/db/installed): musl 1.1.22-r2 (fixed in 1.1.22-r3), busybox
  1.30.1-r1 (fixed in 1.30.1-r2) and libcrypto1.1 from origin openssl 1.1.1d-r2 (its advisory
  covers Alpine v3.11 only, so no finding: a negative case);
- site-packages: urllib3 2.0.3, PyYAML 5.3.1, Jinja2 2.10;
- node_modules: lodash 4.17.15.

`EXPECTED` lists every finding (id, package, version, fix version, severity) the scanner must
report for that image; the derived Alpine records and PYSEC-2021-66 carry no severity (Unknown).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

OSV_TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "osv"
SITE_PACKAGES = "usr/lib/python3.11/site-packages"

ALPINE_OS_RELEASE = (b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.9\n'
                     b'PRETTY_NAME="Alpine Linux v3.10"\nHOME_URL="https://alpinelinux.org/"\n')
APK_PACKAGES = (("musl", "1.1.22-r2", "musl"), ("busybox", "1.30.1-r1", "busybox"),
                ("libcrypto1.1", "1.1.1d-r2", "openssl"))
PYTHON_PACKAGES = (("urllib3", "2.0.3"), ("PyYAML", "5.3.1"), ("Jinja2", "2.10"))
NPM_PACKAGES = (("lodash", "4.17.15"),)

# (id, package, version, fix_version, severity), most severe first then by package, as the report
# orders them; PyPI names appear PEP 503-normalised, as the analysis records them.
EXPECTED: tuple[tuple[str, str, str, str, str], ...] = (
    ("CVE-2020-14343", "pyyaml", "5.3.1", "5.4", "Critical"),
    ("CVE-2021-23337", "lodash", "4.17.15", "4.17.21", "High"),
    ("CVE-2024-22195", "jinja2", "2.10", "3.1.3", "Medium"),
    ("CVE-2023-43804", "urllib3", "2.0.3", "2.0.6", "Medium"),
    ("CVE-2023-45803", "urllib3", "2.0.3", "2.0.7", "Medium"),
    ("CVE-2024-37891", "urllib3", "2.0.3", "2.2.2", "Medium"),
    ("CVE-2019-5747", "busybox", "1.30.1-r1", "1.30.1-r2", "Unknown"),
    ("CVE-2020-28493", "jinja2", "2.10", "2.11.3", "Unknown"),
    ("CVE-2019-14697", "musl", "1.1.22-r2", "1.1.22-r3", "Unknown"),
)
EXPECTED_SUMMARY = {"total": 9, "fixable": 9,
                    "summary": {"Critical": 1, "High": 1, "Medium": 4, "Low": 0, "Unknown": 3}}
#: The findings at or above High: allowlisting both lets a `severity=high` project pull.
HIGH_OR_WORSE = ("CVE-2020-14343", "CVE-2021-23337")


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_bytes(files: Mapping[str, bytes], *, mode: int = 0o644) -> bytes:
    """An uncompressed tar of `files` (path -> content), with fixed metadata (reproducible)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(content), mode, 1_700_000_000
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def gzip_layer(files: Mapping[str, bytes]) -> bytes:
    """A `tar+gzip` layer blob of `files`."""
    return gzip.compress(tar_bytes(files), mtime=0)


def apk_installed(packages: Sequence[tuple[str, str, str]]) -> bytes:
    records = [f"C:Q1{name}=\nP:{name}\nV:{version}\nA:x86_64\no:{origin}\nL:MIT\nF:lib\nR:{name}.so\n"
               for name, version, origin in packages]
    return "\n".join(records).encode()


def alpine_layer(packages: Sequence[tuple[str, str, str]] = APK_PACKAGES, *, nonce: str = "") -> bytes:
    return gzip_layer({"etc/os-release": ALPINE_OS_RELEASE, "etc/alpine-release": b"3.10.9\n",
                       "lib/apk/db/installed": apk_installed(packages), "etc/nonce": nonce.encode()})


def python_layer(packages: Sequence[tuple[str, str]] = PYTHON_PACKAGES, *, nonce: str = "") -> bytes:
    files = {f"{SITE_PACKAGES}/{name}-{version}.dist-info/METADATA":
             f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: MIT\n".encode()
             for name, version in packages}
    return gzip_layer({**files, "etc/python-nonce": nonce.encode()})


def npm_layer(packages: Sequence[tuple[str, str]] = NPM_PACKAGES, *, nonce: str = "") -> bytes:
    files = {f"usr/lib/node_modules/{name}/package.json":
             json.dumps({"name": name, "version": version, "license": "MIT"}).encode()
             for name, version in packages}
    return gzip_layer({**files, "etc/npm-nonce": nonce.encode()})


def vulnerable_layers(nonce: str = "") -> list[bytes]:
    """The three layers of the vulnerable test image (base first); `nonce` makes them unique."""
    return [alpine_layer(nonce=nonce), python_layer(nonce=nonce), npm_layer(nonce=nonce)]


def clean_layers(nonce: str = "") -> list[bytes]:
    """An Alpine 3.10 image whose packages no advisory covers."""
    return [alpine_layer((("musl", "1.1.22-r3", "musl"), ("busybox", "1.30.1-r2", "busybox")), nonce=nonce)]


def truncated(layer: bytes) -> bytes:
    """The first half of a gzip layer: a blob the registry accepts but no one can unpack."""
    return layer[: len(layer) // 2]


def diff_id(layer: bytes) -> str:
    """The digest of the uncompressed layer (of the blob itself when it is not valid gzip)."""
    try:
        return digest_of(gzip.decompress(layer))
    except (OSError, EOFError):
        return digest_of(layer)


def image_config(layers: Sequence[bytes], architecture: str = "amd64") -> dict[str, Any]:
    diff_ids = [diff_id(layer) for layer in layers]
    return {"architecture": architecture, "os": "linux", "created": "2024-03-15T10:30:00Z",
            "config": {"Cmd": ["/bin/sh"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": "2024-03-15T10:30:00Z", "created_by": "ADD layer"} for _ in layers]}


def finding_rows(report: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(id, package, version, fix_version, severity) of a report's findings, in report order."""
    return [(item["id"], item["package"], item["version"], item["fix_version"], item["severity"])
            for item in report["vulnerabilities"]]


def write_oci_layout(directory: Path, layers: Sequence[bytes], tag: str) -> str:
    """An OCI image layout holding one image (`layers`, base first) tagged `tag`; its manifest digest."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def write(data: bytes) -> str:
        digest = digest_of(data)
        (blobs / digest.split(":", 1)[1]).write_bytes(data)
        return digest

    config = json.dumps(image_config(layers)).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": write(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": write(layer),
                    "size": len(layer)} for layer in layers],
    }).encode()
    digest = write(manifest)
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": len(manifest),
         "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    return digest
