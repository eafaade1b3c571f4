"""The permission policy every route asks: /v2, the token service, /api/v2.0 and the UI.

It looks up the facts a decision needs (is the project public, the principal's
role in it) and applies the pure table in `domain.rbac`. Denials raise
Unauthorized for anonymous callers (so clients know to log in) and Denied for
signed-in ones; an unknown project is treated exactly like a private project the
caller may not see, so names of other people's projects do not leak.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from portside.domain.errors import Denied, Unauthorized
from portside.domain.rbac import Principal, ProjectAccess, Role, granted_registry_actions, is_allowed
from portside.store import members as member_store
from portside.store import repositories as repository_store
from portside.store.database import Database


class AccessControl:
    def __init__(self, db: Database, *, auto_create_projects: bool) -> None:
        self._db = db
        self._auto_create_projects = auto_create_projects

    async def project_access(self, principal: Principal, project_name: str,
                             conn: AsyncConnection | None = None) -> ProjectAccess | None:
        """Publicity and the principal's role in `project_name`; None if the project does not exist."""
        if conn is None:
            async with self._db.read() as own:
                return await self.project_access(principal, project_name, own)
        project = await repository_store.find_project(conn, project_name)
        if project is None:
            return None
        role = None
        if principal.user_id is not None:
            role_id = await member_store.role_of(conn, project.id, principal.user_id)
            role = Role(role_id) if role_id else None
        return ProjectAccess(project.name, project.public, role)

    async def allowed(self, principal: Principal, project_name: str | None, resource: str, action: str) -> bool:
        """Whether the principal may do it; project None means a system-level resource."""
        if project_name is None:
            return is_allowed(principal, None, resource, action)
        project = await self.project_access(principal, project_name)
        return project is not None and is_allowed(principal, project, resource, action)

    async def sees_project(self, principal: Principal, project_name: str) -> bool:
        """Whether the project exists for the caller: it may read the project, or it is a robot
        holding any permission in it. Harbor resolves a robot's project and then checks only the
        route's own permission (a robot with repository:list lists repositories without project:read),
        so every route behind this check still requires its own permission."""
        if await self.allowed(principal, project_name, "project", "read"):
            return True
        grants_project = any(grant.kind == "project" and grant.namespace in ("*", project_name)
                             for grant in principal.robot_grants)
        return grants_project and await self.project_access(principal, project_name) is not None

    async def require(self, principal: Principal, project_name: str | None, resource: str, action: str) -> None:
        """Raise Unauthorized (anonymous) or Denied unless allowed."""
        if not await self.allowed(principal, project_name, resource, action):
            raise _denial(principal)

    async def registry_actions(self, principal: Principal, repository: str, requested: list[str]) -> list[str]:
        """The /v2 actions ('pull', 'push', 'delete') the principal holds on `repository`.

        A push to a project that does not exist yet is granted only when projects are
        created on first push and the principal may create projects.
        """
        project_name = repository.split("/", 1)[0]
        project = await self.project_access(principal, project_name)
        if project is None:
            # Administrators are told the project is missing (NAME_UNKNOWN) rather than denied.
            if principal.sysadmin or (self._auto_create_projects and is_allowed(principal, None, "project", "create")):
                wanted = {"pull", "push", "delete"} if "*" in requested else set(requested)
                return [a for a in ("pull", "push", "delete") if a in wanted]
            return []
        return granted_registry_actions(principal, project, requested)


def _denial(principal: Principal) -> Exception:
    if principal.is_anonymous:
        return Unauthorized("authentication required")
    return Denied("requested access to the resource is denied")
