"""ServiceDeps: what every Harbor-API use-case service is built from (one shape for all)."""

from __future__ import annotations

from dataclasses import dataclass

from portside.core.config import Settings
from portside.services.access import AccessControl
from portside.services.audit import AuditLog
from portside.services.identity import Authenticator
from portside.services.manifests import ManifestService
from portside.services.uploads import UploadService
from portside.storage.blobs import BlobStorage
from portside.store.database import Database


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
