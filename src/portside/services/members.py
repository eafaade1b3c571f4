"""Project members and their roles.

Permissions come from the policy (member:create/read/update/delete/list). On top of it,
the guide's rule (shared/reference/permissions.md): only a projectAdmin (or a sysadmin)
may grant the projectAdmin role or change or remove a projectAdmin; a maintainer manages
every role below. A projectAdmin who is not a sysadmin cannot remove or demote the last
projectAdmin of a project (a sysadmin can, as in Harbor, which enforces nothing).
Credentials caches are dropped after every change, so new roles apply at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.domain.errors import BadRequest, Conflict, Denied, NotFound, PreconditionFailed
from portside.domain.models import Member, Project, User
from portside.domain.rbac import Principal, Role
from portside.services.audit import Actor
from portside.services.deps import ServiceDeps
from portside.store import members as member_store
from portside.store import users as user_store

MAX_ID = 2**31 - 1
ROLE_RULE = "role_id must be 1 (projectAdmin), 2 (developer), 3 (guest), 4 (maintainer) or 5 (limitedGuest)"


@dataclass(frozen=True, slots=True)
class MemberRequest:
    """A ProjectMember body: the role and the user (by id or name); `group` marks a member_group."""

    role_id: int | None
    user_id: int | None = None
    username: str | None = None
    group: bool = False


def role_from_id(role_id: int | None) -> Role:
    """The role with Harbor's id; raises BadRequest naming the valid ids."""
    if role_id is None or role_id not in {int(role) for role in Role}:
        raise BadRequest(f"{ROLE_RULE}, not {role_id}")
    return Role(role_id)


class MemberService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    async def list_members(self, principal: Principal, project: Project, *, entity_name: str | None,
                           offset: int, limit: int) -> tuple[list[Member], int]:
        """A page of members (user name containing `entity_name`, if given), by id, and the total."""
        await self._deps.access.require(principal, project.name, "member", "list")
        async with self._deps.db.read() as conn:
            return await member_store.list_members(conn, project.id, name_like=entity_name or None,
                                                   offset=offset, limit=limit)

    async def get(self, principal: Principal, project: Project, member_id: int) -> Member:
        await self._deps.access.require(principal, project.name, "member", "read")
        return await self._find(project, member_id)

    async def add(self, principal: Principal, actor: Actor, project: Project, request: MemberRequest) -> Member:
        """Make a user a member; raises BadRequest (role, groups), Denied, NotFound (user), Conflict."""
        await self._deps.access.require(principal, project.name, "member", "create")
        if request.group:
            raise BadRequest("groups are not supported: add members with member_user")
        role = role_from_id(request.role_id)
        if request.user_id is None and not request.username:
            raise BadRequest("member_user must give user_id or username")
        await self._require_may_assign(principal, project, role)
        try:
            async with self._deps.db.write() as conn:
                user = await self._user(conn, request)
                if await member_store.role_of(conn, project.id, user.id) is not None:
                    raise Conflict(f"the user {user.username} is already a member of the project {project.name}")
                member_id = await member_store.add(conn, project.id, user.id, int(role))
        except IntegrityError:
            raise Conflict(f"the user is already a member of the project {project.name}") from None
        self._changed(actor, "create", project, user.username)
        return Member(member_id, project.id, user.id, user.username, int(role))

    async def update_role(self, principal: Principal, actor: Actor, project: Project, member_id: int,
                          role_id: int | None) -> None:
        """Give a member another role (needs member:update, and the projectAdmin rule)."""
        await self._deps.access.require(principal, project.name, "member", "update")
        role = role_from_id(role_id)
        member = await self._find(project, member_id)
        await self._require_may_assign(principal, project, role)
        await self._require_may_assign(principal, project, Role(member.role))
        async with self._deps.db.write() as conn:
            if member.role == Role.PROJECT_ADMIN and role != Role.PROJECT_ADMIN:
                await self._require_another_admin(principal, conn, project)
            await member_store.set_role(conn, member.id, int(role))
        self._changed(actor, "update", project, member.username)

    async def remove(self, principal: Principal, actor: Actor, project: Project, member_id: int) -> None:
        """Remove a member (needs member:delete, and the projectAdmin rule)."""
        await self._deps.access.require(principal, project.name, "member", "delete")
        member = await self._find(project, member_id)
        await self._require_may_assign(principal, project, Role(member.role))
        async with self._deps.db.write() as conn:
            if member.role == Role.PROJECT_ADMIN:
                await self._require_another_admin(principal, conn, project)
            await member_store.remove(conn, member.id)
        self._changed(actor, "delete", project, member.username)

    async def _find(self, project: Project, member_id: int) -> Member:
        member = None
        if 0 < member_id <= MAX_ID:
            async with self._deps.db.read() as conn:
                member = await member_store.find(conn, project.id, member_id)
        if member is None:
            raise NotFound(f"member {member_id} not found in project {project.name}")
        return member

    @staticmethod
    async def _user(conn: AsyncConnection, request: MemberRequest) -> User:
        """The user the request names; raises NotFound."""
        user = None
        if request.user_id is not None:
            if 0 < request.user_id <= MAX_ID:
                user = await user_store.find_by_id(conn, request.user_id)
            described = f"id {request.user_id}"
        else:
            assert request.username is not None
            user = await user_store.find_by_name(conn, request.username)
            described = request.username[:255]
        if user is None:
            raise NotFound(f"user {described} not found")
        return user

    async def _require_may_assign(self, principal: Principal, project: Project, role: Role) -> None:
        """The guide's rule: the projectAdmin role is granted, changed or removed only by a
        projectAdmin or a sysadmin."""
        if role != Role.PROJECT_ADMIN or principal.sysadmin:
            return
        facts = await self._deps.access.project_access(principal, project.name)
        if facts is None or facts.role != Role.PROJECT_ADMIN:
            raise Denied("only a projectAdmin can grant, change or remove the projectAdmin role")

    @staticmethod
    async def _require_another_admin(principal: Principal, conn: AsyncConnection, project: Project) -> None:
        """Unless the caller is a sysadmin, the project must keep at least one projectAdmin."""
        if principal.sysadmin:
            return
        counts = await member_store.count_by_role(conn, project.id)
        if counts.get(int(Role.PROJECT_ADMIN), 0) <= 1:
            raise PreconditionFailed(f"the project {project.name} must keep at least one projectAdmin")

    def _changed(self, actor: Actor, operation: str, project: Project, username: str) -> None:
        # No authenticator.forget_all(): cached principals hold no roles, each request reads the role.
        self._deps.audit.record(actor, operation, "member", f"{project.name}/{username}", project_id=project.id)
