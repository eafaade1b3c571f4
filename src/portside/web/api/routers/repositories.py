"""Harbor API routes: repositories (ListAllRepositories, ListRepositories, GetRepository,
UpdateRepository, DeleteRepository).

`{repository_name}` excludes the project and arrives double URL-encoded when it
holds a slash (`team%252Fapp`); the server decodes once and the `repository`
path convertor decodes the rest, so single-encoded and plain names work too. A
plain name cannot contain an `artifacts` component: that one starts the
artifact routes.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, unquote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.convertors import Convertor, register_url_convertor

from portside.web.api.deps import ActorDep, PageDep, PrincipalDep, ProjectByNameDep, ServicesDep
from portside.web.api.paging import paged_response
from portside.web.api.schemas.repositories import Repository, RepositoryUpdate


class RepositoryNameConvertor(Convertor[str]):
    """A repository name inside a project: one or more path segments, none of them `artifacts`."""

    regex = r"[^/]+(?:/(?!artifacts(?:/|$))[^/]+)*"

    def convert(self, value: str) -> str:
        return unquote(value)

    def to_string(self, value: str) -> str:
        return quote(quote(value, safe=""), safe="")


register_url_convertor("repository", RepositoryNameConvertor())

#: The path of one repository; artifact routes extend it.
REPOSITORY_PATH = "/projects/{project_name}/repositories/{repository_name:repository}"
QueryParam = Annotated[str | None, Query(max_length=1024)]

router = APIRouter(tags=["repository"])


@router.get("/repositories", operation_id="ListAllRepositories")
async def list_all_repositories(request: Request, services: ServicesDep, principal: PrincipalDep, page: PageDep,
                                q: QueryParam = None, sort: QueryParam = None) -> JSONResponse:
    rows, total = await services.repositories.list_all(principal, q, sort, offset=page.offset, limit=page.page_size)
    return paged_response(request, [Repository.of(row).model_dump() for row in rows], total, page)


@router.get("/projects/{project_name}/repositories", operation_id="ListRepositories")
async def list_repositories(request: Request, services: ServicesDep, principal: PrincipalDep,
                            project: ProjectByNameDep, page: PageDep, q: QueryParam = None,
                            sort: QueryParam = None) -> JSONResponse:
    rows, total = await services.repositories.list_in_project(principal, project, q, sort, offset=page.offset,
                                                              limit=page.page_size)
    return paged_response(request, [Repository.of(row).model_dump() for row in rows], total, page)


@router.get(REPOSITORY_PATH, operation_id="GetRepository", response_model=Repository)
async def get_repository(repository_name: str, services: ServicesDep, principal: PrincipalDep,
                         project: ProjectByNameDep) -> Repository:
    return Repository.of(await services.repositories.get(principal, project, repository_name))


@router.put(REPOSITORY_PATH, operation_id="UpdateRepository")
async def update_repository(repository_name: str, body: RepositoryUpdate, services: ServicesDep,
                            principal: PrincipalDep, actor: ActorDep, project: ProjectByNameDep) -> Response:
    await services.repositories.update(principal, actor, project, repository_name, body.description or "")
    return Response(status_code=200)


@router.delete(REPOSITORY_PATH, operation_id="DeleteRepository")
async def delete_repository(repository_name: str, services: ServicesDep, principal: PrincipalDep,
                            actor: ActorDep, project: ProjectByNameDep) -> Response:
    await services.repositories.delete(principal, actor, project, repository_name)
    return Response(status_code=200)
