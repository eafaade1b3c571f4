"""Queries for Harbor's artifact view: manifests as artifacts, their tags, references and sizes.

Harbor lists an artifact when it is tagged or is not a child of an index, and never
lists accessories (manifests whose subject is in the same repository): they appear
under their subject. `listed_clause` is that rule as SQL, shared by listing,
counting and a repository's `artifact_count`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.domain.digest import is_digest
from portside.domain.errors import BadRequest
from portside.store import blobs as blob_store
from portside.store import manifests as manifest_store
from portside.store.tables import (
    artifact_labels,
    blobs,
    manifest_blobs,
    manifest_children,
    manifests,
    projects,
    repositories,
    tags,
)

Sort = Sequence[tuple[str, bool]]  # (field, descending)


@dataclass(frozen=True, slots=True)
class ArtifactRow:
    """A manifest as Harbor's artifact view needs it (no content)."""

    id: int
    repository_id: int
    repository_name: str
    project_id: int
    digest: str
    manifest_media_type: str
    config_media_type: str | None
    artifact_type: str | None
    size: int
    subject_digest: str | None
    annotations: dict[str, str] | None
    extra_attrs: dict[str, Any] | None
    push_time: datetime
    pull_time: datetime | None


@dataclass(frozen=True, slots=True)
class TagRow:
    id: int
    repository_id: int
    artifact_id: int
    name: str
    push_time: datetime
    pull_time: datetime | None


@dataclass(frozen=True, slots=True)
class ArtifactQuery:
    """Filters of Harbor's `q=` for artifacts; `tagged` True is `tags=*`, False is `tags=nil`."""

    tagged: bool | None = None
    tag: str | None = None
    tag_like: str | None = None
    label_ids: tuple[int, ...] = ()
    media_type: str | None = None
    artifact_type: str | None = None
    digest: str | None = None
    sort: Sort = field(default_factory=tuple)


_ARTIFACT_COLUMNS = (
    manifests.c.id, manifests.c.repository_id, repositories.c.name.label("repository_name"),
    repositories.c.project_id, manifests.c.digest, manifests.c.media_type, manifests.c.config_media_type,
    manifests.c.artifact_type, manifests.c.size, manifests.c.subject_digest, manifests.c.annotations,
    manifests.c.extra_attrs, manifests.c.created_at, manifests.c.pulled_at,
)
#: Harbor's `media_type`: the config media type, or the manifest's own for an index.
MEDIA_TYPE = func.coalesce(manifests.c.config_media_type, manifests.c.media_type)
ARTIFACT_SORTS: dict[str, ColumnElement[Any]] = {
    "id": manifests.c.id, "digest": manifests.c.digest, "push_time": manifests.c.created_at,
    "pull_time": manifests.c.pulled_at, "media_type": MEDIA_TYPE, "manifest_media_type": manifests.c.media_type,
    "artifact_type": manifests.c.artifact_type,
}
TAG_SORTS: dict[str, ColumnElement[Any]] = {
    "id": tags.c.id, "name": tags.c.name, "push_time": tags.c.updated_at, "pull_time": tags.c.pulled_at,
}


def _artifact(row: Any) -> ArtifactRow:
    return ArtifactRow(
        id=row.id, repository_id=row.repository_id, repository_name=row.repository_name,
        project_id=row.project_id, digest=row.digest, manifest_media_type=row.media_type,
        config_media_type=row.config_media_type, artifact_type=row.artifact_type, size=row.size,
        subject_digest=row.subject_digest, annotations=row.annotations, extra_attrs=row.extra_attrs,
        push_time=row.created_at, pull_time=row.pulled_at,
    )


def _tag(row: Any) -> TagRow:
    return TagRow(id=row.id, repository_id=row.repository_id, artifact_id=row.manifest_id, name=row.name,
                  push_time=row.updated_at, pull_time=row.pulled_at)


def _select_artifacts() -> Select[Any]:
    return select(*_ARTIFACT_COLUMNS).join(repositories, repositories.c.id == manifests.c.repository_id)


