"""OS identification: os-release parsing and the fallbacks."""

from __future__ import annotations

from portside.analysis.osrelease import detect_os, parse_os_file, parse_os_release
from portside.domain.inventory import OSInfo

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'


def test_os_release_values_are_unquoted() -> None:
    assert parse_os_release(DEBIAN + "# comment\nHOME_URL='https://x'\n") == {
        "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "NAME": "Debian GNU/Linux", "VERSION_ID": "12", "ID": "debian"}


def test_an_unbalanced_quote_keeps_the_text() -> None:
    assert parse_os_release('ID="alpine\nVERSION_ID=3.19.1\n') == {"ID": "alpine", "VERSION_ID": "3.19.1"}


def test_etc_os_release_wins_over_usr_lib_os_release() -> None:
    os_files = {"usr/lib/os-release": {"ID": "debian", "VERSION_ID": "11"},
                "etc/os-release": {"ID": "ubuntu", "VERSION_ID": "22.04", "PRETTY_NAME": "Ubuntu 22.04.4 LTS"}}

    assert detect_os(os_files) == OSInfo("ubuntu", "22.04", "Ubuntu 22.04.4 LTS")


def test_usr_lib_os_release_is_used_when_etc_has_none() -> None:
    assert detect_os({"usr/lib/os-release": {"ID": "fedora", "VERSION_ID": "40"}}) == OSInfo("fedora", "40")


def test_debian_version_is_the_fallback_without_os_release() -> None:
    os_files = {"etc/debian_version": parse_os_file("etc/debian_version", b"12.5\n")}

    assert detect_os(os_files) == OSInfo("debian", "12.5")


def test_alpine_release_is_the_fallback_without_os_release() -> None:
    os_files = {"etc/alpine-release": parse_os_file("etc/alpine-release", b"3.19.1\n")}

    assert detect_os(os_files) == OSInfo("alpine", "3.19.1")


def test_an_os_release_without_version_takes_it_from_the_version_file() -> None:
    os_files = {"etc/os-release": {"ID": "debian", "PRETTY_NAME": "Debian GNU/Linux trixie/sid"},
                "etc/debian_version": {"VERSION_ID": "trixie/sid"}}

    assert detect_os(os_files) == OSInfo("debian", "trixie/sid", "Debian GNU/Linux trixie/sid")


def test_nothing_identifies_a_scratch_image() -> None:
    assert detect_os({}) is None
