"""Harbor's artifact view of manifests: listing, tags, copy, delete, additions.

An artifact is a manifest in a repository. Its view is assembled per page with a
fixed number of batched queries (tags, labels, sizes, index references,
accessories), never one query per artifact. Reading an artifact never writes: pull
times come from the batched PullRecorder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.domain import image_config
from portside.domain import media_types as mt
from portside.domain.digest import is_digest, parse_digest
from portside.domain.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PreconditionFailed,
    RegistryError,
    TagInvalid,
    Unauthorized,
)
from portside.domain.models import Project
from portside.domain.query import Term, parse_query
from portside.domain.rbac import Principal
from portside.domain.reference import TAG_RE, parse_repository_name
from portside.services.audit import Actor
from portside.services.deps import ServiceDeps
from portside.services.repositories import full_repository_name
from portside.services.row_ids import parse_row_id
from portside.store import artifacts as artifact_store
from portside.store import blobs as blob_store
from portside.store import labels as label_store
from portside.store import manifests as manifest_store
from portside.store import repositories as repository_store
from portside.store.artifacts import ArtifactQuery, ArtifactRow, TagRow
from portside.store.labels import LabelRow

ACCESSORY_TYPES = {"application/vnd.dev.cosign.artifact.sig.v1+json": "signature.cosign",
                   "application/vnd.cncf.notary.signature": "signature.notation",
                   "application/vnd.goharbor.harbor.sbom.v1": "sbom.harbor"}


@dataclass(frozen=True, slots=True)
class ArtifactOptions:
    """Harbor's `with_*` switches (Harbor defaults: tags and accessories on, labels off)."""

    with_tag: bool = True
    with_label: bool = False
    with_accessory: bool = True


@dataclass(frozen=True, slots=True)
class Reference:
    """An index entry: the child and the descriptor's platform, annotations and urls."""

    parent_id: int
    child_id: int
    child_digest: str
    platform: dict[str, Any] | None
    annotations: dict[str, str] | None
    urls: list[str] | None


@dataclass(frozen=True, slots=True)
class Accessory:
    artifact: ArtifactRow
    subject: ArtifactRow
    type: str
    size: int


@dataclass(frozen=True, slots=True)
class ArtifactView:
    """Everything Harbor's Artifact JSON shows; list fields are None when empty or not asked for."""

    row: ArtifactRow
    type: str
    media_type: str
    size: int
    references: list[Reference] | None
    tags: list[TagRow] | None
    labels: list[LabelRow] | None
    accessories: list[Accessory] | None
    additions: tuple[str, ...]


