"""dpkg status databases (full and distroless status.d) and the file lists of installed packages."""

from __future__ import annotations

from portside.analysis.model import Notes
from portside.analysis.packages.dpkg import parse_file_list, parse_status

from .tarballs import analyse, file, layer

STATUS = """\
Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation of the SSL
 .
 It contains the libraries.

Package: libgcc-s1
Status: install ok installed
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14
Conffiles:
 /etc/gcc.conf 0123456789abcdef

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b2

Package: ncurses-base
Status: deinstall ok config-files
Version: 6.4-4

Package: old-tool
Status: purge ok not-installed
Version: 1.0
"""


def _parse(text: str) -> tuple[dict[str, tuple[str, str, str, str]], tuple[str, ...]]:
    notes = Notes(10)
    result = parse_status("var/lib/dpkg/status", text.encode(), "sha256:l", notes)
    return {p.name: (p.version, p.source_name, p.source_version, p.purl) for p in result.packages}, notes.as_tuple()


def test_installed_packages_carry_their_source_package() -> None:
    packages, _ = _parse(STATUS)

    assert packages == {
        "libssl3": ("3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2", "pkg:deb/libssl3@3.0.11-1~deb12u2?arch=amd64"),
        "libgcc-s1": ("12.2.0-14", "gcc-12", "12.2.0-14", "pkg:deb/libgcc-s1@12.2.0-14?arch=amd64"),
        "bash": ("5.2.15-2+b2", "bash", "5.2.15-2+b2", "pkg:deb/bash@5.2.15-2%2Bb2?arch=amd64"),
    }


def test_a_source_field_with_its_own_version_gives_the_source_version() -> None:
    packages, _ = _parse("Package: libc-bin\nSource: glibc (2.36-9+deb12u4)\nVersion: 2.36-9+deb12u4+b1\n")

    assert packages["libc-bin"][1:3] == ("glibc", "2.36-9+deb12u4")


def test_an_epoch_becomes_a_purl_qualifier_and_stays_in_the_version() -> None:
    packages, _ = _parse("Package: zlib1g\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n")

    assert packages["zlib1g"] == ("1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1",
                                  "pkg:deb/zlib1g@1.2.13.dfsg-1?arch=amd64&epoch=1")


def test_removed_and_purged_packages_are_skipped() -> None:
    packages, _ = _parse(STATUS)

    assert {"ncurses-base", "old-tool"} & packages.keys() == set()


def test_a_malformed_paragraph_is_skipped_with_a_note_and_the_rest_kept() -> None:
    packages, notes = _parse("Package: good\nVersion: 1\n\nthis is not a field\nVersion: 2\n\nPackage: nover\n")

    assert (list(packages), notes) == (["good"], ("var/lib/dpkg/status: paragraph 2 is malformed, skipped",
                                                  "var/lib/dpkg/status: paragraph 3 is malformed, skipped"))


def test_binary_garbage_is_not_fatal() -> None:
    result = parse_status("var/lib/dpkg/status", bytes(range(256)) * 4, "", Notes(10))

    assert result.packages == ()


def test_a_list_file_gives_owned_paths_without_the_leading_slash() -> None:
    result = parse_file_list("var/lib/dpkg/info/python3-six.list", b"/.\n/usr\n/usr/lib/python3/dist-packages/six.py\n")

    assert result.owned_files == ("usr", "usr/lib/python3/dist-packages/six.py")


def test_an_md5sums_file_gives_owned_paths() -> None:
    result = parse_file_list("var/lib/dpkg/info/bash.md5sums",
                             b"d41d8cd98f00b204e9800998ecf8427e  bin/bash\n0123  usr/share/doc/bash/my file\nbroken\n")

    assert result.owned_files == ("bin/bash", "usr/share/doc/bash/my file")


def test_a_distroless_status_d_layout_is_read_file_by_file() -> None:
    analysis = analyse(layer(
        file("var/lib/dpkg/status.d/base-files", "Package: base-files\nArchitecture: amd64\nVersion: 12.4+deb12u5\n"),
        file("var/lib/dpkg/status.d/libc6", "Package: libc6\nSource: glibc\nVersion: 2.36-9+deb12u4\n"),
        file("var/lib/dpkg/status.d/libc6.md5sums", "abc  usr/lib/x86_64-linux-gnu/libc.so.6\n"),
    ))

    found = {s.path: ([(p.name, p.version, p.source_name) for p in s.packages], s.owned_files)
             for s in analysis.sources}
    assert found == {
        "var/lib/dpkg/status.d/base-files": ([("base-files", "12.4+deb12u5", "base-files")], ()),
        "var/lib/dpkg/status.d/libc6": ([("libc6", "2.36-9+deb12u4", "glibc")], ()),
        "var/lib/dpkg/status.d/libc6.md5sums": ([], ("usr/lib/x86_64-linux-gnu/libc.so.6",)),
    }
