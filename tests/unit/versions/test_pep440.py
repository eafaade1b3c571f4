"""PEP 440 ordering through `packaging`: pre, post, dev and local versions, epochs."""

from __future__ import annotations

import pytest

from portside.domain.versions.pep440 import sort_key


def test_release_order() -> None:
    chain = ["1.0.dev1", "1.0a1", "1.0a2.dev1", "1.0a2", "1.0b1", "1.0rc1", "1.0", "1.0+local", "1.0.post1", "1.1"]
    keys = [sort_key(version) for version in chain]
    assert keys == sorted(keys)


def test_trailing_zeros_are_ignored() -> None:
    assert sort_key("2.0") == sort_key("2.0.0")


def test_the_epoch_outranks_the_release() -> None:
    assert sort_key("1!0.1") > sort_key("2024.10")


def test_alternative_spellings_are_normalised() -> None:
    assert sort_key("1.0-RC1") == sort_key("1.0rc1")


def test_a_local_version_sorts_after_its_public_version() -> None:
    assert sort_key("1.26.5") < sort_key("1.26.5+ubuntu1") < sort_key("1.26.6")


@pytest.mark.parametrize("invalid", ["", "1.0-beta-x", "latest", "1..0"])
def test_invalid_versions_raise(invalid: str) -> None:
    with pytest.raises(ValueError, match="PEP 440"):
        sort_key(invalid)
