"""Labels (global and project) and their attachment to artifacts.

As in Harbor, a global label (scope `g`) is managed by system administrators and
listed to anyone; a project label (scope `p`) follows the project's `label`
permissions, and only a project's own labels (or global ones) can be attached to
its artifacts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from portside.domain.errors import BadRequest, Conflict, NotFound, Unauthorized
from portside.domain.models import Project
from portside.domain.query import parse_query
from portside.domain.rbac import Principal
from portside.services.artifacts import find_artifact
from portside.services.audit import Actor
from portside.services.deps import ServiceDeps
from portside.store import artifacts as artifact_store
from portside.store import labels as store
from portside.store import repositories as repository_store
from portside.store.labels import LabelRow

SCOPES = ("g", "p")
MAX_NAME = 128
MAX_COLOR = 16
MAX_DESCRIPTION = 1024


@dataclass(frozen=True, slots=True)
class LabelFields:
    """What a client may set on a label; `scope` and `project_id` only when creating."""

    name: str
    description: str = ""
    color: str = ""
    scope: str = "g"
    project_id: int | None = None


class LabelService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    async def list_labels(self, principal: Principal, *, scope: str | None, project_id: int | None, name: str | None,
                   q: str | None, sort: str | None, offset: int, limit: int) -> tuple[list[LabelRow], int]:
        """Labels of one scope: global ones for anyone, a project's for those who may list them.

        `name` and `q=name=~x` match part of the name, `q=name=x` all of it.
        """
        if scope not in SCOPES:
            raise BadRequest(f"invalid scope: {str(scope)[:16]!r}: use scope=g (global) or scope=p (project)")
        if scope == "p":
            if not project_id:
                raise BadRequest("must with project ID when to query project labels (project_id=<id>)")
            project = await self._visible_project(principal, project_id)
            await self._deps.access.require(principal, project.name, "label", "list")
        terms = parse_query(q)
        for key in terms:
            if key != "name":
                raise BadRequest(f"unsupported query {key[:64]!r} for labels: use name")
        exact = terms["name"].value if "name" in terms and terms["name"].kind == "exact" else None
        fuzzy = terms["name"].value if "name" in terms and terms["name"].kind == "fuzzy" else name
        order = artifact_store.parse_sort(sort, store.LABEL_SORTS)
        async with self._deps.db.read() as conn:
            return await store.list_labels(conn, scope=scope, project_id=project_id if scope == "p" else None,
                                           name=exact, name_like=fuzzy or None, sort=order, offset=offset,
                                           limit=limit)

    async def create(self, principal: Principal, actor: Actor, fields: LabelFields) -> int:
        """Create a label; raises Conflict if its scope (and project) already has one by that name."""
        _validate(fields)
        if fields.scope not in SCOPES:
            raise BadRequest("scope must be g (global) or p (project)")
        project_id = fields.project_id if fields.scope == "p" else None
        if fields.scope == "p" and not project_id:
            raise BadRequest("a project label (scope p) needs project_id")
        await self._require(principal, fields.scope, project_id, "create")
        try:
            async with self._deps.db.write() as conn:
                if await store.name_taken(conn, fields.name, fields.scope, project_id):
                    raise Conflict(f"label {fields.name} already exists")
                label_id = await store.create(conn, name=fields.name, description=fields.description,
                                              color=fields.color, scope=fields.scope, project_id=project_id)
        except IntegrityError:  # a concurrent request created it first
            raise Conflict(f"label {fields.name} already exists") from None
        self._deps.audit.record(actor, "create", "label", fields.name, project_id=project_id)
        return label_id

    async def get(self, principal: Principal, label_id: int) -> LabelRow:
        label = await self._find(label_id)
        await self._require(principal, label.scope, label.project_id, "read")
        return label

    async def update(self, principal: Principal, actor: Actor, label_id: int, fields: LabelFields) -> None:
        """Change name, description and color (scope and project stay)."""
        _validate(fields)
        label = await self._find(label_id)
        await self._require(principal, label.scope, label.project_id, "update")
        async with self._deps.db.write() as conn:
            if await store.name_taken(conn, fields.name, label.scope, label.project_id, except_id=label.id):
                raise Conflict(f"label {fields.name} already exists")
            await store.update_fields(conn, label.id, name=fields.name, description=fields.description,
                                      color=fields.color)
        self._deps.audit.record(actor, "update", "label", fields.name, project_id=label.project_id)

    async def delete(self, principal: Principal, actor: Actor, label_id: int) -> None:
        """Delete the label and detach it from every artifact."""
        label = await self._find(label_id)
        await self._require(principal, label.scope, label.project_id, "delete")
        async with self._deps.db.write() as conn:
            await store.remove(conn, label.id)
        self._deps.audit.record(actor, "delete", "label", label.name, project_id=label.project_id)

    async def attach(self, principal: Principal, actor: Actor, project: Project, repository_name: str,
                     reference: str, label_id: int) -> None:
        """Attach a global label or one of the project's own; raises Conflict if already attached."""
        await self._deps.access.require(principal, project.name, "artifact-label", "create")
        try:
            async with self._deps.db.write() as conn:
                label = await store.find(conn, label_id)
                if label is None or (label.scope == "p" and label.project_id != project.id):
                    raise NotFound(f"project id {project.id}, label {label_id} not found")
                row = await find_artifact(conn, project, repository_name, reference)
                if await store.is_attached(conn, row.id, label.id):
                    raise Conflict(f"label {label.id} is already added to the artifact {row.digest}")
                await store.attach(conn, row.id, label.id)
        except IntegrityError:
            raise Conflict(f"label {label_id} is already added to the artifact") from None
        self._deps.audit.record(actor, "create", "artifact-label", f"{row.repository_name}@{row.digest}",
                                project_id=project.id, description=f"label {label.name}")

    async def detach(self, principal: Principal, actor: Actor, project: Project, repository_name: str,
                     reference: str, label_id: int) -> None:
        """Detach a label; raises NotFound if the artifact does not carry it."""
        await self._deps.access.require(principal, project.name, "artifact-label", "delete")
        async with self._deps.db.write() as conn:
            row = await find_artifact(conn, project, repository_name, reference)
            if not await store.detach(conn, row.id, label_id):
                raise NotFound(f"label {label_id} is not added to the artifact {row.digest}")
        self._deps.audit.record(actor, "delete", "artifact-label", f"{row.repository_name}@{row.digest}",
                                project_id=project.id, description=f"label {label_id}")

    async def _find(self, label_id: int) -> LabelRow:
        async with self._deps.db.read() as conn:
            label = await store.find(conn, label_id)
        if label is None:
            raise NotFound(f"label {label_id} not found")
        return label

    async def _require(self, principal: Principal, scope: str, project_id: int | None, action: str) -> None:
        """Global labels: the system `label` permission (admins); project labels: the project's."""
        if scope != "p" or project_id is None:
            await self._deps.access.require(principal, None, "label", action)
            return
        project = await self._visible_project(principal, project_id)
        await self._deps.access.require(principal, project.name, "label", action)

    async def _visible_project(self, principal: Principal, project_id: int) -> Project:
        """The project if the caller may see it; otherwise answered like a missing project."""
        async with self._deps.db.read() as conn:
            project = await repository_store.find_project_by_id(conn, project_id)
        if project is None or not await self._deps.access.allowed(principal, project.name, "project", "read"):
            if principal.is_anonymous:
                raise Unauthorized("authentication required")
            raise NotFound(f"project {project_id} not found")
        return project


def _validate(fields: LabelFields) -> None:
    if not fields.name.strip():
        raise BadRequest("name is required")
    if len(fields.name) > MAX_NAME:
        raise BadRequest(f"name is longer than {MAX_NAME} characters")
    if len(fields.color) > MAX_COLOR:
        raise BadRequest(f"color is longer than {MAX_COLOR} characters (use #RRGGBB)")
    if len(fields.description) > MAX_DESCRIPTION:
        raise BadRequest(f"description is longer than {MAX_DESCRIPTION} characters")
