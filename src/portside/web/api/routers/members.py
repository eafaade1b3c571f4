"""Harbor API routes: project members (`/projects/{project_name_or_id}/members`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from portside.web.api.deps import ActorDep, PageDep, PrincipalDep, ProjectDep, ServicesDep
from portside.web.api.paging import paged_response
from portside.web.api.schemas.members import ProjectMember, RoleRequest, member_body

router = APIRouter(tags=["members"])

MemberId = Annotated[int, Path(description="The member ID")]


@router.get("/projects/{project_name_or_id}/members", operation_id="listProjectMembers")
async def list_project_members(request: Request, project: ProjectDep, services: ServicesDep,
                               principal: PrincipalDep, page: PageDep,
                               entityname: str | None = None) -> JSONResponse:
    members, total = await services.members.list_members(principal, project, entity_name=entityname,
                                                         offset=page.offset, limit=page.page_size)
    return paged_response(request, [member_body(member) for member in members], total, page)


@router.post("/projects/{project_name_or_id}/members", status_code=201, operation_id="createProjectMember")
async def create_project_member(request: Request, project: ProjectDep, body: ProjectMember, services: ServicesDep,
                                principal: PrincipalDep, actor: ActorDep) -> Response:
    member = await services.members.add(principal, actor, project, body.to_request())
    return Response(status_code=201, headers={"Location": f"{request.url.path.rstrip('/')}/{member.id}"})


@router.get("/projects/{project_name_or_id}/members/{mid}", operation_id="getProjectMember")
async def get_project_member(project: ProjectDep, mid: MemberId, services: ServicesDep,
                             principal: PrincipalDep) -> JSONResponse:
    return JSONResponse(member_body(await services.members.get(principal, project, mid)))


@router.put("/projects/{project_name_or_id}/members/{mid}", operation_id="updateProjectMember")
async def update_project_member(project: ProjectDep, mid: MemberId, body: RoleRequest, services: ServicesDep,
                                principal: PrincipalDep, actor: ActorDep) -> Response:
    await services.members.update_role(principal, actor, project, mid, body.role_id)
    return Response(status_code=200)


@router.delete("/projects/{project_name_or_id}/members/{mid}", operation_id="deleteProjectMember")
async def delete_project_member(project: ProjectDep, mid: MemberId, services: ServicesDep, principal: PrincipalDep,
                                actor: ActorDep) -> Response:
    await services.members.remove(principal, actor, project, mid)
    return Response(status_code=200)
