"""Roles, resources, actions and the permission table: the one place access rules live.

Harbor's role ids and resource/action vocabulary are kept so Harbor clients and
robot permission payloads work unchanged; the grants follow the user guide's
matrix (`shared/reference/permissions.md`): developers also delete tags and
trigger scans, maintainers also manage members below projectAdmin. Everything
the guide does not mention follows Harbor's table. `is_allowed` is pure: callers
supply the project's publicity and the principal's role in it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


class Role(enum.IntEnum):
    PROJECT_ADMIN = 1
    DEVELOPER = 2
    GUEST = 3
    MAINTAINER = 4
    LIMITED_GUEST = 5

    @property
    def harbor_name(self) -> str:
        return _ROLE_NAMES[self]


_ROLE_NAMES = {Role.PROJECT_ADMIN: "projectAdmin", Role.DEVELOPER: "developer", Role.GUEST: "guest",
               Role.MAINTAINER: "maintainer", Role.LIMITED_GUEST: "limitedGuest"}

ACTIONS = ("pull", "push", "create", "read", "update", "delete", "list", "operate", "scanner-pull", "stop")
PROJECT_RESOURCES = (
    "project", "member", "metadata", "log", "label", "quota", "repository", "tag-retention", "immutable-tag",
    "configuration", "robot", "notification-policy", "scan", "sbom", "scanner", "artifact", "tag", "accessory",
    "artifact-addition", "artifact-label", "preheat-policy", "export-cve",
)
Permission = tuple[str, str]  # (resource, action)


def _grants(spec: str) -> frozenset[Permission]:
    """Parse 'resource:CRUDL+extra,extra' lines: C R U D L letters plus named actions."""
    letters = {"C": "create", "R": "read", "U": "update", "D": "delete", "L": "list"}
    grants: set[Permission] = set()
    for line in spec.split():
        resource, actions = line.split(":")
        named = actions.split("+")
        for letter in named[0]:
            grants.add((resource, letters[letter]))
        for extra in named[1:]:
            grants.add((resource, extra))
    return frozenset(grants)


_PROJECT_ADMIN = _grants("""
    project:RUD member:CRUDL metadata:CRUD log:L label:CRUDL quota:R repository:CRUDL+pull+push
    tag-retention:CRUDL+operate immutable-tag:CUDL configuration:RU robot:CRUDL notification-policy:CRUDL
    scan:CR+stop sbom:CR+stop scanner:CR artifact:CRDL artifact-addition:R tag:CDL accessory:L
    artifact-label:CD preheat-policy:CRUDL export-cve:CRL
""")
_MAINTAINER = _grants("""
    project:R member:CRUDL metadata:R label:CRUDL quota:R repository:CRUDL+pull+push
    tag-retention:CRUDL+operate immutable-tag:CUDL configuration:R robot:RL notification-policy:RL
    scan:CR+stop sbom:CR+stop scanner:R artifact:CRDL artifact-addition:R tag:CDL accessory:L
    artifact-label:CD export-cve:CRL
""")
_DEVELOPER = _grants("""
    project:R member:RL label:RL quota:R repository:CRUL+pull+push tag-retention:CRUDL+operate
    configuration:R robot:RL scan:CR sbom:R scanner:R artifact:CRL artifact-addition:R tag:CDL accessory:L
    artifact-label:CD export-cve:CRL
""")
_GUEST = _grants("""
    project:R member:RL label:RL quota:R repository:RL+pull configuration:R robot:RL scan:R sbom:R scanner:R
    artifact:RL artifact-addition:R tag:L accessory:L
""")
_LIMITED_GUEST = _grants("""
    project:R quota:R repository:RL+pull configuration:R scan:R sbom:R scanner:R artifact:RL
    artifact-addition:R tag:L accessory:L
""")
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PROJECT_ADMIN: _PROJECT_ADMIN, Role.MAINTAINER: _MAINTAINER, Role.DEVELOPER: _DEVELOPER,
    Role.GUEST: _GUEST, Role.LIMITED_GUEST: _LIMITED_GUEST,
}
#: What anyone, anonymous included, may do in a public project.
PUBLIC_PROJECT_PERMISSIONS = _grants("""
    project:R label:RL repository:RL+pull scan:R scanner:R tag:L artifact:RL artifact-addition:R accessory:L
