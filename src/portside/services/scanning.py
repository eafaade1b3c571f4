"""Vulnerability scanning of artifacts with the built-in scanner (Harbor's scan API).

`request_scan` queues a scan (see `scan_queue`); the `scan` job runs `scan_artifact`, which
loads the image's layer analyses (cached per layer, see `layer_analyses`), merges them into
an inventory, matches it against the offline vulnerability database and stores Harbor's
report (`application/vnd.security.vulnerability.report; version=1.1`) with its summary. A
report goes Pending → Running → Success | Error | Stopped; a layer that cannot be read ends
the scan with Error and says which layer and why.

Reads are cheap: `overview(digests)` answers an artifact page's `scan_overview` with one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from portside.analysis import merge_layers
from portside.core.clock import utcnow
from portside.domain.errors import BadRequest, NotFound, Unauthorized
from portside.domain.models import Project
from portside.domain.rbac import Principal
from portside.domain.scan_targets import image_layers
from portside.domain.vulnerability_report import (
    REPORT_MIME,
    accepted_mimes,
    build_report,
    harbor_time,
    summarize,
)
from portside.services.artifacts import find_artifact
from portside.services.audit import Actor
from portside.services.deps import ServiceDeps
from portside.services.layer_analyses import LayerAnalyses, LayerFailed
from portside.services.policies import Allowlist, PullPolicy
from portside.services.scan_queue import Target, queue_scan, refresh_parents, scannable_children, scanner_info
from portside.services.severity_distribution import SeverityDistribution, severity_distribution
from portside.services.vulndb import VulnerabilityDatabase
from portside.storage.blobs import BlobStorage
from portside.store import artifacts as artifact_store
from portside.store import scans as scan_store
from portside.store.scan_summaries import project_scan_states
from portside.store.scans import ReportRow

if TYPE_CHECKING:
    from portside.services.bundle import Services


class ScanProgress(Protocol):
    """What a running scan reports to (a job's context satisfies it)."""

    async def log(self, line: str) -> None: ...

    async def checkpoint(self) -> None:
        """Raise to stop the scan (a stop was requested)."""
        ...


def native_summary(report: ReportRow) -> dict[str, Any]:
    """Harbor's NativeReportSummary of a report (a `scan_overview` value)."""
    value: dict[str, Any] = {"report_id": report.uuid, "scan_status": report.status, "severity": report.severity,
                             "start_time": harbor_time(report.start_time), "scanner": scanner_info(),
                             "complete_percent": 0 if report.active else 100}
    if report.end_time is not None:
        value["end_time"] = harbor_time(report.end_time)
        value["duration"] = max(0, int((report.end_time - report.start_time).total_seconds()))
    if report.summary is not None:
        value["summary"] = report.summary
    return value


def overview_alias(report: ReportRow) -> dict[str, Any]:
    """The user guide's `/scan/overview` shape (its HarborManager script reads
    `vulnerabilities.critical` and `.high`); counts are zero until the scan succeeds."""
    counts = (report.summary or {}).get("summary", {})
    vulnerabilities = {name.lower(): int(counts.get(name, 0)) for name in ("Critical", "High", "Medium", "Low",
                                                                           "Unknown")}
    vulnerabilities["total"] = int((report.summary or {}).get("total", 0))
    vulnerabilities["fixable"] = int((report.summary or {}).get("fixable", 0))
    return {"vulnerabilities": vulnerabilities, "scan_status": report.status, "severity": report.severity,
            "start_time": harbor_time(report.start_time), "end_time": harbor_time(report.end_time),
            "scanner": scanner_info(), "report_id": report.uuid}


class ScanService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
        self._db = deps.db
        self._vulndb = VulnerabilityDatabase(deps.db)
        self._layers = LayerAnalyses(deps.db, deps.blobs.driver)
        self.policy = PullPolicy(deps.db)

    # --- the API's use cases --------------------------------------------------------------------

    async def _target(self, conn: AsyncConnection, project: Project, repository_name: str, reference: str) -> Target:
        row = await find_artifact(conn, project, repository_name, reference)
        content = (await artifact_store.contents(conn, [row.id]))[row.id]
        return Target(row.id, row.digest, row.manifest_media_type, row.config_media_type, content)

    async def request_scan(self, principal: Principal, project: Project, repository_name: str,
                           reference: str) -> str:
        """Queue a scan of the artifact; its report id. Idempotent while a scan of it is pending or
        running (that scan's id). Raises NotFound, NotScannable (400), Denied/Unauthorized."""
        await self._deps.access.require(principal, project.name, "scan", "create")
        async with self._db.write() as conn:
            target = await self._target(conn, project, repository_name, reference)
            queued = await queue_scan(conn, target, trigger="MANUAL")
        return queued.report_id

    async def stop(self, principal: Principal, project: Project, repository_name: str, reference: str) -> None:
        """Stop the artifact's pending or running scan (its platform images' too); a finished scan
        is left as it is. Raises BadRequest when the artifact was never scanned (Harbor)."""
        await self._deps.access.require(principal, project.name, "scan", "stop")
        async with self._db.write() as conn:
            target = await self._target(conn, project, repository_name, reference)
            digests = [target.digest] + [child.digest for child in await scannable_children(conn, target)]
            reports = await scan_store.latest_for_digests(conn, digests, REPORT_MIME)
            own = reports.get(target.digest)
            if own is None or own.execution_id is None:
                raise BadRequest(f"no scan job for artifact digest={target.digest}")
            active = [report for report in reports.values() if report.active and report.execution_id is not None]
            for execution_id in sorted({report.execution_id for report in active if report.execution_id}):
                uuids = {report.uuid for report in active if report.execution_id == execution_id}
                jobs = [job.id for job in await scan_store.job_refs(conn, execution_id)
                        if (job.params or {}).get("report_id") in uuids]
                await scan_store.stop_jobs(conn, jobs)
                await scan_store.stop_active(conn, execution_id, [r.digest for r in active
                                                                  if r.execution_id == execution_id])

    async def vulnerabilities(self, principal: Principal, project: Project, repository_name: str, reference: str,
                              accept: str | None) -> dict[str, Any]:
        """`{<mime>: report}` for the first MIME type of `accept` (X-Accept-Vulnerabilities) we
        produce; `{}` (as Harbor) while the artifact has no finished report."""
        await self._deps.access.require(principal, project.name, "artifact-addition", "read")
        async with self._db.read() as conn:
            row = await find_artifact(conn, project, repository_name, reference)
            found = (await scan_store.full_reports(conn, [row.digest], REPORT_MIME)).get(row.digest)
        mimes = accepted_mimes(accept)
        if found is None or found[0].status != "Success" or not mimes:
            return {}
        return {mimes[0]: found[1]}

    async def overview_of(self, principal: Principal, project: Project, repository_name: str,
                          reference: str) -> dict[str, Any]:
        """The guide's `/scan/overview` of the artifact; NotFound when it was never scanned."""
        await self._deps.access.require(principal, project.name, "scan", "read")
        async with self._db.read() as conn:
            row = await find_artifact(conn, project, repository_name, reference)
            report = (await scan_store.latest_for_digests(conn, [row.digest], REPORT_MIME)).get(row.digest)
        if report is None:
            raise NotFound(f"artifact {row.digest} has not been scanned")
        return overview_alias(report)

    async def report_log(self, principal: Principal, project: Project, repository_name: str, reference: str,
                         report_id: str) -> str:
        """The log of the scan that produced report `report_id` of this artifact (for an index,
        its platform images' scans); NotFound for a report of another artifact."""
        await self._deps.access.require(principal, project.name, "scan", "read")
        async with self._db.read() as conn:
            target = await self._target(conn, project, repository_name, reference)
            report = await scan_store.find_report(conn, report_id)
            children = await scannable_children(conn, target) if target.is_index else []
            if report is None or report.digest != target.digest and report.digest not in {c.digest for c in children}:
                raise NotFound(f"scan report {report_id[:64]} not found")
            if report.execution_id is None:
                return ""
            wanted = {report.uuid}
            if report.digest == target.digest and children:
                child_reports = await scan_store.latest_for_digests(conn, [c.digest for c in children], REPORT_MIME)
                wanted |= {child.uuid for child in child_reports.values()}
            jobs = [job.id for job in await scan_store.job_refs(conn, report.execution_id)
                    if (job.params or {}).get("report_id") in wanted]
            return "".join(await scan_store.job_logs(conn, jobs))

    async def overview(self, digests: Sequence[str]) -> dict[str, dict[str, Any]]:
        """`scan_overview` per digest (`{mime: NativeReportSummary}`), one query; digests never
        scanned are absent. For artifact listings: the caller has checked access."""
        async with self._db.read() as conn:
            reports = await scan_store.latest_for_digests(conn, digests, REPORT_MIME)
        return {digest: {REPORT_MIME: native_summary(report)} for digest, report in reports.items()}

    async def report(self, digest: str) -> dict[str, Any] | None:
        """The finished report of `digest`, or None."""
        async with self._db.read() as conn:
            found = (await scan_store.full_reports(conn, [digest], REPORT_MIME)).get(digest)
        return found[1] if found is not None and found[0].status == "Success" else None

    async def system_allowlist(self, principal: Principal) -> Allowlist:
        """The system CVE allowlist; every signed-in user may read it (Harbor)."""
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        return await self.policy.get_allowlist(None)

    async def put_system_allowlist(self, principal: Principal, actor: Actor, cve_ids: Sequence[str],
                                   expires_at: int | None) -> None:
        """Replace the system CVE allowlist (system administrators only)."""
        await self._deps.access.require(principal, None, "system-cve-allowlist", "update")
        await self.policy.set_allowlist(None, cve_ids, expires_at)
        self._deps.audit.record(actor, "update", "cve_allowlist", "system")

    # --- the work (the `scan` job) ------------------------------------------------------------

    async def scan_artifact(self, report_id: str, manifest_id: int, progress: ScanProgress) -> None:
        """Scan one image manifest and store report `report_id`. Does nothing if that report is no
        longer pending (replaced by a newer scan, or stopped). Errors that a retry cannot fix (a
        corrupt or missing layer, a deleted manifest) end the report with Error; others propagate."""
        async with self._db.write() as conn:
            row = await scan_store.manifest_by_id(conn, manifest_id)
            started = await scan_store.mark_running(conn, report_id)
        if not started:
            await progress.log(f"report {report_id} is no longer pending: nothing to do")
            return
        if row is None:
            await self.finish_failed(report_id, manifest_id, "the manifest was deleted before it was scanned")
            return
        target = Target.of(row)
        layers = image_layers(target.media_type, target.config_media_type, target.content) or []
        await progress.log(f"scanning {target.digest} ({len(layers)} layers) with Portside {scanner_info()['version']}")
        try:
            analyses = await self._layers.for_layers(layers, progress.log, progress.checkpoint)
        except LayerFailed as error:
            await progress.log(str(error))
            await self.finish_failed(report_id, manifest_id, str(error))
            return
        inventory = merge_layers(analyses)
        await progress.checkpoint()
        findings = await self._vulndb.find(inventory)
        report = build_report(findings, target.digest, scanner_info(), harbor_time(utcnow()) or "")
        summary = summarize(report["vulnerabilities"])
        async with self._db.write() as conn:
            await scan_store.finish(conn, report_id, status="Success", severity=str(report["severity"]),
                                    summary=summary, report=report)
            await refresh_parents(conn, manifest_id)
        os_name = f"{inventory.os.id} {inventory.os.version_id}" if inventory.os else "no known OS"
        await progress.log(f"{len(inventory.packages)} packages ({os_name}); {summary['total']} vulnerabilities, "
                           f"{summary['fixable']} fixable; severity {report['severity']}")

    async def finish_failed(self, report_id: str, manifest_id: int, message: str, status: str = "Error") -> None:
        """End an active report with Error (or Stopped) and `message`, and update its indexes."""
        async with self._db.write() as conn:
            await scan_store.finish(conn, report_id, status=status, message=message)
            await refresh_parents(conn, manifest_id)

    # --- the portal's reads ------------------------------------------------------------------------

    async def project_severity_counts(self, principal: Principal, project: Project) -> SeverityDistribution:
        """The severity distribution of the project's listed artifacts (newest report each), one
        query; raises Denied/Unauthorized without the project's `scan` read permission."""
        await self._deps.access.require(principal, project.name, "scan", "read")
        async with self._db.read() as conn:
            states = await project_scan_states(conn, project.id, REPORT_MIME)
        return severity_distribution(states)

    async def latest_report(self, principal: Principal, project: Project, repository_name: str,
                            reference: str) -> ReportRow | None:
        """The artifact's newest report row (status, severity, summary, error message), None if it
        was never scanned; for the artifact page. Raises NotFound, Denied/Unauthorized."""
        await self._deps.access.require(principal, project.name, "scan", "read")
        async with self._db.read() as conn:
            row = await find_artifact(conn, project, repository_name, reference)
            return (await scan_store.latest_for_digests(conn, [row.digest], REPORT_MIME)).get(row.digest)


def deps_of(services: Services) -> ServiceDeps:
    """The ServiceDeps of the bundle's parts (until the bundle carries the scan services)."""
    return ServiceDeps(settings=services.settings, db=services.db, access=services.access, audit=services.audit,
                       authenticator=services.authenticator, blobs=BlobStorage(services.driver),
                       manifests=services.manifests, uploads=services.uploads)


def scan_service(services: Services) -> ScanService:
    """A ScanService over the bundle's parts (cheap: it holds no state of its own)."""
    return ScanService(deps_of(services))
