"""Blob upload endpoints (dist-spec "Pushing blobs")."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portside.domain.byte_range import parse_content_range
from portside.domain.digest import parse_digest
from portside.domain.errors import BlobUploadUnknown, DigestInvalid, Unsupported
from portside.domain.models import Upload
from portside.domain.reference import RepositoryName, parse_repository_name
from portside.web.v2.context import API_VERSION, V2Context, body_chunks, content_length, has_body


def _upload_headers(name: RepositoryName, upload: Upload) -> dict[str, str]:
    return {
        "Location": f"/v2/{name}/blobs/uploads/{upload.id}",
        "Range": f"0-{upload.size - 1}" if upload.size else "0-0",
        "Docker-Upload-UUID": upload.id,
        "Content-Length": "0",
        API_VERSION[0]: API_VERSION[1],
    }


def _blob_created(name: RepositoryName, digest: str) -> Response:
    return Response(status_code=201, headers={
        "Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest,
        "Content-Length": "0", API_VERSION[0]: API_VERSION[1],
    })


def _upload_id(ctx: V2Context) -> str:
    if len(ctx.param) != 32 or not all(c in "0123456789abcdef" for c in ctx.param):
        raise BlobUploadUnknown()
    return ctx.param


async def start_upload(request: Request, ctx: V2Context) -> Response:
    """POST: open a session, upload monolithically (?digest=) or mount (?mount=&from=)."""
    if ctx.param:
        raise Unsupported("POST goes to /blobs/uploads/")
    name, query, uploads = ctx.name, request.query_params, ctx.services.uploads
    if "mount" in query:
        digest = parse_digest(query["mount"])
        source = query.get("from")
        # Without pull access to the source, mounting falls back to a plain upload (dist-spec).
        if source and ctx.identity is not None and await ctx.identity.can(ctx.services, source, "pull"):
            blob = await uploads.mount(name, digest, parse_repository_name(source), ctx.actor)
            if blob is not None:
                return _blob_created(name, blob.digest)
    elif "digest" in query:
        digest = parse_digest(query["digest"])
        blob = await uploads.upload_whole(name, digest, body_chunks(request), content_length=content_length(request),
                                          actor=ctx.actor)
        return _blob_created(name, blob.digest)
    upload = await uploads.start(name, ctx.actor)
    return Response(status_code=202, headers=_upload_headers(name, upload))


async def patch_upload(request: Request, ctx: V2Context) -> Response:
    """PATCH: append a chunk (Content-Range optional for streamed uploads)."""
    name = ctx.name
    upload = await ctx.services.uploads.append(
        name, _upload_id(ctx), body_chunks(request),
        content_range=parse_content_range(request.headers.get("content-range")),
        content_length=content_length(request),
    )
    return Response(status_code=202, headers=_upload_headers(name, upload))


async def finish_upload(request: Request, ctx: V2Context) -> Response:
    """PUT ?digest=: optional last chunk, then verify and store the blob."""
    name = ctx.name
    raw_digest = request.query_params.get("digest")
    if not raw_digest:
        raise DigestInvalid("PUT needs a digest query parameter")
    digest = parse_digest(raw_digest)
    body = body_chunks(request) if has_body(request) else None
    blob = await ctx.services.uploads.finish(
        name, _upload_id(ctx), digest, body, content_length=content_length(request),
        content_range=parse_content_range(request.headers.get("content-range")),
    )
    return _blob_created(name, blob.digest)


async def upload_status(request: Request, ctx: V2Context) -> Response:
    """GET: where the upload stands (204 with Range)."""
    name = ctx.name
    upload = await ctx.services.uploads.status(name, _upload_id(ctx))
    return Response(status_code=204, headers=_upload_headers(name, upload))


async def cancel_upload(request: Request, ctx: V2Context) -> Response:
    """DELETE: cancel the upload and discard its bytes."""
    await ctx.services.uploads.cancel(ctx.name, _upload_id(ctx))
    return Response(status_code=204, headers={API_VERSION[0]: API_VERSION[1]})
