"""GET/POST /service/token: the Docker token service (distribution's token auth spec).

Grants the intersection of what was asked and what the permission policy allows;
what is not allowed comes back as empty actions, not as an error, as Harbor does.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from portside.domain.errors import BadRequest, RegistryError, Unauthorized
from portside.domain.rbac import ANONYMOUS, Principal
from portside.domain.reference import NAME_RE
from portside.domain.scopes import parse_scopes
from portside.services.bundle import Services
from portside.services.tokens import SERVICE, utc_timestamp
from portside.web.credentials import BasicCredentials, MalformedCredentials, parse_authorization


def _error(error: RegistryError) -> Response:
    body = json.dumps({"errors": [{"code": error.code, "message": error.message}]}).encode()
    return Response(body, status_code=error.status, media_type="application/json", headers=error.headers)


async def _principal(services: Services, credentials: BasicCredentials | None) -> Principal:
    if credentials is None:
        return ANONYMOUS
    principal = await services.authenticator.authenticate_basic(credentials.username, credentials.secret)
    if principal is None:
        raise Unauthorized("invalid username/password", headers={"WWW-Authenticate": 'Basic realm="harbor"'})
    return principal


async def _access(services: Services, principal: Principal, scopes: list[str]) -> list[dict[str, Any]]:
    access: list[dict[str, Any]] = []
    for scope in parse_scopes(scopes):
        actions: list[str] = []
        if scope.type == "repository" and NAME_RE.match(scope.name) and "/" in scope.name:
            actions = await services.access.registry_actions(principal, scope.name, list(scope.actions))
        elif scope.type == "registry" and scope.name == "catalog" and principal.sysadmin:
            actions = ["*"] if "*" in scope.actions else []
        access.append({"type": scope.type, "name": scope.name, "actions": actions})
    return access


async def token_endpoint(request: Request, services: Services) -> Response:
    """Issue a registry token for the presented credentials (or anonymously) and scopes."""
    try:
        if request.method == "POST":  # OAuth2 password grant (containerd, docker with refresh tokens)
            form = await request.form()
            service, scopes = str(form.get("service") or ""), str(form.get("scope") or "").split()
            username, password = str(form.get("username") or ""), str(form.get("password") or "")
            credentials = BasicCredentials(username, password) if username else None
        else:
            service, scopes = request.query_params.get("service", ""), request.query_params.getlist("scope")
            parsed = parse_authorization(request.headers.get("authorization"))
            if parsed is not None and not isinstance(parsed, BasicCredentials):
                raise Unauthorized("the token service takes Basic credentials")
            credentials = parsed
        if service and service != SERVICE:
            raise BadRequest(f"unknown service {service[:60]!r}; this registry is {SERVICE!r}")
        principal = await _principal(services, credentials)
        if principal.is_anonymous and not scopes:
            raise Unauthorized("authentication required", headers={"WWW-Authenticate": 'Basic realm="harbor"'})
        access = await _access(services, principal, scopes)
    except MalformedCredentials as error:
        return _error(Unauthorized(str(error)))
    except RegistryError as error:
        return _error(error)
    request.scope.setdefault("state", {})["user"] = principal.name or "anonymous"
    issued = services.tokens.issue(principal.name, access)
    body = {"token": issued.token, "access_token": issued.token, "expires_in": issued.expires_in,
            "issued_at": utc_timestamp(issued.issued_at)}
    if request.method == "POST":
        body["scope"] = " ".join(scopes)
    return Response(json.dumps(body).encode(), media_type="application/json")
