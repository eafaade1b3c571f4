"""Registry errors: each class carries its OCI error code and HTTP status.

Code below `web` raises these; each API renders them in exactly one place
(`web/v2/errors.py` for /v2), so handlers never catch and re-map.
"""

from __future__ import annotations

from typing import Any, ClassVar


class RegistryError(Exception):
    """Base of every error a client may see. `code` follows the OCI distribution spec."""

    code: ClassVar[str] = "UNKNOWN"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "unknown error"

    def __init__(self, message: str | None = None, *, detail: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.detail = detail
        self.headers = headers or {}
        super().__init__(self.message)


class BlobUnknown(RegistryError):
    code, status, default_message = "BLOB_UNKNOWN", 404, "blob unknown to registry"


class BlobUploadInvalid(RegistryError):
    code, status, default_message = "BLOB_UPLOAD_INVALID", 400, "blob upload invalid"


class BlobUploadUnknown(RegistryError):
    code, status, default_message = "BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry"


class RangeInvalid(RegistryError):
    """A chunk that does not start at the upload's current offset (dist-spec: 416)."""

    code, status, default_message = "BLOB_UPLOAD_INVALID", 416, "requested range not satisfiable"


class DigestInvalid(RegistryError):
    code, status, default_message = "DIGEST_INVALID", 400, "provided digest did not match uploaded content"


class ManifestBlobUnknown(RegistryError):
    code, status = "MANIFEST_BLOB_UNKNOWN", 400
    default_message = "manifest references a manifest or blob unknown to registry"


class ManifestInvalid(RegistryError):
    code, status, default_message = "MANIFEST_INVALID", 400, "manifest invalid"


class ManifestTooLarge(RegistryError):
    code, status, default_message = "MANIFEST_INVALID", 413, "manifest exceeds the 4 MiB limit"


class ManifestUnknown(RegistryError):
    code, status, default_message = "MANIFEST_UNKNOWN", 404, "manifest unknown to registry"


class NameInvalid(RegistryError):
    code, status, default_message = "NAME_INVALID", 400, "invalid repository name"


class NameUnknown(RegistryError):
    code, status, default_message = "NAME_UNKNOWN", 404, "repository name not known to registry"


class SizeInvalid(RegistryError):
    code, status, default_message = "SIZE_INVALID", 400, "provided length did not match content length"


class TagInvalid(RegistryError):
    """An invalid tag in a reference; the spec has no own code, so MANIFEST_INVALID."""

    code, status, default_message = "MANIFEST_INVALID", 400, "invalid tag"


class Unauthorized(RegistryError):
    code, status, default_message = "UNAUTHORIZED", 401, "authentication required"


class Denied(RegistryError):
    code, status, default_message = "DENIED", 403, "requested access to the resource is denied"


class Unsupported(RegistryError):
    code, status, default_message = "UNSUPPORTED", 405, "the operation is unsupported"


class PaginationInvalid(RegistryError):
    code, status, default_message = "PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested"


class TooManyRequests(RegistryError):
    code, status, default_message = "TOOMANYREQUESTS", 429, "too many requests"


class BadRequest(RegistryError):
    """Malformed request parts that the spec names no code for (bad query values)."""

    code, status, default_message = "UNSUPPORTED", 400, "bad request"


class NotFound(RegistryError):
    """A Harbor API resource that does not exist (or that the caller may not see)."""

    code, status, default_message = "NOT_FOUND", 404, "resource not found"


class Conflict(RegistryError):
    code, status, default_message = "CONFLICT", 409, "resource already exists"


class PreconditionFailed(RegistryError):
    code, status, default_message = "PRECONDITION", 412, "precondition failed"


class PolicyViolation(RegistryError):
    code, status, default_message = "PROJECTPOLICYVIOLATION", 412, "blocked by the project's policy"