class ArtifactService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    async def list_artifacts(self, principal: Principal, project: Project, repository_name: str, q: str | None,
                   sort: str | None, options: ArtifactOptions, *, offset: int,
                   limit: int) -> tuple[list[ArtifactView], int]:
        """One page of the repository's artifacts matching Harbor's `q`, and how many match in all."""
        await self._deps.access.require(principal, project.name, "artifact", "list")
        query = _artifact_query(q, sort)
        async with self._deps.db.read() as conn:
            repository_id = await repository_id_of(conn, project, repository_name)
            rows, total = await artifact_store.list_artifacts(conn, repository_id, query, offset=offset,
                                                              limit=limit)
            return await _views(conn, rows, options), total

    async def get(self, principal: Principal, project: Project, repository_name: str, reference: str,
                  options: ArtifactOptions) -> ArtifactView:
        """The artifact a tag or digest names; raises NotFound."""
        await self._deps.access.require(principal, project.name, "artifact", "read")
        async with self._deps.db.read() as conn:
            row = await find_artifact(conn, project, repository_name, reference)
            return (await _views(conn, [row], options))[0]

    async def list_accessories(self, principal: Principal, project: Project, repository_name: str,
                               reference: str) -> list[Accessory]:
        """The artifact's accessories (signatures, SBOMs, other referrers), oldest first."""
        await self._deps.access.require(principal, project.name, "accessory", "list")
        async with self._deps.db.read() as conn:
            row = await find_artifact(conn, project, repository_name, reference)
            return (await _accessories(conn, [row])).get(row.id, [])

    async def delete(self, principal: Principal, actor: Actor, project: Project, repository_name: str,
                     reference: str) -> None:
        """Delete the artifact, its tags, its accessories and the children no one else uses.

        Raises PreconditionFailed if an index still lists it (delete the index first).
        """
        await self._deps.access.require(principal, project.name, "artifact", "delete")
        async with self._deps.db.write() as conn:
            row = await find_artifact(conn, project, repository_name, reference)
            if await artifact_store.parent_ids(conn, row.id):
                raise PreconditionFailed("the deleting artifact is referenced by others")
            await _delete_tree(conn, row)
        self._deps.audit.record(actor, "delete", "artifact", f"{row.repository_name}@{row.digest}",
                                project_id=project.id)

    async def copy(self, principal: Principal, actor: Actor, project: Project, repository_name: str,
                   source: str) -> str:
        """Copy `<project>/<repo>:<tag>` or `...@<digest>` (with its children, accessories and tags)
        into this repository; returns the source reference. Needs pull on the source."""
        await self._deps.access.require(principal, project.name, "artifact", "create")
        source_name, reference = _parse_source(source)
        await self._require_pull(principal, source_name.split("/", 1)[0])
        target_name = full_repository_name(project, repository_name)
        async with self._deps.db.write() as conn:
            source_repository = await repository_store.find_repository(conn, source_name)
            if source_repository is None:
                raise NotFound(f"repository {source_name} not found")
            root = await artifact_store.find_by_reference(conn, source_repository.id, reference)
            if root is None:
                raise NotFound(f"artifact {source} not found")
            target = await repository_store.ensure_repository(conn, project.id, target_name)
            copied: dict[int, int] = {}
            root_copy = await _copy_tree(conn, root.id, target.id, copied)
            for accessory in await artifact_store.accessories_of(conn, source_repository.id, [root.digest]):
                await _copy_tree(conn, accessory.id, target.id, copied)
            for tag in (await artifact_store.tags_of(conn, [root.id])).get(root.id, []):
                await manifest_store.set_tag(conn, target.id, tag.name, root_copy)
        resource = f"{target_name}@{root.digest}" if is_digest(reference) else f"{target_name}:{reference}"
        self._deps.audit.record(actor, "create", "artifact", resource, project_id=project.id)
        return reference

    async def create_tag(self, principal: Principal, actor: Actor, project: Project, repository_name: str,
                         reference: str, name: str) -> None:
        """Tag the artifact; raises Conflict if the repository already has a tag called `name`."""
        await self._deps.access.require(principal, project.name, "tag", "create")
        if not TAG_RE.fullmatch(name):
            raise BadRequest(f"invalid tag {name[:140]!r}: up to 128 of [A-Za-z0-9_.-], not starting with . or -")
        try:
            async with self._deps.db.write() as conn:
                row = await find_artifact(conn, project, repository_name, reference)
                if await artifact_store.find_tag(conn, row.repository_id, name) is not None:
                    raise Conflict(f"tag {name} already exists in the repository {row.repository_name}")
                await artifact_store.add_tag(conn, row.repository_id, row.id, name)
        except IntegrityError:  # a concurrent request created it first
            raise Conflict(f"tag {name} already exists") from None
        self._deps.audit.record(actor, "create", "tag", f"{row.repository_name}:{name}", project_id=project.id)

    async def list_tags(self, principal: Principal, project: Project, repository_name: str, reference: str,
                        q: str | None, sort: str | None, *, offset: int, limit: int) -> tuple[list[TagRow], int]:
        """One page of the artifact's tags (q: name=, name=~) and their total count."""
        await self._deps.access.require(principal, project.name, "tag", "list")
        terms = parse_query(q)
        _only_keys(terms, ("name",), "tags")
        name = terms.get("name")
        order = artifact_store.parse_sort(sort, artifact_store.TAG_SORTS)
        async with self._deps.db.read() as conn:
            row = await find_artifact(conn, project, repository_name, reference)
            return await artifact_store.list_tags(
                conn, row.id, name=name.value if name and name.kind == "exact" else None,
                name_like=name.value if name and name.kind == "fuzzy" else None, sort=order, offset=offset,
                limit=limit)

    async def delete_tag(self, principal: Principal, actor: Actor, project: Project, repository_name: str,
                         reference: str, tag_name: str) -> None:
        """Remove one tag of the artifact; raises NotFound if the artifact has no such tag."""
        await self._deps.access.require(principal, project.name, "tag", "delete")
        async with self._deps.db.write() as conn:
            row = await find_artifact(conn, project, repository_name, reference)
            tag = await artifact_store.find_tag(conn, row.repository_id, tag_name)
            if tag is None or tag.artifact_id != row.id:
                raise NotFound(f"tag {tag_name[:140]} attached to artifact {row.id} not found")
            await manifest_store.delete_tag(conn, row.repository_id, tag_name)
        self._deps.audit.record(actor, "delete", "tag", f"{row.repository_name}:{tag_name}", project_id=project.id)

    async def addition(self, principal: Principal, project: Project, repository_name: str, reference: str,
                       addition: str) -> list[dict[str, Any]]:
        """An artifact addition: `build_history` of an image (its config's `history` entries).

        Raises NotFound for any other addition, or for an artifact that is not an image.
        """
        await self._deps.access.require(principal, project.name, "artifact-addition", "read")
        async with self._deps.db.read() as conn:
            row = await find_artifact(conn, project, repository_name, reference)
            if addition != "build_history":
                raise NotFound(f"addition {addition[:64]} is not available for artifact {row.digest}")
            content = (await artifact_store.contents(conn, [row.id]))[row.id]
            config_digest = _config_digest(row, content)
            blob = await blob_store.find_linked_blob(conn, row.repository_id, config_digest) if config_digest else None
        if blob is None or blob.size > image_config.MAX_CONFIG_BYTES:
            raise NotFound(f"artifact {row.digest} has no build history")
        data = b"".join([chunk async for chunk in self._deps.blobs.driver.read(blob.storage_key, length=blob.size)])
        history = image_config.build_history(data)
        if history is None:
            raise NotFound(f"artifact {row.digest} has no readable build history")
        return history

    async def _require_pull(self, principal: Principal, project_name: str) -> None:
        """Pull on the source project, which must be one the caller can see (else NotFound/Unauthorized)."""
        if not await self._deps.access.allowed(principal, project_name, "project", "read"):
            if principal.is_anonymous:
                raise Unauthorized("authentication required")
            raise NotFound(f"project {project_name} not found")
        await self._deps.access.require(principal, project_name, "repository", "pull")


