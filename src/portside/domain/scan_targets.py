"""Which manifests the scanner can scan, and which of their blobs are filesystem layers.

Scannable are image manifests (OCI, Docker v2) with an image config, except those carrying
in-toto attestations (BuildKit's attestation manifests look like images but their "layers"
are JSON statements), and image indexes with at least one scannable child. Non-filesystem
layers (foreign JSON, artifacts' files) are skipped rather than fed to the tar reader.
"""

from __future__ import annotations

from portside.domain import image_config
from portside.domain import media_types as mt
from portside.domain.errors import RegistryError
from portside.domain.manifest import parse_manifest

#: BuildKit marks attestation manifests in an index with this annotation value.
ATTESTATION_REFERENCE_TYPE = "attestation-manifest"
_IN_TOTO = "in-toto"


def is_filesystem_layer(media_type: str) -> bool:
    """OCI and Docker layer types (`…layer.v1.tar[+gzip|+zstd]`, `…rootfs.diff.tar.gzip`, foreign layers)."""
    return _IN_TOTO not in media_type and (".tar" in media_type or "rootfs.diff" in media_type)


def image_layers(media_type: str, config_media_type: str | None, content: bytes) -> list[str] | None:
    """The digests of an image's filesystem layers, base first; None if it is not a scannable image."""
    if media_type not in mt.IMAGE_MANIFESTS or config_media_type not in image_config.IMAGE_CONFIG_TYPES:
        return None
    try:
        parsed = parse_manifest(content, media_type)
    except RegistryError:
        return None  # stored manifests were validated on push; be safe with old rows anyway
    layers = parsed.blobs[1:]  # blobs[0] is the config
    if any(_IN_TOTO in layer.media_type for layer in layers):
        return None
    return [str(layer.digest) for layer in layers if is_filesystem_layer(layer.media_type)]


def attestation_children(content: bytes, media_type: str) -> frozenset[str]:
    """Digests an index marks as attestation manifests (never scanned as platform images)."""
    try:
        parsed = parse_manifest(content, media_type)
    except RegistryError:
        return frozenset()
    return frozenset(str(child.digest) for child in parsed.children
                     if (child.annotations or {}).get("vnd.docker.reference.type") == ATTESTATION_REFERENCE_TYPE)
