"""Unit tests for portside.domain.reference: repository names, tags and references."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portside.domain.digest import Digest
from portside.domain.errors import DigestInvalid, NameInvalid, TagInvalid
from portside.domain.reference import (
    MAX_NAME_LENGTH,
    RepositoryName,
    parse_reference,
    parse_repository_name,
    validate_tag,
)

# The OCI distribution spec grammar, written independently of the module under test.
_SPEC_COMPONENT = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
SPEC_NAME_RE = re.compile(rf"{_SPEC_COMPONENT}(/{_SPEC_COMPONENT})*")
SPEC_TAG_RE = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

_alnum = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)
_separator = st.one_of(st.just("."), st.just("_"), st.just("__"), st.integers(1, 3).map(lambda n: "-" * n))
_component = st.builds(
    lambda first, rest: first + "".join(sep + part for sep, part in rest),
    _alnum,
    st.lists(st.tuples(_separator, _alnum), max_size=3),
)
valid_names = st.lists(_component, min_size=2, max_size=5).map("/".join).filter(
    lambda name: len(name) <= MAX_NAME_LENGTH
)
valid_tags = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("abcXYZ019_"),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", max_size=127),
)


@given(valid_names)
def test_parse_repository_name_accepts_names_from_the_spec_grammar(name: str) -> None:
    assert parse_repository_name(name) == RepositoryName(name)


@given(valid_names)
def test_repository_name_project_is_first_component(name: str) -> None:
    assert parse_repository_name(name).project == name.split("/")[0]


@given(st.one_of(st.text(max_size=300), st.text(alphabet="ab9/._-_A\n ", max_size=40)))
def test_parse_repository_name_returns_spec_name_or_raises_name_invalid(value: str) -> None:
    try:
        name = parse_repository_name(value)
    except NameInvalid:
        return
    assert SPEC_NAME_RE.fullmatch(value)
    assert "/" in value
    assert len(value) <= MAX_NAME_LENGTH
    assert name.value == value


def test_repository_name_str_is_its_value() -> None:
    assert str(parse_repository_name("library/alpine")) == "library/alpine"


def test_repository_name_project_of_nested_name() -> None:
    assert parse_repository_name("team/sub/app").project == "team"


def test_parse_repository_name_rejects_single_component() -> None:
    with pytest.raises(NameInvalid, match="no project"):
        parse_repository_name("alpine")


def test_parse_repository_name_rejects_uppercase() -> None:
    with pytest.raises(NameInvalid):
        parse_repository_name("Library/alpine")


def test_parse_repository_name_rejects_empty_string() -> None:
    with pytest.raises(NameInvalid):
        parse_repository_name("")


def test_parse_repository_name_rejects_leading_slash() -> None:
    with pytest.raises(NameInvalid):
        parse_repository_name("/library/alpine")


def test_parse_repository_name_rejects_trailing_slash() -> None:
    with pytest.raises(NameInvalid):
        parse_repository_name("library/alpine/")


def test_parse_repository_name_rejects_empty_component() -> None:
    with pytest.raises(NameInvalid):
        parse_repository_name("library//alpine")


def test_parse_repository_name_rejects_component_starting_with_separator() -> None:
    with pytest.raises(NameInvalid):
        parse_repository_name("library/-alpine")


def test_parse_repository_name_rejects_component_ending_with_separator() -> None:
    with pytest.raises(NameInvalid):
        parse_repository_name("library/alpine.")


def test_parse_repository_name_rejects_triple_underscore() -> None:
    with pytest.raises(NameInvalid):
        parse_repository_name("library/a___b")


def test_parse_repository_name_accepts_double_underscore() -> None:
    assert parse_repository_name("library/a__b").value == "library/a__b"


def test_parse_repository_name_accepts_repeated_dashes() -> None:
    assert parse_repository_name("library/a---b").value == "library/a---b"


def test_parse_repository_name_rejects_mixed_separators() -> None:
    with pytest.raises(NameInvalid):
        parse_repository_name("library/a.-b")


def test_parse_repository_name_rejects_trailing_newline() -> None:
    with pytest.raises(NameInvalid):
        parse_repository_name("library/alpine\n")


def test_parse_repository_name_accepts_maximum_length() -> None:
    name = "p/" + "a" * (MAX_NAME_LENGTH - 2)
    assert parse_repository_name(name).value == name


def test_parse_repository_name_rejects_one_over_maximum_length() -> None:
    with pytest.raises(NameInvalid, match="longer than 255"):
        parse_repository_name("p/" + "a" * (MAX_NAME_LENGTH - 1))


def test_name_invalid_has_oci_code_and_status() -> None:
    with pytest.raises(NameInvalid) as caught:
        parse_repository_name("UPPER/case")
    assert (caught.value.code, caught.value.status) == ("NAME_INVALID", 400)


@given(valid_tags)
def test_validate_tag_accepts_tags_from_the_spec_grammar(tag: str) -> None:
    assert validate_tag(tag) == tag


@given(st.one_of(st.text(max_size=200), st.text(alphabet="aZ9._-:\n ", max_size=20)))
def test_validate_tag_returns_spec_tag_or_raises_tag_invalid(value: str) -> None:
    try:
        tag = validate_tag(value)
    except TagInvalid:
        return
    assert SPEC_TAG_RE.fullmatch(value)
    assert tag == value


def test_validate_tag_accepts_128_characters() -> None:
    assert validate_tag("a" * 128) == "a" * 128


def test_validate_tag_rejects_129_characters() -> None:
    with pytest.raises(TagInvalid):
        validate_tag("a" * 129)


def test_validate_tag_accepts_leading_underscore() -> None:
    assert validate_tag("_latest") == "_latest"


def test_validate_tag_rejects_leading_dot() -> None:
    with pytest.raises(TagInvalid):
        validate_tag(".latest")


def test_validate_tag_rejects_leading_dash() -> None:
    with pytest.raises(TagInvalid):
        validate_tag("-latest")


def test_validate_tag_rejects_empty_string() -> None:
    with pytest.raises(TagInvalid):
        validate_tag("")


def test_validate_tag_rejects_slash() -> None:
    with pytest.raises(TagInvalid):
        validate_tag("v1/2")


def test_validate_tag_rejects_trailing_newline() -> None:
    with pytest.raises(TagInvalid):
        validate_tag("latest\n")


def test_tag_invalid_uses_manifest_invalid_code() -> None:
    with pytest.raises(TagInvalid) as caught:
        validate_tag("-x")
    assert (caught.value.code, caught.value.status) == ("MANIFEST_INVALID", 400)


def test_parse_reference_returns_digest_for_digest() -> None:
    assert parse_reference(f"sha256:{SHA256}") == Digest("sha256", SHA256)


def test_parse_reference_returns_tag_for_tag() -> None:
    assert parse_reference("v1.0") == "v1.0"


def test_parse_reference_rejects_malformed_digest_with_digest_invalid() -> None:
    with pytest.raises(DigestInvalid):
        parse_reference("sha256:abc")


def test_parse_reference_rejects_invalid_tag_with_tag_invalid() -> None:
    with pytest.raises(TagInvalid):
        parse_reference("-v1")
