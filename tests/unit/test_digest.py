"""Unit tests for portside.domain.digest."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portside.domain.digest import HEX_LENGTHS, Digest, is_digest, parse_digest
from portside.domain.errors import DigestInvalid

SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
HEX = "0123456789abcdef"
CANONICAL_RE = re.compile(r"(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})")


def hex_string(length: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=HEX, min_size=length, max_size=length)


valid_digests = st.one_of(
    hex_string(64).map(lambda h: f"sha256:{h}"),
    hex_string(128).map(lambda h: f"sha512:{h}"),
)


def test_parse_digest_accepts_sha256() -> None:
    digest = parse_digest(f"sha256:{SHA256_EMPTY}")
    assert digest == Digest("sha256", SHA256_EMPTY)


def test_parse_digest_accepts_sha512() -> None:
    encoded = "ab" * 64
    assert parse_digest(f"sha512:{encoded}") == Digest("sha512", encoded)


def test_parse_digest_rejects_uppercase_hex() -> None:
    with pytest.raises(DigestInvalid, match="lowercase hex"):
        parse_digest(f"sha256:{SHA256_EMPTY.upper()}")


def test_parse_digest_rejects_uppercase_algorithm() -> None:
    with pytest.raises(DigestInvalid):
        parse_digest(f"SHA256:{SHA256_EMPTY}")


def test_parse_digest_rejects_short_sha256() -> None:
    with pytest.raises(DigestInvalid, match="64"):
        parse_digest(f"sha256:{SHA256_EMPTY[:-1]}")


def test_parse_digest_rejects_long_sha256() -> None:
    with pytest.raises(DigestInvalid, match="64"):
        parse_digest(f"sha256:{SHA256_EMPTY}0")


def test_parse_digest_rejects_sha512_with_sha256_length() -> None:
    with pytest.raises(DigestInvalid, match="128"):
        parse_digest(f"sha512:{SHA256_EMPTY}")


def test_parse_digest_rejects_unknown_algorithm() -> None:
    with pytest.raises(DigestInvalid, match="unsupported digest algorithm 'md5'"):
        parse_digest("md5:d41d8cd98f00b204e9800998ecf8427e")


def test_parse_digest_rejects_non_hex_characters() -> None:
    with pytest.raises(DigestInvalid):
        parse_digest("sha256:" + "g" * 64)


def test_parse_digest_rejects_missing_separator() -> None:
    with pytest.raises(DigestInvalid, match="expected algorithm:hex"):
        parse_digest(f"sha256{SHA256_EMPTY}")


def test_parse_digest_rejects_empty_string() -> None:
    with pytest.raises(DigestInvalid):
        parse_digest("")


def test_parse_digest_rejects_empty_encoded_part() -> None:
    with pytest.raises(DigestInvalid):
        parse_digest("sha256:")


def test_parse_digest_rejects_trailing_newline() -> None:
    with pytest.raises(DigestInvalid):
        parse_digest(f"sha256:{SHA256_EMPTY}\n")


def test_parse_digest_rejects_surrounding_whitespace() -> None:
    with pytest.raises(DigestInvalid):
        parse_digest(f" sha256:{SHA256_EMPTY}")


def test_digest_invalid_has_oci_code_and_status() -> None:
    with pytest.raises(DigestInvalid) as caught:
        parse_digest("nope")
    assert (caught.value.code, caught.value.status) == ("DIGEST_INVALID", 400)


def test_hex_lengths_are_sha256_and_sha512_only() -> None:
    assert HEX_LENGTHS == {"sha256": 64, "sha512": 128}


def test_digest_str_is_algorithm_colon_hex() -> None:
    assert str(Digest("sha256", SHA256_EMPTY)) == f"sha256:{SHA256_EMPTY}"


def test_digest_of_empty_bytes_is_known_sha256() -> None:
    assert Digest.of(b"") == Digest("sha256", SHA256_EMPTY)


def test_digest_of_sha512_matches_hashlib() -> None:
    assert Digest.of(b"abc", "sha512") == Digest("sha512", hashlib.sha512(b"abc").hexdigest())


def test_new_hasher_uses_digest_algorithm() -> None:
    hasher = Digest("sha512", "0" * 128).new_hasher()
    hasher.update(b"abc")
    assert hasher.hexdigest() == hashlib.sha512(b"abc").hexdigest()


def test_is_digest_true_for_algorithm_colon_hex() -> None:
    assert is_digest(f"sha256:{SHA256_EMPTY}") is True


def test_is_digest_false_for_tag() -> None:
    assert is_digest("v1.2.3") is False


@given(valid_digests)
def test_parse_digest_round_trips_valid_digests(value: str) -> None:
    assert str(parse_digest(value)) == value


@given(st.binary(max_size=64))
def test_parse_digest_accepts_digest_of_any_bytes(data: bytes) -> None:
    value = f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert parse_digest(value) == Digest.of(data)


@given(st.sampled_from(["sha256", "sha512"]), st.integers(min_value=0, max_value=200))
def test_parse_digest_rejects_every_wrong_length(algorithm: str, length: int) -> None:
    if length == HEX_LENGTHS[algorithm]:
        return
    with pytest.raises(DigestInvalid):
        parse_digest(f"{algorithm}:{'a' * length}")


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12), hex_string(64))
def test_parse_digest_rejects_algorithms_other_than_sha256_and_sha512(algorithm: str, encoded: str) -> None:
    if algorithm in HEX_LENGTHS:
        return
    with pytest.raises(DigestInvalid):
        parse_digest(f"{algorithm}:{encoded}")


@given(st.one_of(st.text(), st.text(alphabet="sha256:0123456789abcdefABCDEF+._-=\n ")))
def test_parse_digest_either_returns_canonical_digest_or_raises_digest_invalid(value: str) -> None:
    try:
        digest = parse_digest(value)
    except DigestInvalid:
        return
    assert CANONICAL_RE.fullmatch(value)
    assert str(digest) == value
