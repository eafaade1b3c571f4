"""Queueing scans inside a caller's transaction, and keeping image-index reports up to date.

Everything here takes the caller's connection, so a scan request, an outbox event and a
scan-all batch each queue their scans atomically with the rest of their work.

- An image gets a Pending report (a new `uuid`, replacing any earlier report of its digest)
  and one `scan` job `{report_id, manifest_id}`.
- An image index gets a Pending report too, and each scannable child (attestation manifests
  excepted) is queued like an image. The index's report is recomputed from its children's
  whenever one of them finishes (`refresh_parents`): merged findings, worst severity.
- A digest whose report is Pending or Running is not queued again: manual requests get the
  running scan's report id back, scan-all skips it.
- Reports are made by the registration the artifact's project uses (its chosen scanner, else
  the default: `store.scanner_registrations.for_project`), resolved in the caller's transaction;
  an index and its images use the same one. A Pending report already names its scanner
  (Portside's, or the registration's name until the adapter's metadata is read by the job).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from portside import __version__
from portside.core.clock import utcnow
from portside.domain import media_types as mt
from portside.domain.errors import BadRequest
from portside.domain.scan_targets import attestation_children, image_layers
from portside.domain.vulnerability_report import REPORT_MIME, harbor_time, merge_reports, summarize
from portside.store import executions as execution_store
from portside.store import jobs as job_store
from portside.store import repositories as repository_store
from portside.store import scanner_registrations as registration_store
from portside.store import scans as scan_store
from portside.store.scanner_registrations import Registration
from portside.store.scans import BUILTIN_URL, ReportRow

SCAN_JOB = "scan"
SCAN_VENDOR = "SCAN"
SCANNER_NAME = "Portside"


def scanner_info() -> dict[str, str]:
    """Harbor's `Scanner` of every report the built-in scanner produces."""
    return {"name": SCANNER_NAME, "vendor": SCANNER_NAME, "version": __version__}


def is_builtin(registration: Registration) -> bool:
    return registration.url == BUILTIN_URL


def provisional_scanner(registration: Registration) -> dict[str, str]:
    """The `Scanner` a queued report shows: Portside's, or for an adapter its registration's name
    (the scan job replaces it with the adapter's own name, vendor and version)."""
    if is_builtin(registration):
        return scanner_info()
    return {"name": registration.name, "vendor": "", "version": ""}


def report_scanner(report: ReportRow) -> dict[str, Any]:
    """The `Scanner` that made (or is making) a report; rows without one are Portside's."""
    return dict(report.scanner) if report.scanner else scanner_info()


async def project_registration(conn: AsyncConnection, project_id: int | None) -> Registration:
    """The registration scans of the project use (see the module doc), in the caller's transaction."""
    builtin_id = await scan_store.ensure_builtin_registration(conn)
    return await registration_store.for_project(conn, project_id, builtin_id)


class NotScannable(BadRequest):
    """Harbor answers 400 for an artifact its scanner cannot scan."""


@dataclass(frozen=True, slots=True)
class Target:
    """A manifest to scan (content included, at most 4 MiB)."""

    manifest_id: int
    digest: str
    media_type: str
    config_media_type: str | None
    content: bytes

    @classmethod
    def of(cls, row: Any) -> Target:
        return cls(row.id, row.digest, row.media_type, row.config_media_type, bytes(row.content))

    @property
    def is_index(self) -> bool:
        return self.media_type in mt.INDEXES


@dataclass(frozen=True, slots=True)
class Queued:
    report_id: str
    jobs: int  # scan jobs enqueued; 0 when an active scan was reused
    reused: bool


async def scannable_children(conn: AsyncConnection, index: Target) -> list[Target]:
    """The index's children the scanner scans: images, without attestation manifests."""
    skipped = attestation_children(index.content, index.media_type)
    children = [Target.of(row) for row in await scan_store.children_of(conn, index.manifest_id)]
    return [child for child in children if child.digest not in skipped
            and image_layers(child.media_type, child.config_media_type, child.content) is not None]


async def _queue_image(conn: AsyncConnection, target: Target, registration: Registration, execution_id: int) -> str:
    report_id = str(uuid.uuid4())
    await scan_store.reset_to_pending(conn, digest=target.digest, registration_id=registration.id,
                                      mime_type=REPORT_MIME, uuid=report_id, execution_id=execution_id,
                                      scanner=provisional_scanner(registration))
    await job_store.enqueue(conn, SCAN_JOB, {"report_id": report_id, "manifest_id": target.manifest_id},
                            execution_id=execution_id)
    return report_id


