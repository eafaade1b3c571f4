"""Harbor API routes: scanner registrations (ListScanners, CreateScanner, PingScanner, GetScanner,
UpdateScanner, DeleteScanner, SetScannerAsDefault, GetScannerMetadata) and the project scanner
(GetScannerOfProject, SetScannerOfProject, ListScannerCandidatesOfProject)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from portside.services.scanners import scanner_service
from portside.web.api.deps import ActorDep, PageDep, PrincipalDep, ProjectDep, ServicesDep
from portside.web.api.paging import paged_response
from portside.web.api.routers.repositories import QueryParam
from portside.web.api.schemas.scanners import (
    IsDefault,
    ProjectScanner,
    ScannerRegistration,
    ScannerRegistrationReq,
    ScannerRegistrationSettings,
)

RegistrationId = Annotated[str, Path(min_length=1, max_length=64)]

router = APIRouter(tags=["scanner"])


@router.get("/scanners", operation_id="ListScanners")
async def list_scanners(request: Request, services: ServicesDep, principal: PrincipalDep, page: PageDep,
                        q: QueryParam = None, sort: QueryParam = None) -> JSONResponse:
    views, total = await scanner_service(services).list_registrations(principal, q=q, sort=sort, offset=page.offset,
                                                        limit=page.page_size)
    return paged_response(request, [ScannerRegistration.of(view).as_json() for view in views], total, page)


@router.post("/scanners", operation_id="CreateScanner", status_code=201)
async def create_scanner(request: Request, body: ScannerRegistrationReq, services: ServicesDep,
                         principal: PrincipalDep, actor: ActorDep) -> Response:
    registration_uuid = await scanner_service(services).create(principal, actor, body.to_fields())
    return Response(status_code=201, headers={"Location": f"{request.url.path.rstrip('/')}/{registration_uuid}"})


@router.post("/scanners/ping", operation_id="PingScanner")
async def ping_scanner(body: ScannerRegistrationSettings, services: ServicesDep, principal: PrincipalDep) -> Response:
    await scanner_service(services).ping(principal, body.to_fields())
    return Response(status_code=200)


@router.get("/scanners/{registration_id}", operation_id="GetScanner")
async def get_scanner(registration_id: RegistrationId, services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    view = await scanner_service(services).get(principal, registration_id)
    return JSONResponse(ScannerRegistration.of(view).as_json())


@router.put("/scanners/{registration_id}", operation_id="UpdateScanner")
async def update_scanner(registration_id: RegistrationId, body: ScannerRegistrationReq, services: ServicesDep,
                         principal: PrincipalDep, actor: ActorDep) -> Response:
    await scanner_service(services).update(principal, actor, registration_id, body.to_fields())
    return Response(status_code=200)


@router.delete("/scanners/{registration_id}", operation_id="DeleteScanner")
async def delete_scanner(registration_id: RegistrationId, services: ServicesDep, principal: PrincipalDep,
                         actor: ActorDep) -> JSONResponse:
    view = await scanner_service(services).delete(principal, actor, registration_id)
    return JSONResponse(ScannerRegistration.of(view).as_json())


@router.patch("/scanners/{registration_id}", operation_id="SetScannerAsDefault")
async def set_scanner_as_default(registration_id: RegistrationId, body: IsDefault, services: ServicesDep,
                                 principal: PrincipalDep, actor: ActorDep) -> Response:
    await scanner_service(services).set_default(principal, actor, registration_id, body.is_default)
    return Response(status_code=200)


@router.get("/scanners/{registration_id}/metadata", operation_id="GetScannerMetadata")
async def get_scanner_metadata(registration_id: RegistrationId, services: ServicesDep,
                               principal: PrincipalDep) -> JSONResponse:
    return JSONResponse(await scanner_service(services).metadata(principal, registration_id))


@router.get("/projects/{project_name_or_id}/scanner", operation_id="GetScannerOfProject")
async def get_scanner_of_project(project: ProjectDep, services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    view = await scanner_service(services).project_scanner(principal, project)
    return JSONResponse(ScannerRegistration.of(view).as_json())


@router.put("/projects/{project_name_or_id}/scanner", operation_id="SetScannerOfProject")
async def set_scanner_of_project(project: ProjectDep, body: ProjectScanner, services: ServicesDep,
                                 principal: PrincipalDep, actor: ActorDep) -> Response:
    await scanner_service(services).set_project_scanner(principal, actor, project, body.uuid)
    return Response(status_code=200)


@router.get("/projects/{project_name_or_id}/scanner/candidates", operation_id="ListScannerCandidatesOfProject")
async def list_scanner_candidates(request: Request, project: ProjectDep, services: ServicesDep,
                                  principal: PrincipalDep, page: PageDep, q: QueryParam = None,
                                  sort: QueryParam = None) -> JSONResponse:
    views, total = await scanner_service(services).candidates(principal, project, q=q, sort=sort,
                                                              offset=page.offset, limit=page.page_size)
    return paged_response(request, [ScannerRegistration.of(view).as_json() for view in views], total, page)
