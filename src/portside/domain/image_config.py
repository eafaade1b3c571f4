"""What Harbor's artifact view reads from a manifest's config blob, as pure functions.

`extra_attrs` follows Harbor's processors: an image config (OCI or Docker) gives
`architecture, os, created, author, config` (the OCI `ImageConfig` fields that are
set, e.g. `Labels`, `Env`, `Cmd`); a Helm chart or a vendor config whose media type
names an artifact type gives the whole config object; anything else gives nothing.
Every function here accepts arbitrary bytes: malformed input yields None, never an
exception, so a broken config blob can never fail a push.
"""

from __future__ import annotations

import json
import re
from typing import Any

from portside.domain import media_types as mt

MAX_CONFIG_BYTES = 4 * 1024 * 1024

OCI_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_IMAGE_CONFIG = "application/vnd.docker.container.image.v1+json"
HELM_CHART_CONFIG = "application/vnd.cncf.helm.config.v1+json"
IMAGE_CONFIG_TYPES = frozenset({OCI_IMAGE_CONFIG, DOCKER_IMAGE_CONFIG})

#: The fields of the OCI image-spec `ImageConfig` (Harbor's `extra_attrs.config`).
IMAGE_CONFIG_FIELDS = ("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels",
                       "StopSignal", "ArgsEscaped")
#: Labels Harbor falls back to when the config has no `author`.
AUTHOR_LABELS = ("org.opencontainers.image.authors", "maintainer")
#: History entry fields (image-spec `History`), in Harbor's order.
HISTORY_FIELDS = ("created", "created_by", "author", "comment", "empty_layer")

# Harbor's default processor: `application/vnd.<vendor>.<type>.config.<version>+json` names a type.
_VENDOR_CONFIG_RE = re.compile(r"^application/vnd\.[^.]*\.(.*)\.config\.[^.]*\+json$")
_KNOWN_TYPES = {HELM_CHART_CONFIG: "CHART", "application/vnd.cnab.config.v1+json": "CNAB",
                "application/vnd.cnai.model.config.v1+json": "CNAI", "application/vnd.wasm.config.v1+json": "WASM"}


def artifact_type(manifest_media_type: str, config_media_type: str | None) -> str:
    """Harbor's artifact `type`: IMAGE for image configs and indexes, CHART, CNAB, ..., else UNKNOWN."""
    if manifest_media_type in mt.INDEXES or config_media_type in IMAGE_CONFIG_TYPES:
        return "IMAGE"
    if config_media_type is None:
        return "UNKNOWN"
    if config_media_type in _KNOWN_TYPES:
        return _KNOWN_TYPES[config_media_type]
    match = _VENDOR_CONFIG_RE.match(config_media_type)
    return match.group(1).upper() if match else "UNKNOWN"


def wants_config(config_media_type: str | None) -> bool:
    """Whether `extra_attrs` are read from a config blob of this media type."""
    if config_media_type is None:
        return False
    return artifact_type(mt.OCI_MANIFEST, config_media_type) != "UNKNOWN"


def extra_attrs(config_media_type: str | None, data: bytes) -> dict[str, Any] | None:
    """The artifact's `extra_attrs` from its config blob, or None (not JSON, not an object, unknown type)."""
    if not wants_config(config_media_type) or len(data) > MAX_CONFIG_BYTES:
        return None
    config = _json_object(data)
    if config is None:
        return None
    if config_media_type in IMAGE_CONFIG_TYPES:
        return image_extra_attrs(config)
    return config


def image_extra_attrs(config: dict[str, Any]) -> dict[str, Any]:
    """`architecture, os, created, author, config` of an image config object (Harbor's image processor)."""
    inner = config.get("config")
    settings = {key: inner[key] for key in IMAGE_CONFIG_FIELDS if isinstance(inner, dict) and _is_set(inner.get(key))}
    found = settings.get("Labels")
    labels: dict[str, Any] = found if isinstance(found, dict) else {}
    author = _string(config.get("author"))
    if not author:
        author = next((labels[key] for key in AUTHOR_LABELS if isinstance(labels.get(key), str) and labels[key]), "")
    created = config.get("created")
    return {
        "architecture": _string(config.get("architecture")),
        "os": _string(config.get("os")),
        "created": created if isinstance(created, str) and created else None,
        "author": author,
        "config": settings,
    }


def build_history(data: bytes) -> list[dict[str, Any]] | None:
    """The config's `history` entries with the image-spec fields that are set; None if not an image config."""
    config = _json_object(data)
    if config is None:
        return None
    history = config.get("history")
    if not isinstance(history, list):
        return []
    return [{key: entry[key] for key in HISTORY_FIELDS if _is_set(entry.get(key))}
            for entry in history if isinstance(entry, dict)]


def _json_object(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, int digit limit
        return None
    return value if isinstance(value, dict) else None


def _is_set(value: Any) -> bool:
    """Go's `omitempty`: null, false, "" and empty lists or maps are left out."""
    return value is not None and value is not False and value != "" and value != [] and value != {}


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""
