"""Portside as a Pluggable Scanner Adapter (API v1.2): scan requests from another registry.

`accept` validates a ScanRequest and queues an `adapter_scan` job; the request id it returns is
`<execution id>-<secret token>`, so ids cannot be guessed. The job pulls the image from the
registry URL the request names, with the authorization it carries (`RemoteImages`), matches
the inventory against the offline vulnerability database and stores the report and the
inventory in the execution. `report` answers pending requests with "not ready" (the web layer
sends 302 + Refresh-After) and finished ones in the requested MIME type: Harbor's vulnerability
report (1.1 or the native 1.0, same shape, with `artifact`), the raw type (the same JSON), or the
SBOM report `{generated_at, artifact, scanner, vendor_attributes, media_type, sbom}` built from
the stored inventory in CycloneDX or SPDX.

The registry credentials are kept only in the job's params and removed when the job ends.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from portside.clients.oci import RegistryPullClient
from portside.core.clock import utcnow
from portside.domain.digest import parse_digest
from portside.domain.errors import DigestInvalid
from portside.domain.inventory import Inventory
from portside.domain.rbac import Principal
from portside.domain.sbom_documents import FORMATS, ImageInfo, cyclonedx, spdx
from portside.domain.vulnerability_report import NATIVE_REPORT_MIME, REPORT_MIME, build_report, harbor_time
from portside.services.deps import ServiceDeps
from portside.services.remote_images import RemoteImageFailed, RemoteImages
from portside.services.sbom import TOOL
from portside.services.scan_queue import scanner_info
from portside.services.scanners import CONSUMED_MIMES, RAW_REPORT_MIME, SBOM_REPORT_MIME, portside_metadata
from portside.services.scanning import ScanProgress, deps_of
from portside.services.vulndb import VulnerabilityDatabase
from portside.store import adapter_scans as adapter_store
from portside.store import executions as execution_store
from portside.store import jobs as job_store
from portside.store import scans as scan_store

if TYPE_CHECKING:
    from portside.services.bundle import Services

ADAPTER_JOB = "adapter_scan"
ADAPTER_VENDOR = "ADAPTER_SCAN"
REFRESH_AFTER_SECONDS = 5
CAPABILITY_TYPES = ("vulnerability", "sbom")


class AdapterRequestError(Exception):
    """A request the adapter API answers with `status` and `{"error": {"message"}}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class ReportAnswer:
    """`ready` with the body in `mime_type`; otherwise retry after `retry_after` seconds."""

    ready: bool
    mime_type: str = ""
    body: Any = None
    retry_after: int = REFRESH_AFTER_SECONDS


def _text(value: Any, field: str, *, required: bool = True, limit: int = 1024) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise AdapterRequestError(422, f"{field} must be a non-empty string of at most {limit} characters")
    return value


def _capabilities(value: Any) -> list[dict[str, Any]]:
    """The enabled capabilities (all of ours when absent, as the spec says)."""
    if value is None:
        return [{"type": kind} for kind in CAPABILITY_TYPES]
    if not isinstance(value, list) or len(value) > 10:
        raise AdapterRequestError(422, "enabled_capabilities must be a list")
    capabilities = []
    for item in value:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in CAPABILITY_TYPES:
            raise AdapterRequestError(501, f"the scanner has no capability {str(kind)[:40]!r}")
        media_types = ((item.get("parameters") or {}).get("sbom_media_types") or []) if kind == "sbom" else []
        if any(media_type not in FORMATS.values() for media_type in media_types):
            raise AdapterRequestError(501, f"unsupported sbom_media_types {media_types!r}"[:300])
        capabilities.append({"type": kind, "sbom_media_types": list(media_types)})
    return capabilities


def parse_scan_request(body: Any) -> dict[str, Any]:
    """The validated request (registry URL, artifact, capabilities) and its authorization."""
    if not isinstance(body, dict) or not isinstance(body.get("registry"), dict) \
            or not isinstance(body.get("artifact"), dict):
        raise AdapterRequestError(400, "a scan request has `registry` and `artifact` objects")
    registry, artifact = body["registry"], body["artifact"]
    url = _text(registry.get("url"), "registry.url")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise AdapterRequestError(422, f"registry.url {url[:200]!r} is not an http(s) URL")
    digest = _text(artifact.get("digest"), "artifact.digest", limit=150)
    try:
        parse_digest(digest)
    except DigestInvalid as error:
        raise AdapterRequestError(422, f"artifact.digest: {error.message}") from None
    mime_type = _text(artifact.get("mime_type"), "artifact.mime_type", required=False, limit=255)
    if mime_type and mime_type not in CONSUMED_MIMES:
        raise AdapterRequestError(501, f"the scanner can not scan artifacts of type {mime_type}")
    return {
        "registry_url": url, "authorization": _text(registry.get("authorization"), "registry.authorization",
                                                    required=False, limit=8192),
        "artifact": {"repository": _text(artifact.get("repository"), "artifact.repository", limit=255),
                     "digest": digest, "tag": _text(artifact.get("tag"), "artifact.tag", required=False, limit=128),
                     "mime_type": mime_type},
        "capabilities": _capabilities(body.get("enabled_capabilities")),
    }


def _request_parts(request_id: str) -> tuple[int, str]:
    execution, _, token = request_id.partition("-")
    if not execution.isdigit() or len(execution) > 18 or not token:
        raise AdapterRequestError(404, f"scan request {request_id[:80]} not found")
    return int(execution), token


def _base_mime(value: str) -> str:
    return ";".join(part.strip() for part in value.lower().split(";"))


class AdapterScanService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
        self._db = deps.db
        self._vulndb = VulnerabilityDatabase(deps.db)
        self._images = RemoteImages(deps.db)

    async def require(self, principal: Principal) -> None:
        """Who may use the adapter API: administrators and robots granted system `scanner` read."""
        await self._deps.access.require(principal, None, "scanner", "read")

    async def metadata(self) -> dict[str, Any]:
        async with self._db.read() as conn:
            changed = await scan_store.last_database_change(conn)
        return portside_metadata(harbor_time(changed))

    async def accept(self, principal: Principal, body: Any) -> str:
        """Queue the scan of a ScanRequest; the scan request id. Raises AdapterRequestError."""
        request = parse_scan_request(body)
        token = secrets.token_hex(16)
        attributes = {"state": "Pending", "token": token, "registry_url": request["registry_url"],
                      "artifact": request["artifact"], "capabilities": request["capabilities"],
                      "requested_by": principal.name}
        async with self._db.write() as conn:
            execution_id = await execution_store.create(conn, ADAPTER_VENDOR, None, "MANUAL", attributes)
            await job_store.enqueue(conn, ADAPTER_JOB, {"execution_id": execution_id,
                                                        "authorization": request["authorization"]},
                                    execution_id=execution_id)
        return f"{execution_id}-{token}"

    async def _execution(self, request_id: str) -> Any:
        execution_id, token = _request_parts(request_id)
        async with self._db.read() as conn:
            execution = await execution_store.find(conn, execution_id)
        attributes = (execution.extra_attrs or {}) if execution is not None else {}
        if execution is None or execution.vendor_type != ADAPTER_VENDOR \
                or not secrets.compare_digest(str(attributes.get("token", "")), token):
            raise AdapterRequestError(404, f"scan request {request_id[:80]} not found")
        return execution

    async def report(self, request_id: str, accept: str | None, sbom_media_type: str | None) -> ReportAnswer:
        """The report of a scan request in the MIME type of `accept` (default: the vulnerability
        report 1.1). Raises AdapterRequestError: 404 unknown id, 400 an SBOM without a valid
        sbom_media_type, 501 a MIME type we do not produce, 500 a failed scan (with its reason)."""
        mime_type = self._wanted_mime(accept)
        if mime_type == SBOM_REPORT_MIME and sbom_media_type not in FORMATS.values():
            raise AdapterRequestError(400, "an SBOM report needs ?sbom_media_type=application/spdx+json or "
                                           "application/vnd.cyclonedx+json")
        execution = await self._execution(request_id)
        attributes = dict(execution.extra_attrs)
        if attributes.get("state") == "Pending":
            return ReportAnswer(False)
        if attributes.get("state") != "Success":
            raise AdapterRequestError(500, str(attributes.get("message") or "the scan failed"))
        result = attributes.get("result") or {}
        artifact = attributes["artifact"]
        if mime_type != SBOM_REPORT_MIME:
            return ReportAnswer(True, mime_type, {**result["report"], "artifact": artifact})
        image = ImageInfo(repository=artifact["repository"], digest=artifact["digest"],
                          registry=urlsplit(attributes["registry_url"]).netloc,
                          architecture=result.get("image", {}).get("architecture", ""),
                          os=result.get("image", {}).get("os", ""), created=result.get("image", {}).get("created", ""),
                          tags=(artifact["tag"],) if artifact.get("tag") else ())
        inventory = Inventory.from_json(result["inventory"])
        now = utcnow()
        if sbom_media_type == FORMATS["spdx"]:
            namespace = f"https://{image.registry}/spdx/{image.repository}/{image.digest}/{uuid.uuid4()}"
            document = spdx(inventory, image, tool=TOOL, timestamp=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            namespace=namespace)
        else:
            document = cyclonedx(inventory, image, tool=TOOL, timestamp=harbor_time(now) or "",
                                 serial_number=str(uuid.uuid4()))
        return ReportAnswer(True, mime_type, {"generated_at": result["report"]["generated_at"], "artifact": artifact,
                                              "scanner": scanner_info(), "vendor_attributes": {},
                                              "media_type": sbom_media_type, "sbom": document})

    @staticmethod
    def _wanted_mime(accept: str | None) -> str:
        produced = (REPORT_MIME, NATIVE_REPORT_MIME, RAW_REPORT_MIME, SBOM_REPORT_MIME)
        for part in (accept or "").split(","):
            wanted = _base_mime(part)
            if wanted in ("", "*/*", "application/json"):
                continue
            match = next((mime for mime in produced if _base_mime(mime) == wanted), None)
            if match is not None:
                return match
        if accept and not any(_base_mime(part) in ("", "*/*", "application/json") for part in accept.split(",")):
            raise AdapterRequestError(501, f"the scanner does not produce {accept[:200]}")
        return REPORT_MIME

    # --- the work (the `adapter_scan` job) --------------------------------------------------------

    async def run(self, execution_id: int, authorization: str, progress: ScanProgress) -> None:
        """Scan the requested image and store the result in the execution (state Success), or
        end it with state Error and the reason when the image cannot be scanned. Does nothing for
        a request that is no longer pending. (The execution's own status is the worker's: it
        follows the job's.)"""
        async with self._db.read() as conn:
            execution = await execution_store.find(conn, execution_id)
        attributes = dict(execution.extra_attrs or {}) if execution is not None else {}
        if attributes.get("state") != "Pending":
            return
        artifact = attributes["artifact"]
        await progress.log(f"scanning {artifact['repository']}@{artifact['digest']} from {attributes['registry_url']}")
        try:
            async with RegistryPullClient(attributes["registry_url"], authorization) as registry:
                image = await self._images.analyse(registry, artifact["repository"], artifact["digest"],
                                                   progress.log, progress.checkpoint)
        except RemoteImageFailed as error:
            await progress.log(str(error))
            await self.fail(execution_id, str(error))
            return
        findings = await self._vulndb.find(image.inventory)
        report = build_report(findings, image.digest, scanner_info(), harbor_time(utcnow()) or "")
        attributes["result"] = {"report": report, "inventory": image.inventory.to_json(), "image": image.attributes}
        attributes["state"] = "Success"
        async with self._db.write() as conn:
            await adapter_store.set_extra_attrs(conn, execution_id, attributes)
        await progress.log(f"{len(image.inventory.packages)} packages, {len(report['vulnerabilities'])} "
                           f"vulnerabilities, severity {report['severity']}")

    async def fail(self, execution_id: int, message: str) -> None:
        """End a pending request with state Error and `message` (its report answers 500)."""
        async with self._db.write() as conn:
            execution = await execution_store.find(conn, execution_id)
            if execution is None:
                return
            attributes = dict(execution.extra_attrs or {})
            if attributes.get("state") == "Pending":
                attributes.update(state="Error", message=message[:4000])
                await adapter_store.set_extra_attrs(conn, execution_id, attributes)

    async def forget_secret(self, job_id: int, params: dict[str, Any]) -> None:
        async with self._db.write() as conn:
            await adapter_store.forget_job_secret(conn, job_id, params)


def adapter_scan_service(services: Services) -> AdapterScanService:
    return AdapterScanService(deps_of(services))
