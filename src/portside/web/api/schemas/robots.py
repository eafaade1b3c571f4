"""Harbor's robot account models (swagger definitions of the same names, same JSON field names)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from portside.domain.models import Robot as RobotRecord
from portside.services.robots import AccessSpec, PermissionSpec
from portside.web.api.schemas.users import as_utc


class Access(BaseModel):
    resource: str
    action: str
    effect: str | None = None


class RobotPermission(BaseModel):
    kind: str
    namespace: str
    access: list[Access] = []


def permission_specs(permissions: list[RobotPermission]) -> tuple[PermissionSpec, ...]:
    """The service's form of request permissions."""
    return tuple(PermissionSpec(p.kind, p.namespace,
                                tuple(AccessSpec(a.resource, a.action, a.effect or "allow") for a in p.access))
                 for p in permissions)


class RobotCreate(BaseModel):
    name: str
    level: str
    description: str = ""
    secret: str | None = None
    disable: bool = False
    duration: int | None = None  # days; default 30; -1 never expires
    permissions: list[RobotPermission] = []


class RobotCreated(BaseModel):
    id: int
    name: str
    secret: str
    creation_time: datetime
    expires_at: int


class RobotSec(BaseModel):
    secret: str | None = None


class Robot(BaseModel):
    """A robot as served (never with its secret), and the body of an update (every field optional)."""

    id: int | None = None
    name: str | None = None
    description: str | None = None
    level: str | None = None
    duration: int | None = None
    editable: bool | None = None
    disable: bool | None = None
    expires_at: int | None = None
    permissions: list[RobotPermission] | None = None
    creator_type: str | None = None
    creator_ref: int | None = None
    creation_time: datetime | None = None
    update_time: datetime | None = None

    @classmethod
    def of(cls, robot: RobotRecord) -> Robot:
        return cls(id=robot.id, name=robot.name, description=robot.description, level=robot.level,
                   duration=robot.duration, editable=True, disable=robot.disabled, expires_at=robot.expires_at,
                   permissions=[RobotPermission.model_validate(p) for p in robot.permissions],
                   creator_type=robot.creator_type, creator_ref=robot.creator_ref,
                   creation_time=as_utc(robot.created_at), update_time=as_utc(robot.updated_at))
