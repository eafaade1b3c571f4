"""Blob endpoints (dist-spec "Pulling blobs", "Deleting blobs")."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp

from portside.domain.byte_range import parse_range
from portside.domain.digest import parse_digest
from portside.web.v2.context import API_VERSION, V2Context
from portside.web.v2.responses import ByteStreamResponse


async def get_blob(request: Request, ctx: V2Context) -> ASGIApp:
    """GET/HEAD: the blob's bytes (206 for a Range), or a redirect to the object store."""
    digest = parse_digest(ctx.param)
    is_head = request.method == "HEAD"
    source = await ctx.services.blobs.source(ctx.name, digest, allow_redirect=not is_head)
    blob = source.blob
    if source.redirect_url is not None:
        return RedirectResponse(source.redirect_url, status_code=307, headers={"Docker-Content-Digest": blob.digest})
    headers = {
        "Content-Type": "application/octet-stream",
        "Docker-Content-Digest": blob.digest,
        "ETag": f'"{blob.digest}"',
        "Accept-Ranges": "bytes",
        "Cache-Control": "max-age=31536000",
        API_VERSION[0]: API_VERSION[1],
    }
    byte_range = parse_range(request.headers.get("range"), blob.size)
    status, offset, length = 200, 0, blob.size
    if byte_range is not None:
        status, offset, length = 206, byte_range.start, byte_range.length
        headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{blob.size}"
    headers["Content-Length"] = str(length)
    if is_head or length == 0:
        return ByteStreamResponse(None, status=status, headers=headers)
    chunks = ctx.services.blobs.stream(blob, offset=offset, length=length)
    return ByteStreamResponse(chunks, status=status, headers=headers)


async def delete_blob(request: Request, ctx: V2Context) -> Response:
    """DELETE: unlink the blob from the repository (202)."""
    await ctx.services.blobs.unlink(ctx.name, parse_digest(ctx.param))
    return Response(status_code=202, headers={"Content-Length": "0", API_VERSION[0]: API_VERSION[1]})
