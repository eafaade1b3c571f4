"""Hostile layers: bombs, truncation, corrupt or oversized headers, huge sparse files.

Each case must end within a time and memory bound (tracemalloc peak < 64 MiB, < 5 s).
"""

from __future__ import annotations

import gzip
import io
import random
import tarfile
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
import zstandard

from portside.analysis import LayerAnalysis, LayerRejected, Limits

from .tarballs import (
    Entry,
    analyse,
    end_of_archive,
    file,
    layer,
    oversized_pax_header,
    packages_by_name,
    sparse_extension_chain,
    sparse_member,
    tar_bytes,
)

MiB = 1024 * 1024
MAX_SECONDS = 5.0
MAX_PEAK_BYTES = 64 * MiB
BOMB_BYTES = 512 * MiB
_Result = TypeVar("_Result")


def bounded(action: Callable[[], _Result]) -> _Result:
    """Run `action`, asserting it stays within the time and traced-memory bounds."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        return action()
    finally:
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < MAX_SECONDS, f"took {elapsed:.1f} s"
        assert peak < MAX_PEAK_BYTES, f"peak {peak / MiB:.1f} MiB"


def _zero_chunks(total: int) -> Iterator[bytes]:
    chunk = bytes(MiB)
    for _ in range(total // MiB):
        yield chunk


def _bomb_tar_prefix() -> bytes:
    info = tarfile.TarInfo("var/lib/dpkg/status")
    info.size = BOMB_BYTES
    return info.tobuf(format=tarfile.PAX_FORMAT)


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """A gzip layer of ~0.5 MiB holding one 512 MiB member of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(_bomb_tar_prefix())]
    parts.extend(compressor.compress(chunk) for chunk in _zero_chunks(BOMB_BYTES))
    parts.append(compressor.flush())
    return b"".join(parts)


@pytest.fixture(scope="module")
def zstd_bomb() -> bytes:
    output = io.BytesIO()
    with zstandard.ZstdCompressor(level=1).stream_writer(output, closefd=False) as writer:
        writer.write(_bomb_tar_prefix())
        for chunk in _zero_chunks(BOMB_BYTES):
            writer.write(chunk)
    return output.getvalue()


def test_a_gzip_bomb_stops_at_the_uncompressed_byte_limit(gzip_bomb: bytes) -> None:
    limits = Limits(max_total_bytes=32 * MiB)

    with pytest.raises(LayerRejected, match=f"more than {32 * MiB} bytes uncompressed"):
        bounded(lambda: analyse(gzip_bomb, limits=limits))


def test_a_zstd_bomb_stops_at_the_uncompressed_byte_limit(zstd_bomb: bytes) -> None:
    limits = Limits(max_total_bytes=32 * MiB)

    with pytest.raises(LayerRejected, match="bytes uncompressed"):
        bounded(lambda: analyse(zstd_bomb, limits=limits))


def test_a_layer_with_too_many_members_is_rejected() -> None:
    blob = layer(*(file(f"srv/{n}", b"") for n in range(1001)))

    with pytest.raises(LayerRejected, match="more than 1000 tar members"):
        bounded(lambda: analyse(blob, limits=Limits(max_members=1000)))


def test_exactly_the_member_limit_is_accepted() -> None:
    blob = layer(*(file(f"srv/{n}", b"") for n in range(1000)))

    assert isinstance(analyse(blob, limits=Limits(max_members=1000)), LayerAnalysis)