async def queue_scan(conn: AsyncConnection, target: Target, *, trigger: str, execution_id: int | None = None,
                     rescan_finished_children: bool = True, project_id: int | None = None,
                     registration: Registration | None = None) -> Queued:
    """Queue a scan of `target` (see the module doc); raises NotScannable.

    Without `execution_id` a new SCAN execution is created (`trigger` MANUAL, EVENT, …).
    `rescan_finished_children` False keeps an index's children that already have a finished
    report (scan on push: the children were scanned when they were pushed). `registration`
    (the one the target's project uses) saves looking it up when queueing many; else it is
    resolved from `project_id` (one of the two must be given)."""
    if registration is None:
        if project_id is None:
            raise TypeError("queue_scan needs the target's project_id or its registration")
        registration = await project_registration(conn, project_id)
    children = await scannable_children(conn, target) if target.is_index else []
    if not children and image_layers(target.media_type, target.config_media_type, target.content) is None:
        raise NotScannable(f"the configured scanner {registration.name} does not support scanning artifact with "
                           f"mime type {target.media_type}")
    existing = await scan_store.find_for_digest(conn, target.digest, registration.id, REPORT_MIME)
    if existing is not None and existing.active:
        return Queued(existing.uuid, 0, True)
    own_execution = execution_id is None
    if execution_id is None:
        execution_id = await execution_store.create(conn, SCAN_VENDOR, target.manifest_id, trigger,
                                                    {"artifact": {"digest": target.digest}})
    if not target.is_index:
        return Queued(await _queue_image(conn, target, registration, execution_id), 1, False)
    report_id = str(uuid.uuid4())
    await scan_store.reset_to_pending(conn, digest=target.digest, registration_id=registration.id,
                                      mime_type=REPORT_MIME, uuid=report_id, execution_id=execution_id,
                                      scanner=provisional_scanner(registration))
    current = await scan_store.latest_for_digests(conn, [child.digest for child in children], REPORT_MIME)
    queued = 0
    for child in children:
        report = current.get(child.digest)
        if report is not None and (report.active or (not rescan_finished_children and report.status == "Success")):
            continue
        await _queue_image(conn, child, registration, execution_id)
        queued += 1
    await refresh_index(conn, target)  # every child may already be finished
    if own_execution and queued == 0:
        await execution_store.set_status(conn, execution_id, "Success", "the platform images were already scanned")
    return Queued(report_id, queued, False)


async def refresh_index(conn: AsyncConnection, index: Target) -> None:
    """Finish the index's active report once none of its children's reports is active: Success
    with the merged findings if all succeeded, else Error (or Stopped) naming the first child."""
    own = (await scan_store.latest_for_digests(conn, [index.digest], REPORT_MIME)).get(index.digest)
    if own is None or not own.active:
        return
    children = await scannable_children(conn, index)
    reports = await scan_store.full_reports(conn, [child.digest for child in children], REPORT_MIME)
    rows = [reports.get(child.digest) for child in children]
    if any(row is None or row[0].active for row in rows):
        return
    finished = [row for row in rows if row is not None]
    failed = next((report for report, _ in finished if report.status != "Success"), None)
    if failed is not None:
        status = "Error" if any(report.status == "Error" for report, _ in finished) else "Stopped"
        await scan_store.finish(conn, own.uuid, status=status,
                                message=f"platform image {failed.digest}: {failed.status_message or failed.status}")
        return
    scanner = _common_scanner([report for report, _ in finished]) or report_scanner(own)
    merged = merge_reports([content for _, content in finished], scanner, harbor_time(utcnow()) or "")
    await scan_store.finish(conn, own.uuid, status="Success", severity=str(merged["severity"]),
                            summary=summarize(merged["vulnerabilities"]), report=merged, scanner=scanner)


def _common_scanner(reports: list[ReportRow]) -> dict[str, Any] | None:
    """The `Scanner` that made all of an index's images' reports (the adapter's own name, vendor
    and version, which the index's own report never learns), None if they differ or are none."""
    scanners = [report_scanner(report) for report in reports]
    return scanners[0] if scanners and all(scanner == scanners[0] for scanner in scanners) else None


async def refresh_parents(conn: AsyncConnection, child_manifest_id: int) -> None:
    """Refresh the reports of the indexes that list the manifest `child_manifest_id`."""
    for parent in await scan_store.parents_of(conn, child_manifest_id):
        row = await scan_store.manifest_by_id(conn, parent.id)
        if row is not None:
            await refresh_index(conn, Target.of(row))


async def queue_on_push(conn: AsyncConnection, payload: dict[str, Any]) -> Queued | None:
    """The `artifact.pushed` outbox event: scan the manifest if its project has `auto_scan` "true".

    Payload: {"manifest_id", "repository_id", "project_id", "digest"}. Artifacts the scanner cannot
    scan are skipped silently (as Harbor does for event-triggered scans)."""
    project = await repository_store.find_project_by_id(conn, int(payload["project_id"]))
    if project is None or (project.metadata or {}).get("auto_scan") != "true":
        return None
    row = await scan_store.manifest_by_id(conn, int(payload["manifest_id"]))
    if row is None:
        return None  # deleted before the event was dispatched
    try:
        return await queue_scan(conn, Target.of(row), trigger="EVENT", rescan_finished_children=False,
                                project_id=project.id)
    except NotScannable:
        return None
