"""The base endpoint, tag lists, the catalog and referrers."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from portside.domain import media_types as mt
from portside.domain.digest import parse_digest
from portside.web.v2.context import API_VERSION, V2Context
from portside.web.v2.paging import next_link, page_params


def _json(body: dict[str, Any], headers: dict[str, str] | None = None,
          media_type: str = "application/json") -> Response:
    return Response(json.dumps(body).encode(), media_type=media_type,
                    headers={API_VERSION[0]: API_VERSION[1], **(headers or {})})


async def base(request: Request, ctx: V2Context) -> Response:
    """GET /v2/: the API version check."""
    return _json({})


async def list_tags(request: Request, ctx: V2Context) -> Response:
    """GET tags/list: lexically sorted, `n`/`last` paginated with a Link header."""
    name = ctx.name
    limit, last = page_params(request.query_params)
    page = await ctx.services.manifests.tags(name, limit=limit, after=last)
    headers = next_link(f"/v2/{name}/tags/list", limit, page.items) if page.has_more else {}
    return _json({"name": name.value, "tags": page.items}, headers)


async def catalog(request: Request, ctx: V2Context) -> Response:
    """GET /v2/_catalog: repository names, paginated like tags."""
    limit, last = page_params(request.query_params)
    page = await ctx.services.manifests.catalog(limit=limit, after=last)
    headers = next_link("/v2/_catalog", limit, page.items) if page.has_more else {}
    return _json({"repositories": page.items}, headers)


async def referrers(request: Request, ctx: V2Context) -> Response:
    """GET referrers/<digest>: an OCI index of the manifests whose subject is <digest>."""
    subject = parse_digest(ctx.param)
    artifact_type = request.query_params.get("artifactType") or None
    found = await ctx.services.manifests.referrers(ctx.name, subject, artifact_type)
    descriptors = []
    for head in found:
        descriptor: dict[str, Any] = {"mediaType": head.media_type, "digest": head.digest, "size": head.size}
        if head.artifact_type:
            descriptor["artifactType"] = head.artifact_type
        if head.annotations:
            descriptor["annotations"] = head.annotations
        descriptors.append(descriptor)
    headers = {"OCI-Filters-Applied": "artifactType"} if artifact_type else {}
    return _json({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": descriptors}, headers, mt.OCI_INDEX)
