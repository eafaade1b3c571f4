"""Services: the bundle of use cases that web handlers and background tasks receive.

Built once by `portside.container.build_services`; nothing here is a singleton.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from portside.core.config import Settings
from portside.services.access import AccessControl
from portside.services.artifacts import ArtifactService
from portside.services.audit import AuditLog
from portside.services.blobs import BlobService
from portside.services.bootstrap import ensure_admin
from portside.services.identity import Authenticator
from portside.services.labels import LabelService
from portside.services.manifests import ManifestService
from portside.services.members import MemberService
from portside.services.projects import ProjectService
from portside.services.pulls import PullRecorder
from portside.services.repositories import RepositoryService
from portside.services.robots import RobotService
from portside.services.tokens import TokenService
from portside.services.uploads import UploadService
from portside.services.users import UserService
from portside.storage.driver import StorageDriver
from portside.store.database import Database


@dataclass
class Services:
    """Everything a request handler or background task may use."""

    settings: Settings
    db: Database
    driver: StorageDriver
    uploads: UploadService
    blobs: BlobService
    manifests: ManifestService
    pulls: PullRecorder
    authenticator: Authenticator
    access: AccessControl
    tokens: TokenService
    audit: AuditLog
    users: UserService
    projects: ProjectService
    members: MemberService
    robots: RobotService
    labels: LabelService
    repositories: RepositoryService
    artifacts: ArtifactService
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def start(self) -> str | None:
        """First-start set-up (admin account, signing key); returns a generated admin password to show once."""
        generated = await ensure_admin(self.db, self.settings)
        await self.tokens.load_or_create_key()
        return generated

    async def flush(self) -> None:
        """Write batched pull times and audit entries."""
        await self.pulls.flush()
        await self.audit.flush()

    async def close(self) -> None:
        """Flush batched writes and release storage clients and connections."""
        await self.flush()
        for closer in reversed(self.closers):
            await closer()
        await self.db.dispose()
