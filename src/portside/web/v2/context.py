"""What every /v2 handler receives, and the small request parsers they share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp

from portside.domain.errors import SizeInvalid
from portside.domain.reference import RepositoryName, parse_repository_name
from portside.services.audit import Actor
from portside.services.bundle import Services
from portside.web.v2.auth import V2Identity

API_VERSION = ("Docker-Distribution-API-Version", "registry/2.0")


@dataclass(frozen=True, slots=True)
class V2Context:
    """The matched route's repository name (unvalidated text), trailing parameter and caller."""

    services: Services
    raw_name: str
    param: str
    identity: V2Identity | None = None
    actor: Actor | None = None

    @property
    def name(self) -> RepositoryName:
        """The validated repository name; raises NameInvalid."""
        return parse_repository_name(self.raw_name)


Handler = Callable[[Request, V2Context], Awaitable[ASGIApp]]


def content_length(request: Request) -> int | None:
    """The Content-Length header as an int; raises SizeInvalid when malformed."""
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        raise SizeInvalid(f"invalid Content-Length {raw[:30]!r}")
    return int(raw)


def has_body(request: Request) -> bool:
    """Whether the request carries a body (Content-Length > 0 or chunked transfer)."""
    length = content_length(request)
    if length is not None:
        return length > 0
    return "chunked" in request.headers.get("transfer-encoding", "").lower()


async def body_chunks(request: Request) -> AsyncIterator[bytes]:
    """The request body as it arrives, without the empty end-of-body marker."""
    async for chunk in request.stream():
        if chunk:
            yield chunk
