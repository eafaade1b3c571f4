"""Harbor API routes: robot accounts (`/robots`, `/robots/{robot_id}`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from portside.services.robots import NewRobot, RobotChanges
from portside.web.api.deps import ActorDep, PageDep, PrincipalDep, RowId, ServicesDep
from portside.web.api.paging import paged_response
from portside.web.api.schemas.robots import Robot, RobotCreate, RobotCreated, RobotSec, permission_specs
from portside.web.api.schemas.users import as_utc

router = APIRouter(tags=["robots"])


@router.get("/robots", operation_id="ListRobot")
async def list_robots(request: Request, services: ServicesDep, principal: PrincipalDep, page: PageDep,
                      q: str | None = None, sort: str | None = None) -> JSONResponse:
    found, total = await services.robots.list_robots(principal, q, sort, page.offset, page.page_size)
    return paged_response(request, [Robot.of(robot).model_dump(mode="json") for robot in found], total, page)


@router.post("/robots", status_code=201, operation_id="CreateRobot")
async def create_robot(body: RobotCreate, services: ServicesDep, principal: PrincipalDep,
                       actor: ActorDep) -> JSONResponse:
    """201 with the secret, shown this once, and `Location: /api/v2.0/robots/<id>`."""
    created = await services.robots.create(principal, actor, NewRobot(
        name=body.name, level=body.level, permissions=permission_specs(body.permissions),
        description=body.description, secret=body.secret, disable=body.disable, duration=body.duration))
    robot = created.robot
    payload = RobotCreated(id=robot.id, name=robot.name, secret=created.secret,
                           creation_time=as_utc(robot.created_at), expires_at=robot.expires_at)
    return JSONResponse(payload.model_dump(mode="json"), status_code=201,
                        headers={"Location": f"/api/v2.0/robots/{robot.id}"})


@router.get("/robots/{robot_id}", operation_id="GetRobotByID")
async def get_robot(robot_id: RowId, services: ServicesDep, principal: PrincipalDep) -> Robot:
    return Robot.of(await services.robots.get(principal, robot_id))


@router.put("/robots/{robot_id}", operation_id="UpdateRobot")
async def update_robot(robot_id: RowId, body: Robot, services: ServicesDep, principal: PrincipalDep,
                       actor: ActorDep) -> Response:
    """Changes description, disable, duration and permissions; name and level must stay as they are."""
    permissions = permission_specs(body.permissions) if body.permissions is not None else None
    await services.robots.update(principal, actor, robot_id, RobotChanges(
        name=body.name, level=body.level, description=body.description, disable=body.disable,
        duration=body.duration, permissions=permissions))
    return Response(status_code=200)


@router.patch("/robots/{robot_id}", operation_id="RefreshSec")
async def refresh_robot_secret(robot_id: RowId, body: RobotSec, services: ServicesDep, principal: PrincipalDep,
                               actor: ActorDep) -> RobotSec:
    """`{"secret": ""}` generates a new secret; a policy-valid `secret` of the caller's own is set as is."""
    return RobotSec(secret=await services.robots.refresh_secret(principal, actor, robot_id, body.secret))


@router.delete("/robots/{robot_id}", operation_id="DeleteRobot")
async def delete_robot(robot_id: RowId, services: ServicesDep, principal: PrincipalDep, actor: ActorDep) -> Response:
    await services.robots.delete(principal, actor, robot_id)
    return Response(status_code=200)
