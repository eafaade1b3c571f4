"""Parse a pushed manifest once into what the registry needs to know about it.

`parse_manifest` validates structure (not blob existence: that is the service's
job) and returns a ParsedManifest naming the blobs, child manifests, subject and
artifact type. Docker schema 1 is refused: it is deprecated and unsigned pushes of
it are unsafe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from portside.domain import media_types as mt
from portside.domain.digest import Digest, parse_digest
from portside.domain.errors import DigestInvalid, ManifestInvalid, ManifestTooLarge

MAX_MANIFEST_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Descriptor:
    """An OCI content descriptor (the fields the registry uses)."""

    media_type: str
    digest: Digest
    size: int
    artifact_type: str | None = None
    annotations: dict[str, str] | None = None
    platform: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ParsedManifest:
    """A validated manifest: its type, what it references and its referrer metadata."""

    media_type: str
    blobs: tuple[Descriptor, ...] = ()
    children: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str | None = None
    config_media_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return self.media_type in mt.INDEXES

    @property
    def referrer_artifact_type(self) -> str | None:
        """The artifactType a referrers response shows (image-spec: else config.mediaType)."""
        return self.artifact_type or self.config_media_type


def _descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise ManifestInvalid(f"{where}: descriptor must be an object")
    media_type, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise ManifestInvalid(f"{where}: descriptor has no mediaType")
    if not isinstance(digest, str):
        raise ManifestInvalid(f"{where}: descriptor has no digest")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestInvalid(f"{where}: descriptor size must be a non-negative integer")
    try:
        parsed_digest = parse_digest(digest)
    except DigestInvalid as err:
        raise ManifestInvalid(f"{where}: {err.message}") from None
    annotations = value.get("annotations")
    if annotations is not None and not _is_string_map(annotations):
        raise ManifestInvalid(f"{where}: annotations must map strings to strings")
    artifact_type = value.get("artifactType")
    platform = value.get("platform")
    return Descriptor(
        media_type, parsed_digest, size,
        artifact_type if isinstance(artifact_type, str) else None,
        annotations, platform if isinstance(platform, dict) else None,
    )


def _is_string_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _resolve_media_type(body: dict[str, Any], content_type: str) -> str:
    declared = body.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise ManifestInvalid("mediaType must be a string")
    header = mt.base_type(content_type)
    if body.get("schemaVersion") == 1 or header in mt.SCHEMA1_TYPES or declared in mt.SCHEMA1_TYPES:
        raise ManifestInvalid(
            "Docker schema 1 manifests are not supported: push schema 2 or OCI "
            "(for example `skopeo copy --format v2s2` or `--format oci`)"
        )
    if header in mt.GENERIC_TYPES:
        if declared:
            return declared
        # umoci and some tools omit mediaType; infer OCI from the shape.
        return mt.OCI_INDEX if "manifests" in body else mt.OCI_MANIFEST
    if declared and declared != header:
        raise ManifestInvalid(f"mediaType {declared!r} does not match Content-Type {header!r}")
    return header


def parse_manifest(data: bytes, content_type: str | None) -> ParsedManifest:
    """Validate manifest bytes pushed with `content_type`; raises ManifestInvalid."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestTooLarge()
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as err:  # JSONDecodeError, UnicodeDecodeError, int digit limit
        raise ManifestInvalid(f"manifest is not valid JSON: {err}") from None
    if not isinstance(body, dict):
        raise ManifestInvalid("manifest must be a JSON object")
    media_type = _resolve_media_type(body, content_type or "")
    if media_type not in mt.MANIFEST_TYPES:
        raise ManifestInvalid(f"unsupported manifest media type {media_type[:120]!r}")
    if body.get("schemaVersion") != 2:
        raise ManifestInvalid("schemaVersion must be 2")
    annotations = body.get("annotations") or {}
    if not _is_string_map(annotations):
        raise ManifestInvalid("annotations must map strings to strings")
    artifact_type = body.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise ManifestInvalid("artifactType must be a string")
    subject = _descriptor(body["subject"], "subject") if body.get("subject") is not None else None
    if media_type in mt.INDEXES:
        return _parse_index(body, media_type, subject, artifact_type, annotations)
    return _parse_image(body, media_type, subject, artifact_type, annotations)


def _parse_index(body: dict[str, Any], media_type: str, subject: Descriptor | None,
                 artifact_type: str | None, annotations: dict[str, str]) -> ParsedManifest:
    entries = body.get("manifests")
    if not isinstance(entries, list):
        raise ManifestInvalid("index must have a manifests list")
    children = tuple(_descriptor(item, f"manifests[{i}]") for i, item in enumerate(entries))
    return ParsedManifest(media_type, children=children, subject=subject,
                          artifact_type=artifact_type, annotations=annotations)


def _parse_image(body: dict[str, Any], media_type: str, subject: Descriptor | None,
                 artifact_type: str | None, annotations: dict[str, str]) -> ParsedManifest:
    if "config" not in body:
        raise ManifestInvalid("image manifest must have a config descriptor")
    config = _descriptor(body["config"], "config")
    layers = body.get("layers", [])
    if not isinstance(layers, list):
        raise ManifestInvalid("layers must be a list")
    blobs = (config, *(_descriptor(item, f"layers[{i}]") for i, item in enumerate(layers)))
    return ParsedManifest(media_type, blobs=blobs, subject=subject, artifact_type=artifact_type,
                          config_media_type=config.media_type, annotations=annotations)
