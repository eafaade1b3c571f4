"""Lookups the SBOM generator needs beyond `store.scans` (which owns the report rows)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.store.tables import manifests, repositories, tags


@dataclass(frozen=True, slots=True)
class ManifestPlace:
    """Where a manifest lives: its repository's full name and project, and its tags."""

    manifest_id: int
    digest: str
    repository_id: int
    repository_name: str
    project_id: int
    tags: tuple[str, ...]


async def place_of(conn: AsyncConnection, manifest_id: int) -> ManifestPlace | None:
    """The repository, project and tags of a manifest (two indexed queries); None if it is gone."""
    query = (select(manifests.c.id, manifests.c.digest, repositories.c.id.label("repository_id"),
                    repositories.c.name, repositories.c.project_id)
             .join(repositories, repositories.c.id == manifests.c.repository_id)
             .where(manifests.c.id == manifest_id))
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    names = (await conn.execute(select(tags.c.name).where(tags.c.manifest_id == manifest_id)
                                .order_by(tags.c.name).limit(100))).scalars()
    return ManifestPlace(row.id, row.digest, row.repository_id, row.name, row.project_id, tuple(names))