def _is_tagged() -> ColumnElement[bool]:
    return exists().where(tags.c.manifest_id == manifests.c.id)


def _is_accessory() -> ColumnElement[bool]:
    subject = manifests.alias("subject")
    return and_(manifests.c.subject_digest.is_not(None), exists().where(
        subject.c.repository_id == manifests.c.repository_id, subject.c.digest == manifests.c.subject_digest))


def listed_clause() -> ColumnElement[bool]:
    """Harbor's default listing: tagged or not an index child, and not an accessory."""
    is_child = exists().where(manifest_children.c.child_id == manifests.c.id)
    return and_(or_(_is_tagged(), not_(is_child)), not_(_is_accessory()))


def _filters(query: ArtifactQuery) -> list[ColumnElement[bool]]:
    clauses = [listed_clause()]
    if query.tagged is True:
        clauses.append(_is_tagged())
    elif query.tagged is False:
        clauses.append(not_(_is_tagged()))
    if query.tag is not None:
        clauses.append(exists().where(tags.c.manifest_id == manifests.c.id, tags.c.name == query.tag))
    if query.tag_like is not None:
        clauses.append(exists().where(tags.c.manifest_id == manifests.c.id,
                                      tags.c.name.contains(query.tag_like, autoescape=True)))
    for label_id in query.label_ids:
        clauses.append(exists().where(artifact_labels.c.manifest_id == manifests.c.id,
                                      artifact_labels.c.label_id == label_id))
    if query.media_type is not None:
        clauses.append(MEDIA_TYPE == query.media_type)
    if query.artifact_type is not None:
        clauses.append(manifests.c.artifact_type == query.artifact_type)
    if query.digest is not None:
        clauses.append(manifests.c.digest == query.digest)
    return clauses


def parse_sort(value: str | None, allowed: Iterable[str]) -> Sort:
    """Harbor's `sort=a,-b` as (field, descending) pairs; raises BadRequest for a field not in `allowed`."""
    fields: list[tuple[str, bool]] = []
    for raw in (value or "").split(","):
        name = raw.strip()
        descending = name.startswith("-")
        name = name.lstrip("-")
        if not name:
            continue
        if name not in allowed:
            raise BadRequest(f"cannot sort by {name[:64]!r}: use one of {', '.join(sorted(allowed))}")
        fields.append((name, descending))
    return tuple(fields)


def order_by(sort: Sort, columns: dict[str, ColumnElement[Any]], tiebreak: ColumnElement[Any]) -> list[Any]:
    """ORDER BY terms for validated (field, descending) pairs, ending with `tiebreak` (an id) in the
    first term's direction, so equal values keep insertion order."""
    terms = [columns[name].desc() if descending else columns[name].asc() for name, descending in sort]
    first_descending = sort[0][1] if sort else True
    return [*terms, tiebreak.desc() if first_descending else tiebreak.asc()]


async def list_artifacts(conn: AsyncConnection, repository_id: int, query: ArtifactQuery, *,
                         offset: int, limit: int) -> tuple[list[ArtifactRow], int]:
    """One page of the repository's listed artifacts matching `query`, and how many match in all."""
    clauses = [manifests.c.repository_id == repository_id, *_filters(query)]
    total = (await conn.execute(select(func.count()).select_from(manifests).where(*clauses))).scalar_one()
    sort = query.sort or (("push_time", True),)
    page = _select_artifacts().where(*clauses).order_by(*order_by(sort, ARTIFACT_SORTS, manifests.c.id))
    rows = await conn.execute(page.offset(offset).limit(limit))
    return [_artifact(row) for row in rows], int(total)


async def find_by_digest(conn: AsyncConnection, repository_id: int, digest: str) -> ArtifactRow | None:
    query = _select_artifacts().where(manifests.c.repository_id == repository_id, manifests.c.digest == digest)
    row = (await conn.execute(query)).first()
    return _artifact(row) if row else None


