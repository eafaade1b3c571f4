"""What the visitor may do in one project, asked of the one permission policy; templates use
it to hide what the API would refuse (the services check again on every change)."""

from __future__ import annotations

from dataclasses import dataclass

from portside.domain.models import Project
from portside.domain.rbac import Principal, ProjectAccess, Role, is_allowed
from portside.services.bundle import Services
from portside.web.api.deps import visible_project


@dataclass(frozen=True, slots=True)
class ProjectPermissions:
    principal: Principal
    facts: ProjectAccess | None

    def __call__(self, resource: str, action: str) -> bool:
        return self.facts is not None and is_allowed(self.principal, self.facts, resource, action)

    @property
    def role(self) -> Role | None:
        return self.facts.role if self.facts else None

    @property
    def manages_admins(self) -> bool:
        """Whether the visitor may grant, change or remove the projectAdmin role."""
        return self.principal.sysadmin or self.role is Role.PROJECT_ADMIN


async def project_for(services: Services, principal: Principal, name: str) -> tuple[Project, ProjectPermissions]:
    """The project (if the visitor may see it: else Unauthorized/NotFound) and the visitor's permissions."""
    project = await visible_project(services, principal, name, True)
    facts = await services.access.project_access(principal, project.name)
    return project, ProjectPermissions(principal, facts)
