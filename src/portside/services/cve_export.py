"""CVE export (Harbor's "scan data export"): a CSV of the stored vulnerability reports of chosen
projects, made by a background job and downloaded by the user who asked for it.

`create` checks `export-cve` create in every chosen project and records an execution
(vendor_type EXPORT_CVE, vendor_id the user) with the criteria, plus a `cve_export` job. The
job walks the projects' artifacts in id batches, takes each one's finished report
(`application/vnd.security.vulnerability.report; version=1.1`), applies the filters and writes
one CSV row per vulnerability:

    Project, Repository, Artifact Digest, Tag, CVE, Package, Version, Fix Version, Severity, CVSS3 Score

`Tag` lists the artifact's tags joined by ", " (empty when untagged). Platform images of an index
that has its own report are left out (the index's merged report already lists their findings),
as are accessories. Filters (Harbor's): `repositories` and `tags` are `{a,b}` or `a,b` lists of
names or glob patterns (`*`; repositories with or without the project prefix), `cveIds` a list of
ids, `labels` label ids (an artifact needs one of them). The CSV goes to storage under
`layout.export_key(execution_id)`; at most MAX_ROWS rows (the status text says when cut).
Executions are visible to their creator and to system administrators only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from portside.domain import media_types as mt
from portside.domain.errors import BadRequest, Denied, NotFound, Unauthorized
from portside.domain.rbac import Principal
from portside.domain.vulnerability_report import NATIVE_REPORT_MIME, REPORT_MIME, harbor_time
from portside.services.audit import Actor
from portside.services.deps import ServiceDeps
from portside.services.scanning import ScanProgress, deps_of
from portside.storage.layout import export_key
from portside.store import adapter_scans as attribute_store
from portside.store import cve_exports as export_store
from portside.store import executions as execution_store
from portside.store import jobs as job_store
from portside.store import repositories as repository_store
from portside.store import scans as scan_store
from portside.store.cve_exports import ExportArtifact

if TYPE_CHECKING:
    from portside.services.bundle import Services

EXPORT_JOB = "cve_export"
EXPORT_VENDOR = "EXPORT_CVE"
CSV_COLUMNS = ("Project", "Repository", "Artifact Digest", "Tag", "CVE", "Package", "Version", "Fix Version",
               "Severity", "CVSS3 Score")
MAX_ROWS = 200_000
MAX_PROJECTS = 100
BATCH = 200
MAX_LISTED = 500


@dataclass(frozen=True, slots=True)
class Criteria:
    """A ScanDataExportRequest, parsed."""

    job_name: str
    project_ids: tuple[int, ...]
    label_ids: tuple[int, ...] = ()
    repositories: tuple[str, ...] = ()
    cve_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Criteria:
        return cls(str(value.get("job_name", "")), tuple(value["project_ids"]), tuple(value.get("label_ids", ())),
                   tuple(value.get("repositories", ())), tuple(value.get("cve_ids", ())), tuple(value.get("tags", ())))


def parse_list(value: str | None) -> tuple[str, ...]:
    """Harbor's `{a,b}` (or plain `a,b`) list; empty for None, "" and "**" (everything)."""
    text = (value or "").strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    items = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    return () if items in ((), ("**",)) else items


def _matches(patterns: Sequence[str], *names: str) -> bool:
    return not patterns or any(fnmatchcase(name, pattern) for pattern in patterns for name in names)


