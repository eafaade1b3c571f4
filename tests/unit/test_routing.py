"""Unit tests for portside.web.v2.routing.match_v2."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portside.web.v2.routing import Match, match_v2

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("path", ["/v2", "/v2/"])
def test_match_v2_base(path: str) -> None:
    assert match_v2(path) == Match("base")


def test_match_v2_catalog() -> None:
    assert match_v2("/v2/_catalog") == Match("catalog")


def test_match_v2_blob() -> None:
    assert match_v2(f"/v2/library/alpine/blobs/{DIGEST}") == Match("blob", "library/alpine", DIGEST)


def test_match_v2_upload_start_has_empty_param() -> None:
    assert match_v2("/v2/library/alpine/blobs/uploads/") == Match("upload", "library/alpine", "")


def test_match_v2_upload_session() -> None:
    assert match_v2("/v2/library/alpine/blobs/uploads/0123abcd") == Match("upload", "library/alpine", "0123abcd")


def test_match_v2_manifest_by_tag() -> None:
    assert match_v2("/v2/library/alpine/manifests/latest") == Match("manifest", "library/alpine", "latest")


def test_match_v2_manifest_by_digest() -> None:
    assert match_v2(f"/v2/library/alpine/manifests/{DIGEST}") == Match("manifest", "library/alpine", DIGEST)


def test_match_v2_tags_list() -> None:
    assert match_v2("/v2/library/alpine/tags/list") == Match("tags", "library/alpine", "")


def test_match_v2_referrers() -> None:
    assert match_v2(f"/v2/library/alpine/referrers/{DIGEST}") == Match("referrers", "library/alpine", DIGEST)


def test_match_v2_deeply_nested_name() -> None:
    assert match_v2("/v2/a/b/c/d/manifests/v1") == Match("manifest", "a/b/c/d", "v1")


def test_match_v2_single_component_name_is_routed() -> None:
    assert match_v2("/v2/alpine/manifests/latest") == Match("manifest", "alpine", "latest")


def test_match_v2_blob_of_name_ending_in_blobs() -> None:
    assert match_v2(f"/v2/a/blobs/blobs/{DIGEST}") == Match("blob", "a/blobs", DIGEST)


def test_match_v2_manifest_of_name_ending_in_manifests() -> None:
    assert match_v2("/v2/x/manifests/manifests/latest") == Match("manifest", "x/manifests", "latest")


def test_match_v2_tags_of_name_ending_in_tags_list() -> None:
    assert match_v2("/v2/p/tags/list/tags/list") == Match("tags", "p/tags/list", "")


def test_match_v2_upload_of_name_ending_in_blobs_uploads() -> None:
    assert match_v2("/v2/a/blobs/uploads/blobs/uploads/") == Match("upload", "a/blobs/uploads", "")


def test_match_v2_blob_of_name_containing_blobs_uploads() -> None:
    assert match_v2(f"/v2/a/blobs/uploads/blobs/{DIGEST}") == Match("blob", "a/blobs/uploads", DIGEST)


def test_match_v2_referrers_of_name_containing_blobs() -> None:
    assert match_v2(f"/v2/a/blobs/referrers/{DIGEST}") == Match("referrers", "a/blobs", DIGEST)


def test_match_v2_manifest_of_name_containing_referrers() -> None:
    assert match_v2("/v2/a/referrers/b/manifests/v1") == Match("manifest", "a/referrers/b", "v1")


def test_match_v2_catalog_prefix_name_is_a_repository() -> None:
    assert match_v2("/v2/_catalog/x/tags/list") == Match("tags", "_catalog/x", "")


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/",
        "/v2x",
        "/v3/a/b/manifests/latest",
        "/v2/_catalog/",
        "/v2/a/b",
        "/v2/a/b/blobs/",
        "/v2/a/b/manifests/",
        "/v2/a/b/manifests/latest/extra",
        "/v2/a/b/tags/list/",
        "/v2/a/b/tags",
        "/v2/a/b/referrers/",
        "/v2/a/b/blobs/uploads/abc/def",
        "/v2/manifests/latest",
        "/v2//manifests/latest",
        "v2/a/b/manifests/latest",
    ],
)
def test_match_v2_unknown_shape_is_none(path: str) -> None:
    assert match_v2(path) is None


_segment = st.text(alphabet="abcz09._-", min_size=1, max_size=8)
_names = st.lists(
    st.one_of(_segment, st.sampled_from(["blobs", "uploads", "manifests", "tags", "list", "referrers"])),
    min_size=1,
    max_size=5,
).map("/".join)


@given(_names, _segment)
def test_match_v2_manifest_keeps_any_name(name: str, reference: str) -> None:
    assert match_v2(f"/v2/{name}/manifests/{reference}") == Match("manifest", name, reference)


@given(_names)
def test_match_v2_tags_keeps_any_name(name: str) -> None:
    assert match_v2(f"/v2/{name}/tags/list") == Match("tags", name, "")


@given(_names)
def test_match_v2_blob_keeps_any_name(name: str) -> None:
    assert match_v2(f"/v2/{name}/blobs/{DIGEST}") == Match("blob", name, DIGEST)


@given(st.text(max_size=80))
def test_match_v2_never_raises(path: str) -> None:
    result = match_v2(path)
    assert result is None or isinstance(result, Match)
