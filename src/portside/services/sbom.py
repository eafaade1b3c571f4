"""SBOM generation: a CycloneDX 1.5 (or SPDX 2.3) document of an image, stored in the registry
as an accessory of the image, so `/v2/<name>/referrers/<digest>`, oras and skopeo see it.

The accessory is an OCI image manifest with `artifactType` the SBOM's media type
(`application/vnd.cyclonedx+json` or `application/spdx+json`), the empty config
(`application/vnd.oci.empty.v1+json`, the 2-byte `{}` blob), one layer holding the document and
`subject` pointing at the image. Blobs and manifest go through the ordinary upload and manifest
services (same validation, same audit entries, same outbox events as any push).

Generation runs as a job (`sbom` {report_id, manifest_id, media_type}) queued by `request`
(Harbor's POST …/scan with scan_type "sbom") or on push when the project's metadata has
`auto_sbom_generation` "true". Each request has a report row (MIME
`application/vnd.security.sbom.report+json; version=1.0`, registration the built-in scanner)
going Pending → Running → Success | Error, whose report holds the SBOM's digest: Harbor's
`sbom_overview` (`overview`). Layer analyses are shared with the vulnerability scanner's cache.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from portside import __version__
from portside.analysis import merge_layers
from portside.core.clock import utcnow
from portside.domain import media_types as mt
from portside.domain.digest import Digest
from portside.domain.errors import BadRequest
from portside.domain.models import Project
from portside.domain.rbac import Principal
from portside.domain.reference import parse_repository_name
from portside.domain.sbom_documents import ImageInfo, Tool, cyclonedx, format_media_type, spdx
from portside.domain.scan_targets import image_layers
from portside.domain.vulnerability_report import harbor_time
from portside.services.artifacts import find_artifact
from portside.services.audit import Actor
from portside.services.deps import ServiceDeps
from portside.services.layer_analyses import Checkpoint, LayerAnalyses, LayerFailed, LogLine
from portside.services.scan_queue import NotScannable, Target, scannable_children, scanner_info
from portside.services.scanning import ScanProgress, deps_of
from portside.store import artifacts as artifact_store
from portside.store import executions as execution_store
from portside.store import jobs as job_store
from portside.store import sbom_reports as place_store
from portside.store import scans as scan_store
from portside.store.sbom_reports import ManifestPlace

if TYPE_CHECKING:
    from portside.services.bundle import Services

SBOM_JOB = "sbom"
SBOM_VENDOR = "SBOM"
SBOM_REPORT_MIME = "application/vnd.security.sbom.report+json; version=1.0"
EMPTY_CONFIG = b"{}"
TOOL = Tool("Portside", __version__)


@dataclass(frozen=True, slots=True)
class SbomResult:
    """A generated and stored SBOM: the accessory manifest's digest and the document."""

    digest: str
    subject: str
    media_type: str
    document: dict[str, Any]


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _check_image(target: Target) -> list[str]:
    layers = image_layers(target.media_type, target.config_media_type, target.content)
    if layers is None:
        raise NotScannable(f"no SBOM can be generated for an artifact of type {target.media_type}")
    return layers


async def queue_sbom(conn: AsyncConnection, target: Target, *, media_type: str, trigger: str) -> list[str]:
    """Queue SBOM generation of an image (or of each platform image of an index) in the caller's
    transaction; the report ids. A digest whose SBOM is already pending keeps that request.
    Raises NotScannable for anything else."""
    images = await scannable_children(conn, target) if target.is_index else [target]
    if not images:
        _check_image(target)  # raises for a non-image; an index without images lands here too
        raise NotScannable("the index lists no image to generate an SBOM of")
    for image in images:
        _check_image(image)
    registration_id = await scan_store.ensure_builtin_registration(conn)
    execution_id: int | None = None
    report_ids = []
    for image in images:
        existing = await scan_store.find_for_digest(conn, image.digest, registration_id, SBOM_REPORT_MIME)
        if existing is not None and existing.active:
            report_ids.append(existing.uuid)
            continue
        if execution_id is None:
            execution_id = await execution_store.create(conn, SBOM_VENDOR, target.manifest_id, trigger,
                                                        {"artifact": {"digest": target.digest}})
        report_id = str(uuid.uuid4())
        await scan_store.reset_to_pending(conn, digest=image.digest, registration_id=registration_id,
                                          mime_type=SBOM_REPORT_MIME, uuid=report_id, execution_id=execution_id)
        await job_store.enqueue(conn, SBOM_JOB, {"report_id": report_id, "manifest_id": image.manifest_id,
                                                 "media_type": media_type}, execution_id=execution_id)
        report_ids.append(report_id)
    return report_ids


