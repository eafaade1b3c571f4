"""The token signing key, shared by every server node through the database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.store import dialect
from portside.store.tables import signing_keys


async def find_current(conn: AsyncConnection) -> tuple[str, str] | None:
    """(kid, private key PEM) of the oldest key, or None before the first start."""
    row = (await conn.execute(select(signing_keys.c.kid, signing_keys.c.private_key_pem)
                              .order_by(signing_keys.c.id).limit(1))).first()
    return (row.kid, row.private_key_pem) if row else None


async def add(conn: AsyncConnection, kid: str, private_key_pem: str) -> None:
    await dialect.insert_ignore(conn, signing_keys, {"kid": kid, "private_key_pem": private_key_pem,
                                                     "created_at": utcnow()}, ["kid"])
