"""Robot accounts: system and project robots, permissions, secrets, expiry.

A project robot (`robot$<project>+<name>`) holds exactly one permission entry, on its own
project; managing it needs the project's `robot` permission (projectAdmin). A system robot
(`robot$<name>`) may hold system, per-project and all-project (`*`) entries; managing it needs
the system `robot` permission (system administrators). Whoever grants permissions to a robot
(on create or update) must hold every granted (project, resource, action) themselves, except
system administrators; otherwise 403 "permission scope is invalid". Secrets are stored as
argon2id hashes and returned only by `create` and `refresh_secret`. Disabled or expired robots
cannot sign in (`services.identity.robot_usable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portside.core.clock import utcnow
from portside.domain.errors import BadRequest, Conflict, Denied, NotFound, Unauthorized
from portside.domain.identity import PROJECT_NAME_RE, ROBOT_PREFIX, validate_project_name, validate_secret
from portside.domain.models import Project, Robot
from portside.domain.query import parse_query
from portside.domain.rbac import ACTIONS, PROJECT_RESOURCES, Principal, PrincipalKind
from portside.services.audit import Actor
from portside.services.deps import ServiceDeps
from portside.services.passwords import generate_secret, hash_secret
from portside.services.row_ids import parse_row_id
from portside.services.users import SYSTEM_RESOURCES, parse_sort
from portside.store import members as member_store
from portside.store import repositories as project_store
from portside.store import robots as robot_store

LEVELS = ("system", "project")
DEFAULT_DURATION_DAYS = 30
MAX_DURATION_DAYS = 1_000_000
SECONDS_PER_DAY = 86_400
SECRET_LENGTH = 32
MAX_NAME_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 1024
WILDCARD = "*"
SYSTEM_NAMESPACE = "/"
EFFECTS = ("allow", "deny")
#: Harbor's sortable robot fields -> store columns.
ROBOT_SORT_FIELDS = {"id": "id", "name": "name", "creation_time": "created_at", "update_time": "updated_at",
                     "expires_at": "expires_at"}
SCOPE_INVALID = ("permission scope is invalid: a robot may only be granted permissions its creator holds; "
                 "not held: {}")


@dataclass(frozen=True, slots=True)
class AccessSpec:
    resource: str
    action: str
    effect: str = "allow"


@dataclass(frozen=True, slots=True)
class PermissionSpec:
    """One permission entry: `kind` project|system, `namespace` a project name, `*` or `/`."""

    kind: str
    namespace: str
    access: tuple[AccessSpec, ...]


@dataclass(frozen=True, slots=True)
class NewRobot:
    name: str
    level: str
    permissions: tuple[PermissionSpec, ...]
    description: str = ""
    secret: str | None = None
    disable: bool = False
    duration: int | None = None  # days; None: the default (30); -1: never expires


@dataclass(frozen=True, slots=True)
class RobotChanges:
    """Fields of an update; None leaves a field as it is. `name` and `level` cannot change."""

    name: str | None = None
    level: str | None = None
    description: str | None = None
    disable: bool | None = None
    duration: int | None = None
    permissions: tuple[PermissionSpec, ...] | None = None


@dataclass(frozen=True, slots=True)
class CreatedRobot:
    robot: Robot
    secret: str  # shown once


def _as_utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime (SQLite hands back naive UTC values)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _check_level(level: str) -> str:
    if level not in LEVELS:
        raise BadRequest(f"invalid robot level {level[:40]!r}: use 'system' or 'project'")
    return level


def _check_name(name: str) -> str:
    if not name or len(name) > MAX_NAME_LENGTH or not PROJECT_NAME_RE.match(name):
        raise BadRequest(f"invalid robot name {name[:80]!r}: lowercase letters and digits, separated by "
                         "single '.', '_' or '-'")
    return name


def _check_duration(duration: int | None) -> int:
    if duration is None:
        return DEFAULT_DURATION_DAYS
    if duration == -1 or 0 < duration <= MAX_DURATION_DAYS:
        return duration
    raise BadRequest(f"invalid duration {duration}: -1 (never expires) or a number of days from 1 to "
                     f"{MAX_DURATION_DAYS}")


def _check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise BadRequest(f"the description must be at most {MAX_DESCRIPTION_LENGTH} characters")
    return description


def _secret_or_generated(secret: str | None) -> str:
    """The caller's own secret if it meets the policy (else BadRequest), or a generated one."""
    return validate_secret(secret, "robot secret") if secret else generate_secret(SECRET_LENGTH)


def _expiry(created: datetime, duration: int) -> int:
    """Unix seconds when a robot created at `created` expires; -1 never."""
    return -1 if duration < 0 else int(_as_utc(created).timestamp()) + duration * SECONDS_PER_DAY


