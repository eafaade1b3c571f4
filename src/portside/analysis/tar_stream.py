"""Iterate the members of an uncompressed tar stream once, with bounded memory, never seeking back.

`tarfile` does the header parsing (ustar, GNU, PAX, GNU sparse); this module adds what an
untrusted archive needs on top:

- a corrupt or cut-off header raises `LayerRejected` instead of silently ending the archive;
- PAX and GNU long-name headers larger than `MAX_HEADER_DATA_BYTES` are refused before
  tarfile reads them whole into memory;
- everything tarfile reads to parse one member's headers (including sparse maps, which it
  reads without any bound) is capped at `MAX_MEMBER_HEADER_BYTES`;
- errors tarfile's header parsers leak (IndexError on a cut-off sparse chain, …) become
  `LayerRejected`;
- the list of members tarfile accumulates in stream mode is emptied as we go.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from typing import Self

from portside.analysis.decompress import CountingReader, as_io
from portside.analysis.model import LayerRejected

#: Extended headers (PAX records, GNU long names) are read whole by tarfile; real ones are
#: a few hundred bytes.
MAX_HEADER_DATA_BYTES = 1024 * 1024
#: Header bytes tarfile may read for one member: a PAX record set and two long names at most.
MAX_MEMBER_HEADER_BYTES = 3 * MAX_HEADER_DATA_BYTES + 64 * 1024
_HEADER_DATA_TYPES = frozenset({tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE,
                                tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK})


class _GuardedTarInfo(tarfile.TarInfo):
    """A TarInfo whose header parsing rejects what tarfile would tolerate or over-read."""

    @classmethod
    def frombuf(cls, buf: bytes | bytearray, encoding: str, errors: str) -> Self:
        # tarfile ends the archive quietly on a short or invalid header after the first one;
        # for a layer that means a truncated or corrupt blob, which must not pass as complete.
        # An empty read (archive without end marker) and a zero block (end marker) stay the end.
        if 0 < len(buf) < tarfile.BLOCKSIZE:
            raise LayerRejected("truncated")
        if len(buf) == tarfile.BLOCKSIZE and buf.count(0) != tarfile.BLOCKSIZE:
            try:
                info = super().frombuf(buf, encoding, errors)
            except tarfile.HeaderError as error:
                raise LayerRejected(f"corrupt tar header: {error}") from None
            if info.type in _HEADER_DATA_TYPES and info.size > MAX_HEADER_DATA_BYTES:
                raise LayerRejected(f"tar extended header of {info.size} bytes")
            return info
        return super().frombuf(buf, encoding, errors)


class _StreamingTarFile(tarfile.TarFile):
    # Declared because the stubs omit it: in stream mode tarfile appends each header here.
    members: list[tarfile.TarInfo]


def _next_member(archive: _StreamingTarFile, stream: CountingReader) -> tarfile.TarInfo | None:
    """archive.next(), with the bytes it may read for headers bounded.

    next() first skips the previous member's unread data, then parses header blocks. What
    those blocks make tarfile read — PAX records, GNU long names, old-GNU sparse extension
    chains, PAX 1.0 sparse maps — it keeps in memory, and some of it (sparse maps) it reads
    without a bound of its own; so the stream gets a ceiling of the pending skip plus
    MAX_MEMBER_HEADER_BYTES for the duration of the call."""
    pending_skip = max(0, archive.offset - archive.fileobj.tell())
    stream.set_ceiling(pending_skip + MAX_MEMBER_HEADER_BYTES)
    try:
        return archive.next()
    except (IndexError, ValueError, OverflowError, KeyError) as error:
        # tarfile's sparse and PAX parsers index into blocks without checking their length.
        raise LayerRejected(f"corrupt tar header: {type(error).__name__}") from None
    finally:
        stream.set_ceiling(None)


def _ends_after_complete_member(error: tarfile.ReadError, previous: tarfile.TarInfo | None,
                                stream: CountingReader) -> bool:
    """Whether the archive just stops after the last member's complete data, without the
    padding to 512 bytes and the end-of-archive blocks. Debian's umoci 0.4.7 (`umoci insert`)
    writes layers like that; every byte of every file is there, so they are read as complete
    rather than rejected as truncated (a member cut short inside its data still is)."""
    if previous is None or "unexpected end" not in str(error):
        return False
    return stream.count >= previous.offset_data + (previous.size if previous.isreg() else 0)


def iterate_members(stream: CountingReader, max_members: int) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    """Yield `(archive, member)` for each member; read a member's data with
    `archive.extractfile(member)` before advancing (the stream cannot go back).

    Raises `LayerRejected` past `max_members` members, or when the archive is corrupt.
    """
    stream.set_ceiling(MAX_MEMBER_HEADER_BYTES)  # opening parses the first member's headers
    try:
        archive = _StreamingTarFile.open(fileobj=as_io(stream), mode="r|", tarinfo=_GuardedTarInfo)
    except tarfile.ReadError as error:
        if "empty file" in str(error):
            return  # a zero-byte layer holds nothing
        raise LayerRejected(f"not a tar archive: {error}") from None
    except (IndexError, ValueError, OverflowError, KeyError) as error:
        raise LayerRejected(f"corrupt tar header: {type(error).__name__}") from None
    finally:
        stream.set_ceiling(None)
    with archive:
        previous: tarfile.TarInfo | None = None
        for count in range(max_members + 1):
            try:
                member = _next_member(archive, stream)
            except tarfile.ReadError as error:
                if not _ends_after_complete_member(error, previous, stream):
                    raise
                return
            # Stream mode appends every header to `members`; one layer can have millions.
            archive.members.clear()
            if member is None:
                return
            if count == max_members:
                raise LayerRejected(f"more than {max_members} tar members")
            yield archive, member
            previous = member