async def find_by_tag(conn: AsyncConnection, repository_id: int, tag: str) -> ArtifactRow | None:
    query = (_select_artifacts().join(tags, tags.c.manifest_id == manifests.c.id)
             .where(tags.c.repository_id == repository_id, tags.c.name == tag))
    row = (await conn.execute(query)).first()
    return _artifact(row) if row else None


async def find_by_reference(conn: AsyncConnection, repository_id: int, reference: str) -> ArtifactRow | None:
    """The artifact a tag or digest names in the repository, or None."""
    if is_digest(reference):
        return await find_by_digest(conn, repository_id, reference)
    return await find_by_tag(conn, repository_id, reference)


async def copy_manifest(conn: AsyncConnection, manifest_id: int, repository_id: int, child_ids: list[int]) -> int:
    """Add the manifest to another repository (linking its blobs there); returns its id in that repository.

    `child_ids` are the ids of the index's children in the target repository (copied first).
    """
    source = (await conn.execute(select(manifests).where(manifests.c.id == manifest_id))).one()
    blob_ids = await blob_ids_of(conn, manifest_id)
    for blob_id in blob_ids:
        await blob_store.link(conn, repository_id, blob_id)
    return await manifest_store.add(
        conn, repository_id, digest=source.digest, media_type=source.media_type, content=bytes(source.content),
        artifact_type=source.artifact_type, subject_digest=source.subject_digest, annotations=source.annotations,
        blob_ids=blob_ids, child_ids=child_ids, config_media_type=source.config_media_type,
        extra_attrs=source.extra_attrs,
    )


async def accessories_of(conn: AsyncConnection, repository_id: int, digests: Sequence[str]) -> list[ArtifactRow]:
    """Manifests in the repository whose subject is one of `digests`, oldest first."""
    if not digests:
        return []
    query = _select_artifacts().where(manifests.c.repository_id == repository_id,
                                      manifests.c.subject_digest.in_(list(digests)))
    return [_artifact(row) for row in await conn.execute(query.order_by(manifests.c.id))]


async def tags_of(conn: AsyncConnection, manifest_ids: Sequence[int]) -> dict[int, list[TagRow]]:
    """The tags of each manifest, newest first."""
    found: dict[int, list[TagRow]] = {}
    if manifest_ids:
        query = select(tags).where(tags.c.manifest_id.in_(manifest_ids)).order_by(tags.c.updated_at.desc(),
                                                                                 tags.c.id.desc())
        for row in await conn.execute(query):
            found.setdefault(row.manifest_id, []).append(_tag(row))
    return found


