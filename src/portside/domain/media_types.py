"""Manifest media types and Accept negotiation."""

from __future__ import annotations

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

IMAGE_MANIFESTS = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEXES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = IMAGE_MANIFESTS | INDEXES
SCHEMA1_TYPES = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})
# Content-Types that say nothing about which manifest this is.
GENERIC_TYPES = frozenset({"", "application/json", "application/octet-stream", "text/plain"})


def base_type(content_type: str | None) -> str:
    """The media type without parameters, lowercased."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def accepted_types(accept_headers: list[str]) -> set[str]:
    """The media types a client listed in its Accept header(s), parameters dropped."""
    types: set[str] = set()
    for header in accept_headers:
        for part in header.split(","):
            media_type = base_type(part)
            if media_type:
                types.add(media_type)
    return types


def is_acceptable(media_type: str, accept_headers: list[str]) -> bool:
    """Whether a stored manifest of `media_type` may be served to this client.

    Image manifests are always served: every client that reads one reads both the
    OCI and the Docker form. An index is withheld only from a client that listed
    manifest types but no index type and no wildcard, which is a client that would
    misread it (old Docker engines); it then gets MANIFEST_UNKNOWN as from distribution.
    """
    if media_type not in INDEXES:
        return True
    accepted = accepted_types(accept_headers)
    if not accepted or "*/*" in accepted or "application/*" in accepted:
        return True
    if accepted & INDEXES:
        return True
    return not (accepted & IMAGE_MANIFESTS)
