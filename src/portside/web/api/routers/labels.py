"""Harbor API routes: labels (ListLabels, CreateLabel, GetLabelByID, UpdateLabel, DeleteLabel) and
their attachment to artifacts (AddLabel, RemoveLabel)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from portside.services.row_ids import MAX_ROW_ID
from portside.web.api.deps import ActorDep, PageDep, PrincipalDep, ProjectByNameDep, RowId, ServicesDep
from portside.web.api.paging import paged_response
from portside.web.api.routers.artifacts import ARTIFACT_PATH, Reference
from portside.web.api.routers.repositories import QueryParam
from portside.web.api.schemas.labels import ArtifactLabelReq, Label, LabelReq

router = APIRouter(tags=["label"])


@router.get("/labels", operation_id="ListLabels")
async def list_labels(request: Request, services: ServicesDep, principal: PrincipalDep, page: PageDep,
                      q: QueryParam = None, sort: QueryParam = None, name: QueryParam = None,
                      scope: Annotated[str | None, Query(max_length=16)] = None,
                      project_id: Annotated[int | None, Query(ge=0, le=MAX_ROW_ID)] = None) -> JSONResponse:
    rows, total = await services.labels.list_labels(principal, scope=scope, project_id=project_id, name=name, q=q,
                                             sort=sort, offset=page.offset, limit=page.page_size)
    return paged_response(request, [Label.of(row).model_dump() for row in rows], total, page)


@router.post("/labels", operation_id="CreateLabel", status_code=201)
async def create_label(request: Request, body: LabelReq, services: ServicesDep, principal: PrincipalDep,
                       actor: ActorDep) -> Response:
    label_id = await services.labels.create(principal, actor, body.to_fields())
    return Response(status_code=201, headers={"Location": f"{request.url.path.rstrip('/')}/{label_id}"})


@router.get("/labels/{label_id}", operation_id="GetLabelByID", response_model=Label)
async def get_label(label_id: RowId, services: ServicesDep, principal: PrincipalDep) -> Label:
    return Label.of(await services.labels.get(principal, label_id))


@router.put("/labels/{label_id}", operation_id="UpdateLabel")
async def update_label(label_id: RowId, body: LabelReq, services: ServicesDep, principal: PrincipalDep,
                       actor: ActorDep) -> Response:
    await services.labels.update(principal, actor, label_id, body.to_fields())
    return Response(status_code=200)


@router.delete("/labels/{label_id}", operation_id="DeleteLabel")
async def delete_label(label_id: RowId, services: ServicesDep, principal: PrincipalDep,
                       actor: ActorDep) -> Response:
    await services.labels.delete(principal, actor, label_id)
    return Response(status_code=200)


@router.post(f"{ARTIFACT_PATH}/labels", operation_id="AddLabel")
async def add_label(repository_name: str, reference: Reference, body: ArtifactLabelReq, services: ServicesDep,
                    principal: PrincipalDep, actor: ActorDep, project: ProjectByNameDep) -> Response:
    await services.labels.attach(principal, actor, project, repository_name, reference, body.id)
    return Response(status_code=200)


@router.delete(f"{ARTIFACT_PATH}/labels/{{label_id}}", operation_id="RemoveLabel")
async def remove_label(repository_name: str, reference: Reference, label_id: RowId, services: ServicesDep,
                       principal: PrincipalDep, actor: ActorDep, project: ProjectByNameDep) -> Response:
    await services.labels.detach(principal, actor, project, repository_name, reference, label_id)
    return Response(status_code=200)
