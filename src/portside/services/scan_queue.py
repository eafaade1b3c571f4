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
from portside.store import scans as scan_store

SCAN_JOB = "scan"
SCAN_VENDOR = "SCAN"
SCANNER_NAME = "Portside"


def scanner_info() -> dict[str, str]:
    """Harbor's `Scanner` of every report we produce."""
    return {"name": SCANNER_NAME, "vendor": SCANNER_NAME, "version": __version__}


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


async def _queue_image(conn: AsyncConnection, target: Target, registration_id: int, execution_id: int) -> str:
    report_id = str(uuid.uuid4())
    await scan_store.reset_to_pending(conn, digest=target.digest, registration_id=registration_id,
                                      mime_type=REPORT_MIME, uuid=report_id, execution_id=execution_id)
    await job_store.enqueue(conn, SCAN_JOB, {"report_id": report_id, "manifest_id": target.manifest_id},
                            execution_id=execution_id)
    return report_id


async def queue_scan(conn: AsyncConnection, target: Target, *, trigger: str, execution_id: int | None = None,
                     rescan_finished_children: bool = True, registration_id: int | None = None) -> Queued:
    """Queue a scan of `target` (see the module doc); raises NotScannable.

    Without `execution_id` a new SCAN execution is created (`trigger` MANUAL, EVENT, …).
    `rescan_finished_children` False keeps an index's children that already have a finished
    report (scan on push: the children were scanned when they were pushed). `registration_id`
    (the built-in scanner's) saves looking it up when queueing many."""
    children = await scannable_children(conn, target) if target.is_index else []
    if not children and image_layers(target.media_type, target.config_media_type, target.content) is None:
        raise NotScannable(f"the configured scanner {SCANNER_NAME} does not support scanning artifact with "
                           f"mime type {target.media_type}")
    if registration_id is None:
        registration_id = await scan_store.ensure_builtin_registration(conn)
    existing = await scan_store.find_for_digest(conn, target.digest, registration_id, REPORT_MIME)
    if existing is not None and existing.active:
        return Queued(existing.uuid, 0, True)
    own_execution = execution_id is None
    if execution_id is None:
        execution_id = await execution_store.create(conn, SCAN_VENDOR, target.manifest_id, trigger,
                                                    {"artifact": {"digest": target.digest}})
    if not target.is_index:
        return Queued(await _queue_image(conn, target, registration_id, execution_id), 1, False)
    report_id = str(uuid.uuid4())
    await scan_store.reset_to_pending(conn, digest=target.digest, registration_id=registration_id,
                                      mime_type=REPORT_MIME, uuid=report_id, execution_id=execution_id)
    current = await scan_store.latest_for_digests(conn, [child.digest for child in children], REPORT_MIME)
    queued = 0
    for child in children:
        report = current.get(child.digest)
        if report is not None and (report.active or (not rescan_finished_children and report.status == "Success")):
            continue
        await _queue_image(conn, child, registration_id, execution_id)
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
    merged = merge_reports([content for _, content in finished], scanner_info(), harbor_time(utcnow()) or "")
    await scan_store.finish(conn, own.uuid, status="Success", severity=str(merged["severity"]),
                            summary=summarize(merged["vulnerabilities"]), report=merged)


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
        return await queue_scan(conn, Target.of(row), trigger="EVENT", rescan_finished_children=False)
    except NotScannable:
        return None
