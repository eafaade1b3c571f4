"""The one place /api/v2.0 errors are rendered, in Harbor's format and codes:
`{"errors":[{"code":"NOT_FOUND","message":"..."}]}`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from portside.domain.errors import RegistryError

log = logging.getLogger("portside.api")

# OCI codes the services raise -> Harbor API codes (src/lib/errors in Harbor).
_HARBOR_CODES = {
    "DENIED": "FORBIDDEN", "NAME_UNKNOWN": "NOT_FOUND", "MANIFEST_UNKNOWN": "NOT_FOUND",
    "BLOB_UNKNOWN": "NOT_FOUND", "NAME_INVALID": "BAD_REQUEST", "UNSUPPORTED": "BAD_REQUEST",
    "PAGINATION_NUMBER_INVALID": "BAD_REQUEST", "TOOMANYREQUESTS": "TOO_MANY_REQUEST",
}
_STATUS_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 412: "PRECONDITION",
                 413: "REQUEST_ENTITY_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 422: "UNPROCESSABLE_ENTITY",
                 429: "TOO_MANY_REQUEST"}


def harbor_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"code": code, "message": message}]}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the API can raise in Harbor's shape; never leak internals."""

    @app.exception_handler(RegistryError)
    async def registry_error(_request: Request, error: RegistryError) -> JSONResponse:
        if error.status >= 500:
            log.error("API error: %s", error.message)
            return harbor_error(500, "UNKNOWN", "internal server error")
        return harbor_error(error.status, _HARBOR_CODES.get(error.code, error.code), error.message, error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        parts = []
        for item in error.errors()[:5]:
            where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
            parts.append(f"{where}: {item.get('msg', 'invalid')}")
        return harbor_error(400, "BAD_REQUEST", "; ".join(parts) or "invalid request")

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(error.status_code, "BAD_REQUEST" if error.status_code < 500 else "UNKNOWN")
        return harbor_error(error.status_code, code, str(error.detail), dict(error.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled API error")
        return harbor_error(500, "UNKNOWN", "internal server error")
