"""Vulnerability scanning of artifacts (Harbor's scan API), by the built-in scanner or an adapter.

`request_scan` queues a scan by the scanner the project uses (see `scan_queue`); the `scan`
job runs `scan_artifact`, which scans with the report's registration:

- the built-in scanner loads the image's layer analyses (cached per layer, see
  `layer_analyses`), merges them into an inventory and matches it against the offline
  vulnerability database; a layer that cannot be read ends the scan with Error and says which
  layer and why;
- an external adapter (Pluggable Scanner Adapter API v1.2) gets a ScanRequest naming our
  registry URL, the repository, digest, media type and tag, and a scan token (a registry JWT
  that pulls exactly that repository, see `services.scanners`); we poll for its report. An
  adapter that does not scan the artifact's media type, or a malformed report, ends the scan
  with Error at once; an adapter error or timeout fails the attempt (the job retries; the last
  attempt ends the report with Error and the adapter's message).

Either way Harbor's report (`application/vnd.security.vulnerability.report; version=1.1`) is
stored with its severity, summary and the `Scanner` that made it, and indexes listing the image
are refreshed. A report goes Pending → Running → Success | Error | Stopped.

Reads are cheap: `overview(digests)` answers an artifact page's `scan_overview` with one query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from portside.analysis import merge_layers
from portside.clients.scanner_adapter import AdapterError, Capability, ScanRequest
from portside.core.clock import utcnow
from portside.domain import media_types as mt
from portside.domain.errors import BadRequest, NotFound, Unauthorized
from portside.domain.models import Project
from portside.domain.rbac import Principal
from portside.domain.scan_targets import image_layers
from portside.domain.vulnerability_report import (
    NATIVE_REPORT_MIME,
    REPORT_MIME,
    SEVERITY_CODES,
    accepted_mimes,
    build_report,
    harbor_time,
    summarize,
    worst_severity,
)
from portside.services.artifacts import find_artifact
from portside.services.audit import Actor
from portside.services.deps import ServiceDeps
from portside.services.deps import deps_of as deps_of  # re-exported: callers import it from here
from portside.services.layer_analyses import LayerAnalyses, LayerFailed
from portside.services.policies import Allowlist, PullPolicy
from portside.services.scan_queue import (
    Target,
    is_builtin,
    queue_scan,
    refresh_parents,
    report_scanner,
    scannable_children,
    scanner_info,
)
from portside.services.scanners import ScannerService, registry_url, scan_token_access, scan_token_subject
from portside.services.severity_distribution import SeverityDistribution, severity_distribution
from portside.services.tokens import TokenService
from portside.services.vulndb import VulnerabilityDatabase
from portside.store import artifacts as artifact_store
from portside.store import sbom_reports as sbom_store
from portside.store import scanner_registrations as registration_store
from portside.store import scans as scan_store
from portside.store.scan_summaries import project_scan_states
from portside.store.scanner_registrations import Registration
from portside.store.scans import ReportRow

if TYPE_CHECKING:
    from portside.services.bundle import Services


class ScanProgress(Protocol):
    """What a running scan reports to (a job's context satisfies it)."""

    async def log(self, line: str) -> None: ...

    async def checkpoint(self) -> None:
        """Raise to stop the scan (a stop was requested)."""
        ...


class MalformedReport(ValueError):
    """An adapter's report that is not a Harbor vulnerability report."""


def _scanner_of(value: Any) -> dict[str, str] | None:
    """A Harbor `Scanner` {name, vendor, version} from an adapter's JSON, None unless it has a name."""
    if not isinstance(value, Mapping) or not isinstance(value.get("name"), str) or not value["name"]:
        return None
    return {key: str(value.get(key) or "")[:255] for key in ("name", "vendor", "version")}


def adapter_scanner(metadata: Mapping[str, Any], registration: Registration) -> dict[str, str]:
    """The `Scanner` an adapter's metadata names (the registration's name if it names none)."""
    return _scanner_of(metadata.get("scanner")) or {"name": registration.name, "vendor": "", "version": ""}


def report_mime_for(metadata: Mapping[str, Any], artifact_mime: str) -> str | None:
    """The vulnerability report type to ask the adapter for (1.1, else the native 1.0 of the same
    shape), None when no vulnerability capability of its metadata consumes `artifact_mime`."""
    for capability in metadata.get("capabilities") or []:
        if not isinstance(capability, Mapping) or (capability.get("type") or "vulnerability") != "vulnerability":
            continue
        if artifact_mime not in (capability.get("consumes_mime_types") or []):
            continue
        produces = capability.get("produces_mime_types") or []
        for mime in (REPORT_MIME, NATIVE_REPORT_MIME):
            if mime in produces:
                return mime
    return None


def adapter_report(body: Any, digest: str, scanner: Mapping[str, str]) -> dict[str, Any]:
    """The report to store from an adapter's answer: Harbor's shape, checked (MalformedReport
    says what is wrong). Each finding needs string `id`, `package` and `version`; an unknown
    severity becomes Unknown and `artifact_digests` defaults to the scanned digest (an index's
    merged report lists where each finding is). `scanner` is the report's own if it names one."""
    if not isinstance(body, Mapping):
        raise MalformedReport(f"the report is a JSON {type(body).__name__}, not an object")
    vulnerabilities = body.get("vulnerabilities")
    if not isinstance(vulnerabilities, list):
        raise MalformedReport("the report has no `vulnerabilities` list")
    items: list[dict[str, Any]] = []
    for number, item in enumerate(vulnerabilities):
        if not isinstance(item, Mapping):
            raise MalformedReport(f"vulnerabilities[{number}] is not an object")
        missing = [key for key in ("id", "package", "version") if not isinstance(item.get(key), str)]
        if missing:
            raise MalformedReport(f"vulnerabilities[{number}] has no string {missing[0]!r}")
        severity = item.get("severity")
        digests = item.get("artifact_digests")
        items.append({**item, "severity": severity if severity in SEVERITY_CODES else "Unknown",
                      "artifact_digests": [str(d) for d in digests] if isinstance(digests, list) and digests
                      else [digest]})
    severity = body.get("severity")
    if severity not in SEVERITY_CODES:
        severity = worst_severity(str(item["severity"]) for item in items)
    return {**body, "scanner": _scanner_of(body.get("scanner")) or dict(scanner), "severity": severity,
            "vulnerabilities": items}


def native_summary(report: ReportRow) -> dict[str, Any]:
    """Harbor's NativeReportSummary of a report (a `scan_overview` value)."""
    value: dict[str, Any] = {"report_id": report.uuid, "scan_status": report.status, "severity": report.severity,
                             "start_time": harbor_time(report.start_time), "scanner": report_scanner(report),
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
            "scanner": report_scanner(report), "report_id": report.uuid}


class ScanService:
    def __init__(self, deps: ServiceDeps, *, tokens: TokenService | None = None,
                 scanners: ScannerService | None = None) -> None:
        """`tokens` signs the scan tokens adapters pull with (only the `scan` job needs it)."""
        self._deps = deps
        self._db = deps.db
        self._tokens = tokens
        self._scanners = scanners or ScannerService(deps)
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
            queued = await queue_scan(conn, target, trigger="MANUAL", project_id=project.id)
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
        """Scan one image manifest with the report's scanner and store report `report_id`. Does
        nothing if that report is no longer pending (replaced by a newer scan, or stopped). Errors
        that a retry cannot fix (a corrupt or missing layer, a deleted manifest, an adapter that
        cannot scan the type, a malformed report) end the report with Error; others propagate."""
        async with self._db.write() as conn:
            row = await scan_store.manifest_by_id(conn, manifest_id)
            started = await scan_store.mark_running(conn, report_id)
            report_row = await scan_store.find_report(conn, report_id) if started else None
            registration = (await registration_store.find_by_id(conn, report_row.registration_id)
                            if report_row is not None else None)
        if not started:
            await progress.log(f"report {report_id} is no longer pending: nothing to do")
            return
        if row is None:
            await self.finish_failed(report_id, manifest_id, "the manifest was deleted before it was scanned")
            return
        target = Target.of(row)
        if registration is not None and not is_builtin(registration):
            await self._scan_with_adapter(report_id, registration, target, progress)
            return
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
                                    summary=summary, report=report, scanner=scanner_info())
            await refresh_parents(conn, manifest_id)
        os_name = f"{inventory.os.id} {inventory.os.version_id}" if inventory.os else "no known OS"
        await progress.log(f"{len(inventory.packages)} packages ({os_name}); {summary['total']} vulnerabilities, "
                           f"{summary['fixable']} fixable; severity {report['severity']}")

    async def _scan_with_adapter(self, report_id: str, registration: Registration, target: Target,
                                 progress: ScanProgress) -> None:
        """The `scan` job's work for an external adapter (see the module doc)."""
        async with self._db.read() as conn:
            place = await sbom_store.place_of(conn, target.manifest_id)
        if place is None:
            await self.finish_failed(report_id, target.manifest_id, "the manifest was deleted before it was scanned")
            return
        repository, tag = place.repository_name, (place.tags[0] if place.tags else "")
        artifact_mime = target.media_type or mt.DOCKER_MANIFEST
        try:
            metadata = await self._scanners.fetch_metadata(registration)
        except AdapterError as error:
            await progress.log(f"scanner {registration.name} at {registration.url}: {error}")
            raise
        scanner = adapter_scanner(metadata, registration)
        described = f"scanner {registration.name} ({scanner['name']} {scanner['vendor']} {scanner['version']})"
        report_mime = report_mime_for(metadata, artifact_mime)
        if report_mime is None:
            message = f"the {described} does not scan {artifact_mime} artifacts into vulnerability reports"
            await progress.log(message)
            await self.finish_failed(report_id, target.manifest_id, message)
            return
        async with self._db.write() as conn:
            await scan_store.set_scanner(conn, report_id, scanner)
        if self._tokens is None:
            raise RuntimeError("this ScanService has no token service to issue the adapter's pull token")
        token = self._tokens.issue(scan_token_subject(report_id), scan_token_access(repository))
        request = ScanRequest(registry_url=registry_url(self._deps.settings, registration), repository=repository,
                              digest=target.digest, mime_type=artifact_mime, tag=tag,
                              registry_authorization=f"Bearer {token.token}",
                              capabilities=(Capability("vulnerability", (report_mime,)),))
        await progress.log(f"scanning {target.digest} of {repository} with the {described} at {registration.url} "
                           f"(it pulls from {request.registry_url})")
        try:
            body = await self._scanners.scan_with_adapter(registration, request, report_mime,
                                                          checkpoint=progress.checkpoint)
        except AdapterError as error:
            await progress.log(f"{described}: {error}")
            raise
        try:
            report = adapter_report(body, target.digest, scanner)
        except MalformedReport as error:
            message = f"the {described} returned a malformed report: {error}"
            await progress.log(message)
            await self.finish_failed(report_id, target.manifest_id, message)
            return
        summary = summarize(report["vulnerabilities"])
        async with self._db.write() as conn:
            await scan_store.finish(conn, report_id, status="Success", severity=str(report["severity"]),
                                    summary=summary, report=report, scanner=report["scanner"])
            await refresh_parents(conn, target.manifest_id)
        await progress.log(f"{described}: {summary['total']} vulnerabilities, {summary['fixable']} fixable; "
                           f"severity {report['severity']}")

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


def scan_service(services: Services) -> ScanService:
    """A ScanService over the bundle's parts (cheap: it holds no state of its own)."""
    return ScanService(deps_of(services), tokens=services.tokens)
