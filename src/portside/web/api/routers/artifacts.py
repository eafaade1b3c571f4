"""Harbor API routes: artifacts, their tags and additions (ListArtifacts, CopyArtifact, GetArtifact,
DeleteArtifact, CreateTag, ListTags, DeleteTag, ListAccessories, GetAddition,
GetVulnerabilitiesAddition)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from portside.domain.models import Project
from portside.domain.rbac import Principal
from portside.services.artifacts import ArtifactOptions
from portside.services.bundle import Services
from portside.services.scanning import scan_service
from portside.web.api.deps import ActorDep, PageDep, PrincipalDep, ProjectByNameDep, ServicesDep
from portside.web.api.paging import paged_response
from portside.web.api.routers.repositories import REPOSITORY_PATH, QueryParam, RepositoryNameConvertor
from portside.web.api.schemas.artifacts import API_PREFIX, Accessory, Artifact, Tag, TagReq

ARTIFACTS_PATH = f"{REPOSITORY_PATH}/artifacts"
ARTIFACT_PATH = f"{ARTIFACTS_PATH}/{{reference}}"
Reference = Annotated[str, Path(max_length=256)]

router = APIRouter(tags=["artifact"])


def _options(with_tag: bool, with_label: bool, with_accessory: bool) -> ArtifactOptions:
    return ArtifactOptions(with_tag=with_tag, with_label=with_label, with_accessory=with_accessory)


@router.get(ARTIFACTS_PATH, operation_id="ListArtifacts")
async def list_artifacts(request: Request, repository_name: str, services: ServicesDep, principal: PrincipalDep,
                         project: ProjectByNameDep, page: PageDep, q: QueryParam = None, sort: QueryParam = None,
                         with_tag: bool = True, with_label: bool = False, with_scan_overview: bool = False,
                         with_immutable_status: bool = False, with_accessory: bool = True) -> JSONResponse:
    """`with_immutable_status` is accepted; no tag is immutable yet."""
    views, total = await services.artifacts.list_artifacts(principal, project, repository_name, q, sort,
                                                 _options(with_tag, with_label, with_accessory),
                                                 offset=page.offset, limit=page.page_size)
    items = [Artifact.of(view).model_dump(by_alias=True) for view in views]
    if with_scan_overview:
        await _add_scan_overviews(services, principal, project, items)
    return paged_response(request, items, total, page)


async def _add_scan_overviews(services: Services, principal: Principal, project: Project,
                              items: list[dict[str, Any]]) -> None:
    """Harbor's `scan_overview` on each scanned artifact: one query for the whole page."""
    if not items or not await services.access.allowed(principal, project.name, "scan", "read"):
        return
    overviews = await scan_service(services).overview([str(item["digest"]) for item in items])
    for item in items:
        if item["digest"] in overviews:
            item["scan_overview"] = overviews[item["digest"]]


@router.post(ARTIFACTS_PATH, operation_id="CopyArtifact", status_code=201)
async def copy_artifact(repository_name: str, services: ServicesDep, principal: PrincipalDep, actor: ActorDep,
                        project: ProjectByNameDep,
                        source: Annotated[str, Query(alias="from", max_length=1024)]) -> Response:
    reference = await services.artifacts.copy(principal, actor, project, repository_name, source)
    encoded = RepositoryNameConvertor().to_string(repository_name)
    location = f"{API_PREFIX}/projects/{project.name}/repositories/{encoded}/artifacts/{reference}"
    return Response(status_code=201, headers={"Location": location})


@router.get(ARTIFACT_PATH, operation_id="GetArtifact")
async def get_artifact(repository_name: str, reference: Reference, services: ServicesDep, principal: PrincipalDep,
                       project: ProjectByNameDep, with_tag: bool = True, with_label: bool = False,
                       with_scan_overview: bool = False, with_immutable_status: bool = False,
                       with_accessory: bool = True) -> JSONResponse:
    view = await services.artifacts.get(principal, project, repository_name, reference,
                                        _options(with_tag, with_label, with_accessory))
    item = Artifact.of(view).model_dump(by_alias=True)
    if with_scan_overview:
        await _add_scan_overviews(services, principal, project, [item])
    return JSONResponse(item)


@router.delete(ARTIFACT_PATH, operation_id="DeleteArtifact")
async def delete_artifact(repository_name: str, reference: Reference, services: ServicesDep,
                          principal: PrincipalDep, actor: ActorDep, project: ProjectByNameDep) -> Response:
    await services.artifacts.delete(principal, actor, project, repository_name, reference)
    return Response(status_code=200)


@router.post(f"{ARTIFACT_PATH}/tags", operation_id="CreateTag", status_code=201)
async def create_tag(repository_name: str, reference: Reference, body: TagReq, services: ServicesDep,
                     principal: PrincipalDep, actor: ActorDep, project: ProjectByNameDep) -> Response:
    await services.artifacts.create_tag(principal, actor, project, repository_name, reference, body.name)
    return Response(status_code=201)


@router.get(f"{ARTIFACT_PATH}/tags", operation_id="ListTags")
async def list_tags(request: Request, repository_name: str, reference: Reference, services: ServicesDep,
                    principal: PrincipalDep, project: ProjectByNameDep, page: PageDep, q: QueryParam = None,
                    sort: QueryParam = None, with_immutable_status: bool = False) -> JSONResponse:
    rows, total = await services.artifacts.list_tags(principal, project, repository_name, reference, q, sort,
                                                     offset=page.offset, limit=page.page_size)
    return paged_response(request, [Tag.of(row).model_dump() for row in rows], total, page)


@router.delete(f"{ARTIFACT_PATH}/tags/{{tag_name}}", operation_id="DeleteTag")
async def delete_tag(repository_name: str, reference: Reference, tag_name: Annotated[str, Path(max_length=256)],
                     services: ServicesDep, principal: PrincipalDep, actor: ActorDep,
                     project: ProjectByNameDep) -> Response:
    await services.artifacts.delete_tag(principal, actor, project, repository_name, reference, tag_name)
    return Response(status_code=200)


@router.get(f"{ARTIFACT_PATH}/accessories", operation_id="ListAccessories")
async def list_accessories(request: Request, repository_name: str, reference: Reference, services: ServicesDep,
                           principal: PrincipalDep, project: ProjectByNameDep, page: PageDep) -> JSONResponse:
    found = await services.artifacts.list_accessories(principal, project, repository_name, reference)
    accessories = [Accessory.of(accessory).model_dump() for accessory in found]
    return paged_response(request, accessories[page.offset:page.offset + page.page_size], len(accessories), page)


@router.get(f"{ARTIFACT_PATH}/additions/{{addition}}", operation_id="GetAddition")
async def get_addition(repository_name: str, reference: Reference, addition: Annotated[str, Path(max_length=64)],
                       services: ServicesDep, principal: PrincipalDep, project: ProjectByNameDep) -> JSONResponse:
    """`build_history` (the image config's history); any other addition is 404."""
    return JSONResponse(await services.artifacts.addition(principal, project, repository_name, reference, addition))
