"""Go build information: hand-built blobs in the Go ≥1.18 inline layout, and a real `go build`."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from portside.analysis.model import Notes
from portside.analysis.packages.gobinary import find_build_info, parse_executable, stdlib_version

from .tarballs import analyse, file, go_build_info_blob, layer

MODULE_INFO = (
    "path\tgithub.com/acme/server/cmd/server\n"
    "mod\tgithub.com/acme/server\tv1.3.0\th1:abc=\n"
    "dep\tgolang.org/x/net\tv0.16.0\th1:def=\n"
    "dep\tgolang.org/x/text\tv0.13.0\th1:ghi=\n"
    "=>\tgolang.org/x/text\tv0.14.0\th1:jkl=\n"
    "dep\tgithub.com/acme/lib\tv0.0.0-00010101000000-000000000000\n"
    "=>\t../lib\t\n"
    "build\t-compiler=gc\n"
    "build\tGOOS=linux\n"
)


def _packages(blob: bytes) -> list[tuple[str, str]]:
    result = parse_executable("usr/bin/server", io.BytesIO(blob).read, len(blob), "", Notes(10))
    assert result is not None
    return [(p.name, p.version) for p in result.packages]


def test_main_module_dependencies_replacements_and_stdlib_are_read() -> None:
    assert _packages(go_build_info_blob("go1.21.3", MODULE_INFO)) == [
        ("github.com/acme/server", "v1.3.0"),
        ("golang.org/x/net", "v0.16.0"),
        ("golang.org/x/text", "v0.14.0"),
        ("github.com/acme/lib", "(devel)"),
        ("stdlib", "v1.21.3"),
    ]


def test_a_devel_main_module_takes_its_version_from_ldflags() -> None:
    info = 'mod\texample.com/tool\t(devel)\t\nbuild\t-ldflags="-s -w -X main.version=2.4.1"\n'

    assert _packages(go_build_info_blob("go1.22.0", info))[0] == ("example.com/tool", "v2.4.1")


def test_a_devel_main_module_without_ldflags_stays_devel() -> None:
    assert _packages(go_build_info_blob("go1.22.0", "mod\texample.com/tool\t(devel)\t\n"))[0] == (
        "example.com/tool", "(devel)")


def test_a_binary_without_module_info_reports_only_stdlib() -> None:
    assert _packages(go_build_info_blob("go1.20.10", "")) == [("stdlib", "v1.20.10")]


@pytest.mark.parametrize(("go_version", "expected"), [
    ("go1.21.3", "v1.21.3"), ("go1.21", "v1.21.0"), ("go1.21rc3", "v1.21.0-rc.3"),
    ("go1.21.1 X:boringcrypto", "v1.21.1"), ("devel go1.23-abcdef", None),
])
def test_the_stdlib_version_follows_the_toolchain(go_version: str, expected: str | None) -> None:
    assert stdlib_version(go_version) == expected


def test_the_magic_at_an_unaligned_offset_is_not_build_info() -> None:
    blob = go_build_info_blob("go1.21.3", MODULE_INFO, offset=4096 + 8)

    assert find_build_info(io.BytesIO(blob).read, len(blob)) is None


def test_build_info_straddling_a_read_chunk_is_found() -> None:
    blob = go_build_info_blob("go1.21.3", MODULE_INFO, offset=1024 * 1024 - 16)

    info = find_build_info(io.BytesIO(blob).read, len(blob))

    assert info is not None and info.go_version == "go1.21.3"


def test_build_info_past_the_scan_limit_is_not_found() -> None:
    blob = go_build_info_blob("go1.21.3", MODULE_INFO, offset=2 * 1024 * 1024)

    assert find_build_info(io.BytesIO(blob).read, 1024 * 1024) is None


def test_a_pre_1_18_binary_is_skipped_with_a_note() -> None:
    blob = go_build_info_blob("go1.16", MODULE_INFO, flags=0x0)
    notes = Notes(10)

    assert parse_executable("usr/bin/old", io.BytesIO(blob).read, len(blob), "", notes) is None
    assert notes.as_tuple() == ("usr/bin/old: pre-Go 1.18 build info (pointer format), skipped",)


def test_a_non_elf_executable_is_not_scanned() -> None:
    blob = b"#!/bin/sh\n" + go_build_info_blob("go1.21.3", MODULE_INFO)

    assert find_build_info(io.BytesIO(blob).read, len(blob)) is None


def test_only_executable_files_in_a_layer_are_scanned() -> None:
    blob = go_build_info_blob("go1.21.3", MODULE_INFO)

    analysis = analyse(layer(file("usr/bin/server", blob, mode=0o755), file("srv/server.bak", blob, mode=0o644)))

    assert [s.path for s in analysis.sources] == ["usr/bin/server"]


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        message = "no Go toolchain (apt-get install golang-go): the test on a real Go binary did NOT run"
        warnings.warn(message, stacklevel=2)
        pytest.skip(message)
    return go


def test_a_binary_built_with_go_build_is_read(tmp_path: Path) -> None:
    go = _go()
    (tmp_path / "dep").mkdir()
    (tmp_path / "go.mod").write_text("module example.com/hello\n\ngo 1.18\n\nrequire example.com/dep v1.2.3\n\n"
                                     "replace example.com/dep => ./dep\n")
    (tmp_path / "main.go").write_text('package main\n\nimport (\n\t"fmt"\n\t"example.com/dep"\n)\n\n'
                                      'var version = "dev"\n\nfunc main() { fmt.Println(dep.Name(), version) }\n')
    (tmp_path / "dep" / "go.mod").write_text("module example.com/dep\n\ngo 1.18\n")
    (tmp_path / "dep" / "dep.go").write_text('package dep\n\nfunc Name() string { return "dep" }\n')
    environment = {**os.environ, "GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    subprocess.run([go, "build", "-buildvcs=false", "-ldflags", "-X main.version=1.4.2", "-o", "hello", "."],
                   cwd=tmp_path, env=environment, check=True, timeout=300, capture_output=True)
    toolchain = subprocess.run([go, "env", "GOVERSION"], env=environment, check=True, capture_output=True,
                               text=True, timeout=60).stdout.strip()

    analysis = analyse(layer(file("usr/local/bin/hello", (tmp_path / "hello").read_bytes(), mode=0o755)))

    assert [(p.name, p.version) for s in analysis.sources for p in s.packages] == [
        ("example.com/hello", "v1.4.2"),
        ("example.com/dep", "(devel)"),
        ("stdlib", stdlib_version(toolchain)),
    ]
