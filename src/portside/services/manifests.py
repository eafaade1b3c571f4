"""Manifests, tags, referrers and the catalog (dist-spec "Pushing/Pulling manifests").

A manifest is parsed once (`domain.manifest.parse_manifest`); the push writes the
manifest, its references and the tag move in one transaction, so a racing tag
move or delete sees either the old or the new state, never a mix. Manifest bytes
(at most 4 MiB) live in the database: a GET is one indexed query.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from portside.domain import image_config
from portside.domain import media_types as mt
from portside.domain.digest import Digest
from portside.domain.errors import DigestInvalid, ManifestBlobUnknown, ManifestUnknown
from portside.domain.manifest import ParsedManifest, parse_manifest
from portside.domain.models import Manifest, ManifestHead, Page, Repository
from portside.domain.rbac import ANONYMOUS, Principal
from portside.domain.reference import RepositoryName
from portside.services.audit import Actor, AuditLog
from portside.services.policies import PullPolicy
from portside.services.pulls import PullRecorder
from portside.services.repositories import RepositoryResolver
from portside.storage.blobs import BlobStorage
from portside.store import blobs as blob_store
from portside.store import events as event_store
from portside.store import manifests as manifest_store
from portside.store import repositories as repository_store
from portside.store.database import Database

log = logging.getLogger("portside.manifests")


@dataclass(frozen=True, slots=True)
class PushedManifest:
    digest: Digest
    subject: str | None
    tags: tuple[str, ...]


class ManifestService:
    def __init__(self, db: Database, repositories: RepositoryResolver, pulls: PullRecorder,
                 audit: AuditLog, blobs: BlobStorage | None = None, policy: PullPolicy | None = None) -> None:
        self._db = db
        self._repositories = repositories
        self._pulls = pulls
        self._audit = audit
        self._blobs = blobs  # to read image configs (Harbor's extra_attrs); None: not read
        self._policy = policy  # blocks vulnerable pulls (project prevent_vul); None: never

    async def get(self, name: RepositoryName, reference: str | Digest, accept: list[str],
                  actor: Actor | None = None,
                  caller: Callable[[], Awaitable[Principal]] | None = None) -> Manifest:
        """The manifest for a tag or digest; raises NameUnknown, ManifestUnknown, or PolicyViolation
        when the project blocks vulnerable pulls (`caller` resolves who asks, only then)."""
        manifest, project_id, metadata = await self._find_for_pull(name, reference, with_content=True)
        assert isinstance(manifest, Manifest)
        _check_acceptable(manifest.media_type, accept)
        if self._policy is not None and metadata.get("prevent_vul") == "true":
            principal = await caller() if caller is not None else ANONYMOUS
            await self._policy.check_pull(principal, Repository(manifest.repository_id, project_id, name.value),
                                          manifest.digest, metadata=metadata)
        self._pulls.record(manifest.id, manifest.repository_id, None if isinstance(reference, Digest) else reference)
        self._audit.record(actor, "pull", "artifact", _resource(name, reference, manifest.digest),
                           project_id=project_id)
        return manifest

    async def head(self, name: RepositoryName, reference: str | Digest, accept: list[str]) -> ManifestHead:
        """Type, size and digest of a manifest, without its content."""
        head, _project_id, _metadata = await self._find_for_pull(name, reference, with_content=False)
        assert isinstance(head, ManifestHead)
        _check_acceptable(head.media_type, accept)
        return head

    async def _find_for_pull(self, name: RepositoryName, reference: str | Digest,
                             *, with_content: bool) -> tuple[Manifest | ManifestHead, int, dict[str, Any]]:
        async with self._db.read() as conn:
            found = await manifest_store.find_for_pull(conn, name.value, str(reference),
                                                       by_digest=isinstance(reference, Digest),
                                                       with_content=with_content)
        if found is None:
            await self._repositories.for_pull(name)  # NameUnknown when the repository is missing
            raise ManifestUnknown(f"manifest {reference} unknown to repository {name.value!r}")
        return found

    async def put(self, name: RepositoryName, reference: str | Digest, content: bytes,
                  content_type: str | None, extra_tags: tuple[str, ...] = (),
                  actor: Actor | None = None) -> PushedManifest:
        """Validate and store a manifest, tagging it when `reference` is a tag.

        Raises ManifestInvalid, ManifestTooLarge, DigestInvalid (content does not match
        a digest reference) or ManifestBlobUnknown (a blob or child manifest missing).
        """
        parsed = parse_manifest(content, content_type)
        digest = Digest.of(content, reference.algorithm if isinstance(reference, Digest) else "sha256")
        if isinstance(reference, Digest) and digest != reference:
            raise DigestInvalid(f"manifest digest {digest} does not match the reference {reference}")
        tags = tuple(dict.fromkeys(((reference,) if isinstance(reference, str) else ()) + extra_tags))
        repository = await self._repositories.for_push(name, actor)
        extra_attrs = await self._read_extra_attrs(repository.id, parsed)  # storage I/O: before the transaction
        async with self._db.write() as conn:
            blob_ids, child_ids = await _resolve_references(conn, repository.id, parsed)
            manifest_id = await manifest_store.add(
                conn, repository.id, digest=str(digest), media_type=parsed.media_type, content=content,
                artifact_type=parsed.referrer_artifact_type,
                subject_digest=str(parsed.subject.digest) if parsed.subject else None,
                annotations=parsed.annotations, blob_ids=blob_ids, child_ids=child_ids,
                config_media_type=parsed.config_media_type, extra_attrs=extra_attrs,
            )
            for tag in tags:
                await manifest_store.set_tag(conn, repository.id, tag, manifest_id)
            # The outbox: scan-on-push (and later webhooks, replication) react to this after commit.
            await event_store.add(conn, "artifact.pushed", {
                "manifest_id": manifest_id, "repository_id": repository.id,
                "project_id": repository.project_id, "digest": str(digest)})
        self._audit.record(actor, "create", "artifact", _resource(name, tags[0] if tags else digest, str(digest)),
                           project_id=repository.project_id)
        return PushedManifest(digest, str(parsed.subject.digest) if parsed.subject else None, tags)

    async def _read_extra_attrs(self, repository_id: int, parsed: ParsedManifest) -> dict[str, Any] | None:
        """Harbor's `extra_attrs` from an image manifest's config blob (at most 4 MiB), or None.

        Best effort: a missing, unreadable or malformed config never fails the push.
        """
        if self._blobs is None or parsed.is_index or not parsed.blobs:
            return None
        config = parsed.blobs[0]  # `parse_manifest` lists an image's config descriptor first
        if config.size > image_config.MAX_CONFIG_BYTES or not image_config.wants_config(config.media_type):
            return None
        async with self._db.read() as conn:
            blob = await blob_store.find_linked_blob(conn, repository_id, str(config.digest))
        if blob is None or blob.size > image_config.MAX_CONFIG_BYTES:
            return None  # a missing blob is reported by the write transaction
        try:
            chunks = [chunk async for chunk in self._blobs.driver.read(blob.storage_key, length=blob.size)]
        except Exception as error:  # noqa: BLE001 - any driver failure only costs the extra attributes
            log.warning("could not read config blob %s: %s", config.digest, error)
            return None
        return image_config.extra_attrs(config.media_type, b"".join(chunks))

    async def delete(self, name: RepositoryName, reference: str | Digest, actor: Actor | None = None) -> None:
        """Delete a tag, or a manifest with all its tags; raises ManifestUnknown."""
        repository = await self._repositories.for_pull(name)
        async with self._db.write() as conn:
            if isinstance(reference, str):
                if not await manifest_store.delete_tag(conn, repository.id, reference):
                    raise ManifestUnknown(f"tag {reference!r} unknown to repository {name.value!r}")
                resource_type = "tag"
            else:
                head = await manifest_store.find_head_by_digest(conn, repository.id, str(reference))
                if head is None:
                    raise ManifestUnknown(f"manifest {reference} unknown to repository {name.value!r}")
                await manifest_store.delete_manifest(conn, head.id)
                resource_type = "artifact"
        self._audit.record(actor, "delete", resource_type, _resource(name, reference, str(reference)),
                           project_id=repository.project_id)

    async def tags(self, name: RepositoryName, *, limit: int | None, after: str | None) -> Page:
        """A page of the repository's tags in lexical order."""
        repository = await self._repositories.for_pull(name)
        async with self._db.read() as conn:
            return await manifest_store.list_tags(conn, repository.id, limit=limit, after=after)

    async def referrers(self, name: RepositoryName, subject: Digest, artifact_type: str | None) -> list[ManifestHead]:
        """Manifests whose subject is `subject` (an unknown repository or subject has none)."""
        async with self._db.read() as conn:
            repository = await repository_store.find_repository(conn, name.value)
            if repository is None:
                return []
            return await manifest_store.list_referrers(conn, repository.id, str(subject), artifact_type)

    async def catalog(self, *, limit: int | None, after: str | None) -> Page:
        """A page of all repository names in lexical order."""
        async with self._db.read() as conn:
            return await repository_store.list_names(conn, limit=limit, after=after)


