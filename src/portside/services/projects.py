"""Projects: create, list, read, update, delete (forced cascade), metadata, summary, search, statistics.

Every decision asks the permission policy (`AccessControl`, or `domain.rbac.is_allowed`
with facts already loaded). Lists are restricted to what the caller may see in SQL
(`visibility_for`), mirroring the policy's `project:read` rule: sysadmins see every
project, others the public ones plus those they belong to (robots: those a grant lets
them read), so names of private projects never leak to non-members.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from portside.domain.errors import BadRequest, Conflict, NotFound, PreconditionFailed, Unauthorized
from portside.domain.identity import validate_project_name
from portside.domain.models import Project
from portside.domain.rbac import Principal, ProjectAccess, Role, is_allowed
from portside.services.audit import Actor
from portside.services.deps import ServiceDeps
from portside.services.project_metadata import (
    ALLOWLIST_KEY,
    RETENTION_KEY,
    CveAllowlist,
    check_retention_id,
    check_storage_limit,
    normalize_metadata,
    parse_public,
    visible_metadata,
)
from portside.services.project_queries import ProjectListing, project_filter, sort_keys, visibility_for
from portside.storage.driver import WriteState
from portside.store import members as member_store
from portside.store import projects as project_store
from portside.store import repositories as repository_store
from portside.store.projects import ProjectFilter, ProjectRow, RepositoryHit

log = logging.getLogger("portside.projects")

NOT_DELETABLE = "the project contains repositories, can not be deleted"
SEARCH_LIMIT = 100
_ROLE_IDS = frozenset(int(role) for role in Role)


@dataclass(frozen=True, slots=True)
class ProjectSpec:
    """A ProjectReq: what a create or update asks for; None means "not given"."""

    name: str | None = None
    public: bool | None = None
    metadata: dict[str, str] | None = None
    storage_limit: int | None = None
    cve_allowlist: CveAllowlist | None = None
    allowlist_project_id: int | None = None
    registry_id: int | None = None


@dataclass(frozen=True, slots=True)
class ProjectView:
    """A project as the caller sees it."""

    project: Project
    owner_name: str
    repo_count: int
    role: Role | None
    togglable: bool

    @property
    def metadata(self) -> dict[str, str]:
        return visible_metadata(self.project.metadata, self.project.public)

    @property
    def cve_allowlist(self) -> CveAllowlist:
        return CveAllowlist.decode(self.project.metadata.get(ALLOWLIST_KEY))


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    """Counts for the project dashboard; member counts and quota are None when the caller may not
    list members or read the quota."""

    repo_count: int
    member_counts: dict[Role, int] | None
    storage_limit: int | None
    storage_used: int | None


@dataclass(frozen=True, slots=True)
class SearchResult:
    projects: list[ProjectView]
    repositories: list[RepositoryHit]


@dataclass(frozen=True, slots=True)
class Statistics:
    """Harbor's Statistic; totals and storage are 0 unless the caller is a sysadmin."""

    private_project_count: int
    private_repo_count: int
    public_project_count: int
    public_repo_count: int
    total_project_count: int
    total_repo_count: int
    total_storage_consumption: int