async def repository_id_of(conn: AsyncConnection, project: Project, repository_name: str) -> int:
    """The id of `<project>/<repository_name>`; raises NotFound."""
    name = full_repository_name(project, repository_name)
    repository = await repository_store.find_repository(conn, name)
    if repository is None:
        raise NotFound(f"repository {name} not found")
    return repository.id


async def find_artifact(conn: AsyncConnection, project: Project, repository_name: str,
                        reference: str) -> ArtifactRow:
    """The artifact a tag or digest names in the repository; raises NotFound (BadRequest if malformed)."""
    repository_id = await repository_id_of(conn, project, repository_name)
    if is_digest(reference):
        parse_digest(reference)  # DigestInvalid (400) for a malformed digest
    row = await artifact_store.find_by_reference(conn, repository_id, reference)
    if row is None:
        name = full_repository_name(project, repository_name)
        raise NotFound(f"artifact {name}{'@' if is_digest(reference) else ':'}{reference[:140]} not found")
    return row


async def _views(conn: AsyncConnection, rows: list[ArtifactRow], options: ArtifactOptions) -> list[ArtifactView]:
    """Assemble the views of `rows` with one batched query per part."""
    ids = [row.id for row in rows]
    indexes = [row.id for row in rows if row.manifest_media_type in mt.INDEXES]
    tags = await artifact_store.tags_of(conn, ids) if options.with_tag else {}
    labels = await label_store.labels_of(conn, ids) if options.with_label else {}
    accessories = await _accessories(conn, rows) if options.with_accessory else {}
    references = await _references(conn, indexes)
    sizes = await artifact_store.total_sizes(conn, ids)
    return [ArtifactView(
        row=row, type=image_config.artifact_type(row.manifest_media_type, row.config_media_type),
        media_type=row.config_media_type or row.manifest_media_type, size=sizes.get(row.id, row.size),
        references=references.get(row.id) or None, tags=tags.get(row.id) or None,
        labels=labels.get(row.id) or None, accessories=accessories.get(row.id) or None,
        additions=_additions(row),
    ) for row in rows]


