"""Manifest endpoints (dist-spec "Pulling/Pushing/Deleting manifests")."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portside.domain.errors import ManifestTooLarge
from portside.domain.manifest import MAX_MANIFEST_BYTES
from portside.domain.rbac import ANONYMOUS, Principal
from portside.domain.reference import parse_reference, validate_tag
from portside.web.v2.context import API_VERSION, V2Context, content_length


async def get_manifest(request: Request, ctx: V2Context) -> Response:
    """GET: the manifest bytes exactly as pushed, with their media type."""
    accept = request.headers.getlist("accept")
    identity = ctx.identity

    async def caller() -> Principal:
        return await identity.principal_for_policy(ctx.services) if identity else ANONYMOUS

    manifest = await ctx.services.manifests.get(ctx.name, parse_reference(ctx.param), accept, ctx.actor, caller)
    return Response(manifest.content, media_type=manifest.media_type, headers={
        "Docker-Content-Digest": manifest.digest, "ETag": f'"{manifest.digest}"', API_VERSION[0]: API_VERSION[1],
    })


async def head_manifest(request: Request, ctx: V2Context) -> Response:
    """HEAD: type, size and digest without the body."""
    accept = request.headers.getlist("accept")
    head = await ctx.services.manifests.head(ctx.name, parse_reference(ctx.param), accept)
    return Response(status_code=200, headers={
        "Content-Type": head.media_type, "Content-Length": str(head.size),
        "Docker-Content-Digest": head.digest, "ETag": f'"{head.digest}"', API_VERSION[0]: API_VERSION[1],
    })


async def _read_manifest_body(request: Request) -> bytes:
    declared = content_length(request)
    if declared is not None and declared > MAX_MANIFEST_BYTES:
        raise ManifestTooLarge()
    parts: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_MANIFEST_BYTES:
            raise ManifestTooLarge()
        parts.append(chunk)
    return b"".join(parts)


async def put_manifest(request: Request, ctx: V2Context) -> Response:
    """PUT: store a manifest by tag or digest (`?tag=` adds tags, dist-spec 1.1)."""
    name, reference = ctx.name, parse_reference(ctx.param)
    extra_tags = tuple(validate_tag(tag) for tag in request.query_params.getlist("tag"))
    content = await _read_manifest_body(request)
    pushed = await ctx.services.manifests.put(name, reference, content, request.headers.get("content-type"),
                                              extra_tags, ctx.actor)
    headers = {
        "Location": f"/v2/{name}/manifests/{pushed.digest}", "Docker-Content-Digest": str(pushed.digest),
        "Content-Length": "0", API_VERSION[0]: API_VERSION[1],
    }
    if pushed.subject:
        headers["OCI-Subject"] = pushed.subject
    if extra_tags:
        headers["OCI-Tag"] = ", ".join(extra_tags)
    return Response(status_code=201, headers=headers)


async def delete_manifest(request: Request, ctx: V2Context) -> Response:
    """DELETE: by digest, the manifest and its tags; by tag, just the tag (202)."""
    await ctx.services.manifests.delete(ctx.name, parse_reference(ctx.param), ctx.actor)
    return Response(status_code=202, headers={"Content-Length": "0", API_VERSION[0]: API_VERSION[1]})
