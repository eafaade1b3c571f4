"""System models, with Harbor's JSON field names (swagger GeneralInfo, SystemInfo, Storage,
OverallHealthStatus, ComponentHealthStatus, Permissions, Permission)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from portside.domain.rbac import Permission as PermissionPair
from portside.services.system import ComponentHealth, GeneralFacts, GrantablePermissions


class GeneralInfo(BaseModel):
    """Fields left None are omitted: Harbor shows the protected ones to signed-in callers only."""

    banner_message: str | None = None
    current_time: datetime | None = None
    registry_url: str | None = None
    external_url: str | None = None
    auth_mode: str | None = None
    primary_auth_mode: bool | None = None
    project_creation_restriction: str | None = None
    self_registration: bool | None = None
    has_ca_root: bool | None = None
    harbor_version: str | None = None
    registry_storage_provider_name: str | None = None
    read_only: bool | None = None
    notification_enable: bool | None = None
    with_notary: bool | None = None

    @classmethod
    def of(cls, facts: GeneralFacts) -> GeneralInfo:
        info = cls(banner_message=facts.banner_message, auth_mode=facts.auth_mode,
                   primary_auth_mode=facts.primary_auth_mode, self_registration=facts.self_registration,
                   harbor_version=facts.harbor_version)
        protected = facts.protected
        if protected is None:
            return info
        return info.model_copy(update={
            "current_time": protected.current_time, "registry_url": protected.registry_url,
            "external_url": protected.external_url,
            "project_creation_restriction": protected.project_creation_restriction,
            "has_ca_root": protected.has_ca_root,
            "registry_storage_provider_name": protected.registry_storage_provider_name,
            "read_only": protected.read_only, "notification_enable": protected.notification_enable,
            "with_notary": protected.with_notary,
        })


class Storage(BaseModel):
    total: int
    free: int


class SystemInfo(BaseModel):
    storage: list[Storage]


class ComponentHealthStatus(BaseModel):
    name: str
    status: str
    error: str | None = None  # omitted when healthy

    @classmethod
    def of(cls, component: ComponentHealth) -> ComponentHealthStatus:
        return cls(name=component.name, status=health_word(component.healthy), error=component.error)


class OverallHealthStatus(BaseModel):
    status: str
    components: list[ComponentHealthStatus]

    @classmethod
    def of(cls, components: list[ComponentHealth]) -> OverallHealthStatus:
        """Healthy only when every component is."""
        return cls(status=health_word(all(c.healthy for c in components)),
                   components=[ComponentHealthStatus.of(c) for c in components])


def health_word(healthy: bool) -> str:
    return "healthy" if healthy else "unhealthy"


class Permission(BaseModel):
    resource: str
    action: str


class Permissions(BaseModel):
    system: list[Permission]
    project: list[Permission]

    @classmethod
    def of(cls, grantable: GrantablePermissions) -> Permissions:
        def listed(pairs: list[PermissionPair]) -> list[Permission]:
            return [Permission(resource=resource, action=action) for resource, action in pairs]

        return cls(system=listed(grantable.system), project=listed(grantable.project))
