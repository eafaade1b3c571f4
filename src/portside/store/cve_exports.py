"""Queries of the CVE export: artifacts of chosen projects in id batches, with their tags,
labels and the indexes that list them; and the export executions of one user."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.store.tables import (
    artifact_labels,
    executions,
    manifest_children,
    manifests,
    projects,
    repositories,
    tags,
)


@dataclass(frozen=True, slots=True)
class ExportArtifact:
    id: int
    digest: str
    media_type: str
    repository: str  # project/name
    project: str


async def artifact_batch(conn: AsyncConnection, project_ids: Sequence[int], after_id: int,
                         limit: int) -> list[ExportArtifact]:
    """Manifests of `project_ids` with id > after_id, by id (accessories excluded)."""
    query = (select(manifests.c.id, manifests.c.digest, manifests.c.media_type, repositories.c.name,
                    projects.c.name.label("project"))
             .join(repositories, repositories.c.id == manifests.c.repository_id)
             .join(projects, projects.c.id == repositories.c.project_id)
             .where(repositories.c.project_id.in_(list(project_ids)), manifests.c.id > after_id,
                    manifests.c.subject_digest.is_(None))
             .order_by(manifests.c.id).limit(limit))
    return [ExportArtifact(row.id, row.digest, row.media_type, row.name, row.project)
            for row in await conn.execute(query)]


async def tag_names(conn: AsyncConnection, manifest_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if manifest_ids:
        query = (select(tags.c.manifest_id, tags.c.name).where(tags.c.manifest_id.in_(list(manifest_ids)))
                 .order_by(tags.c.name))
        for row in await conn.execute(query):
            found.setdefault(row.manifest_id, []).append(row.name)
    return found


async def label_ids(conn: AsyncConnection, manifest_ids: Sequence[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    if manifest_ids:
        query = select(artifact_labels.c.manifest_id, artifact_labels.c.label_id).where(
            artifact_labels.c.manifest_id.in_(list(manifest_ids)))
        for row in await conn.execute(query):
            found.setdefault(row.manifest_id, set()).add(row.label_id)
    return found


async def parent_digests(conn: AsyncConnection, manifest_ids: Sequence[int]) -> dict[int, list[str]]:
    """For each manifest, the digests of the indexes listing it."""
    found: dict[int, list[str]] = {}
    if manifest_ids:
        query = (select(manifest_children.c.child_id, manifests.c.digest)
                 .join(manifests, manifests.c.id == manifest_children.c.parent_id)
                 .where(manifest_children.c.child_id.in_(list(manifest_ids))))
        for row in await conn.execute(query):
            found.setdefault(row.child_id, []).append(row.digest)
    return found


async def executions_of(conn: AsyncConnection, vendor_type: str, user_id: int | None, limit: int) -> list[Any]:
    """The newest executions of `vendor_type` whose vendor_id is `user_id` (None: no user)."""
    condition = executions.c.vendor_id.is_(None) if user_id is None else executions.c.vendor_id == user_id
    query = (select(executions).where(executions.c.vendor_type == vendor_type, condition)
             .order_by(executions.c.id.desc()).limit(limit))
    return list(await conn.execute(query))
