"""The registry's records as frozen values, shared by store, services and web."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Repository:
    id: int
    project_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Blob:
    id: int
    digest: str
    size: int
    storage_key: str


@dataclass(frozen=True, slots=True)
class Upload:
    """An upload session; `state` is the storage driver's JSON write state."""

    id: str
    repository_id: int
    state: dict[str, Any]
    size: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Manifest:
    id: int
    repository_id: int
    digest: str
    media_type: str
    size: int
    content: bytes
    artifact_type: str | None
    subject_digest: str | None
    annotations: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class ManifestHead:
    """What a HEAD or a referrers listing needs: no content."""

    id: int
    digest: str
    media_type: str
    size: int
    artifact_type: str | None = None
    annotations: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of names and whether more follow."""

    items: list[str]
    has_more: bool
