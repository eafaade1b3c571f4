"""Harbor API routes: system info, volumes, health, ping and the grantable permissions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse

from portside.services.system import SystemService
from portside.web.api.deps import PrincipalDep, ServicesDep
from portside.web.api.schemas.system import GeneralInfo, OverallHealthStatus, Permissions, Storage, SystemInfo

router = APIRouter(tags=["system"])


def get_system(services: ServicesDep) -> SystemService:
    return SystemService(services.settings, services.db, services.driver, services.access)


SystemDep = Annotated[SystemService, Depends(get_system)]


@router.get("/systeminfo", operation_id="getSystemInfo", response_model=GeneralInfo,
            response_model_exclude_none=True)
async def get_system_info(request: Request, system: SystemDep, principal: PrincipalDep) -> GeneralInfo:
    facts = system.general_info(principal, request_scheme=request.url.scheme, request_host=request.url.netloc)
    return GeneralInfo.of(facts)


@router.get("/systeminfo/volumes", operation_id="getVolumes")
async def get_volumes(system: SystemDep, principal: PrincipalDep) -> SystemInfo:
    volumes = await system.volumes(principal)
    return SystemInfo(storage=[Storage(total=v.total, free=v.free) for v in volumes])


@router.get("/health", operation_id="getHealth", response_model=OverallHealthStatus,
            response_model_exclude_none=True)
async def get_health(system: SystemDep) -> OverallHealthStatus:
    """Always 200, as in Harbor: the body says whether each component is healthy."""
    return OverallHealthStatus.of(await system.health())


@router.get("/ping", operation_id="getPing", response_class=PlainTextResponse)
async def get_ping() -> PlainTextResponse:
    return PlainTextResponse("Pong")


@router.get("/permissions", operation_id="getPermissions")
async def get_permissions(system: SystemDep, principal: PrincipalDep) -> Permissions:
    return Permissions.of(await system.permissions(principal))
