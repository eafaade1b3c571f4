"""Harbor API routes: projects, their metadata and summary; search; statistics.

Each handler parses the request, calls one ProjectService method and renders Harbor's
model; errors are raised by the services and rendered by `web/api/errors.py`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse, Response

from portside.services.project_queries import ProjectListing
from portside.web.api.deps import ActorDep, PageDep, PrincipalDep, ProjectDep, ServicesDep, visible_project
from portside.web.api.paging import paged_response
from portside.web.api.schemas.projects import (
    ProjectDeletable,
    ProjectReq,
    metadata_strings,
    project_body,
    search_body,
    statistic_body,
    summary_body,
)

router = APIRouter(tags=["projects"])

MetadataBody = Annotated[dict[str, str | bool | int | None], Body()]


@router.head("/projects", operation_id="headProject")
async def head_project(project_name: str, services: ServicesDep, principal: PrincipalDep) -> Response:
    """200 if the project exists and the caller may see it, else 404 (401 for anonymous callers)."""
    await visible_project(services, principal, project_name, True)
    return Response(status_code=200)


@router.get("/projects", operation_id="listProjects")
async def list_projects(request: Request, services: ServicesDep, principal: PrincipalDep, page: PageDep,
                        q: str | None = None, sort: str | None = None, name: str | None = None,
                        public: bool | None = None, owner: str | None = None,
                        with_detail: bool = True) -> JSONResponse:
    """The projects the caller may see (`with_detail` is accepted; details are always included)."""
    listing = ProjectListing(q=q, sort=sort, name=name, public=public, owner=owner)
    views, total = await services.projects.list_projects(principal, listing, offset=page.offset,
                                                         limit=page.page_size)
    return paged_response(request, [project_body(view) for view in views], total, page)


@router.post("/projects", status_code=201, operation_id="createProject")
async def create_project(request: Request, body: ProjectReq, services: ServicesDep, principal: PrincipalDep,
                         actor: ActorDep,
                         x_resource_name_in_location: Annotated[bool | None, Header()] = None) -> Response:
    project = await services.projects.create(principal, actor, body.to_spec())
    reference = project.name if x_resource_name_in_location else str(project.id)
    return Response(status_code=201, headers={"Location": f"{request.url.path.rstrip('/')}/{reference}"})


@router.get("/projects/{project_name_or_id}", operation_id="getProject")
async def get_project(project: ProjectDep, services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    return JSONResponse(project_body(await services.projects.view(principal, project)))


@router.put("/projects/{project_name_or_id}", operation_id="updateProject")
async def update_project(project: ProjectDep, body: ProjectReq, services: ServicesDep, principal: PrincipalDep,
                         actor: ActorDep) -> Response:
    await services.projects.update(principal, actor, project, body.to_spec())
    return Response(status_code=200)


@router.delete("/projects/{project_name_or_id}", operation_id="deleteProject")
async def delete_project(project: ProjectDep, services: ServicesDep, principal: PrincipalDep, actor: ActorDep,
                         force: bool = False) -> Response:
    """Delete the project; `?force=true` (Portside) first deletes its repositories."""
    await services.projects.delete(principal, actor, project, force=force)
    return Response(status_code=200)


@router.get("/projects/{project_name_or_id}/_deletable", operation_id="getProjectDeletable")
async def get_project_deletable(project: ProjectDep, services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    deletable, message = await services.projects.deletable(principal, project)
    return JSONResponse(ProjectDeletable(deletable=deletable, message=message).model_dump(mode="json"))


@router.get("/projects/{project_name_or_id}/summary", operation_id="getProjectSummary")
async def get_project_summary(project: ProjectDep, services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    return JSONResponse(summary_body(await services.projects.summary(principal, project)))


# Harbor's paths end in "/metadatas/"; clients (harborapi) also call "/metadatas".
@router.get("/projects/{project_name_or_id}/metadatas/", operation_id="listProjectMetadatas")
@router.get("/projects/{project_name_or_id}/metadatas", include_in_schema=False)
async def list_project_metadatas(project: ProjectDep, services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    return JSONResponse(await services.projects.metadata(principal, project))


@router.post("/projects/{project_name_or_id}/metadatas/", operation_id="addProjectMetadatas")
@router.post("/projects/{project_name_or_id}/metadatas", include_in_schema=False)
async def add_project_metadatas(project: ProjectDep, body: MetadataBody, services: ServicesDep,
                                principal: PrincipalDep, actor: ActorDep) -> Response:
    await services.projects.add_metadata(principal, actor, project, metadata_strings(body) or {})
    return Response(status_code=200)


@router.get("/projects/{project_name_or_id}/metadatas/{meta_name}", operation_id="getProjectMetadata")
async def get_project_metadata(project: ProjectDep, meta_name: str, services: ServicesDep,
                               principal: PrincipalDep) -> JSONResponse:
    return JSONResponse(await services.projects.metadata_entry(principal, project, meta_name))


@router.put("/projects/{project_name_or_id}/metadatas/{meta_name}", operation_id="updateProjectMetadata")
async def update_project_metadata(project: ProjectDep, meta_name: str, body: MetadataBody, services: ServicesDep,
                                  principal: PrincipalDep, actor: ActorDep) -> Response:
    await services.projects.set_metadata(principal, actor, project, meta_name, metadata_strings(body) or {})
    return Response(status_code=200)


@router.delete("/projects/{project_name_or_id}/metadatas/{meta_name}", operation_id="deleteProjectMetadata")
async def delete_project_metadata(project: ProjectDep, meta_name: str, services: ServicesDep,
                                  principal: PrincipalDep, actor: ActorDep) -> Response:
    await services.projects.delete_metadata(principal, actor, project, meta_name)
    return Response(status_code=200)


@router.get("/search", operation_id="search", tags=["search"])
async def search(q: str, services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    """Projects and repositories whose names contain `q`, among those the caller may see."""
    return JSONResponse(search_body(await services.projects.search(principal, q)))


@router.get("/statistics", operation_id="getStatistic", tags=["statistic"])
async def get_statistic(services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    return JSONResponse(statistic_body(await services.projects.statistics(principal)))
