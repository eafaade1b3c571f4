"""FastAPI dependencies shared by the /api/v2.0 routers: services, the caller, projects."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from portside.domain.errors import NotFound, Unauthorized
from portside.domain.models import Project
from portside.domain.rbac import ANONYMOUS, Principal
from portside.services.audit import Actor
from portside.services.bundle import Services
from portside.services.row_ids import MAX_ROW_ID
from portside.store import repositories as repository_store
from portside.web.api.paging import PageParams, page_params
from portside.web.credentials import BasicCredentials, MalformedCredentials, parse_authorization
from portside.web.ui import csrf
from portside.web.ui import sessions as portal_sessions


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_principal(request: Request, services: ServicesDep) -> Principal:
    """The caller: Basic credentials (password, CLI secret, robot secret), one of our bearer
    tokens, the portal session, or anonymous. Wrong credentials are a 401, never anonymous."""
    cached: Principal | None = request.scope.get("state", {}).get("principal")
    if cached is not None:
        return cached
    try:
        credentials = parse_authorization(request.headers.get("authorization"))
    except MalformedCredentials as error:
        raise Unauthorized(str(error)) from None
    found: Principal | None = ANONYMOUS
    if credentials is None and portal_sessions.COOKIE in request.cookies:
        # The portal's session; writes must echo its CSRF token (else 403 "CSRF token invalid").
        session_user = await portal_sessions.api_principal(
            services, request.cookies[portal_sessions.COOKIE], request.method, request.headers.get(csrf.HEADER))
        found = session_user or ANONYMOUS
    elif isinstance(credentials, BasicCredentials):
        found = await services.authenticator.authenticate_basic(credentials.username, credentials.secret)
        if found is None:
            raise Unauthorized("invalid username or password")
    elif credentials is not None:
        claims = services.tokens.verify(credentials.token)
        found = await services.authenticator.principal_for_subject(claims.subject) if claims else None
        if found is None:
            raise Unauthorized("invalid or expired token")
    assert found is not None
    principal = found
    request.scope.setdefault("state", {})["principal"] = principal
    request.scope["state"]["user"] = principal.name or "anonymous"
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_actor(request: Request, principal: PrincipalDep) -> Actor:
    client = request.client.host if request.client else ""
    return Actor(principal.name or "anonymous", principal.user_id, client, request.headers.get("user-agent", ""))


ActorDep = Annotated[Actor, Depends(get_actor)]
PageDep = Annotated[PageParams, Depends(page_params)]
# A `{user_id}`, `{robot_id}`, `{label_id}`...: beyond the 32-bit id columns is a 400, never the driver's 500.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The id of the resource")]


async def find_project(services: Services, name_or_id: str, is_resource_name: bool | None) -> Project | None:
    """Harbor's `{project_name_or_id}`: an id if it is all digits and the header does not say it's a name."""
    async with services.db.read() as conn:
        if is_resource_name is not True and name_or_id.isascii() and name_or_id.isdigit():
            project_id = int(name_or_id)
            # Ids are 32-bit columns: a bigger number names no project (and must not reach the driver).
            return await repository_store.find_project_by_id(conn, project_id) if project_id < 2**31 else None
        return await repository_store.find_project(conn, name_or_id)


async def visible_project(services: Services, principal: Principal, name_or_id: str,
                          is_resource_name: bool | None = None) -> Project:
    """The project if the caller may see it. A project the caller may not see is answered
    exactly like one that does not exist (401 for anonymous callers, else 404)."""
    project = await find_project(services, name_or_id, is_resource_name)
    if project is None or not await services.access.sees_project(principal, project.name):
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        raise NotFound(f"project {name_or_id[:100]} not found")
    return project


async def get_project(project_name_or_id: str, services: ServicesDep, principal: PrincipalDep,
                      x_is_resource_name: Annotated[bool | None, Header()] = None) -> Project:
    return await visible_project(services, principal, project_name_or_id, x_is_resource_name)


ProjectDep = Annotated[Project, Depends(get_project)]


async def get_project_by_name(project_name: str, services: ServicesDep, principal: PrincipalDep) -> Project:
    """For routes whose path parameter is `{project_name}` (always a name)."""
    return await visible_project(services, principal, project_name, True)


ProjectByNameDep = Annotated[Project, Depends(get_project_by_name)]


async def require(services: Services, principal: Principal, project: Project | None, resource: str,
                  action: str) -> None:
    """Ask the one permission policy; raises Unauthorized or Denied."""
    await services.access.require(principal, project.name if project else None, resource, action)
