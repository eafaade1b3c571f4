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


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    email: str | None
    realname: str
    comment: str
    sysadmin: bool
    password_hash: str
    cli_secret_hash: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    name: str
    public: bool
    owner_id: int | None
    metadata: dict[str, str]
    storage_limit: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    project_id: int
    user_id: int
    username: str
    role: int


@dataclass(frozen=True, slots=True)
class Robot:
    id: int
    name: str
    description: str
    level: str
    project_id: int | None
    secret_hash: str
    disabled: bool
    duration: int
    expires_at: int
    permissions: list[dict[str, Any]]
    creator_type: str
    creator_ref: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A claimed job: what a worker needs to run it."""

    id: int
    kind: str
    params: dict[str, Any]
    attempts: int
    max_attempts: int
    execution_id: int | None