def _additions(row: ArtifactRow) -> tuple[str, ...]:
    """The addition links Harbor shows: build history for images, vulnerabilities for images and indexes."""
    if row.manifest_media_type in mt.INDEXES:
        return ("vulnerabilities",)
    if row.config_media_type in image_config.IMAGE_CONFIG_TYPES:
        return ("build_history", "vulnerabilities")
    return ()


async def _references(conn: AsyncConnection, index_ids: list[int]) -> dict[int, list[Reference]]:
    """Each index's entries, in the index's order, with the ids of the children."""
    children = await artifact_store.children_of(conn, index_ids)
    found: dict[int, list[Reference]] = {}
    for index_id, content in (await artifact_store.contents(conn, index_ids)).items():
        known = children.get(index_id, {})
        for entry in _index_entries(content):
            digest = entry.get("digest")
            if isinstance(digest, str) and digest in known:
                found.setdefault(index_id, []).append(Reference(
                    parent_id=index_id, child_id=known[digest], child_digest=digest,
                    platform=entry.get("platform") if isinstance(entry.get("platform"), dict) else None,
                    annotations=entry.get("annotations") if isinstance(entry.get("annotations"), dict) else None,
                    urls=entry.get("urls") if isinstance(entry.get("urls"), list) else None))
    return found


def _index_entries(content: bytes) -> list[dict[str, Any]]:
    try:
        entries = json.loads(content).get("manifests")
    except (ValueError, AttributeError):
        return []
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


async def _accessories(conn: AsyncConnection, rows: list[ArtifactRow]) -> dict[int, list[Accessory]]:
    """Referrers (signatures, SBOMs, ...) of each artifact, keyed by the subject's id."""
    by_digest: dict[tuple[int, str], ArtifactRow] = {(row.repository_id, row.digest): row for row in rows}
    found: dict[int, list[Accessory]] = {}
    candidates: list[ArtifactRow] = []
    for repository_id in sorted({row.repository_id for row in rows}):
        digests = [row.digest for row in rows if row.repository_id == repository_id]
        candidates += await artifact_store.accessories_of(conn, repository_id, digests)
    sizes = await artifact_store.total_sizes(conn, [row.id for row in candidates])
    for accessory in candidates:
        subject = by_digest[(accessory.repository_id, accessory.subject_digest or "")]
        kind = ACCESSORY_TYPES.get(accessory.artifact_type or "", "subject.accessory")
        found.setdefault(subject.id, []).append(Accessory(accessory, subject, kind, sizes.get(accessory.id, 0)))
    return found


async def _copy_tree(conn: AsyncConnection, source_id: int, target_repository_id: int,
                     copied: dict[int, int]) -> int:
    """Copy a manifest after its children; `copied` maps source ids to target ids."""
    if source_id in copied:
        return copied[source_id]
    children = (await artifact_store.children_of(conn, [source_id])).get(source_id, {})
    child_ids = [await _copy_tree(conn, child, target_repository_id, copied) for child in children.values()]
    copied[source_id] = await artifact_store.copy_manifest(conn, source_id, target_repository_id, child_ids)
    return copied[source_id]