async def children_of(conn: AsyncConnection, parent_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """For each index, its children's digests mapped to their ids."""
    found: dict[int, dict[str, int]] = {}
    if parent_ids:
        query = (select(manifest_children.c.parent_id, manifests.c.id, manifests.c.digest)
                 .join(manifests, manifests.c.id == manifest_children.c.child_id)
                 .where(manifest_children.c.parent_id.in_(parent_ids)))
        for row in await conn.execute(query):
            found.setdefault(row.parent_id, {})[row.digest] = row.id
    return found


async def contents(conn: AsyncConnection, manifest_ids: Sequence[int]) -> dict[int, bytes]:
    if not manifest_ids:
        return {}
    query = select(manifests.c.id, manifests.c.content).where(manifests.c.id.in_(manifest_ids))
    return {row.id: bytes(row.content) for row in await conn.execute(query)}


async def total_sizes(conn: AsyncConnection, manifest_ids: Sequence[int], *, max_depth: int = 4) -> dict[int, int]:
    """Harbor's artifact size: the manifest's bytes, its blobs' sizes and (indexes) its children's sizes."""
    own = await _own_sizes(conn, manifest_ids)
    if max_depth == 0:
        return own
    children = await children_of(conn, list(own))
    child_ids = sorted({child for members in children.values() for child in members.values()})
    child_sizes = await total_sizes(conn, child_ids, max_depth=max_depth - 1) if child_ids else {}
    return {mid: size + sum(child_sizes.get(child, 0) for child in children.get(mid, {}).values())
            for mid, size in own.items()}


async def _own_sizes(conn: AsyncConnection, manifest_ids: Sequence[int]) -> dict[int, int]:
    if not manifest_ids:
        return {}
    sizes = {row.id: int(row.size) for row in await conn.execute(
        select(manifests.c.id, manifests.c.size).where(manifests.c.id.in_(manifest_ids)))}
    query = (select(manifest_blobs.c.manifest_id, func.sum(blobs.c.size).label("total"))
             .join(blobs, blobs.c.id == manifest_blobs.c.blob_id)
             .where(manifest_blobs.c.manifest_id.in_(manifest_ids)).group_by(manifest_blobs.c.manifest_id))
    for row in await conn.execute(query):
        sizes[row.manifest_id] += int(row.total or 0)
    return sizes


async def blob_ids_of(conn: AsyncConnection, manifest_id: int) -> list[int]:
    query = select(manifest_blobs.c.blob_id).where(manifest_blobs.c.manifest_id == manifest_id)
    return [int(v) for v in (await conn.execute(query)).scalars()]


async def parent_ids(conn: AsyncConnection, manifest_id: int) -> list[int]:
    """The indexes that list the manifest as a child."""
    query = select(manifest_children.c.parent_id).where(manifest_children.c.child_id == manifest_id)
    return [int(v) for v in (await conn.execute(query)).scalars()]


# --- tags --------------------------------------------------------------------------------------

async def list_tags(conn: AsyncConnection, manifest_id: int, *, name: str | None, name_like: str | None,
                    sort: Sort, offset: int, limit: int) -> tuple[list[TagRow], int]:
    """One page of an artifact's tags and their total count."""
    clauses: list[ColumnElement[bool]] = [tags.c.manifest_id == manifest_id]
    if name is not None:
        clauses.append(tags.c.name == name)
    if name_like is not None:
        clauses.append(tags.c.name.contains(name_like, autoescape=True))
    total = (await conn.execute(select(func.count()).select_from(tags).where(*clauses))).scalar_one()
    query = select(tags).where(*clauses).order_by(*order_by(sort or (("push_time", True),), TAG_SORTS, tags.c.id))
    return [_tag(row) for row in await conn.execute(query.offset(offset).limit(limit))], int(total)


async def find_tag(conn: AsyncConnection, repository_id: int, name: str) -> TagRow | None:
    row = (await conn.execute(select(tags).where(tags.c.repository_id == repository_id,
                                                 tags.c.name == name))).first()
    return _tag(row) if row else None


async def add_tag(conn: AsyncConnection, repository_id: int, manifest_id: int, name: str) -> int:
    """Insert a new tag; raises IntegrityError if the repository already has one by that name."""
    now = utcnow()
    result = await conn.execute(tags.insert().values(
        repository_id=repository_id, name=name, manifest_id=manifest_id, created_at=now, updated_at=now,
    ).returning(tags.c.id))
    return int(result.scalar_one())


async def delete_tag_by_id(conn: AsyncConnection, tag_id: int) -> None:
    await conn.execute(delete(tags).where(tags.c.id == tag_id))


# --- repositories ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RepositoryRow:
    """Harbor's Repository: `update_time` is the latest of an edit, a push and a tag move."""

    id: int
    project_id: int
    name: str
    description: str
    pull_count: int
    creation_time: datetime
    update_time: datetime
    artifact_count: int


@dataclass(frozen=True, slots=True)
class RepositoryQuery:
    """Filters of Harbor's `q=` for repositories; `project_ids` None means every project."""

    project_ids: Sequence[int] | None = None
    include_public: bool = False
    names: tuple[str, ...] = ()
    name_like: str | None = None
    project_id: int | None = None
    sort: Sort = field(default_factory=tuple)


def _latest_change(conn: AsyncConnection) -> ColumnElement[Any]:
    pushed = select(func.max(manifests.c.created_at)).where(
        manifests.c.repository_id == repositories.c.id).scalar_subquery()
    tagged = select(func.max(tags.c.updated_at)).where(tags.c.repository_id == repositories.c.id).scalar_subquery()
    greatest = func.greatest if conn.dialect.name == "postgresql" else func.max  # SQLite's max(a, b, ...)
    edited = repositories.c.updated_at
    return greatest(edited, func.coalesce(pushed, edited), func.coalesce(tagged, edited))


def _repository_columns(conn: AsyncConnection) -> tuple[Any, ...]:
    listed = select(func.count()).select_from(manifests).where(
        manifests.c.repository_id == repositories.c.id, listed_clause()).scalar_subquery()
    return (repositories.c.id, repositories.c.project_id, repositories.c.name, repositories.c.description,
            repositories.c.pull_count, repositories.c.created_at, _latest_change(conn).label("update_time"),
            listed.label("artifact_count"))


def _repository(row: Any) -> RepositoryRow:
    update_time = row.update_time
    if isinstance(update_time, str):  # SQLite returns max(a, b) of timestamps as text
        update_time = datetime.fromisoformat(update_time)
    return RepositoryRow(id=row.id, project_id=row.project_id, name=row.name, description=row.description or "",
                         pull_count=int(row.pull_count or 0), creation_time=row.created_at,
                         update_time=update_time, artifact_count=int(row.artifact_count or 0))


def _repository_filters(query: RepositoryQuery) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if query.project_ids is not None:
        visible: ColumnElement[bool] = repositories.c.project_id.in_(list(query.project_ids))
        if query.include_public:
            public_ids = select(projects.c.id).where(projects.c.public.is_(True))
            visible = or_(visible, repositories.c.project_id.in_(public_ids))
        clauses.append(visible)
    if query.names:
        clauses.append(repositories.c.name.in_(query.names))
    if query.name_like is not None:
        clauses.append(repositories.c.name.contains(query.name_like, autoescape=True))
    if query.project_id is not None:
        clauses.append(repositories.c.project_id == query.project_id)
    return clauses


async def list_repositories(conn: AsyncConnection, query: RepositoryQuery, *, offset: int,
                            limit: int) -> tuple[list[RepositoryRow], int]:
    """One page of repositories matching `query` and how many match in all."""
    clauses = _repository_filters(query)
    total = (await conn.execute(select(func.count()).select_from(repositories).where(*clauses))).scalar_one()
    columns = {"id": repositories.c.id, "name": repositories.c.name, "creation_time": repositories.c.created_at,
               "update_time": _latest_change(conn), "pull_count": repositories.c.pull_count,
               "project_id": repositories.c.project_id}
    sort = query.sort or (("creation_time", True),)
    rows = await conn.execute(select(*_repository_columns(conn)).where(*clauses)
                              .order_by(*order_by(sort, columns, repositories.c.id)).offset(offset).limit(limit))
    return [_repository(row) for row in rows], int(total)


REPOSITORY_SORTS = ("id", "name", "creation_time", "update_time", "pull_count", "project_id")


async def find_repository(conn: AsyncConnection, name: str) -> RepositoryRow | None:
    row = (await conn.execute(select(*_repository_columns(conn)).where(repositories.c.name == name))).first()
    return _repository(row) if row else None


async def set_description(conn: AsyncConnection, repository_id: int, description: str) -> None:
    await conn.execute(repositories.update().where(repositories.c.id == repository_id)
                       .values(description=description, updated_at=utcnow()))


async def delete_repository(conn: AsyncConnection, repository_id: int) -> None:
    """Delete the repository; its manifests, tags, labels and blob links go with it (foreign key cascade)."""
    await conn.execute(delete(tags).where(tags.c.repository_id == repository_id))
    await conn.execute(delete(manifests).where(manifests.c.repository_id == repository_id))
    await conn.execute(delete(repositories).where(repositories.c.id == repository_id))
