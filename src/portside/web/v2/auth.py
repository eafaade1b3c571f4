"""/v2 authorization: map the route and method to registry actions and check them.

GET/HEAD need pull, POST/PUT/PATCH need pull and push, DELETE of a manifest or
blob needs delete; the catalog needs `registry:catalog:*` (administrators).
A request without credentials is always answered 401 with the token challenge,
as Harbor does, so that docker-style clients fetch a token (anonymous tokens
still grant pulls from public projects).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from portside.domain.errors import Denied, Unauthorized
from portside.domain.rbac import ANONYMOUS, Principal
from portside.services.bundle import Services
from portside.services.scanners import scan_token_principal
from portside.services.tokens import SERVICE, TokenClaims
from portside.web.credentials import BasicCredentials, MalformedCredentials, parse_authorization
from portside.web.v2.routing import Match

_PUSH = ("pull", "push")
REQUIRED_ACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "tags": {"GET": ("pull",)},
    "referrers": {"GET": ("pull",)},
    "blob": {"GET": ("pull",), "HEAD": ("pull",), "DELETE": ("delete",)},
    "manifest": {"GET": ("pull",), "HEAD": ("pull",), "PUT": _PUSH, "DELETE": ("delete",)},
    "upload": {"POST": _PUSH, "PATCH": _PUSH, "PUT": _PUSH, "GET": _PUSH, "DELETE": _PUSH},
}


@dataclass(frozen=True, slots=True)
class V2Identity:
    """Who is calling /v2, by token claims or by a principal from Basic credentials."""

    name: str
    principal: Principal | None = None
    claims: TokenClaims | None = None

    @property
    def anonymous(self) -> bool:
        if self.claims is not None:
            return self.claims.subject == ""
        return self.principal is None or self.principal.is_anonymous

    async def can(self, services: Services, repository: str, action: str) -> bool:
        """Whether the caller holds `action` on `repository`."""
        if self.claims is not None:
            return self.claims.allows("repository", repository, action)
        principal = self.principal or ANONYMOUS
        return action in await services.access.registry_actions(principal, repository, [action])

    async def principal_for_policy(self, services: Services) -> Principal:
        """The caller as a Principal (looked up for token callers), for push/pull policies. A scan
        token (an adapter pulling what it scans) is a robot holding scanner-pull where it may pull."""
        if self.principal is not None:
            return self.principal
        if self.claims is not None and self.claims.subject:
            scanner = scan_token_principal(self.claims)
            if scanner is not None:
                return scanner
            return await services.authenticator.principal_for_subject(self.claims.subject) or ANONYMOUS
        return ANONYMOUS

    def can_list_catalog(self) -> bool:
        if self.claims is not None:
            return self.claims.allows("registry", "catalog", "*")
        return self.principal is not None and self.principal.sysadmin


def challenge(request: Request, services: Services, scope: str | None = None) -> dict[str, str]:
    """The WWW-Authenticate header pointing clients at our token service.

    The realm is built from the request's Host (or `external_url`): go-containerregistry
    clients such as trivy refuse a realm whose host is a loopback IP they did not use.
    """
    base = services.settings.external_url or f"{request.url.scheme}://{request.headers.get('host', 'localhost')}"
    value = f'Bearer realm="{base.rstrip("/")}/service/token",service="{SERVICE}"'
    if scope:
        value += f',scope="{scope}"'
    return {"WWW-Authenticate": value}


async def identify(request: Request, services: Services) -> V2Identity | None:
    """The caller's identity from the Authorization header; None when there is none.

    Raises Unauthorized for malformed or wrong credentials and invalid tokens.
    """
    try:
        credentials = parse_authorization(request.headers.get("authorization"))
    except MalformedCredentials as error:
        raise Unauthorized(str(error), headers=challenge(request, services)) from None
    if credentials is None:
        return None
    if isinstance(credentials, BasicCredentials):
        principal = await services.authenticator.authenticate_basic(credentials.username, credentials.secret)
        if principal is None:
            raise Unauthorized("invalid username or password", headers=challenge(request, services))
        return V2Identity(principal.name, principal=principal)
    claims = services.tokens.verify(credentials.token)
    if claims is None:
        raise Unauthorized("invalid or expired token", headers=challenge(request, services))
    return V2Identity(claims.subject, claims=claims)


async def authorize(request: Request, services: Services, match: Match, method: str) -> V2Identity:
    """Check the caller may make this request; raises Unauthorized (with challenge) or Denied."""
    identity = await identify(request, services)
    if match.kind == "base":
        if identity is None or identity.anonymous:
            raise Unauthorized(headers=challenge(request, services))
        return identity
    if match.kind == "catalog":
        if identity is not None and identity.can_list_catalog():
            return identity
        if identity is None or identity.anonymous or identity.claims is not None:
            raise Unauthorized(headers=challenge(request, services, "registry:catalog:*"))
        raise Denied("listing the catalog is reserved to administrators")
    actions = REQUIRED_ACTIONS.get(match.kind, {}).get(method, ())
    scope = f"repository:{match.name}:{','.join(actions)}"
    if identity is None:
        raise Unauthorized(headers=challenge(request, services, scope))
    for action in actions:
        if not await identity.can(services, match.name, action):
            if identity.anonymous or identity.claims is not None:
                # A token without the scope: 401 with the scope, so the client fetches a better token.
                headers = challenge(request, services, scope)
                if identity.claims is not None:
                    headers["WWW-Authenticate"] += ',error="insufficient_scope"'
                raise Unauthorized("the token does not grant this access", headers=headers)
            raise Denied("requested access to the resource is denied")
    return identity
