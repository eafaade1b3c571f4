"""Reading one layer: compression by magic bytes, whiteouts, paths, links, the JSON form."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portside.analysis import ANALYZER_VERSION, LayerAnalysis, Limits

from .tarballs import DIGEST, analyse, directory, file, hardlink, layer, packages_by_name, symlink

STATUS = "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n"


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_gzip_zstd_and_plain_tar_layers_are_recognised_by_their_bytes(compression: str) -> None:
    analysis = analyse(layer(file("var/lib/dpkg/status", STATUS), compression=compression))

    assert packages_by_name(analysis) == {"zlib1g": ("1:1.2.13.dfsg-1", "var/lib/dpkg/status")}


def test_an_empty_blob_is_an_empty_layer() -> None:
    assert analyse(b"") == LayerAnalysis(digest=DIGEST)


def test_every_package_names_the_layer_it_was_read_from() -> None:
    analysis = analyse(layer(file("var/lib/dpkg/status", STATUS)), digest="sha256:" + "b" * 64)

    assert [p.layer for s in analysis.sources for p in s.packages] == ["sha256:" + "b" * 64]


def test_whiteout_entries_are_recorded_as_the_paths_they_hide() -> None:
    analysis = analyse(layer(file("usr/lib/python3/site-packages/.wh.six-1.16.0.dist-info", b""),
                             file(".wh.app", b"")))

    assert analysis.whiteouts == ("usr/lib/python3/site-packages/six-1.16.0.dist-info", "app")


def test_an_opaque_marker_records_its_directory() -> None:
    analysis = analyse(layer(directory("usr/lib/node_modules"), file("usr/lib/node_modules/.wh..wh..opq", b"")))

    assert (analysis.opaque_dirs, analysis.whiteouts) == (("usr/lib/node_modules",), ())


def test_an_absolute_entry_is_read_relative_to_the_image_root() -> None:
    analysis = analyse(layer(file("/etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")))

    assert analysis.os_files == {"etc/os-release": {"ID": "alpine", "VERSION_ID": "3.19.1"}}


def test_a_leading_dot_slash_is_dropped() -> None:
    analysis = analyse(layer(file("./var/lib/dpkg/status", STATUS)))

    assert [s.path for s in analysis.sources] == ["var/lib/dpkg/status"]


def test_a_traversal_entry_is_ignored_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blob = layer(file("../../etc/os-release", "ID=evil\nVERSION_ID=1\n"),
                 file("a/../../../var/lib/dpkg/status", STATUS),
                 file("../../" + str(tmp_path / "escaped").lstrip("/"), b"x"))

    analysis = analyse(blob)

    assert (analysis.os_files, analysis.sources, os.listdir(tmp_path)) == ({}, (), [])
    assert len(analysis.notes) == 3 and all("outside the image root" in n for n in analysis.notes)


def test_symlinks_and_hard_links_are_never_followed() -> None:
    analysis = analyse(layer(symlink("etc/os-release", "/etc/os-release"),
                             hardlink("var/lib/dpkg/status", "../../../../etc/passwd"),
                             symlink("loop/a", "b"), symlink("loop/b", "a"),
                             symlink("usr/lib/os-release", "../../usr/lib/os-release")))

    assert (analysis.os_files, analysis.sources) == ({}, ())


def test_a_later_entry_for_the_same_path_wins_within_a_layer() -> None:
    analysis = analyse(layer(file("etc/os-release", "ID=debian\nVERSION_ID=11\n"),
                             file("etc/os-release", "ID=debian\nVERSION_ID=12\n")))

    assert analysis.os_files["etc/os-release"]["VERSION_ID"] == "12"


def test_a_file_over_its_limit_is_skipped_with_a_note_but_still_claims_its_path() -> None:
    analysis = analyse(layer(file("var/lib/dpkg/status", STATUS)), limits=Limits(max_database_bytes=16))

    assert [(s.path, s.packages) for s in analysis.sources] == [("var/lib/dpkg/status", ())]
    assert analysis.notes == (f"var/lib/dpkg/status: {len(STATUS)} bytes, over the 16-byte limit, skipped",)


def test_the_analysis_round_trips_through_json() -> None:
    analysis = analyse(layer(file("var/lib/dpkg/status", STATUS), file("etc/os-release", "ID=debian\n"),
                             file("opt/.wh.old", b""), file("srv/.wh..wh..opq", b"")))

    assert LayerAnalysis.from_json(analysis.to_json()) == analysis
    assert analysis.to_json()["analyzer_version"] == ANALYZER_VERSION


def test_a_parser_failing_unexpectedly_costs_only_that_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_: object) -> None:
        raise IndexError("unforeseen")

    monkeypatch.setattr("portside.analysis.packages.npm.parse_package_json", explode)

    analysis = analyse(layer(file("app/package.json", "{}"), file("var/lib/dpkg/status", STATUS)))

    found = [(s.path, len(s.packages)) for s in analysis.sources]
    assert found == [("app/package.json", 0), ("var/lib/dpkg/status", 1)]
    assert analysis.notes == ("app/package.json: could not be parsed (IndexError: unforeseen), skipped",)