def _check_access(kind: str, entry: AccessSpec) -> AccessSpec:
    resources = PROJECT_RESOURCES if kind == "project" else SYSTEM_RESOURCES
    if entry.resource != WILDCARD and entry.resource not in resources:
        raise BadRequest(f"unknown {kind} resource {entry.resource[:60]!r}; known: {', '.join(sorted(resources))}")
    if entry.action != WILDCARD and entry.action not in ACTIONS:
        raise BadRequest(f"unknown action {entry.action[:60]!r}; known: {', '.join(ACTIONS)}")
    effect = (entry.effect or "allow").lower()
    if effect not in EFFECTS:
        raise BadRequest(f"unknown effect {entry.effect[:20]!r}: use 'allow' or 'deny'")
    return AccessSpec(entry.resource, entry.action, effect)


def _check_permission(entry: PermissionSpec) -> PermissionSpec:
    if entry.kind == "system":
        if entry.namespace != SYSTEM_NAMESPACE:
            raise BadRequest("a system permission's namespace must be '/'")
    elif entry.kind == "project":
        if entry.namespace != WILDCARD:
            validate_project_name(entry.namespace)
    else:
        raise BadRequest(f"invalid permission kind {entry.kind[:40]!r}: use 'project' or 'system'")
    if not entry.access:
        raise BadRequest(f"the permission on {entry.namespace[:80]!r} grants no access")
    return PermissionSpec(entry.kind, entry.namespace, tuple(_check_access(entry.kind, a) for a in entry.access))


def check_permissions(level: str, permissions: tuple[PermissionSpec, ...]) -> tuple[PermissionSpec, ...]:
    """Validated, normalised permissions (effect defaults to allow); BadRequest naming the problem."""
    if not permissions:
        raise BadRequest("a robot needs at least one permission")
    checked = tuple(_check_permission(entry) for entry in permissions)
    if level == "project" and (len(checked) != 1 or checked[0].kind != "project"
                               or checked[0].namespace == WILDCARD):
        raise BadRequest("a project robot needs exactly one permission, of kind 'project', whose namespace "
                         "is its project's name")
    return checked


def permissions_json(permissions: tuple[PermissionSpec, ...]) -> list[dict[str, Any]]:
    """The stored (and served) form: Harbor's RobotPermission objects."""
    return [{"kind": p.kind, "namespace": p.namespace,
             "access": [{"resource": a.resource, "action": a.action, "effect": a.effect} for a in p.access]}
            for p in permissions]


def _short_names(robot: Robot) -> set[str]:
    """Names an update may carry for `robot`: full, without prefix, or without project."""
    bare = robot.name.removeprefix(ROBOT_PREFIX)
    return {robot.name, bare, bare.split("+", 1)[-1]}


