"""ServiceDeps: what every Harbor-API use-case service is built from (one shape for all)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from portside.core.config import Settings
from portside.services.access import AccessControl
from portside.services.audit import AuditLog
from portside.services.identity import Authenticator
from portside.services.manifests import ManifestService
from portside.services.uploads import UploadService
from portside.storage.blobs import BlobStorage
from portside.store.database import Database

if TYPE_CHECKING:
    from portside.services.bundle import Services


@dataclass(frozen=True)
class ServiceDeps:
    settings: Settings
    db: Database
    access: AccessControl
    audit: AuditLog
    authenticator: Authenticator
    blobs: BlobStorage
    manifests: ManifestService
    uploads: UploadService


def deps_of(services: Services) -> ServiceDeps:
    """The ServiceDeps of the bundle's parts (until the bundle carries the scan services)."""
    return ServiceDeps(settings=services.settings, db=services.db, access=services.access, audit=services.audit,
                       authenticator=services.authenticator, blobs=BlobStorage(services.driver),
                       manifests=services.manifests, uploads=services.uploads)
