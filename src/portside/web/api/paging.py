"""Harbor pagination: `page`/`page_size` in, `X-Total-Count` and `Link` out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import JSONResponse

MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_params(page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10) -> PageParams:
    return PageParams(page, page_size)


def _link(request: Request, page: int, page_size: int) -> str:
    query = dict(request.query_params)
    query.update(page=str(page), page_size=str(page_size))
    return f"<{request.url.path}?{urlencode(query)}>"


def paged_response(request: Request, items: list[Any], total: int, params: PageParams) -> JSONResponse:
    """A JSON list with Harbor's X-Total-Count and `Link: <...>; rel="prev" , <...>; rel="next"`."""
    links = []
    if params.page > 1:
        links.append(f'{_link(request, params.page - 1, params.page_size)}; rel="prev"')
    if params.offset + len(items) < total:
        links.append(f'{_link(request, params.page + 1, params.page_size)}; rel="next"')
    headers = {"X-Total-Count": str(total)}
    if links:
        headers["Link"] = " , ".join(links)
    return JSONResponse(items, headers=headers)
