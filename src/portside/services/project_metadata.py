"""Harbor's project metadata rules: which keys exist, which values they take, the CVE allowlist.

Harbor keeps project settings as a map of strings ("true"/"false", severities, ids).
These pure functions validate and normalise that map so the project service and the
`/metadatas` routes agree. `public` travels in the map on the API but is stored in
its own column; the CVE allowlist is stored in the map under `ALLOWLIST_KEY` and is
never shown as metadata.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from portside.domain.errors import BadRequest

BOOLEAN_KEYS = ("public", "enable_content_trust", "enable_content_trust_cosign", "prevent_vul", "auto_scan",
                "auto_sbom_generation", "reuse_sys_cve_allowlist")
SEVERITIES = ("none", "low", "medium", "high", "critical")
RETENTION_KEY = "retention_id"
METADATA_KEYS = (*BOOLEAN_KEYS, "severity", RETENTION_KEY)
#: Internal key of the stored map holding the project's CVE allowlist as JSON.
ALLOWLIST_KEY = "cve_allowlist"
#: Go's strconv.ParseBool spellings, which Harbor accepts; stored as "true"/"false".
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")
MAX_STORAGE_LIMIT = 2**63 - 1
MAX_ALLOWLIST_ITEMS = 1000


def normalize_metadata(values: Mapping[str, str]) -> dict[str, str]:
    """The map with every value in its canonical form; raises BadRequest naming the bad key or value.

    Keys must be Harbor's ProjectMetadata keys (proxy-cache keys are refused: Portside has
    no proxy-cache projects). Booleans become "true"/"false", severities lowercase.
    """
    normalized: dict[str, str] = {}
    for key, value in values.items():
        if key not in METADATA_KEYS:
            raise BadRequest(f"unknown project metadata key {key[:64]!r}: expected one of {', '.join(METADATA_KEYS)}")
        normalized[key] = _normalize_value(key, value)
    return normalized


def _normalize_value(key: str, value: str) -> str:
    if key in BOOLEAN_KEYS:
        if value in _TRUE:
            return "true"
        if value in _FALSE:
            return "false"
        raise BadRequest(f"project metadata {key} must be \"true\" or \"false\", not {value[:64]!r}")
    if key == "severity":
        lowered = value.lower()
        if lowered not in SEVERITIES:
            raise BadRequest(f"project metadata severity must be one of {', '.join(SEVERITIES)}, not {value[:64]!r}")
        return lowered
    if not value.isascii() or not value.isdigit():
        raise BadRequest(f"project metadata {key} must be a number, not {value[:64]!r}")
    return value


def check_retention_id(requested: Mapping[str, str], current: Mapping[str, str]) -> None:
    """Harbor's rule: retention_id is set by the retention API, so a request may only repeat it."""
    if RETENTION_KEY in requested and requested[RETENTION_KEY] != current.get(RETENTION_KEY, ""):
        raise BadRequest("retention_id is managed by the retention policy API: omit it, or pass the id "
                         "already associated with this project")


def parse_public(metadata: Mapping[str, str], public_flag: bool | None) -> bool | None:
    """Publicity requested by `metadata.public`, else by the deprecated `public` flag, else None."""
    if "public" in metadata:
        return metadata["public"] == "true"
    return public_flag


def check_storage_limit(value: int) -> int:
    """A storage limit in bytes: -1 (unlimited) or a positive number."""
    if value == -1 or 0 < value <= MAX_STORAGE_LIMIT:
        return value
    raise BadRequest(f"storage_limit must be -1 (unlimited) or a positive number of bytes, not {value}")


@dataclass(frozen=True, slots=True)
class CveAllowlist:
    """A project's CVE allowlist: CVE ids, and when it stops applying (unix seconds; None never)."""

    cve_ids: tuple[str, ...] = ()
    expires_at: int | None = None

    def validated(self) -> CveAllowlist:
        """Itself if valid; raises BadRequest on an empty or duplicate id or too many items."""
        if len(self.cve_ids) > MAX_ALLOWLIST_ITEMS:
            raise BadRequest(f"a CVE allowlist holds at most {MAX_ALLOWLIST_ITEMS} items")
        seen: set[str] = set()
        for cve_id in self.cve_ids:
            if not cve_id.strip() or len(cve_id) > 64:
                raise BadRequest(f"invalid CVE id {cve_id[:64]!r} in the allowlist")
            if cve_id in seen:
                raise BadRequest(f"duplicate CVE id {cve_id!r} in the allowlist")
            seen.add(cve_id)
        return self

    def encode(self) -> str:
        return json.dumps({"items": list(self.cve_ids), "expires_at": self.expires_at})

    @classmethod
    def decode(cls, stored: str | None) -> CveAllowlist:
        """The allowlist stored under ALLOWLIST_KEY (empty when absent or unreadable)."""
        if not stored:
            return cls()
        try:
            value = json.loads(stored)
            expires = value.get("expires_at")
            return cls(tuple(str(item) for item in value.get("items", [])),
                       int(expires) if expires is not None else None)
        except (ValueError, TypeError, AttributeError):
            return cls()


def visible_metadata(stored: Mapping[str, str], public: bool) -> dict[str, str]:
    """The metadata map Harbor shows: the stored settings plus "public", without internal keys."""
    shown = {key: value for key, value in stored.items() if key != ALLOWLIST_KEY}
    shown["public"] = "true" if public else "false"
    return dict(sorted(shown.items()))
