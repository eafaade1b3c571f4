"""The Harbor-compatible REST API, a FastAPI app serving /api/v2.0 (and /api/version)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from portside import __version__
from portside.services.bundle import Services
from portside.web.api.errors import install_error_handlers
from portside.web.api.request_guard import RequestGuard
from portside.web.api.routers import (
    artifacts,
    auditlogs,
    export,
    labels,
    members,
    projects,
    repositories,
    robots,
    scan,
    scanners,
    system,
    users,
)

API_PREFIX = "/api/v2.0"
ROUTERS: tuple[APIRouter, ...] = (
    projects.router, members.router, repositories.router, scan.router, artifacts.router, labels.router, robots.router,
    users.router, auditlogs.router, system.router, scanners.router,
    export.router,
)


def create_api(services: Services) -> FastAPI:
    """The API app; routes keep Harbor's paths, parameter names and status codes."""
    api = FastAPI(title="Portside (Harbor-compatible API)", version=__version__, docs_url=f"{API_PREFIX}/docs",
                  openapi_url=f"{API_PREFIX}/openapi.json", redoc_url=None)
    api.state.services = services
    install_error_handlers(api)
    api.add_middleware(RequestGuard)  # 413 past 1 MiB, 400 for NUL characters
    for router in ROUTERS:
        api.include_router(router, prefix=API_PREFIX)

    @api.get("/api/version", include_in_schema=False)
    async def version() -> JSONResponse:
        return JSONResponse({"version": "v2.0"})

    return api