async def _delete_tree(conn: AsyncConnection, row: ArtifactRow) -> None:
    """Delete a manifest, its accessories, and its children that have no tags and no other parent."""
    children = (await artifact_store.children_of(conn, [row.id])).get(row.id, {})
    accessories = await artifact_store.accessories_of(conn, row.repository_id, [row.digest])
    await manifest_store.delete_manifest(conn, row.id)
    for accessory in accessories:
        await _delete_tree(conn, accessory)
    for digest in children:
        child = await artifact_store.find_by_digest(conn, row.repository_id, digest)
        if child is None or await artifact_store.parent_ids(conn, child.id):
            continue
        if not (await artifact_store.tags_of(conn, [child.id])).get(child.id):
            await _delete_tree(conn, child)


def _config_digest(row: ArtifactRow, content: bytes) -> str | None:
    """The config digest of an image manifest whose config is an image config, else None."""
    if row.config_media_type not in image_config.IMAGE_CONFIG_TYPES:
        return None
    try:
        digest = json.loads(content)["config"]["digest"]
    except (ValueError, KeyError, TypeError):
        return None
    return digest if isinstance(digest, str) else None


def _parse_source(source: str) -> tuple[str, str]:
    """`<repository>:<tag>` or `<repository>@<digest>` → (repository, reference); raises BadRequest."""
    name, separator, reference = source.partition("@")
    if not separator:
        name, separator, reference = source.rpartition(":")
    try:
        parse_repository_name(name)
        if separator == "@":
            parse_digest(reference)
        elif not TAG_RE.fullmatch(reference):
            raise TagInvalid()
    except RegistryError as error:
        raise BadRequest(f"invalid input {source[:300]!r}: {error.message}; use <project>/<repository>:<tag> "
                         "or <project>/<repository>@<digest>") from None
    return name, reference


def _only_keys(terms: dict[str, Term], allowed: tuple[str, ...], what: str) -> None:
    for key in terms:
        if key not in allowed:
            raise BadRequest(f"unsupported query {key[:64]!r} for {what}: use {', '.join(allowed)}")


def _artifact_query(q: str | None, sort: str | None) -> ArtifactQuery:
    """Harbor's artifact `q` (tags=*|nil|v|~v, labels=(ids), media_type, artifact_type, digest) and sort."""
    terms = parse_query(q)
    _only_keys(terms, ("tags", "labels", "media_type", "artifact_type", "digest"), "artifacts")
    query = ArtifactQuery(sort=artifact_store.parse_sort(sort, artifact_store.ARTIFACT_SORTS))
    tags = terms.get("tags")
    if tags is not None:
        if tags.kind == "exact" and tags.value in ("*", "nil"):
            query = replace(query, tagged=tags.value == "*")
        elif tags.kind == "exact":
            query = replace(query, tag=tags.value)
        elif tags.kind == "fuzzy":
            query = replace(query, tag_like=tags.value)
        else:
            raise BadRequest("tags supports tags=*, tags=nil, tags=<tag> and tags=~<text>")
    labels = terms.get("labels")
    if labels is not None:
        label_ids = tuple(parse_row_id(value) for value in labels.values)
        if labels.kind not in ("exact", "all") or not all(label_ids):
            raise BadRequest("labels takes label ids: labels=(1 2) (artifacts with all of them) or labels=1")
        query = replace(query, label_ids=tuple(label_id for label_id in label_ids if label_id))
    return replace(query, media_type=_exact(terms, "media_type"), artifact_type=_exact(terms, "artifact_type"),
                   digest=_exact(terms, "digest"))


def _exact(terms: dict[str, Term], key: str) -> str | None:
    term = terms.get(key)
    if term is not None and term.kind != "exact":
        raise BadRequest(f"{key} supports exact matches only ({key}=<value>)")
    return term.value if term else None
