"""Harbor API routes: audit logs (system-wide, per project, and the event types)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from portside.services.audit import AuditLogViewer
from portside.store.audit import AuditEntry
from portside.web.api.deps import PageDep, PrincipalDep, ProjectByNameDep, ServicesDep
from portside.web.api.paging import PageParams, paged_response
from portside.web.api.schemas.auditlogs import AuditLog, AuditLogEventType, AuditLogExt

router = APIRouter(tags=["auditlogs"])


def get_viewer(services: ServicesDep) -> AuditLogViewer:
    return AuditLogViewer(services.audit, services.access, services.db)


ViewerDep = Annotated[AuditLogViewer, Depends(get_viewer)]


def _legacy(request: Request, entries: list[AuditEntry], total: int, page: PageParams) -> JSONResponse:
    return paged_response(request, [AuditLog.of(e).model_dump(mode="json") for e in entries], total, page)


def _extended(request: Request, entries: list[AuditEntry], total: int, page: PageParams) -> JSONResponse:
    return paged_response(request, [AuditLogExt.of(e).model_dump(mode="json") for e in entries], total, page)


@router.get("/audit-logs", operation_id="listAuditLogs", response_model=list[AuditLog])
async def list_audit_logs(request: Request, viewer: ViewerDep, principal: PrincipalDep, page: PageDep,
                          q: str | None = None, sort: str | None = None) -> JSONResponse:
    entries, total = await viewer.list_visible(principal, q, sort, offset=page.offset, limit=page.page_size)
    return _legacy(request, entries, total, page)


@router.get("/auditlog-exts", operation_id="listAuditLogExts", response_model=list[AuditLogExt])
async def list_audit_log_exts(request: Request, viewer: ViewerDep, principal: PrincipalDep, page: PageDep,
                              q: str | None = None, sort: str | None = None) -> JSONResponse:
    entries, total = await viewer.list_visible(principal, q, sort, offset=page.offset, limit=page.page_size)
    return _extended(request, entries, total, page)


@router.get("/auditlog-exts/events", operation_id="listAuditLogEventTypes")
async def list_audit_log_event_types(viewer: ViewerDep, principal: PrincipalDep) -> list[AuditLogEventType]:
    return [AuditLogEventType(event_type=name) for name in await viewer.event_types(principal)]


@router.get("/projects/{project_name}/logs", operation_id="getLogs", response_model=list[AuditLog])
async def list_project_logs(request: Request, viewer: ViewerDep, principal: PrincipalDep,
                            project: ProjectByNameDep, page: PageDep, q: str | None = None,
                            sort: str | None = None) -> JSONResponse:
    entries, total = await viewer.list_project(principal, project, q, sort, offset=page.offset,
                                               limit=page.page_size)
    return _legacy(request, entries, total, page)


@router.get("/projects/{project_name}/auditlog-exts", operation_id="getLogExts", response_model=list[AuditLogExt])
async def list_project_log_exts(request: Request, viewer: ViewerDep, principal: PrincipalDep,
                                project: ProjectByNameDep, page: PageDep, q: str | None = None,
                                sort: str | None = None) -> JSONResponse:
    entries, total = await viewer.list_project(principal, project, q, sort, offset=page.offset,
                                               limit=page.page_size)
    return _extended(request, entries, total, page)