""")
#: The system-scope (resource, action) pairs (Harbor's system policies): what a system administrator holds,
#: what `/users/current/permissions` lists without a project scope, and what system robots may be granted.
SYSTEM_PERMISSIONS = _grants("""
    audit-log:L catalog:R export-cve:CR garbage-collection:CRUL+stop jobservice-monitor:L+stop label:CRUD
    ldap-user:CL preheat-instance:CRUDL project:CL purge-audit:CRUL+stop quota:RUL registry:CRUDL
    replication:CRL replication-adapter:L replication-policy:CRUDL robot:CRUDL scan-all:CRU+stop
    scanner:CRUDL security-hub:RL system-volumes:R user:CRUDL user-group:CRUDL
""")
#: System-scope actions every signed-in user has (Harbor's default project_creation_restriction=everyone).
SIGNED_IN_SYSTEM_PERMISSIONS = frozenset({("project", "create")})


class PrincipalKind(enum.StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"
    ROBOT = "robot"


@dataclass(frozen=True, slots=True)
class RobotGrant:
    """One entry of a robot's permissions: `kind` project|system, `namespace` a project name or '*'."""

    kind: str
    namespace: str
    access: frozenset[Permission]

    def covers(self, project_name: str | None, permission: Permission) -> bool:
        if project_name is None:
            if self.kind != "system":
                return False
        elif self.kind != "project" or self.namespace not in ("*", project_name):
            return False
        resource, action = permission
        return any(r in (resource, "*") and a in (action, "*") for r, a in self.access)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: an anonymous caller, a user, or a robot account."""

    kind: PrincipalKind
    name: str = ""
    user_id: int | None = None
    robot_id: int | None = None
    sysadmin: bool = False
    robot_grants: tuple[RobotGrant, ...] = field(default_factory=tuple)

    @property
    def is_anonymous(self) -> bool:
        return self.kind is PrincipalKind.ANONYMOUS


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    """The facts about one project a decision needs."""

    name: str
    public: bool
    role: Role | None  # the principal's role in it, if a member


def is_allowed(principal: Principal, project: ProjectAccess | None, resource: str, action: str) -> bool:
    """Whether `principal` may do `action` on `resource` (in `project`, or system-wide when None).

    Deny by default: anything not granted by the tables above is refused.
    """
    if principal.sysadmin:
        return True
    permission = (resource, action)
    if principal.kind is PrincipalKind.ROBOT:
        if project is not None and project.public and permission in PUBLIC_PROJECT_PERMISSIONS:
            return True
        return any(grant.covers(project.name if project else None, permission) for grant in principal.robot_grants)
    if project is None:
        return principal.kind is PrincipalKind.USER and permission in SIGNED_IN_SYSTEM_PERMISSIONS
    if project.public and permission in PUBLIC_PROJECT_PERMISSIONS:
        return True
    if principal.kind is PrincipalKind.USER and project.role is not None:
        return permission in ROLE_PERMISSIONS[project.role]
    return False


def role_permissions(role: Role | None, *, public: bool) -> frozenset[Permission]:
    """Everything a member with `role` (or a non-member) may do in a project."""
    granted = set(ROLE_PERMISSIONS[role]) if role else set()
    if public:
        granted |= PUBLIC_PROJECT_PERMISSIONS
    return frozenset(granted)


# --- the registry (/v2) view -------------------------------------------------------------------

#: Token scope action -> the permission it needs on the repository's project.
REGISTRY_ACTIONS: dict[str, Permission] = {
    "pull": ("repository", "pull"),
    "push": ("repository", "push"),
    "delete": ("artifact", "delete"),
    "scanner-pull": ("repository", "pull"),
}


def granted_registry_actions(principal: Principal, project: ProjectAccess | None,
                             requested: Iterable[str]) -> list[str]:
    """The subset of requested /v2 actions ('*' means all) the principal holds, in a stable order."""
    wanted = set(REGISTRY_ACTIONS) - {"scanner-pull"} if "*" in requested else set(requested)
    if project is None:
        return []
    return [action for action in ("pull", "push", "delete", "scanner-pull")
            if action in wanted and is_allowed(principal, project, *REGISTRY_ACTIONS[action])]
