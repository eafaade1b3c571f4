"""Go versions: modules, pseudo-versions, +incompatible, toolchain and stdlib names."""

from __future__ import annotations

import pytest

from portside.domain.versions.golang import normalise, sort_key


@pytest.mark.parametrize(("toolchain", "semver"), [
    ("go1.21rc3", "1.21.0-rc.3"),
    ("go1.21.1", "1.21.1"),
    ("go1.21", "1.21.0"),
    ("go1.9beta2", "1.9.0-beta.2"),
    ("go1.22.2 X:boringcrypto", "1.22.2"),
    ("1.21", "1.21.0"),
])
def test_toolchain_names_become_semver(toolchain: str, semver: str) -> None:
    assert normalise(toolchain) == semver


def test_a_release_candidate_sorts_between_the_dash_zero_floor_and_the_release() -> None:
    assert sort_key("1.21.0-0") < sort_key("go1.21rc3") < sort_key("1.21.0-rc.4") < sort_key("go1.21.0")


def test_pseudo_versions_order_by_timestamp() -> None:
    assert sort_key("v0.0.0-20220722155237-a158d28d115b") < sort_key("v0.0.0-20220906165146-f3363e06e74c")


def test_a_pseudo_version_sorts_before_the_release_it_precedes() -> None:
    pseudo = sort_key("v1.2.4-0.20191109021931-daa7c04131f5")
    assert sort_key("v1.2.3") < pseudo < sort_key("v1.2.4")


def test_incompatible_is_ignored() -> None:
    assert sort_key("v2.0.0+incompatible") == sort_key("2.0.0")


@pytest.mark.parametrize("invalid", ["(devel)", "", "v1.2", "devel go1.22-abcdef"])
def test_unversioned_builds_raise(invalid: str) -> None:
    with pytest.raises(ValueError, match="Go version"):
        sort_key(invalid)