def test_a_truncated_gzip_layer_is_rejected_as_truncated() -> None:
    blob = layer(file("var/lib/dpkg/status", "Package: a\nVersion: 1\n" * 2000), file("srv/x", bytes(range(256)) * 400))

    with pytest.raises(LayerRejected, match="^truncated$"):
        bounded(lambda: analyse(blob[: len(blob) // 2]))


def test_a_plain_tar_cut_inside_a_member_is_rejected_as_truncated() -> None:
    blob = tar_bytes(file("srv/data", b"x" * 10_000))

    with pytest.raises(LayerRejected, match="^truncated$"):
        analyse(blob[:3000])


def test_a_plain_tar_cut_inside_a_header_is_rejected_as_truncated() -> None:
    blob = tar_bytes(file("srv/a", b"x" * 512), file("srv/b", b"y"))

    with pytest.raises(LayerRejected, match="^truncated$"):
        analyse(blob[:1024 + 100])


def test_a_corrupt_header_after_the_first_member_is_rejected() -> None:
    blob = bytearray(tar_bytes(file("srv/a", b"x" * 512), file("srv/b", b"y")))
    blob[1024 + 148:1024 + 156] = b"garbage!"  # the second header's checksum

    with pytest.raises(LayerRejected, match="corrupt tar header"):
        analyse(bytes(blob))


def test_bytes_that_are_not_a_tar_are_rejected() -> None:
    with pytest.raises(LayerRejected, match="corrupt tar header"):
        analyse(b"{\"schemaVersion\": 2}" * 100)


def test_corrupt_gzip_data_is_rejected() -> None:
    blob = bytearray(layer(file("srv/x", bytes(range(256)) * 400)))
    blob[20:60] = b"\xff" * 40

    with pytest.raises(LayerRejected):
        analyse(bytes(blob))


def test_a_pax_header_claiming_gigabytes_is_refused_before_it_is_read() -> None:
    blob = gzip.compress(oversized_pax_header(4 * 1024 * MiB) + end_of_archive())

    with pytest.raises(LayerRejected, match="extended header"):
        bounded(lambda: analyse(blob))


def test_a_4_gib_sparse_package_database_is_skipped_in_bounded_time_and_memory() -> None:
    blob = gzip.compress(sparse_member("var/lib/dpkg/status", b"Package: a\nVersion: 1\n", 4 * 1024 * MiB)
                         + end_of_archive())

    analysis = bounded(lambda: analyse(blob))

    assert [(s.path, s.packages) for s in analysis.sources] == [("var/lib/dpkg/status", ())]
    assert analysis.notes == ("var/lib/dpkg/status: 4294967296 bytes, over the 134217728-byte limit, skipped",)


def test_a_4_gib_sparse_executable_is_scanned_only_up_to_the_scan_limit() -> None:
    blob = gzip.compress(sparse_member("usr/bin/huge", b"\x7fELF", 4 * 1024 * MiB, mode=0o755) + end_of_archive())

    analysis = bounded(lambda: analyse(blob))

    assert analysis.sources == ()


def test_an_endless_sparse_extension_chain_is_rejected_in_bounded_memory() -> None:
    header, chain = sparse_extension_chain(2048)  # 1 MiB of chain, repeated 64 times below
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    blob = compressor.compress(header) + b"".join(compressor.compress(chain) for _ in range(64)) + compressor.flush()

    with pytest.raises(LayerRejected, match="tar headers of one member too large"):
        bounded(lambda: analyse(blob))


def test_a_sparse_extension_chain_cut_short_is_rejected_as_corrupt() -> None:
    header, chain = sparse_extension_chain(3)

    with pytest.raises(LayerRejected, match="corrupt tar header"):
        analyse(header + chain)


def test_a_truncated_zstd_layer_is_rejected_as_truncated() -> None:
    blob = layer(file("srv/data", random.Random(0).randbytes(200_000)), compression="zstd")

    with pytest.raises(LayerRejected, match="^truncated$"):
        analyse(blob[: len(blob) // 2])


def _without_padding_and_end_blocks(*entries: Entry) -> bytes:
    """The archive as Debian's umoci 0.4.7 writes it: cut right after the last member's data."""
    blob = tar_bytes(*entries)
    last = tarfile.open(fileobj=io.BytesIO(blob)).getmembers()[-1]
    return blob[:last.offset_data + last.size]


def test_a_layer_that_stops_right_after_its_last_files_data_is_read_whole() -> None:
    status = "Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10\n"
    payload = b"z" * 1001  # not a multiple of 512: the padding that umoci leaves out is 23 bytes
    blob = _without_padding_and_end_blocks(file("var/lib/dpkg/status", status),
                                           file("srv/last.bin", payload))
    assert len(blob) % 512 != 0
    assert packages_by_name(analyse(gzip.compress(blob)))["curl"][0] == "7.88.1-10"
    with pytest.raises(LayerRejected, match="^truncated$"):  # one byte of the data missing still is
        analyse(gzip.compress(blob[:-1]))