async def queue_on_push(conn: AsyncConnection, payload: dict[str, Any]) -> list[str]:
    """The `artifact.pushed` event: queue a CycloneDX SBOM of a pushed image when its project has
    `auto_sbom_generation` "true". Anything but an image (an index's children are pushed, and
    announced, one by one; SBOM accessories themselves) is skipped."""
    from portside.store import repositories as repository_store

    project = await repository_store.find_project_by_id(conn, int(payload["project_id"]))
    if project is None or (project.metadata or {}).get("auto_sbom_generation") != "true":
        return []
    row = await scan_store.manifest_by_id(conn, int(payload["manifest_id"]))
    if row is None or row.media_type in mt.INDEXES:
        return []
    try:
        return await queue_sbom(conn, Target.of(row), media_type=format_media_type("cyclonedx"), trigger="EVENT")
    except NotScannable:
        return []


class SbomService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
        self._db = deps.db
        self._layers = LayerAnalyses(deps.db, deps.blobs.driver)

    async def request(self, principal: Principal, project: Project, repository_name: str, reference: str,
                      format_name: str = "cyclonedx") -> list[str]:
        """Queue SBOM generation of the artifact (Harbor's scan with scan_type "sbom"): report
        ids. Raises NotFound, NotScannable/BadRequest (400), Denied/Unauthorized."""
        await self._deps.access.require(principal, project.name, "sbom", "create")
        media_type = _media_type(format_name)
        async with self._db.write() as conn:
            row = await find_artifact(conn, project, repository_name, reference)
            manifest = await scan_store.manifest_by_id(conn, row.id)
            assert manifest is not None
            return await queue_sbom(conn, Target.of(manifest), media_type=media_type, trigger="MANUAL")

    async def generate(self, project: Project, repository_name: str, digest: str, actor: Actor | None,
                       format_name: str = "cyclonedx") -> SbomResult:
        """Generate and store the SBOM of image `digest` now (no permission check: callers decide).
        Raises NotFound, NotScannable (not an image), LayerFailed (a layer cannot be read)."""
        media_type = _media_type(format_name)
        async with self._db.read() as conn:
            row = await find_artifact(conn, project, repository_name, digest)
            place = await place_store.place_of(conn, row.id)
        assert place is not None
        return await self._generate(place, media_type, _quiet, _nothing, actor)

    async def run_job(self, report_id: str, manifest_id: int, media_type: str, progress: ScanProgress) -> None:
        """The `sbom` job: generate the SBOM into report `report_id` (nothing if that report is no
        longer pending). A corrupt layer or a vanished manifest ends the report with Error."""
        async with self._db.write() as conn:
            started = await scan_store.mark_running(conn, report_id)
            place = await place_store.place_of(conn, manifest_id)
        if not started:
            await progress.log(f"SBOM report {report_id} is no longer pending: nothing to do")
            return
        if place is None:
            await self.finish_failed(report_id, "the manifest was deleted before its SBOM was generated")
            return
        try:
            result = await self._generate(place, media_type, progress.log, progress.checkpoint, Actor.system())
        except (LayerFailed, NotScannable) as error:
            await progress.log(str(error))
            await self.finish_failed(report_id, str(error))
            return
        report = {"sbom_digest": result.digest, "media_type": result.media_type, "subject": result.subject,
                  "scanner": scanner_info()}
        async with self._db.write() as conn:
            await scan_store.finish(conn, report_id, status="Success", report=report)
        await progress.log(f"SBOM {result.digest} ({result.media_type}) stored for {result.subject}")

    async def finish_failed(self, report_id: str, message: str, status: str = "Error") -> None:
        async with self._db.write() as conn:
            await scan_store.finish(conn, report_id, status=status, message=message)

    async def overview(self, digests: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Harbor's `sbom_overview` per digest ({start_time, end_time, scan_status, sbom_digest,
        report_id, duration, scanner}), one query; digests without an SBOM request are absent."""
        async with self._db.read() as conn:
            found = await scan_store.full_reports(conn, digests, SBOM_REPORT_MIME)
        overviews = {}
        for digest, (row, report) in found.items():
            value: dict[str, Any] = {"report_id": row.uuid, "scan_status": row.status,
                                     "start_time": harbor_time(row.start_time), "scanner": scanner_info()}
            if row.end_time is not None:
                value["end_time"] = harbor_time(row.end_time)
                value["duration"] = max(0, int((row.end_time - row.start_time).total_seconds()))
            if report.get("sbom_digest"):
                value["sbom_digest"] = report["sbom_digest"]
            overviews[digest] = value
        return overviews

    # --- the work -------------------------------------------------------------------------------

    async def _generate(self, place: ManifestPlace, media_type: str, log: LogLine, checkpoint: Checkpoint,
                        actor: Actor | None) -> SbomResult:
        async with self._db.read() as conn:
            manifest = await scan_store.manifest_by_id(conn, place.manifest_id)
            artifact = await artifact_store.find_by_digest(conn, place.repository_id, place.digest)
        if manifest is None or artifact is None:
            raise NotScannable(f"the manifest {place.digest} is gone")
        target = Target.of(manifest)
        analyses = await self._layers.for_layers(_check_image(target), log, checkpoint)
        inventory = merge_layers(analyses)
        extra = artifact.extra_attrs or {}
        image = ImageInfo(repository=place.repository_name, digest=place.digest, registry=self._registry_host(),
                          architecture=str(extra.get("architecture") or ""), os=str(extra.get("os") or ""),
                          created=str(extra.get("created") or ""), tags=place.tags)
        now = utcnow()
        if media_type == format_media_type("spdx"):
            namespace = f"https://{image.registry}/spdx/{place.repository_name}/{place.digest}/{uuid.uuid4()}"
            document = spdx(inventory, image, tool=TOOL, timestamp=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            namespace=namespace)
        else:
            document = cyclonedx(inventory, image, tool=TOOL, timestamp=harbor_time(now) or "",
                                 serial_number=str(uuid.uuid4()))
        digest = await self._push(place.repository_name, target, document, media_type, actor)
        await log(f"{len(inventory.packages)} packages in the SBOM of {place.digest}")
        return SbomResult(digest, place.digest, media_type, document)

    def _registry_host(self) -> str:
        settings = self._deps.settings
        if settings.external_url:
            return urlsplit(settings.external_url).netloc or settings.external_url
        return f"{settings.host}:{settings.port}"

    async def _push(self, repository: str, subject: Target, document: dict[str, Any], media_type: str,
                    actor: Actor | None) -> str:
        """Upload the empty config and the document, then the accessory manifest; its digest."""
        name = parse_repository_name(repository)
        content = json.dumps(document, indent=1).encode()
        for blob in (EMPTY_CONFIG, content):
            await self._deps.uploads.upload_whole(name, Digest.of(blob), _once(blob), content_length=len(blob),
                                                  actor=actor)
        filename = "sbom.spdx.json" if media_type == format_media_type("spdx") else "sbom.cdx.json"
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "artifactType": media_type,
            "config": {"mediaType": mt.OCI_EMPTY, "digest": str(Digest.of(EMPTY_CONFIG)), "size": len(EMPTY_CONFIG)},
            "layers": [{"mediaType": media_type, "digest": str(Digest.of(content)), "size": len(content),
                        "annotations": {"org.opencontainers.image.title": filename}}],
            "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": len(subject.content)},
            "annotations": {"org.opencontainers.image.created": harbor_time(utcnow()) or "",
                            "org.opencontainers.image.description": f"SBOM generated by Portside {__version__}"},
        }, separators=(",", ":")).encode()
        pushed = await self._deps.manifests.put(name, Digest.of(manifest), manifest, mt.OCI_MANIFEST, actor=actor)
        return str(pushed.digest)


def _media_type(format_name: str) -> str:
    try:
        return format_media_type(format_name)
    except ValueError as error:
        raise BadRequest(str(error)) from None


async def _quiet(_line: str) -> None:
    return None


async def _nothing() -> None:
    return None


def sbom_service(services: Services) -> SbomService:
    """An SbomService over the bundle's parts (cheap: it holds no state of its own)."""
    return SbomService(deps_of(services))
