"""Portside's scanner adapter API (Pluggable Scanner Adapter v1.2) at /api/v1, so that another
Harbor (or anything speaking the protocol) can use Portside's built-in scanner.

Operations: GetMetadata (GET /api/v1/metadata), AcceptScanRequest (POST /api/v1/scan → 202
`{id}`), GetScanReport (GET /api/v1/scan/{id}/report → 302 + Refresh-After while pending, 200 in
the Accept-ed MIME type). Errors are `{"error": {"message"}}` with the adapter error MIME type.

Authentication: the credentials of a Portside account, as Harbor's registration `auth` types
send them — `Basic` (user or robot `name:secret`), `Bearer` (a Portside token) or
`X-ScannerAdapter-API-Key: name:secret` — of a system administrator or a system robot granted
`scanner` read. The app's routes carry the /api/v1 prefix: mount it for paths under /api/v1.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portside.domain.errors import RegistryError
from portside.domain.rbac import Principal
from portside.services.adapter_scans import AdapterRequestError, adapter_scan_service
from portside.services.bundle import Services
from portside.web.api.deps import get_principal

PREFIX = "/api/v1"
METADATA_MIME = "application/vnd.scanner.adapter.metadata+json; version=1.1"
SCAN_RESPONSE_MIME = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
ERROR_MIME = "application/vnd.scanner.adapter.error+json; version=1.0"
API_KEY_HEADER = "x-scanneradapter-api-key"
MAX_REQUEST_BYTES = 64 * 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status, media_type=ERROR_MIME)


def _with_api_key(request: Request) -> Request:
    """Treat `X-ScannerAdapter-API-Key: name:secret` as Basic credentials."""
    key = request.headers.get(API_KEY_HEADER)
    if not key or request.headers.get("authorization"):
        return request
    basic = b"Basic " + base64.b64encode(key.encode())
    scope = dict(request.scope)
    scope["headers"] = [*request.scope["headers"], (b"authorization", basic)]
    return Request(scope, request.receive)


async def _principal(request: Request, services: Services) -> Principal:
    """The caller, who must be allowed to use the scanner (RegistryError otherwise)."""
    request = _with_api_key(request)
    principal = await get_principal(request, services)
    await adapter_scan_service(services).require(principal)
    return principal


def create_adapter_app(services: Services) -> Starlette:
    """The adapter API as an ASGI app whose routes start with /api/v1."""

    async def guarded(request: Request, handler: Any) -> Response:
        try:
            principal = await _principal(request, services)
            response: Response = await handler(request, principal)
            return response
        except AdapterRequestError as error:
            return _error(error.status, error.message)
        except RegistryError as error:
            status = error.status if error.status < 500 else 500
            return _error(status, error.message if status < 500 else "internal server error")

    async def metadata(request: Request) -> Response:
        async def answer(_request: Request, _principal: Principal) -> Response:
            return JSONResponse(await adapter_scan_service(services).metadata(), media_type=METADATA_MIME)

        return await guarded(request, answer)

    async def scan(request: Request) -> Response:
        async def answer(request: Request, principal: Principal) -> Response:
            raw = await request.body()
            if len(raw) > MAX_REQUEST_BYTES:
                raise AdapterRequestError(400, f"a scan request has at most {MAX_REQUEST_BYTES} bytes")
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise AdapterRequestError(400, "the scan request is not JSON") from None
            request_id = await adapter_scan_service(services).accept(principal, body)
            return JSONResponse({"id": request_id}, status_code=202, media_type=SCAN_RESPONSE_MIME)

        return await guarded(request, answer)

    async def report(request: Request) -> Response:
        async def answer(request: Request, _principal: Principal) -> Response:
            found = await adapter_scan_service(services).report(
                request.path_params["request_id"], request.headers.get("accept"),
                request.query_params.get("sbom_media_type"))
            if not found.ready:
                return Response(status_code=302, headers={"Refresh-After": str(found.retry_after)})
            return JSONResponse(found.body, media_type=found.mime_type)

        return await guarded(request, answer)

    app = Starlette(routes=[
        Route(f"{PREFIX}/metadata", metadata, methods=["GET"]),
        Route(f"{PREFIX}/scan", scan, methods=["POST"]),
        Route(f"{PREFIX}/scan/{{request_id}}/report", report, methods=["GET"]),
    ])
    app.state.services = services
    return app


__all__ = ["PREFIX", "create_adapter_app"]
