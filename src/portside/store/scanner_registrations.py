"""Scanner registrations (Harbor's `ScannerRegistration`) and per-project scanner choices.

The built-in scanner's row (url "builtin:") is created by `store.scans.ensure_builtin_registration`;
this module reads and changes every row. At most one row is the default: `set_default` clears
the flag everywhere else in the same statement pair, inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.store import dialect
from portside.store.tables import project_scanners, scanner_registrations


@dataclass(frozen=True, slots=True)
class Registration:
    id: int
    uuid: str
    name: str
    description: str
    url: str
    auth: str
    access_credential: str
    skip_cert_verify: bool
    use_internal_addr: bool
    disabled: bool
    is_default: bool
    created_at: datetime
    updated_at: datetime


def _registration(row: Any) -> Registration:
    return Registration(id=row.id, uuid=row.uuid, name=row.name, description=row.description, url=row.url,
                        auth=row.auth, access_credential=row.access_credential,
                        skip_cert_verify=row.skip_cert_verify, use_internal_addr=row.use_internal_addr,
                        disabled=row.disabled, is_default=row.is_default, created_at=row.created_at,
                        updated_at=row.updated_at)


#: Harbor's sortable registration fields -> columns.
SORT_COLUMNS = {"name": scanner_registrations.c.name, "url": scanner_registrations.c.url,
                "create_time": scanner_registrations.c.created_at,
                "update_time": scanner_registrations.c.updated_at}


async def find_by_uuid(conn: AsyncConnection, uuid: str) -> Registration | None:
    row = (await conn.execute(select(scanner_registrations).where(scanner_registrations.c.uuid == uuid))).first()
    return _registration(row) if row else None


async def find_by_id(conn: AsyncConnection, registration_id: int) -> Registration | None:
    query = select(scanner_registrations).where(scanner_registrations.c.id == registration_id)
    row = (await conn.execute(query)).first()
    return _registration(row) if row else None


async def find_by_name(conn: AsyncConnection, name: str) -> Registration | None:
    row = (await conn.execute(select(scanner_registrations).where(scanner_registrations.c.name == name))).first()
    return _registration(row) if row else None


async def find_default(conn: AsyncConnection) -> Registration | None:
    query = select(scanner_registrations).where(scanner_registrations.c.is_default.is_(True)).limit(1)
    row = (await conn.execute(query)).first()
    return _registration(row) if row else None


async def list_registrations(conn: AsyncConnection, *, name: str | None = None, name_like: str | None = None,
                             url: str | None = None, enabled_only: bool = False, order: list[Any] | None = None,
                             offset: int = 0, limit: int = 100) -> tuple[list[Registration], int]:
    """A page of registrations (filtered by exact name/url or a name substring) and the total."""
    conditions: list[ColumnElement[bool]] = []
    if enabled_only:
        conditions.append(scanner_registrations.c.disabled.is_(False))
    if name is not None:
        conditions.append(scanner_registrations.c.name == name)
    if name_like is not None:
        conditions.append(scanner_registrations.c.name.contains(name_like, autoescape=True))
    if url is not None:
        conditions.append(scanner_registrations.c.url == url)
    total = int((await conn.execute(select(func.count()).select_from(scanner_registrations)
                                    .where(*conditions))).scalar_one())
    query = (select(scanner_registrations).where(*conditions)
             .order_by(*(order or []), scanner_registrations.c.id).offset(offset).limit(limit))
    return [_registration(row) for row in await conn.execute(query)], total


async def create(conn: AsyncConnection, **values: Any) -> int:
    now = utcnow()
    result = await conn.execute(scanner_registrations.insert().values(created_at=now, updated_at=now, **values)
                                .returning(scanner_registrations.c.id))
    return int(result.scalar_one())


async def update_fields(conn: AsyncConnection, registration_id: int, **values: Any) -> None:
    await conn.execute(update(scanner_registrations).where(scanner_registrations.c.id == registration_id)
                       .values(updated_at=utcnow(), **values))


async def set_default(conn: AsyncConnection, registration_id: int) -> None:
    """Make `registration_id` the only default registration."""
    await conn.execute(update(scanner_registrations)
                       .where(scanner_registrations.c.id != registration_id,
                              scanner_registrations.c.is_default.is_(True))
                       .values(is_default=False, updated_at=utcnow()))
    await update_fields(conn, registration_id, is_default=True)


async def delete(conn: AsyncConnection, registration_id: int) -> None:
    """Delete a registration; its project choices and reports go with it (foreign keys cascade)."""
    await conn.execute(scanner_registrations.delete().where(scanner_registrations.c.id == registration_id))


async def project_registration(conn: AsyncConnection, project_id: int) -> Registration | None:
    """The registration a project chose, or None."""
    query = (select(scanner_registrations)
             .join(project_scanners, project_scanners.c.registration_id == scanner_registrations.c.id)
             .where(project_scanners.c.project_id == project_id))
    row = (await conn.execute(query)).first()
    return _registration(row) if row else None


async def set_project_registration(conn: AsyncConnection, project_id: int, registration_id: int) -> None:
    await dialect.upsert(conn, project_scanners, {"project_id": project_id, "registration_id": registration_id},
                         ["project_id"], ["registration_id"])


async def for_project(conn: AsyncConnection, project_id: int | None, builtin_id: int) -> Registration:
    """The registration the project's scans use: its own enabled choice, else the default, else
    the built-in scanner's row `builtin_id` (the caller ensured it exists). Project None: the default."""
    chosen = await project_registration(conn, project_id) if project_id is not None else None
    if chosen is not None and not chosen.disabled:
        return chosen
    default = await find_default(conn)
    if default is not None:
        return default
    builtin = await find_by_id(conn, builtin_id)
    if builtin is None:
        raise LookupError(f"the built-in scanner registration {builtin_id} does not exist")
    return builtin