class CveExportService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
        self._db = deps.db

    # --- requests ------------------------------------------------------------------------------

    async def create(self, principal: Principal, actor: Actor, criteria: Criteria,
                     scan_data_type: str | None = None) -> int:
        """Queue an export; its execution id. Raises BadRequest, NotFound (a project the caller
        cannot see), Denied (no export-cve permission), Unauthorized (anonymous)."""
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        if scan_data_type and scan_data_type.strip() not in (REPORT_MIME, NATIVE_REPORT_MIME):
            raise BadRequest(f"unsupported X-Scan-Data-Type {scan_data_type[:100]!r}: use {REPORT_MIME}")
        if not criteria.project_ids or len(criteria.project_ids) > MAX_PROJECTS:
            raise BadRequest(f"choose 1 to {MAX_PROJECTS} projects to export")
        names = []
        for project_id in sorted(set(criteria.project_ids)):
            async with self._db.read() as conn:
                project = await repository_store.find_project_by_id(conn, project_id)
            if project is None or not await self._deps.access.allowed(principal, project.name, "project", "read"):
                raise NotFound(f"project {project_id} not found")
            await self._deps.access.require(principal, project.name, "export-cve", "create")
            names.append(project.name)
        attributes = {"criteria": criteria.to_json(), "job_name": criteria.job_name, "user_name": principal.name,
                      "user_id": principal.user_id, "file_present": False, "status_text": ""}
        async with self._db.write() as conn:
            execution_id = await execution_store.create(conn, EXPORT_VENDOR, principal.user_id, "MANUAL", attributes)
            await job_store.enqueue(conn, EXPORT_JOB, {"execution_id": execution_id}, execution_id=execution_id,
                                    max_attempts=2)
        self._deps.audit.record(actor, "create", "export_cve", f"{criteria.job_name or execution_id}: "
                                                               f"{', '.join(names)}"[:512])
        return execution_id

    async def _owned(self, principal: Principal, execution_id: int) -> Any:
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        async with self._db.read() as conn:
            execution = await execution_store.find(conn, execution_id)
        if execution is None or execution.vendor_type != EXPORT_VENDOR:
            raise NotFound(f"export execution {execution_id} not found")
        if not principal.sysadmin and (execution.extra_attrs or {}).get("user_name") != principal.name:
            raise Denied("only the user who asked for an export (or an administrator) may see it")
        return execution

    async def execution(self, principal: Principal, execution_id: int) -> dict[str, Any]:
        """Harbor's ScanDataExportExecution."""
        return _execution_json(await self._owned(principal, execution_id))

    async def executions(self, principal: Principal) -> list[dict[str, Any]]:
        """The caller's own exports, newest first (at most MAX_LISTED)."""
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        async with self._db.read() as conn:
            rows = await export_store.executions_of(conn, EXPORT_VENDOR, principal.user_id, MAX_LISTED)
        return [_execution_json(row) for row in rows if (row.extra_attrs or {}).get("user_name") == principal.name]

    async def download(self, principal: Principal, execution_id: int, file_format: str | None) -> tuple[str, bytes]:
        """(file name, CSV bytes) of a finished export; NotFound while there is no file."""
        if file_format and file_format.upper() != "CSV":
            raise BadRequest(f"unsupported format {file_format[:20]!r}: only CSV")
        execution = await self._owned(principal, execution_id)
        if not (execution.extra_attrs or {}).get("file_present"):
            raise NotFound(f"export execution {execution_id} has no file (status {execution.status})")
        try:
            data = b"".join([chunk async for chunk in self._deps.blobs.driver.read(export_key(execution_id))])
        except FileNotFoundError:
            raise NotFound(f"the file of export execution {execution_id} is gone") from None
        name = "".join(c for c in str(execution.extra_attrs.get("job_name") or "") if c.isalnum() or c in "-_.")
        return f"{name or f'export-{execution_id}'}.csv", data

    # --- the work (the `cve_export` job) -----------------------------------------------------

    async def run(self, execution_id: int, progress: ScanProgress) -> None:
        """Write the CSV of an export and mark its file present (idempotent: a rerun rewrites it)."""
        async with self._db.read() as conn:
            execution = await execution_store.find(conn, execution_id)
        if execution is None:
            return
        attributes = dict(execution.extra_attrs or {})
        criteria = Criteria.from_json(attributes["criteria"])
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        rows, truncated, after_id = 0, False, 0
        for _ in range(10_000_000 // BATCH):  # bounded: at most ten million artifacts
            async with self._db.read() as conn:
                batch = await export_store.artifact_batch(conn, criteria.project_ids, after_id, BATCH)
                if not batch:
                    break
                lines = await self._rows(conn, batch, criteria)
            after_id = batch[-1].id
            for line in lines:
                if rows >= MAX_ROWS:
                    truncated = True
                    break
                writer.writerow(line)
                rows += 1
            await progress.checkpoint()
            if truncated:
                break
        await self._deps.blobs.driver.put(export_key(execution_id), buffer.getvalue().encode())
        attributes.update(file_present=True, status_text=(f"{rows} rows, cut at {MAX_ROWS}" if truncated
                                                          else f"{rows} rows"))
        async with self._db.write() as conn:
            await attribute_store.set_extra_attrs(conn, execution_id, attributes)
        await progress.log(f"exported {rows} vulnerabilities")

    async def _rows(self, conn: Any, batch: list[ExportArtifact], criteria: Criteria) -> list[list[str]]:
        ids = [artifact.id for artifact in batch]
        tags = await export_store.tag_names(conn, ids)
        labels = await export_store.label_ids(conn, ids) if criteria.label_ids else {}
        parents = await export_store.parent_digests(conn, ids)
        parent_reports = await scan_store.latest_for_digests(
            conn, sorted({digest for found in parents.values() for digest in found}), REPORT_MIME)
        reports = await scan_store.full_reports(conn, [artifact.digest for artifact in batch], REPORT_MIME)
        cves = {cve.upper() for cve in criteria.cve_ids}
        lines = []
        for artifact in batch:
            found = reports.get(artifact.digest)
            if found is None or found[0].status != "Success" or artifact.media_type not in mt.MANIFEST_TYPES:
                continue
            if any(parent_reports.get(d) is not None and parent_reports[d].status == "Success"
                   for d in parents.get(artifact.id, [])):
                continue  # the index's report covers it
            short_name = artifact.repository.split("/", 1)[1] if "/" in artifact.repository else artifact.repository
            artifact_tags = tags.get(artifact.id, [])
            if not _matches(criteria.repositories, artifact.repository, short_name) \
                    or (criteria.tags and not any(_matches(criteria.tags, tag) for tag in artifact_tags)) \
                    or (criteria.label_ids and not labels.get(artifact.id, set()) & set(criteria.label_ids)):
                continue
            for item in found[1].get("vulnerabilities") or []:
                if cves and str(item.get("id", "")).upper() not in cves:
                    continue
                score = (item.get("preferred_cvss") or {}).get("score_v3")
                lines.append([artifact.project, artifact.repository, artifact.digest, ", ".join(artifact_tags),
                              str(item.get("id", "")), str(item.get("package", "")), str(item.get("version", "")),
                              str(item.get("fix_version", "")), str(item.get("severity", "")),
                              "" if score is None else str(score)])
        return lines

    async def note_failure(self, execution_id: int, message: str) -> None:
        async with self._db.write() as conn:
            execution = await execution_store.find(conn, execution_id)
            if execution is not None:
                attributes = dict(execution.extra_attrs or {})
                attributes["status_text"] = message[:1000]
                await attribute_store.set_extra_attrs(conn, execution_id, attributes)


def _execution_json(row: Any) -> dict[str, Any]:
    attributes = row.extra_attrs or {}
    return {"id": row.id, "user_id": attributes.get("user_id") or 0, "status": row.status, "trigger": row.trigger,
            "start_time": harbor_time(row.start_time), "end_time": harbor_time(row.end_time),
            "status_text": str(attributes.get("status_text") or row.status_message or ""),
            "user_name": str(attributes.get("user_name") or ""), "file_present": bool(attributes.get("file_present"))}


def cve_export_service(services: Services) -> CveExportService:
    return CveExportService(deps_of(services))