class RobotService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    # --- projects and permission checks ---------------------------------------------------------

    async def _require_in_project(self, principal: Principal, project: Project | None, action: str,
                                  hidden: str) -> Project:
        """`project` if the caller may do `action` on its robots. A project the caller cannot see
        is answered like a missing one (404 `hidden`); a visible one without the permission is 403."""
        if project is not None and await self._deps.access.allowed(principal, project.name, "robot", action):
            return project
        if project is None or not await self._deps.access.allowed(principal, project.name, "project", "read"):
            raise NotFound(hidden)
        raise Denied("requested access to the resource is denied")

    async def _project_named(self, name: str) -> Project | None:
        async with self._deps.db.read() as conn:
            return await project_store.find_project(conn, name)

    async def _project_by_id(self, project_id: int) -> Project | None:
        async with self._deps.db.read() as conn:
            return await project_store.find_project_by_id(conn, project_id)

    async def _check_projects_exist(self, permissions: tuple[PermissionSpec, ...]) -> None:
        for entry in permissions:
            if entry.kind == "project" and entry.namespace != WILDCARD and \
                    await self._project_named(entry.namespace) is None:
                raise NotFound(f"project {entry.namespace} not found")

    async def _holds(self, principal: Principal, entry: PermissionSpec, access: AccessSpec) -> bool:
        if entry.kind == "system":
            return await self._deps.access.allowed(principal, None, access.resource, access.action)
        if entry.namespace == WILDCARD:
            return False  # all projects: only system administrators grant that
        return await self._deps.access.allowed(principal, entry.namespace, access.resource, access.action)

    async def _check_scope(self, principal: Principal, permissions: tuple[PermissionSpec, ...]) -> None:
        """Denied unless the grantor holds every allowed (namespace, resource, action) it grants."""
        if principal.sysadmin:
            return
        missing = [f"{entry.namespace}:{access.resource}:{access.action}"
                   for entry in permissions for access in entry.access
                   if access.effect == "allow" and not await self._holds(principal, entry, access)]
        if missing:
            raise Denied(SCOPE_INVALID.format(", ".join(missing[:10])))

    async def _authorized(self, principal: Principal, robot_id: int, action: str, *,
                          allow_self: bool = False) -> Robot:
        """The robot, if the caller may do `action` on it (404 when its project is hidden)."""
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        async with self._deps.db.read() as conn:
            robot = await robot_store.find_by_id(conn, robot_id)
        if robot is None:
            raise NotFound(f"robot {robot_id} not found")
        if allow_self and principal.kind is PrincipalKind.ROBOT and principal.robot_id == robot.id:
            return robot
        if robot.level == "project" and robot.project_id is not None:
            await self._require_in_project(principal, await self._project_by_id(robot.project_id), action,
                                           f"robot {robot_id} not found")
        else:
            await self._deps.access.require(principal, None, "robot", action)
        return robot

    # --- queries ------------------------------------------------------------------------------

    async def get(self, principal: Principal, robot_id: int) -> Robot:
        """A robot, for holders of `robot:read` in its project (system robots: system `robot:read`)."""
        return await self._authorized(principal, robot_id, "read", allow_self=True)

    async def list_robots(self, principal: Principal, q: str | None, sort: str | None, offset: int,
                          limit: int) -> tuple[list[Robot], int]:
        """Robots filtered by `q` (Level, ProjectID, name exact or `=~`).

        Holders of the system `robot:list` see every robot; others see the project robots of
        the projects where they hold `robot:list` (a ProjectID they cannot see is a 404).
        """
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        filters = _robot_filters(q)
        order = parse_sort(sort, ROBOT_SORT_FIELDS)
        project_id = filters.pop("project_id", None)
        project_ids: list[int] | None = [int(project_id)] if project_id is not None else None
        if not await self._deps.access.allowed(principal, None, "robot", "list"):
            if filters.get("level") == "system":
                raise Denied("listing system robots is reserved to system administrators")
            if project_id is not None:
                await self._require_in_project(principal, await self._project_by_id(int(project_id)), "list",
                                               f"project {project_id} not found")
            else:
                project_ids = await self._listable_project_ids(principal)
        async with self._deps.db.read() as conn:
            return await robot_store.list_matching(conn, level=filters.get("level"), project_ids=project_ids,
                                                   name=filters.get("name"), name_like=filters.get("name_like"),
                                                   order=order, offset=offset, limit=limit)

    async def _listable_project_ids(self, principal: Principal) -> list[int]:
        """The projects (member of, or named in a robot's grants) where the caller holds `robot:list`."""
        async with self._deps.db.read() as conn:
            candidates: list[Project] = []
            if principal.user_id is not None:
                for project_id in await member_store.project_ids_of_user(conn, principal.user_id):
                    project = await project_store.find_project_by_id(conn, project_id)
                    candidates += [project] if project else []
            for grant in principal.robot_grants:
                if grant.kind == "project" and grant.namespace != WILDCARD:
                    project = await project_store.find_project(conn, grant.namespace)
                    candidates += [project] if project else []
        return sorted({project.id for project in candidates
                       if await self._deps.access.allowed(principal, project.name, "robot", "list")})

    # --- changes ------------------------------------------------------------------------------

    async def create(self, principal: Principal, actor: Actor, new: NewRobot) -> CreatedRobot:
        """Create a robot; the returned secret is never shown again. 400 invalid, 403, 404 project, 409."""
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        level, name = _check_level(new.level), _check_name(new.name)
        duration, description = _check_duration(new.duration), _check_description(new.description)
        permissions = check_permissions(level, new.permissions)
        secret = _secret_or_generated(new.secret)
        project_id = None
        if level == "project":
            namespace = permissions[0].namespace
            project = await self._require_in_project(principal, await self._project_named(namespace), "create",
                                                     f"project {namespace} not found")
            full_name, project_id = f"{ROBOT_PREFIX}{project.name}+{name}", project.id
        else:
            await self._deps.access.require(principal, None, "robot", "create")
            await self._check_projects_exist(permissions)
            full_name = f"{ROBOT_PREFIX}{name}"
        if len(full_name) > MAX_NAME_LENGTH:
            raise BadRequest(f"the robot's full name {full_name[:80]}… exceeds {MAX_NAME_LENGTH} characters")
        await self._check_scope(principal, permissions)
        creator_type, creator_ref = (("robot", principal.robot_id) if principal.kind is PrincipalKind.ROBOT
                                     else ("local", principal.user_id))
        secret_hash = hash_secret(secret)
        async with self._deps.db.write() as conn:
            robot_id = await robot_store.insert_unless_taken(
                conn, name=full_name, description=description, level=level, project_id=project_id,
                secret_hash=secret_hash, disabled=new.disable, duration=duration,
                expires_at=_expiry(utcnow(), duration), permissions=permissions_json(permissions),
                creator_type=creator_type, creator_ref=creator_ref)
            if robot_id is None:
                raise Conflict(f"robot {full_name} already exists")
            robot = await robot_store.find_by_id(conn, robot_id)
        assert robot is not None
        self._deps.authenticator.forget_all()
        self._deps.audit.record(actor, "create", "robot", full_name, project_id=project_id)
        return CreatedRobot(robot, secret)

    async def update(self, principal: Principal, actor: Actor, robot_id: int, changes: RobotChanges) -> None:
        """Change description, disable, duration (expiry counts from creation) or permissions."""
        robot = await self._authorized(principal, robot_id, "update")
        if (changes.level is not None and changes.level != robot.level) or \
                (changes.name is not None and changes.name not in _short_names(robot)):
            raise BadRequest("the name and level of a robot cannot be changed")
        values: dict[str, Any] = {}
        if changes.description is not None:
            values["description"] = _check_description(changes.description)
        if changes.disable is not None:
            values["disabled"] = changes.disable
        if changes.duration is not None:
            values["duration"] = _check_duration(changes.duration)
            values["expires_at"] = _expiry(robot.created_at, values["duration"])
        if changes.permissions is not None:
            values["permissions"] = permissions_json(await self._checked_update(principal, robot, changes.permissions))
        async with self._deps.db.write() as conn:
            if await robot_store.find_by_id(conn, robot_id) is None:
                raise NotFound(f"robot {robot_id} not found")
            if values:
                await robot_store.update_fields(conn, robot_id, **values)
        self._deps.authenticator.forget_all()
        self._deps.audit.record(actor, "update", "robot", robot.name, project_id=robot.project_id)

    async def _checked_update(self, principal: Principal, robot: Robot,
                              requested: tuple[PermissionSpec, ...]) -> tuple[PermissionSpec, ...]:
        permissions = check_permissions(robot.level, requested)
        if robot.level == "project":
            project = await self._project_by_id(robot.project_id) if robot.project_id is not None else None
            if project is None or permissions[0].namespace != project.name:
                raise BadRequest("a project robot's permission must stay on its own project")
        else:
            await self._check_projects_exist(permissions)
        await self._check_scope(principal, permissions)
        return permissions

    async def delete(self, principal: Principal, actor: Actor, robot_id: int) -> None:
        robot = await self._authorized(principal, robot_id, "delete")
        async with self._deps.db.write() as conn:
            await robot_store.remove(conn, robot_id)
        self._deps.authenticator.forget_all()
        self._deps.audit.record(actor, "delete", "robot", robot.name, project_id=robot.project_id)

    async def refresh_secret(self, principal: Principal, actor: Actor, robot_id: int, secret: str | None) -> str:
        """Replace the secret: the caller's own (policy-checked) or a generated one, returned once.

        Needs `robot:update`, or being that robot (so a CI job can rotate its own secret).
        """
        robot = await self._authorized(principal, robot_id, "update", allow_self=True)
        new_secret = _secret_or_generated(secret)
        secret_hash = hash_secret(new_secret)
        async with self._deps.db.write() as conn:
            if await robot_store.find_by_id(conn, robot_id) is None:
                raise NotFound(f"robot {robot_id} not found")
            await robot_store.update_fields(conn, robot_id, secret_hash=secret_hash)
        self._deps.authenticator.forget_all()
        self._deps.audit.record(actor, "update", "robot", robot.name, project_id=robot.project_id,
                                description="secret refreshed")
        return new_secret


def _robot_filters(q: str | None) -> dict[str, str]:
    """Harbor's robot `q` keys (Level, ProjectID, name; keys case-insensitive) as store filters."""
    filters: dict[str, str] = {}
    for key, term in parse_query(q).items():
        normal = key.lower().replace("_", "")
        if normal == "level" and term.kind == "exact":
            filters["level"] = _check_level(term.value)
        elif normal == "projectid" and term.kind == "exact":
            if parse_row_id(term.value) is None:
                raise BadRequest(f"ProjectID must be a project id, not {term.value[:40]!r}")
            filters["project_id"] = term.value
        elif normal == "name" and term.kind in ("exact", "fuzzy"):
            filters["name" if term.kind == "exact" else "name_like"] = term.value
        else:
            raise BadRequest(f"unsupported query {key[:40]}: use Level=, ProjectID=, name= or name=~")
    return filters