class ProjectService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    # --- create, read, list ---------------------------------------------------------------------

    async def create(self, principal: Principal, actor: Actor, spec: ProjectSpec) -> Project:
        """Create a project owned by the caller, who becomes its projectAdmin.

        Raises Unauthorized/Denied, BadRequest (name rule, metadata, proxy cache), Conflict.
        Only sysadmins may set a storage limit (others get the default, unlimited), as in Harbor.
        """
        await self._deps.access.require(principal, None, "project", "create")
        name = validate_project_name(spec.name or "")
        if spec.registry_id is not None:
            raise BadRequest("proxy cache projects (registry_id) are not supported")
        metadata = normalize_metadata(_without_empty_retention(spec.metadata))
        check_retention_id(metadata, {})
        public = parse_public(metadata, spec.public) or False
        metadata.pop("public", None)
        if spec.cve_allowlist is not None:
            metadata[ALLOWLIST_KEY] = spec.cve_allowlist.validated().encode()
        # Harbor: only sysadmins set a limit; others (and a 0) get the default, unlimited.
        storage_limit = check_storage_limit(spec.storage_limit) if principal.sysadmin and spec.storage_limit else -1
        try:
            async with self._deps.db.write() as conn:
                if await repository_store.find_project_id(conn, name) is not None:
                    raise Conflict(f"the project {name} already exists")
                owner_id = principal.user_id
                if owner_id is None:  # a robot: Harbor makes the first sysadmin the owner
                    owner_id = await project_store.first_sysadmin_id(conn)
                project_id = await repository_store.create_project(
                    conn, name, public=public, owner_id=owner_id, metadata=metadata, storage_limit=storage_limit)
                if principal.user_id is not None:
                    await member_store.add(conn, project_id, principal.user_id, int(Role.PROJECT_ADMIN))
                project = await repository_store.find_project_by_id(conn, project_id)
        except IntegrityError:
            raise Conflict(f"the project {name} already exists") from None
        assert project is not None
        self._deps.audit.record(actor, "create", "project", name, project_id=project_id)
        return project

    async def view(self, principal: Principal, project: Project) -> ProjectView:
        """The project with its owner, repository count and the caller's role (needs project:read);
        raises NotFound if gone."""
        await self._deps.access.require(principal, project.name, "project", "read")
        async with self._deps.db.read() as conn:
            row = await project_store.find_row(conn, project.id, principal.user_id)
        if row is None:
            raise NotFound(f"project {project.name} not found")
        return _view(principal, row)

    async def list_projects(self, principal: Principal, listing: ProjectListing, *, offset: int,
                            limit: int) -> tuple[list[ProjectView], int]:
        """A page of the projects the caller may see that match the listing, and the total."""
        conditions = project_filter(listing)
        sort = sort_keys(listing.sort)
        async with self._deps.db.read() as conn:
            rows, total = await project_store.list_projects(
                conn, visibility=visibility_for(principal), conditions=conditions, viewer_id=principal.user_id,
                sort=sort, offset=offset, limit=limit)
        return [_view(principal, row) for row in rows], total

    # --- update, delete -------------------------------------------------------------------------

    async def update(self, principal: Principal, actor: Actor, project: Project, spec: ProjectSpec) -> None:
        """Merge metadata, set publicity, the CVE allowlist and (sysadmins only) the storage limit.

        Needs project:update; a different storage limit also needs quota:update. The name is
        never changed (Harbor ignores project_name on update).
        """
        await self._deps.access.require(principal, project.name, "project", "update")
        metadata = normalize_metadata(_without_empty_retention(spec.metadata))
        public = parse_public(metadata, spec.public)
        metadata.pop("public", None)
        storage_limit = None
        if spec.storage_limit is not None and spec.storage_limit != project.storage_limit:
            await self._deps.access.require(principal, project.name, "quota", "update")
            storage_limit = check_storage_limit(spec.storage_limit)
        allowlist = spec.cve_allowlist.validated() if spec.cve_allowlist is not None else None
        if allowlist is not None and spec.allowlist_project_id not in (None, 0, project.id):
            raise BadRequest(f"project_id in cve_allowlist must be {project.id} but it's {spec.allowlist_project_id}")
        async with self._deps.db.write() as conn:
            current = await project_store.lock_project(conn, project.id)
            if current is None:
                raise NotFound(f"project {project.name} not found")
            check_retention_id(metadata, current.metadata)
            merged = {**current.metadata, **metadata}
            if allowlist is not None:
                merged[ALLOWLIST_KEY] = allowlist.encode()
            await project_store.update_project(conn, project.id, public=public, metadata=merged,
                                               storage_limit=storage_limit)
        self._deps.audit.record(actor, "update", "project", project.name, project_id=project.id)

    async def deletable(self, principal: Principal, project: Project) -> tuple[bool, str]:
        """Whether a plain delete would succeed, and why not (needs project:delete)."""
        await self._deps.access.require(principal, project.name, "project", "delete")
        async with self._deps.db.read() as conn:
            has_repositories = await project_store.repository_count(conn, project.id) > 0
        return (False, NOT_DELETABLE) if has_repositories else (True, "")

    async def delete(self, principal: Principal, actor: Actor, project: Project, *, force: bool) -> None:
        """Delete the project with its members, robots and labels.

        While it has repositories this is a PreconditionFailed, unless `force`: then its
        repositories (tags, manifests, blob links, pending uploads) go first, in the same
        transaction (a forced delete also needs repository:delete). Blob bytes are left to GC.
        """
        await self._deps.access.require(principal, project.name, "project", "delete")
        if force:
            await self._deps.access.require(principal, project.name, "repository", "delete")
        async with self._deps.db.write() as conn:
            if not force and await project_store.repository_count(conn, project.id) > 0:
                raise PreconditionFailed(NOT_DELETABLE)
            removed = await project_store.delete_repositories(conn, project.id)
            await project_store.delete_project(conn, project.id)
        await self._discard_uploads(removed.upload_states)
        self._deps.authenticator.forget_all()  # the project's robot accounts are gone
        for name in removed.names:
            self._deps.audit.record(actor, "delete", "repository", name, project_id=project.id)
        self._deps.audit.record(actor, "delete", "project", project.name, project_id=project.id)

    async def _discard_uploads(self, states: list[dict[str, object]]) -> None:
        for state in states:
            try:
                await self._deps.blobs.abort(WriteState.from_json(state))
            except Exception:  # the rows are gone; stray bytes must not fail a committed delete
                log.warning("could not discard a pending upload of a deleted project", exc_info=True)

    # --- summary and metadata -------------------------------------------------------------------

    async def summary(self, principal: Principal, project: Project) -> ProjectSummary:
        """Repository count (needs project:read), members by role (with member:list) and storage
        quota (with quota:read)."""
        await self._deps.access.require(principal, project.name, "project", "read")
        show_members = await self._deps.access.allowed(principal, project.name, "member", "list")
        show_quota = await self._deps.access.allowed(principal, project.name, "quota", "read")
        async with self._deps.db.read() as conn:
            repo_count = await project_store.repository_count(conn, project.id)
            counts = await member_store.count_by_role(conn, project.id) if show_members else None
            used = await project_store.storage_used(conn, project.id) if show_quota else None
        members = {role: counts.get(int(role), 0) for role in Role} if counts is not None else None
        return ProjectSummary(repo_count, members, project.storage_limit if show_quota else None, used)

    async def metadata(self, principal: Principal, project: Project) -> dict[str, str]:
        """The project's metadata map (needs metadata:read)."""
        await self._deps.access.require(principal, project.name, "metadata", "read")
        return visible_metadata(project.metadata, project.public)

    async def metadata_entry(self, principal: Principal, project: Project, name: str) -> dict[str, str]:
        """{name: value}; raises NotFound when the key is not set."""
        shown = await self.metadata(principal, project)
        if name not in shown:
            raise NotFound(f"metadata {name[:64]} of project {project.name} not found")
        return {name: shown[name]}

    async def add_metadata(self, principal: Principal, actor: Actor, project: Project,
                           values: dict[str, str]) -> None:
        """Add keys that are not set yet (needs metadata:create); a key already set is a Conflict."""
        await self._deps.access.require(principal, project.name, "metadata", "create")
        if not values:
            raise BadRequest("no metadata given")
        existing = visible_metadata(project.metadata, project.public)
        for key in values:
            if key in existing:
                raise Conflict(f"metadata {key[:64]} of project {project.name} already exists: use PUT to change it")
        await self._write_metadata(actor, project, values)

    async def set_metadata(self, principal: Principal, actor: Actor, project: Project, name: str,
                           values: dict[str, str]) -> None:
        """Set one key; the body must be {name: value} (needs metadata:update)."""
        await self._deps.access.require(principal, project.name, "metadata", "update")
        if set(values) != {name}:
            raise BadRequest(f"the body must hold exactly one key/value pair, for {name[:64]!r}")
        await self._write_metadata(actor, project, values)

    async def delete_metadata(self, principal: Principal, actor: Actor, project: Project, name: str) -> None:
        """Remove a key (needs metadata:delete); removing `public` makes the project private."""
        await self._deps.access.require(principal, project.name, "metadata", "delete")
        if name not in visible_metadata(project.metadata, project.public):
            raise NotFound(f"metadata {name[:64]} of project {project.name} not found")
        if name == RETENTION_KEY:
            check_retention_id({name: ""}, project.metadata)
        async with self._deps.db.write() as conn:
            current = await project_store.lock_project(conn, project.id)
            if current is None:
                raise NotFound(f"project {project.name} not found")
            remaining = {key: value for key, value in current.metadata.items() if key != name}
            await project_store.update_project(conn, project.id, metadata=remaining,
                                               public=False if name == "public" else None)
        self._deps.audit.record(actor, "update", "project", project.name, project_id=project.id)

    async def _write_metadata(self, actor: Actor, project: Project, values: dict[str, str]) -> None:
        metadata = normalize_metadata(values)
        public = parse_public(metadata, None)
        metadata.pop("public", None)
        async with self._deps.db.write() as conn:
            current = await project_store.lock_project(conn, project.id)
            if current is None:
                raise NotFound(f"project {project.name} not found")
            check_retention_id(metadata, current.metadata)
            await project_store.update_project(conn, project.id, public=public,
                                               metadata={**current.metadata, **metadata})
        self._deps.audit.record(actor, "update", "project", project.name, project_id=project.id)

    # --- search and statistics ------------------------------------------------------------------

    async def search(self, principal: Principal, text: str) -> SearchResult:
        """Visible projects and repositories whose names contain `text` (case-insensitive), by name,
        at most SEARCH_LIMIT of each."""
        needle = text.strip().lower()
        visibility = visibility_for(principal)
        async with self._deps.db.read() as conn:
            rows, _total = await project_store.list_projects(
                conn, visibility=visibility, conditions=ProjectFilter(name_contains=(needle,) if needle else ()),
                viewer_id=principal.user_id, limit=SEARCH_LIMIT)
            repositories = await project_store.search_repositories(conn, needle, visibility=visibility,
                                                                   limit=SEARCH_LIMIT)
        return SearchResult([_view(principal, row) for row in rows], repositories)

    async def statistics(self, principal: Principal) -> Statistics:
        """Counts of the projects and repositories the caller can see; totals for sysadmins only.
        Anonymous callers get Unauthorized (Harbor requires a login)."""
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        async with self._deps.db.read() as conn:
            counts = await project_store.count_visible(conn, visibility_for(principal))
            storage = await project_store.total_storage(conn) if principal.sysadmin else 0
        (public_projects, public_repos), (private_projects, private_repos) = counts[True], counts[False]
        if principal.sysadmin:
            return Statistics(private_projects, private_repos, public_projects, public_repos,
                              public_projects + private_projects, public_repos + private_repos, storage)
        return Statistics(private_projects, private_repos, public_projects, public_repos, 0, 0, 0)


def _without_empty_retention(metadata: dict[str, str] | None) -> dict[str, str]:
    """The requested metadata; an empty retention_id means "none" (Harbor allows it on create)."""
    return {key: value for key, value in (metadata or {}).items() if not (key == RETENTION_KEY and value == "")}


def _view(principal: Principal, row: ProjectRow) -> ProjectView:
    role = Role(row.viewer_role) if row.viewer_role in _ROLE_IDS else None
    facts = ProjectAccess(row.project.name, row.project.public, role)
    return ProjectView(row.project, row.owner_name, row.repo_count, role,
                       is_allowed(principal, facts, "project", "update"))
