"""The /v2 ASGI app: route, run one handler, render errors in the spec's format."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from portside.domain.errors import RegistryError, Unsupported
from portside.domain.reference import parse_repository_name
from portside.services.audit import Actor
from portside.services.bundle import Services
from portside.web.v2 import blobs, listing, manifests, uploads
from portside.web.v2.auth import V2Identity, authorize
from portside.web.v2.context import Handler, V2Context
from portside.web.v2.errors import error_response
from portside.web.v2.routing import Match, match_v2

log = logging.getLogger("portside.v2")


class RouteUnknown(RegistryError):
    code, status, default_message = "NAME_UNKNOWN", 404, "no such endpoint"


HANDLERS: dict[str, dict[str, Handler]] = {
    "base": {"GET": listing.base, "HEAD": listing.base},
    "catalog": {"GET": listing.catalog},
    "tags": {"GET": listing.list_tags},
    "referrers": {"GET": listing.referrers},
    "blob": {"GET": blobs.get_blob, "HEAD": blobs.get_blob, "DELETE": blobs.delete_blob},
    "manifest": {"GET": manifests.get_manifest, "HEAD": manifests.head_manifest,
                 "PUT": manifests.put_manifest, "DELETE": manifests.delete_manifest},
    "upload": {"POST": uploads.start_upload, "PATCH": uploads.patch_upload, "PUT": uploads.finish_upload,
               "GET": uploads.upload_status, "DELETE": uploads.cancel_upload},
}


class V2App:
    """Serves the OCI distribution API for one Services bundle."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        try:
            request = Request(scope, receive)
            handler, match = self._resolve(scope["path"], method)
            if match.kind not in ("base", "catalog"):
                parse_repository_name(match.name)  # a bad name is a 400, before any auth answer
            identity = await authorize(request, self.services, match, method)
            scope.setdefault("state", {})["user"] = identity.name or "anonymous"
            actor = Actor(identity.name or "anonymous", await self._user_id(identity, method),
                          scope["client"][0] if scope.get("client") else "", request.headers.get("user-agent", ""))
            context = V2Context(self.services, match.name, match.param, identity, actor)
            response = await handler(request, context)
        except RegistryError as error:
            response = error_response(error, method=method)
        except Exception:
            log.exception("unhandled error in %s %s", method, scope["path"])
            response = error_response(RegistryError("internal server error"), method=method)
        await response(scope, receive, send)

    async def _user_id(self, identity: V2Identity, method: str) -> int | None:
        """The caller's user id for writes (ownership of a project created by a push, audit).

        Token claims name only the subject, so look it up; pulls don't need it and skip the query.
        """
        if identity.principal is not None:
            return identity.principal.user_id
        if method in ("GET", "HEAD") or identity.claims is None or not identity.claims.subject:
            return None
        principal = await self.services.authenticator.principal_for_subject(identity.claims.subject)
        return principal.user_id if principal else None

    def _resolve(self, path: str, method: str) -> tuple[Handler, Match]:
        match = match_v2(path)
        if match is None:
            raise RouteUnknown(f"no /v2 endpoint at {path[:200]!r}")
        handlers = HANDLERS[match.kind]
        handler = handlers.get(method)
        if handler is None:
            raise Unsupported(f"{method} is not supported here", headers={"Allow": ", ".join(handlers)})
        return handler, match
