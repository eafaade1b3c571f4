"""`n`/`last` pagination and the `Link: <…>; rel="next"` header (dist-spec "Listing tags")."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from portside.domain.errors import PaginationInvalid

MAX_PAGE = 10_000


def page_params(query: QueryParams) -> tuple[int, str | None]:
    """(limit, last) from the query; a missing `n` means every entry, up to MAX_PAGE per page."""
    raw_n, last = query.get("n"), query.get("last") or None
    if raw_n is None or raw_n == "":
        return MAX_PAGE, last
    if not (raw_n.isascii() and raw_n.isdigit()) or len(raw_n) > 9:
        raise PaginationInvalid(f"n must be a non-negative integer, not {raw_n[:20]!r}")
    return min(int(raw_n), MAX_PAGE), last


def next_link(path: str, limit: int, items: list[str]) -> dict[str, str]:
    """The Link header pointing after the last item of a page that has more.

    An empty page (`n=0`) has no last item to continue from, so it gets no Link.
    """
    if not items:
        return {}
    query = urlencode({"n": limit, "last": items[-1]})
    return {"Link": f'<{path}?{query}>; rel="next"'}
