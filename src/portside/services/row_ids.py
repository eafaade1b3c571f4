"""Row ids as callers may give them: positive integers that fit the tables' 32-bit id columns.

A larger number names no row, and must never reach the database driver: PostgreSQL's asyncpg
refuses integers beyond int32 and SQLite's beyond int64, either way an error, not an answer.
"""

from __future__ import annotations

MAX_ROW_ID = 2**31 - 1


def is_row_id(value: int) -> bool:
    """Whether `value` can be the id of a row (1 to 2^31 - 1)."""
    return 0 < value <= MAX_ROW_ID


def parse_row_id(text: str) -> int | None:
    """The row id `text` spells in ASCII digits, or None (not digits, zero, or out of range)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ROW_ID)):
        return None
    value = int(text)
    return value if is_row_id(value) else None
