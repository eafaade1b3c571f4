"""Harbor API routes: scanning (ScanArtifact, StopScanArtifact, GetReportLog,
GetVulnerabilitiesAddition), scan all (GetScanAllSchedule, CreateScanAllSchedule,
UpdateScanAllSchedule, StopScanAll, GetLatestScanAllMetrics, GetLatestScheduledScanAllMetrics),
the system CVE allowlist (GetSystemCVEAllowlist, PutSystemCVEAllowlist), and the user guide's
`…/scan/overview` (beyond Harbor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Path
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from portside.domain.errors import BadRequest
from portside.services.sbom import sbom_service
from portside.services.scan_all import scan_all_service
from portside.services.scanning import scan_service
from portside.web.api.deps import ActorDep, PrincipalDep, ProjectByNameDep, ServicesDep
from portside.web.api.routers.artifacts import ARTIFACT_PATH, Reference
from portside.web.api.schemas.scan import CVEAllowlistReq, ScanType, Schedule, Stats, allowlist_json

router = APIRouter(tags=["scan"])
OptionalScanType = Annotated[ScanType | None, Body()]


def _vulnerability_scan(body: ScanType | None) -> None:
    if body is not None and body.scan_type != "vulnerability":
        raise BadRequest(f"unknown scan_type {body.scan_type!r}: use vulnerability or sbom")


@router.post(f"{ARTIFACT_PATH}/scan", operation_id="ScanArtifact", status_code=202)
async def scan_artifact(repository_name: str, reference: Reference, services: ServicesDep, principal: PrincipalDep,
                        project: ProjectByNameDep, body: OptionalScanType = None) -> Response:
    if body is not None and body.scan_type == "sbom":  # Harbor 2.11+: the same route generates an SBOM
        await sbom_service(services).request(principal, project, repository_name, reference)
        return Response(status_code=202)
    _vulnerability_scan(body)
    await scan_service(services).request_scan(principal, project, repository_name, reference)
    return Response(status_code=202)


@router.post(f"{ARTIFACT_PATH}/scan/stop", operation_id="StopScanArtifact", status_code=202)
async def stop_scan_artifact(repository_name: str, reference: Reference, services: ServicesDep,
                             principal: PrincipalDep, project: ProjectByNameDep,
                             body: OptionalScanType = None) -> Response:
    _vulnerability_scan(body)
    await scan_service(services).stop(principal, project, repository_name, reference)
    return Response(status_code=202)


@router.get(f"{ARTIFACT_PATH}/scan/overview", operation_id="GetScanOverview")
async def scan_overview(repository_name: str, reference: Reference, services: ServicesDep, principal: PrincipalDep,
                        project: ProjectByNameDep) -> JSONResponse:
    """Beyond Harbor: the summary shape the user guide's HarborManager script reads."""
    return JSONResponse(await scan_service(services).overview_of(principal, project, repository_name, reference))


@router.get(f"{ARTIFACT_PATH}/scan/{{report_id}}/log", operation_id="GetReportLog",
            response_class=PlainTextResponse)
async def report_log(repository_name: str, reference: Reference, report_id: Annotated[str, Path(max_length=64)],
                     services: ServicesDep, principal: PrincipalDep, project: ProjectByNameDep) -> PlainTextResponse:
    text = await scan_service(services).report_log(principal, project, repository_name, reference, report_id)
    return PlainTextResponse(text)


@router.get(f"{ARTIFACT_PATH}/additions/vulnerabilities", operation_id="GetVulnerabilitiesAddition")
async def vulnerabilities(repository_name: str, reference: Reference, services: ServicesDep,
                          principal: PrincipalDep, project: ProjectByNameDep,
                          x_accept_vulnerabilities: Annotated[str | None, Header(max_length=1024)] = None
                          ) -> JSONResponse:
    found = await scan_service(services).vulnerabilities(principal, project, repository_name, reference,
                                                         x_accept_vulnerabilities)
    return JSONResponse(found)


# --- scan all -------------------------------------------------------------------------------------


@router.get("/system/scanAll/schedule", operation_id="GetScanAllSchedule")
async def get_scan_all_schedule(services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    return JSONResponse(await scan_all_service(services).schedule(principal))


@router.post("/system/scanAll/schedule", operation_id="CreateScanAllSchedule", status_code=201)
async def create_scan_all_schedule(body: Schedule, services: ServicesDep, principal: PrincipalDep) -> Response:
    """`Manual` starts a scan-all now (409 while one runs); other types set or remove the cron."""
    await scan_all_service(services).set_schedule(principal, body.schedule.type, body.schedule.cron)
    return Response(status_code=201)


@router.put("/system/scanAll/schedule", operation_id="UpdateScanAllSchedule")
async def update_scan_all_schedule(body: Schedule, services: ServicesDep, principal: PrincipalDep) -> Response:
    await scan_all_service(services).set_schedule(principal, body.schedule.type, body.schedule.cron)
    return Response(status_code=200)


@router.post("/system/scanAll/stop", operation_id="StopScanAll", status_code=202)
async def stop_scan_all(services: ServicesDep, principal: PrincipalDep) -> Response:
    await scan_all_service(services).stop(principal)
    return Response(status_code=202)


@router.get("/scans/all/metrics", operation_id="GetLatestScanAllMetrics", response_model=Stats,
            response_model_exclude_none=True)
async def scan_all_metrics(services: ServicesDep, principal: PrincipalDep) -> Stats:
    return Stats.model_validate(await scan_all_service(services).metrics(principal))


@router.get("/scans/schedule/metrics", operation_id="GetLatestScheduledScanAllMetrics", response_model=Stats,
            response_model_exclude_none=True)
async def scheduled_scan_all_metrics(services: ServicesDep, principal: PrincipalDep) -> Stats:
    return Stats.model_validate(await scan_all_service(services).metrics(principal, scheduled_only=True))


# --- the system CVE allowlist ------------------------------------------------------------------


@router.get("/system/CVEAllowlist", operation_id="GetSystemCVEAllowlist")
async def get_system_allowlist(services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    return JSONResponse(allowlist_json(await scan_service(services).system_allowlist(principal)))


@router.put("/system/CVEAllowlist", operation_id="PutSystemCVEAllowlist")
async def put_system_allowlist(body: CVEAllowlistReq, services: ServicesDep, principal: PrincipalDep,
                               actor: ActorDep) -> Response:
    await scan_service(services).put_system_allowlist(principal, actor, [item.cve_id for item in body.items],
                                                      body.expires_at)
    return Response(status_code=200)
