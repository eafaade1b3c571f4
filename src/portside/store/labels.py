"""Labels (scope `g` global or `p` project) and the labels attached to artifacts (manifests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.store.artifacts import Sort, order_by
from portside.store.tables import artifact_labels, labels

LABEL_SORTS: dict[str, ColumnElement[Any]] = {
    "id": labels.c.id, "name": labels.c.name, "creation_time": labels.c.created_at,
    "update_time": labels.c.updated_at,
}


@dataclass(frozen=True, slots=True)
class LabelRow:
    id: int
    name: str
    description: str
    color: str
    scope: str
    project_id: int | None
    creation_time: datetime
    update_time: datetime


def _label(row: Any) -> LabelRow:
    return LabelRow(id=row.id, name=row.name, description=row.description or "", color=row.color or "",
                    scope=row.scope, project_id=row.project_id, creation_time=row.created_at,
                    update_time=row.updated_at)


def _same_scope(scope: str, project_id: int | None) -> list[ColumnElement[bool]]:
    owner = labels.c.project_id.is_(None) if project_id is None else labels.c.project_id == project_id
    return [labels.c.scope == scope, owner]


async def find(conn: AsyncConnection, label_id: int) -> LabelRow | None:
    row = (await conn.execute(select(labels).where(labels.c.id == label_id))).first()
    return _label(row) if row else None


async def name_taken(conn: AsyncConnection, name: str, scope: str, project_id: int | None,
                     *, except_id: int | None = None) -> bool:
    """Whether another label of the same scope (and project) is called `name`."""
    clauses = [labels.c.name == name, *_same_scope(scope, project_id)]
    if except_id is not None:
        clauses.append(labels.c.id != except_id)
    return bool((await conn.execute(select(exists().where(*clauses)))).scalar())


async def create(conn: AsyncConnection, *, name: str, description: str, color: str, scope: str,
                 project_id: int | None) -> int:
    now = utcnow()
    result = await conn.execute(labels.insert().values(
        name=name, description=description, color=color, scope=scope, project_id=project_id,
        created_at=now, updated_at=now,
    ).returning(labels.c.id))
    return int(result.scalar_one())


async def update_fields(conn: AsyncConnection, label_id: int, *, name: str, description: str, color: str) -> None:
    await conn.execute(update(labels).where(labels.c.id == label_id).values(
        name=name, description=description, color=color, updated_at=utcnow()))


async def remove(conn: AsyncConnection, label_id: int) -> None:
    """Delete a label and detach it from every artifact."""
    await conn.execute(delete(artifact_labels).where(artifact_labels.c.label_id == label_id))
    await conn.execute(delete(labels).where(labels.c.id == label_id))


async def list_labels(conn: AsyncConnection, *, scope: str, project_id: int | None, name: str | None,
                      name_like: str | None, sort: Sort, offset: int, limit: int) -> tuple[list[LabelRow], int]:
    """One page of the labels of a scope (and project), and how many match in all."""
    clauses = _same_scope(scope, project_id)
    if name is not None:
        clauses.append(labels.c.name == name)
    if name_like is not None:
        clauses.append(labels.c.name.contains(name_like, autoescape=True))
    total = (await conn.execute(select(func.count()).select_from(labels).where(*clauses))).scalar_one()
    query = select(labels).where(*clauses).order_by(*order_by(sort or (("name", False),), LABEL_SORTS, labels.c.id))
    return [_label(row) for row in await conn.execute(query.offset(offset).limit(limit))], int(total)


async def labels_of(conn: AsyncConnection, manifest_ids: Sequence[int]) -> dict[int, list[LabelRow]]:
    """The labels attached to each manifest, in the order they were attached."""
    found: dict[int, list[LabelRow]] = {}
    if manifest_ids:
        query = (select(artifact_labels.c.manifest_id, labels).join(labels, labels.c.id == artifact_labels.c.label_id)
                 .where(artifact_labels.c.manifest_id.in_(manifest_ids))
                 .order_by(artifact_labels.c.created_at, labels.c.id))
        for row in await conn.execute(query):
            found.setdefault(row.manifest_id, []).append(_label(row))
    return found


async def is_attached(conn: AsyncConnection, manifest_id: int, label_id: int) -> bool:
    query = select(exists().where(artifact_labels.c.manifest_id == manifest_id,
                                  artifact_labels.c.label_id == label_id))
    return bool((await conn.execute(query)).scalar())


async def attach(conn: AsyncConnection, manifest_id: int, label_id: int) -> None:
    """Attach a label; raises IntegrityError if it is already attached."""
    await conn.execute(artifact_labels.insert().values(manifest_id=manifest_id, label_id=label_id,
                                                       created_at=utcnow()))


async def detach(conn: AsyncConnection, manifest_id: int, label_id: int) -> bool:
    """Detach a label; False if it was not attached."""
    result = await conn.execute(delete(artifact_labels).where(artifact_labels.c.manifest_id == manifest_id,
                                                              artifact_labels.c.label_id == label_id))
    return bool(result.rowcount)
