"""System facts for Harbor's system endpoints: general info, volumes, health, grantable permissions."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from portside import __version__
from portside.core.clock import utcnow
from portside.core.config import Settings
from portside.domain.digest import Digest
from portside.domain.errors import Denied, Unauthorized
from portside.domain.rbac import (
    ACTIONS,
    PROJECT_RESOURCES,
    ROLE_PERMISSIONS,
    SIGNED_IN_SYSTEM_PERMISSIONS,
    SYSTEM_PERMISSIONS,
    Permission,
    Principal,
)
from portside.services.access import AccessControl
from portside.services.audit import member_projects_allowing
from portside.storage.driver import StorageDriver
from portside.storage.layout import blob_key
from portside.store.database import Database

log = logging.getLogger("portside.health")

#: The Harbor release whose API Portside follows.
HARBOR_API_VERSION = "v2.16.0"
HEALTH_CHECK_TIMEOUT_SECONDS = 3.0
#: A key that normally does not exist: `stat` of it must answer (None or an object) to be healthy.
_HEALTH_PROBE_KEY = blob_key(Digest("sha256", "0" * 64))


@dataclass(frozen=True, slots=True)
class GeneralFacts:
    """What `/systeminfo` reports; `protected` is None for anonymous callers (Harbor hides it)."""

    auth_mode: str
    primary_auth_mode: bool
    self_registration: bool
    harbor_version: str
    banner_message: str
    protected: ProtectedFacts | None


@dataclass(frozen=True, slots=True)
class ProtectedFacts:
    current_time: datetime
    registry_url: str
    external_url: str
    project_creation_restriction: str
    has_ca_root: bool
    registry_storage_provider_name: str
    read_only: bool
    notification_enable: bool
    with_notary: bool


@dataclass(frozen=True, slots=True)
class Volume:
    total: int
    free: int


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    name: str
    healthy: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class GrantablePermissions:
    system: list[Permission]
    project: list[Permission]


def grantable_project_permissions() -> list[Permission]:
    """Every project (resource, action) some role holds, in the rbac module's order."""
    granted = set().union(*ROLE_PERMISSIONS.values())
    return [(resource, action) for resource in PROJECT_RESOURCES for action in ACTIONS
            if (resource, action) in granted]


def grantable_system_permissions() -> list[Permission]:
    """The system (resource, action) pairs robots may be granted, by resource then in ACTIONS order."""
    return sorted(SYSTEM_PERMISSIONS, key=lambda pair: (pair[0], ACTIONS.index(pair[1])))


class SystemService:
    def __init__(self, settings: Settings, db: Database, driver: StorageDriver, access: AccessControl) -> None:
        self._settings = settings
        self._db = db
        self._driver = driver
        self._access = access

    def general_info(self, principal: Principal, *, request_scheme: str, request_host: str) -> GeneralFacts:
        """Harbor's GeneralInfo: URLs come from `external_url` if set, else from the request."""
        protected = None
        if not principal.is_anonymous:
            external_url = (self._settings.external_url or f"{request_scheme}://{request_host}").rstrip("/")
            everyone = ("project", "create") in SIGNED_IN_SYSTEM_PERMISSIONS
            protected = ProtectedFacts(
                current_time=utcnow(), registry_url=external_url.split("://", 1)[-1], external_url=external_url,
                project_creation_restriction="everyone" if everyone else "adminonly", has_ca_root=False,
                registry_storage_provider_name=self._settings.storage, read_only=False,
                notification_enable=False, with_notary=False,
            )
        return GeneralFacts(auth_mode="db_auth", primary_auth_mode=False, self_registration=False,
                            harbor_version=f"{HARBOR_API_VERSION}-portside-{__version__}", banner_message="",
                            protected=protected)

    async def volumes(self, principal: Principal) -> list[Volume]:
        """Total and free bytes of the data directory's filesystem (none with S3 storage);
        needs system `system-volumes:read`."""
        await self._access.require(principal, None, "system-volumes", "read")
        if self._settings.storage != "filesystem":
            return []
        usage = await asyncio.to_thread(shutil.disk_usage, self._settings.data_dir)
        return [Volume(total=usage.total, free=usage.free)]

    async def health(self) -> list[ComponentHealth]:
        """The database (a `SELECT 1`) and the storage (a `stat`), checked at once, each
        bounded by HEALTH_CHECK_TIMEOUT_SECONDS. Never raises."""
        return list(await asyncio.gather(
            _check("database", self._ping_database, HEALTH_CHECK_TIMEOUT_SECONDS),
            _check("storage", self._probe_storage, HEALTH_CHECK_TIMEOUT_SECONDS),
        ))

    async def _ping_database(self) -> None:
        async with self._db.read() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def _probe_storage(self) -> None:
        await self._driver.stat(_HEALTH_PROBE_KEY)

    async def permissions(self, principal: Principal) -> GrantablePermissions:
        """What robots may be granted. System administrators get both lists; users who may
        create robots in a project (projectAdmin) only the project list; others Denied."""
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        if await self._access.allowed(principal, None, "robot", "create"):
            return GrantablePermissions(grantable_system_permissions(), grantable_project_permissions())
        if await member_projects_allowing(self._db, self._access, principal, "robot", "create"):
            return GrantablePermissions([], grantable_project_permissions())
        raise Denied("only system and project administrators may list permissions")


async def _check(name: str, probe: Callable[[], Awaitable[None]], seconds: float) -> ComponentHealth:
    try:
        async with asyncio.timeout(seconds):
            await probe()
    except TimeoutError:
        return ComponentHealth(name, False, f"{name} did not answer within {seconds:g} s")
    except Exception as error:
        log.warning("health check of %s failed: %s", name, error)
        return ComponentHealth(name, False, f"{name} check failed ({type(error).__name__})")
    return ComponentHealth(name, True)
