"""Unit tests for portside.storage.layout: the storage key scheme."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portside.domain.digest import Digest
from portside.storage.layout import (
    blob_key,
    check_write_id,
    in_place_key,
    upload_data_key,
    upload_tail_key,
    upload_tail_prefix,
)

WRITE_ID = "0123456789abcdef0123456789abcdef"


def test_blob_key_for_sha256() -> None:
    digest = Digest("sha256", "ab" + "c" * 62)
    assert blob_key(digest) == f"blobs/sha256/ab/ab{'c' * 62}"


def test_blob_key_for_sha512() -> None:
    digest = Digest("sha512", "9f" + "0" * 126)
    assert blob_key(digest) == f"blobs/sha512/9f/9f{'0' * 126}"


def test_upload_data_key() -> None:
    assert upload_data_key(WRITE_ID) == f"uploads/{WRITE_ID}/data"


def test_upload_tail_key() -> None:
    assert upload_tail_key(WRITE_ID, 3) == f"uploads/{WRITE_ID}/tail.3"


def test_in_place_key() -> None:
    assert in_place_key(WRITE_ID) == f"objects/{WRITE_ID}"


def test_check_write_id_returns_valid_id() -> None:
    assert check_write_id(WRITE_ID) == WRITE_ID


@given(st.uuids())
def test_check_write_id_accepts_uuid_hex(value: uuid.UUID) -> None:
    assert check_write_id(value.hex) == value.hex


@pytest.mark.parametrize(
    "write_id",
    [
        "",
        WRITE_ID[:-1],
        WRITE_ID + "0",
        WRITE_ID.upper(),
        "g" * 32,
        "../" + WRITE_ID[3:],
        str(uuid.UUID(WRITE_ID)),
        WRITE_ID + "\n",
        f"{WRITE_ID[:16]}/{WRITE_ID[17:]}",
    ],
)
def test_check_write_id_rejects_invalid_ids(write_id: str) -> None:
    with pytest.raises(ValueError, match="invalid write id"):
        check_write_id(write_id)


@pytest.mark.parametrize("key_function", [upload_data_key, upload_tail_prefix, in_place_key])
def test_key_functions_reject_path_traversal(key_function) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        key_function("../../etc/passwd")


@given(st.text(max_size=40))
def test_check_write_id_accepts_only_32_lowercase_hex(value: str) -> None:
    try:
        result = check_write_id(value)
    except ValueError:
        return
    assert len(result) == 32
    assert set(result) <= set("0123456789abcdef")
