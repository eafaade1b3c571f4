"""Harbor API routes: CVE export (ExportScanData, GetScanDataExportExecution,
GetScanDataExportExecutionList, DownloadScanData)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse, Response

from portside.services.cve_export import cve_export_service
from portside.services.row_ids import MAX_ROW_ID
from portside.web.api.deps import ActorDep, PrincipalDep, ServicesDep
from portside.web.api.schemas.export import ScanDataExportJob, ScanDataExportRequest

ExecutionId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]  # 32-bit id columns: larger is a 400, not a 500

router = APIRouter(tags=["scan data export"])


@router.post("/export/cve", operation_id="ExportScanData", response_model=ScanDataExportJob)
async def export_scan_data(body: ScanDataExportRequest, services: ServicesDep, principal: PrincipalDep,
                           actor: ActorDep,
                           x_scan_data_type: Annotated[str | None, Header(max_length=255)] = None
                           ) -> ScanDataExportJob:
    execution_id = await cve_export_service(services).create(principal, actor, body.to_criteria(), x_scan_data_type)
    return ScanDataExportJob(id=execution_id)


@router.get("/export/cve/execution/{execution_id}", operation_id="GetScanDataExportExecution")
async def get_export_execution(execution_id: ExecutionId, services: ServicesDep,
                               principal: PrincipalDep) -> JSONResponse:
    return JSONResponse(await cve_export_service(services).execution(principal, execution_id))


@router.get("/export/cve/executions", operation_id="GetScanDataExportExecutionList")
async def list_export_executions(services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    return JSONResponse({"items": await cve_export_service(services).executions(principal)})


@router.get("/export/cve/download/{execution_id}", operation_id="DownloadScanData")
async def download_scan_data(execution_id: ExecutionId, services: ServicesDep, principal: PrincipalDep,
                             format: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    name, data = await cve_export_service(services).download(principal, execution_id, format)
    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
