"""Harbor API routes: users (`/users`, `/users/current`, `/users/search`, `/users/{user_id}/...`).

Portside extras, on purpose: `POST /users/current` answers like `GET` (the user guide's
call), and `PUT /users/{user_id}/cli_secret` works for local users; with no body or an empty
`secret` it generates a CLI secret and returns `{"secret": "..."}`, the only time it is shown.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from portside.services.users import NewUser, ProfileChanges
from portside.web.api.deps import ActorDep, PageDep, PrincipalDep, RowId, ServicesDep
from portside.web.api.paging import paged_response
from portside.web.api.schemas.users import (
    CliSecret,
    OIDCCliSecretReq,
    PasswordReq,
    Permission,
    UserCreationReq,
    UserProfile,
    UserResp,
    UserSearchRespItem,
    UserSysAdminFlag,
)

router = APIRouter(tags=["users"])


@router.get("/users/current", operation_id="getCurrentUserInfo")
async def get_current_user(services: ServicesDep, principal: PrincipalDep) -> UserResp:
    return UserResp.of(await services.users.current(principal))


@router.post("/users/current", operation_id="postCurrentUserInfo")
async def post_current_user(services: ServicesDep, principal: PrincipalDep) -> UserResp:
    """The guide's `curl -X POST .../users/current -u user:password`: the same as GET."""
    return UserResp.of(await services.users.current(principal))


@router.get("/users/current/permissions", operation_id="getCurrentUserPermissions")
async def get_current_user_permissions(services: ServicesDep, principal: PrincipalDep,
                                       scope: str | None = None, relative: bool = False) -> list[Permission]:
    pairs = await services.users.permissions(principal, scope, relative)
    return [Permission(resource=resource, action=action) for resource, action in pairs]


@router.get("/users/search", operation_id="searchUsers")
async def search_users(request: Request, services: ServicesDep, principal: PrincipalDep, page: PageDep,
                       username: Annotated[str, Query(max_length=255)]) -> JSONResponse:
    found, total = await services.users.search(principal, username, page.offset, page.page_size)
    items = [UserSearchRespItem(user_id=user.id, username=user.username).model_dump(mode="json") for user in found]
    return paged_response(request, items, total, page)


@router.get("/users", operation_id="listUsers")
async def list_users(request: Request, services: ServicesDep, principal: PrincipalDep, page: PageDep,
                     q: str | None = None, sort: str | None = None) -> JSONResponse:
    found, total = await services.users.list_users(principal, q, sort, page.offset, page.page_size)
    return paged_response(request, [UserResp.of(user).model_dump(mode="json") for user in found], total, page)


@router.post("/users", status_code=201, operation_id="createUser")
async def create_user(body: UserCreationReq, services: ServicesDep, principal: PrincipalDep,
                      actor: ActorDep) -> Response:
    user_id = await services.users.create(principal, actor, NewUser(
        username=body.username, password=body.password, email=body.email, realname=body.realname,
        comment=body.comment))
    return Response(status_code=201, headers={"Location": f"/api/v2.0/users/{user_id}"})


@router.get("/users/{user_id}", operation_id="getUser")
async def get_user(user_id: RowId, services: ServicesDep, principal: PrincipalDep) -> UserResp:
    return UserResp.of(await services.users.get(principal, user_id))


@router.put("/users/{user_id}", operation_id="updateUserProfile")
async def update_user_profile(user_id: RowId, body: UserProfile, services: ServicesDep, principal: PrincipalDep,
                              actor: ActorDep) -> Response:
    await services.users.update_profile(principal, actor, user_id, ProfileChanges(
        email=body.email, realname=body.realname, comment=body.comment))
    return Response(status_code=200)


@router.delete("/users/{user_id}", operation_id="deleteUser")
async def delete_user(user_id: RowId, services: ServicesDep, principal: PrincipalDep, actor: ActorDep) -> Response:
    await services.users.delete(principal, actor, user_id)
    return Response(status_code=200)


@router.put("/users/{user_id}/sysadmin", operation_id="setUserSysAdmin")
async def set_user_sysadmin(user_id: RowId, body: UserSysAdminFlag, services: ServicesDep, principal: PrincipalDep,
                            actor: ActorDep) -> Response:
    await services.users.set_sysadmin(principal, actor, user_id, body.sysadmin_flag)
    return Response(status_code=200)


@router.put("/users/{user_id}/password", operation_id="updateUserPassword")
async def update_user_password(user_id: RowId, body: PasswordReq, services: ServicesDep, principal: PrincipalDep,
                               actor: ActorDep) -> Response:
    await services.users.change_password(principal, actor, user_id, body.old_password, body.new_password)
    return Response(status_code=200)


@router.put("/users/{user_id}/cli_secret", operation_id="setCliSecret",
            responses={200: {"model": CliSecret, "description": "the generated secret, when none was given"}})
async def set_cli_secret(user_id: RowId, services: ServicesDep, principal: PrincipalDep, actor: ActorDep,
                         body: Annotated[OIDCCliSecretReq | None, Body()] = None) -> Response:
    """Set the CLI secret (a docker/API password) of a local user: themself or an administrator.

    `{"secret": "<own>"}` (password policy) answers 200 with no body. No body or `{"secret": ""}`
    generates one and answers `{"secret": "<generated>"}`: the only time it is shown, since only
    its hash is stored. The previous CLI secret stops working.
    """
    generated = await services.users.set_cli_secret(principal, actor, user_id, body.secret if body else None)
    if generated is None:
        return Response(status_code=200)
    return JSONResponse(CliSecret(secret=generated).model_dump(mode="json"))
