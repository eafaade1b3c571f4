"""The composition root: builds every concrete service from Settings, once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from portside.core.config import Settings
from portside.services.access import AccessControl
from portside.services.artifacts import ArtifactService
from portside.services.audit import AuditLog
from portside.services.blobs import BlobService
from portside.services.bundle import Services
from portside.services.deps import ServiceDeps
from portside.services.identity import Authenticator
from portside.services.labels import LabelService
from portside.services.manifests import ManifestService
from portside.services.members import MemberService
from portside.services.policies import PullPolicy
from portside.services.projects import ProjectService
from portside.services.pulls import PullRecorder
from portside.services.repositories import RepositoryResolver, RepositoryService
from portside.services.robots import RobotService
from portside.services.tokens import TokenService
from portside.services.uploads import UploadService
from portside.services.users import UserService
from portside.storage.blobs import BlobStorage
from portside.storage.driver import StorageDriver
from portside.storage.filesystem import FilesystemDriver
from portside.store.database import Database


async def build_driver(settings: Settings) -> tuple[StorageDriver, list[Callable[[], Awaitable[None]]]]:
    """The configured storage driver and the coroutines that close it."""
    if settings.storage == "s3":
        from portside.storage.s3 import S3Driver  # imported only when configured

        s3 = S3Driver.from_settings(settings)
        await s3.open()
        return s3, [s3.close]
    return FilesystemDriver(settings.storage_root, fsync=settings.storage_fsync), []


async def build_services(settings: Settings) -> Services:
    """Open the database and storage and wire the services together."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    driver, closers = await build_driver(settings)
    blob_storage = BlobStorage(driver)
    audit = AuditLog(db, retention_days=settings.audit_retention_days)
    resolver = RepositoryResolver(db, audit, auto_create_projects=settings.auto_create_projects)
    pulls = PullRecorder(db)
    uploads = UploadService(db, blob_storage, resolver)
    manifests = ManifestService(db, resolver, pulls, audit, blob_storage, PullPolicy(db))
    authenticator = Authenticator(db)
    access = AccessControl(db, auto_create_projects=settings.auto_create_projects)
    deps = ServiceDeps(settings=settings, db=db, access=access, audit=audit, authenticator=authenticator,
                       blobs=blob_storage, manifests=manifests, uploads=uploads)
    return Services(
        settings=settings, db=db, driver=driver, uploads=uploads,
        blobs=BlobService(db, blob_storage, resolver), manifests=manifests, pulls=pulls,
        authenticator=authenticator, access=access,
        tokens=TokenService(db, expiration_minutes=settings.token_expiration), audit=audit,
        users=UserService(deps), projects=ProjectService(deps), members=MemberService(deps),
        robots=RobotService(deps), labels=LabelService(deps), repositories=RepositoryService(deps),
        artifacts=ArtifactService(deps), closers=closers,
    )