def _resource(name: RepositoryName, reference: str | Digest, digest: str) -> str:
    """`proj/repo:tag` or `proj/repo@digest`, as the audit log shows artifacts."""
    return f"{name}:{reference}" if isinstance(reference, str) else f"{name}@{digest}"


def _check_acceptable(media_type: str, accept: list[str]) -> None:
    if not mt.is_acceptable(media_type, accept):
        raise ManifestUnknown(f"manifest is a {media_type}, which the client's Accept header does not list")


async def _resolve_references(conn: AsyncConnection, repository_id: int,
                              parsed: ParsedManifest) -> tuple[list[int], list[int]]:
    """Blob and child-manifest ids the manifest references; raises ManifestBlobUnknown."""
    blob_digests = sorted({str(d.digest) for d in parsed.blobs})
    linked = await blob_store.linked_digests(conn, repository_id, blob_digests)
    missing = [d for d in blob_digests if d not in linked]
    if missing:
        raise ManifestBlobUnknown(f"blob {missing[0]} is not in this repository", detail={"digest": missing[0]})
    child_digests = sorted({str(d.digest) for d in parsed.children})
    children = await manifest_store.existing_digests(conn, repository_id, child_digests)
    missing = [d for d in child_digests if d not in children]
    if missing:
        raise ManifestBlobUnknown(f"manifest {missing[0]} is not in this repository", detail={"digest": missing[0]})
    return list(linked.values()), list(children.values())
