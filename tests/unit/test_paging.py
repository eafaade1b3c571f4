"""Unit tests for portside.web.v2.paging: `n`/`last` and the Link header."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from portside.domain.errors import PaginationInvalid
from portside.web.v2.paging import MAX_PAGE, next_link, page_params


def params(**values: str) -> QueryParams:
    return QueryParams(urlencode(values))


def test_page_params_without_n_is_max_page() -> None:
    assert page_params(params()) == (MAX_PAGE, None)


def test_page_params_with_empty_n_is_max_page() -> None:
    assert page_params(params(n="")) == (MAX_PAGE, None)


def test_page_params_reads_n() -> None:
    assert page_params(params(n="5")) == (5, None)


def test_page_params_accepts_zero() -> None:
    assert page_params(params(n="0")) == (0, None)


def test_page_params_clamps_n_to_max_page() -> None:
    assert page_params(params(n=str(MAX_PAGE + 1))) == (MAX_PAGE, None)


def test_page_params_accepts_nine_digits() -> None:
    assert page_params(params(n="999999999")) == (MAX_PAGE, None)


def test_page_params_reads_last() -> None:
    assert page_params(params(n="2", last="v1.0")) == (2, "v1.0")


def test_page_params_treats_empty_last_as_none() -> None:
    assert page_params(params(last="")) == (MAX_PAGE, None)


@pytest.mark.parametrize("n", ["-1", "abc", "1.5", "+3", " 3", "0x10", "1e3", "1234567890"])
def test_page_params_rejects_invalid_n(n: str) -> None:
    with pytest.raises(PaginationInvalid):
        page_params(params(n=n))


def test_page_params_rejects_superscript_digit() -> None:
    with pytest.raises(PaginationInvalid):
        page_params(params(n="\u00b2"))


def test_page_params_rejects_non_ascii_decimal_digits() -> None:
    with pytest.raises(PaginationInvalid):
        page_params(params(n="\u0661\u0662"))


def test_pagination_invalid_has_oci_code() -> None:
    with pytest.raises(PaginationInvalid) as caught:
        page_params(params(n="x"))
    assert (caught.value.code, caught.value.status) == ("PAGINATION_NUMBER_INVALID", 400)


@given(st.integers(min_value=0, max_value=999_999_999))
def test_page_params_limit_is_n_capped_at_max_page(n: int) -> None:
    assert page_params(params(n=str(n)))[0] == min(n, MAX_PAGE)


@given(st.text(max_size=12))
def test_page_params_returns_bounded_limit_or_raises_pagination_invalid(n: str) -> None:
    try:
        limit, _ = page_params(params(n=n))
    except PaginationInvalid:
        return
    assert 0 <= limit <= MAX_PAGE


def test_next_link_points_after_last_item() -> None:
    assert next_link("/v2/a/b/tags/list", 2, ["v1", "v2"]) == {"Link": '</v2/a/b/tags/list?n=2&last=v2>; rel="next"'}


def test_next_link_for_catalog() -> None:
    assert next_link("/v2/_catalog", 1, ["library/alpine"]) == {
        "Link": '</v2/_catalog?n=1&last=library%2Falpine>; rel="next"'
    }


def test_next_link_escapes_last_value() -> None:
    assert next_link("/v2/a/b/tags/list", 1, ["a b&c"]) == {
        "Link": '</v2/a/b/tags/list?n=1&last=a+b%26c>; rel="next"'
    }


def test_next_link_round_trips_through_page_params() -> None:
    link = next_link("/v2/a/b/tags/list", 3, ["x", "y/z"])["Link"]
    query = link[link.index("?") + 1 : link.index(">")]
    assert page_params(QueryParams(query)) == (3, "y/z")
