"""Manifests, their references (blobs, child manifests), tags and referrers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.domain.models import Manifest, ManifestHead, Page
from portside.store import dialect
from portside.store.tables import manifest_blobs, manifest_children, manifests, projects, repositories, tags

_HEAD_COLUMNS = (manifests.c.id, manifests.c.digest, manifests.c.media_type, manifests.c.size,
                 manifests.c.artifact_type, manifests.c.annotations)


def _manifest(row: Any) -> Manifest:
    return Manifest(id=row.id, repository_id=row.repository_id, digest=row.digest, media_type=row.media_type,
                    size=row.size, content=row.content, artifact_type=row.artifact_type,
                    subject_digest=row.subject_digest, annotations=row.annotations)


def _head(row: Any) -> ManifestHead:
    return ManifestHead(id=row.id, digest=row.digest, media_type=row.media_type, size=row.size,
                        artifact_type=row.artifact_type, annotations=row.annotations)


async def find_by_digest(conn: AsyncConnection, repository_id: int, digest: str) -> Manifest | None:
    row = (await conn.execute(
        select(manifests).where(manifests.c.repository_id == repository_id, manifests.c.digest == digest)
    )).first()
    return _manifest(row) if row else None


async def find_by_tag(conn: AsyncConnection, repository_id: int, tag: str) -> Manifest | None:
    row = (await conn.execute(
        select(manifests).join(tags, tags.c.manifest_id == manifests.c.id)
        .where(tags.c.repository_id == repository_id, tags.c.name == tag)
    )).first()
    return _manifest(row) if row else None


async def find_head_by_digest(conn: AsyncConnection, repository_id: int, digest: str) -> ManifestHead | None:
    row = (await conn.execute(
        select(*_HEAD_COLUMNS).where(manifests.c.repository_id == repository_id, manifests.c.digest == digest)
    )).first()
    return _head(row) if row else None


async def find_head_by_tag(conn: AsyncConnection, repository_id: int, tag: str) -> ManifestHead | None:
    row = (await conn.execute(
        select(*_HEAD_COLUMNS).join(tags, tags.c.manifest_id == manifests.c.id)
        .where(tags.c.repository_id == repository_id, tags.c.name == tag)
    )).first()
    return _head(row) if row else None


async def existing_digests(conn: AsyncConnection, repository_id: int, digests: list[str]) -> dict[str, int]:
    """Of `digests`, the manifests present in the repository, mapped to their ids.

    The rows are key-share locked (PostgreSQL; SQLite has one writer anyway) so that a racing
    delete of a child waits for the pushing index to commit, or, having won, makes the child
    missing here instead of failing the index's reference insert.
    """
    if not digests:
        return {}
    query = select(manifests.c.digest, manifests.c.id).where(
        manifests.c.repository_id == repository_id, manifests.c.digest.in_(digests),
    ).with_for_update(read=True, key_share=True)
    return {row.digest: row.id for row in await conn.execute(query)}


async def add(conn: AsyncConnection, repository_id: int, *, digest: str, media_type: str, content: bytes,
              artifact_type: str | None, subject_digest: str | None, annotations: dict[str, str] | None,
              blob_ids: list[int], child_ids: list[int], config_media_type: str | None = None,
              extra_attrs: dict[str, Any] | None = None) -> int:
    """Store a manifest and its references; a re-push of the same digest keeps the first row.

    `config_media_type` and `extra_attrs` (read from the config blob) feed Harbor's artifact view.
    An existing row is "updated" with its own size (equal for equal digests) rather than ignored:
    that locks it until commit, so a racing delete of the manifest waits instead of removing it
    between here and the reference inserts below (a foreign-key error).
    """
    await dialect.upsert(conn, manifests, {
        "repository_id": repository_id, "digest": digest, "media_type": media_type,
        "artifact_type": artifact_type, "size": len(content), "content": content,
        "subject_digest": subject_digest, "annotations": annotations or None, "created_at": utcnow(),
        "config_media_type": config_media_type, "extra_attrs": extra_attrs,
    }, ["repository_id", "digest"], ["size"])
    manifest_id = (await conn.execute(select(manifests.c.id).where(
        manifests.c.repository_id == repository_id, manifests.c.digest == digest))).scalar_one()
    await dialect.insert_ignore(conn, manifest_blobs, [{"manifest_id": manifest_id, "blob_id": blob_id}
                                                       for blob_id in sorted(set(blob_ids))],
                                ["manifest_id", "blob_id"])
    await dialect.insert_ignore(conn, manifest_children, [{"parent_id": manifest_id, "child_id": child_id}
                                                          for child_id in sorted(set(child_ids))],
                                ["parent_id", "child_id"])
    return int(manifest_id)


async def set_tag(conn: AsyncConnection, repository_id: int, name: str, manifest_id: int) -> None:
    """Point tag `name` at the manifest, creating or moving it atomically."""
    now = utcnow()
    await dialect.upsert(conn, tags, {"repository_id": repository_id, "name": name, "manifest_id": manifest_id,
                                      "created_at": now, "updated_at": now},
                         ["repository_id", "name"], ["manifest_id", "updated_at"])


async def delete_tag(conn: AsyncConnection, repository_id: int, name: str) -> bool:
    result = await conn.execute(delete(tags).where(tags.c.repository_id == repository_id, tags.c.name == name))
    return bool(result.rowcount)


async def delete_manifest(conn: AsyncConnection, manifest_id: int) -> None:
    """Delete a manifest with its tags and reference rows (cascade).

    The manifest row is locked first, the order a push (`add`, then `set_tag`) takes its
    locks in, so a racing push of the same manifest cannot deadlock with the delete.
    """
    await conn.execute(select(manifests.c.id).where(manifests.c.id == manifest_id).with_for_update())
    await conn.execute(delete(tags).where(tags.c.manifest_id == manifest_id))
    await conn.execute(delete(manifest_blobs).where(manifest_blobs.c.manifest_id == manifest_id))
    await conn.execute(delete(manifest_children).where(
        (manifest_children.c.parent_id == manifest_id) | (manifest_children.c.child_id == manifest_id)))
    await conn.execute(delete(manifests).where(manifests.c.id == manifest_id))


async def list_tags(conn: AsyncConnection, repository_id: int, *, limit: int | None, after: str | None) -> Page:
    """Tag names in lexical order after `after`, at most `limit` (None: all)."""
    query = select(tags.c.name).where(tags.c.repository_id == repository_id).order_by(tags.c.name)
    if after:
        query = query.where(tags.c.name > after)
    if limit is not None:
        query = query.limit(limit + 1)
    names = list((await conn.execute(query)).scalars())
    if limit is not None and len(names) > limit:
        return Page(names[:limit], True)
    return Page(names, False)


async def list_referrers(conn: AsyncConnection, repository_id: int, subject_digest: str,
                         artifact_type: str | None) -> list[ManifestHead]:
    """Manifests in the repository whose subject is `subject_digest`, oldest first."""
    query = select(*_HEAD_COLUMNS).where(manifests.c.repository_id == repository_id,
                                         manifests.c.subject_digest == subject_digest)
    if artifact_type is not None:
        query = query.where(manifests.c.artifact_type == artifact_type)
    return [_head(row) for row in await conn.execute(query.order_by(manifests.c.id))]


async def touch_pulled(conn: AsyncConnection, manifest_ids: list[int]) -> None:
    """Record a pull time for each manifest (batched by the caller, off the hot path)."""
    if manifest_ids:
        await conn.execute(update(manifests).where(manifests.c.id.in_(manifest_ids)).values(pulled_at=utcnow()))


async def touch_tags_pulled(conn: AsyncConnection, repository_tags: list[tuple[int, str]]) -> None:
    """Record a pull time for each (repository id, tag name); one UPDATE per repository."""
    by_repository: dict[int, list[str]] = {}
    for repository_id, name in repository_tags:
        by_repository.setdefault(repository_id, []).append(name)
    now = utcnow()
    for repository_id, names in sorted(by_repository.items()):
        await conn.execute(update(tags).where(tags.c.repository_id == repository_id, tags.c.name.in_(names))
                           .values(pulled_at=now))


async def add_pull_counts(conn: AsyncConnection, counts: dict[int, int]) -> None:
    """Add `counts[repository id]` pulls to each repository's pull_count (one UPDATE per distinct
    count, so a burst of single pulls over many repositories is still one statement)."""
    by_count: dict[int, list[int]] = {}
    for repository_id, count in counts.items():
        by_count.setdefault(count, []).append(repository_id)
    for count, ids in sorted(by_count.items()):
        await conn.execute(update(repositories).where(repositories.c.id.in_(sorted(ids)))
                           .values(pull_count=repositories.c.pull_count + count))


async def find_for_pull(conn: AsyncConnection, repository_name: str, reference: str, *,
                        by_digest: bool, with_content: bool = True) -> tuple[Any, int, dict[str, Any]] | None:
    """(manifest, project id, project metadata) for `repository_name` and a tag or digest, in ONE query.

    The /v2 pull path's only query; None when the repository or the reference is unknown
    (the caller tells the two apart only on that error path).
    """
    columns = (manifests,) if with_content else _HEAD_COLUMNS
    query = (select(*columns, repositories.c.project_id, projects.c.metadata.label("project_metadata"))
             .join(repositories, repositories.c.id == manifests.c.repository_id)
             .join(projects, projects.c.id == repositories.c.project_id)
             .where(repositories.c.name == repository_name))
    if by_digest:
        query = query.where(manifests.c.digest == reference)
    else:
        query = query.join(tags, tags.c.manifest_id == manifests.c.id).where(tags.c.name == reference)
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return (_manifest(row) if with_content else _head(row)), int(row.project_id), dict(row.project_metadata or {})
