"""The key scheme: the only place that turns digests and write ids into keys.

    blobs/<algorithm>/<first two hex>/<hex>    committed blob (drivers that commit to it)
    uploads/<write_id>/data                    pending write (filesystem driver)
    uploads/<write_id>/tail.<parts>            buffered tail below the S3 part size, after <parts> parts
    objects/<write_id>                         blob committed in place (S3 multipart)
    exports/cve/<execution id>.csv             a CVE export (CSV)

Nothing outside `storage/` derives a key from a digest: the blob row records the
key a commit returned.
"""

from __future__ import annotations

import re

from portside.domain.digest import Digest

_WRITE_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def blob_key(digest: Digest) -> str:
    """The content-addressed key of a blob."""
    return f"blobs/{digest.algorithm}/{digest.hex[:2]}/{digest.hex}"


def check_write_id(write_id: str) -> str:
    """Return `write_id` if it is one of ours (32 hex digits); keys never hold client text."""
    if not _WRITE_ID_RE.fullmatch(write_id):
        raise ValueError(f"invalid write id {write_id!r}")
    return write_id


def upload_data_key(write_id: str) -> str:
    return f"uploads/{check_write_id(write_id)}/data"


def upload_tail_prefix(write_id: str) -> str:
    """The prefix of every tail object of one pending S3 write."""
    return f"uploads/{check_write_id(write_id)}/tail"


def upload_tail_key(write_id: str, parts: int) -> str:
    """The tail written after `parts` finished parts: a new key whenever a part completes, so
    the state recorded before a crashed append still finds its own tail."""
    return f"{upload_tail_prefix(write_id)}.{parts}"


def in_place_key(write_id: str) -> str:
    return f"objects/{check_write_id(write_id)}"


def export_key(execution_id: int) -> str:
    """The CSV of a CVE export execution (`exports/cve/<id>.csv`)."""
    if execution_id < 1:
        raise ValueError(f"invalid execution id {execution_id!r}")
    return f"exports/cve/{int(execution_id)}.csv"
