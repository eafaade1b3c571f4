"""rpmdb.sqlite: headers decoded from blobs built with the RPM header layout."""

from __future__ import annotations

from portside.analysis.model import Notes, SourceResult
from portside.analysis.packages import rpm
from portside.analysis.packages.rpm import parse_sqlite

from .tarballs import analyse, file, layer, rpm_header, rpmdb_sqlite

OPENSSL = rpm_header({rpm.NAME: "openssl-libs", rpm.VERSION: "3.0.7", rpm.RELEASE: "27.el9", rpm.EPOCH: [1],
                      rpm.ARCH: "x86_64", rpm.LICENSE: "ASL 2.0", rpm.VENDOR: "Rocky Enterprise Software Foundation",
                      rpm.SOURCERPM: "openssl-3.0.7-27.el9.src.rpm",
                      rpm.DIRNAMES: ["/usr/lib64/", "/etc/pki/tls/"], rpm.BASENAMES: ["libssl.so.3", "openssl.cnf"],
                      rpm.DIRINDEXES: [0, 1]})
BASH = rpm_header({rpm.NAME: "bash", rpm.VERSION: "5.1.8", rpm.RELEASE: "9.el9", rpm.ARCH: "x86_64",
                   rpm.SOURCERPM: "bash-5.1.8-9.el9.src.rpm"})
PUBKEY = rpm_header({rpm.NAME: "gpg-pubkey", rpm.VERSION: "350d275d", rpm.RELEASE: "6395ed5b"})


def _parse(data: bytes) -> tuple[SourceResult, tuple[str, ...]]:
    notes = Notes(10)
    return parse_sqlite("var/lib/rpm/rpmdb.sqlite", data, "", notes), notes.as_tuple()


def test_packages_are_read_with_epoch_release_and_source_rpm() -> None:
    result, _ = _parse(rpmdb_sqlite([OPENSSL, BASH]))

    assert [(p.name, p.version, p.source_name, p.source_version, p.purl, p.licenses) for p in result.packages] == [
        ("openssl-libs", "1:3.0.7-27.el9", "openssl", "1:3.0.7-27.el9",
         "pkg:rpm/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1", ("ASL 2.0",)),
        ("bash", "5.1.8-9.el9", "bash", "5.1.8-9.el9", "pkg:rpm/bash@5.1.8-9.el9?arch=x86_64", ()),
    ]


def test_owned_files_join_directory_names_and_base_names() -> None:
    result, _ = _parse(rpmdb_sqlite([OPENSSL]))

    assert result.owned_files == ("usr/lib64/libssl.so.3", "etc/pki/tls/openssl.cnf")


def test_gpg_pubkey_pseudo_packages_are_skipped() -> None:
    result, _ = _parse(rpmdb_sqlite([PUBKEY, BASH]))

    assert [p.name for p in result.packages] == ["bash"]


def test_a_malformed_header_is_skipped_with_a_note() -> None:
    truncated = OPENSSL[:40]
    out_of_range = rpm_header({rpm.NAME: "x", rpm.VERSION: "1", rpm.DIRNAMES: ["/a/"], rpm.BASENAMES: ["b"],
                               rpm.DIRINDEXES: [7]})

    result, notes = _parse(rpmdb_sqlite([truncated, out_of_range, BASH]))

    assert [p.name for p in result.packages] == ["bash"]
    assert notes == (
        "var/lib/rpm/rpmdb.sqlite: header 1 is malformed (index or data length out of bounds), skipped",
        "var/lib/rpm/rpmdb.sqlite: header 2 is malformed (directory index out of range), skipped",
    )


def test_a_file_that_is_not_sqlite_is_skipped_with_a_note() -> None:
    result, notes = _parse(b"this is not a database" * 100)

    assert result.packages == () and len(notes) == 1 and "not a readable rpm sqlite database" in notes[0]


def test_a_wal_mode_database_is_read() -> None:
    data = bytearray(rpmdb_sqlite([BASH]))
    data[18:20] = b"\x02\x02"

    result, _ = _parse(bytes(data))

    assert [p.name for p in result.packages] == ["bash"]


def test_the_database_is_found_in_a_layer() -> None:
    analysis = analyse(layer(file("usr/lib/sysimage/rpm/rpmdb.sqlite", rpmdb_sqlite([BASH]))))

    assert [(s.path, [p.name for p in s.packages]) for s in analysis.sources] == [
        ("usr/lib/sysimage/rpm/rpmdb.sqlite", ["bash"])]


def test_berkeley_db_packages_are_recognised_but_skipped_with_a_note() -> None:
    analysis = analyse(layer(file("var/lib/rpm/Packages", b"\0" * 4096)))

    assert analysis.notes == ("var/lib/rpm/Packages: Berkeley DB / NDB rpm databases are not supported, skipped",)
