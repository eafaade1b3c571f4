"""apk installed databases."""

from __future__ import annotations

from portside.analysis.model import Notes
from portside.analysis.packages.apk import parse_installed

from .tarballs import analyse, file, layer

INSTALLED = """\
C:Q1abc=
P:libcrypto3
V:3.1.4-r5
A:x86_64
S:1716232
o:openssl
L:Apache-2.0
D:so:libc.musl-x86_64.so.1
F:lib
R:libcrypto.so.3
a:0:0:755
Z:Q1xyz=
F:usr/lib/engines-3
R:afalg.so

P:musl
V:1.2.4_git20230717-r4
A:x86_64
o:musl
L:MIT
F:lib
R:ld-musl-x86_64.so.1

P:alpine-baselayout-data
V:3.4.3-r2
A:x86_64
"""


def _parse(text: str) -> tuple[dict[str, tuple[str, str, str, tuple[str, ...]]], tuple[str, ...], tuple[str, ...]]:
    notes = Notes(10)
    result = parse_installed("lib/apk/db/installed", text.encode(), "", notes)
    packages = {p.name: (p.version, p.source_name, p.purl, p.licenses) for p in result.packages}
    return packages, result.owned_files, notes.as_tuple()


def test_packages_carry_their_origin_as_source() -> None:
    packages, _, _ = _parse(INSTALLED)

    assert packages == {
        "libcrypto3": ("3.1.4-r5", "openssl", "pkg:apk/libcrypto3@3.1.4-r5?arch=x86_64", ("Apache-2.0",)),
        "musl": ("1.2.4_git20230717-r4", "musl", "pkg:apk/musl@1.2.4_git20230717-r4?arch=x86_64", ("MIT",)),
        "alpine-baselayout-data": ("3.4.3-r2", "alpine-baselayout-data",
                                   "pkg:apk/alpine-baselayout-data@3.4.3-r2?arch=x86_64", ()),
    }


def test_f_and_r_lines_give_the_owned_files() -> None:
    _, owned, _ = _parse(INSTALLED)

    assert owned == ("lib/libcrypto.so.3", "usr/lib/engines-3/afalg.so", "lib/ld-musl-x86_64.so.1")


def test_a_malformed_record_is_skipped_with_a_note() -> None:
    packages, _, notes = _parse("P:good\nV:1-r0\n\nnot a field line\nP:bad\nV:2\n\nV:3-r0\n")

    assert (list(packages), notes) == (["good"], ("lib/apk/db/installed: record 2 is malformed, skipped",
                                                  "lib/apk/db/installed: record 3 is malformed, skipped"))


def test_the_usr_lib_location_is_read_too() -> None:
    analysis = analyse(layer(file("usr/lib/apk/db/installed", "P:busybox\nV:1.36.1-r15\no:busybox\n")))

    assert [(s.path, [p.name for p in s.packages]) for s in analysis.sources] == [
        ("usr/lib/apk/db/installed", ["busybox"])]
