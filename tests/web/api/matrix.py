"""The permission matrix as a table: who may do what, in a public and in a private project.

One source for the in-process suite (tests/web/api/test_permission_matrix.py) and the skopeo
suite (tests/e2e/test_permission_matrix_skopeo.py). It transcribes the user guide's matrix as
Portside enforces it (shared/reference/permissions.md) and, where the guide is silent, Harbor's
table (harbor-api.md §3.3): limitedGuest, anonymous callers, the system administrator.

A row is one HTTP action; it lists, per project visibility, the subjects for whom the action is
allowed. Everybody else is denied, and `Row.denied_status` says how the denial must look:
401 for an anonymous caller, 404 on /api/v2.0 when the project must not be revealed to the caller
(a private project it is not a member of), 401 on /v2 for a bearer token without the action (the
distribution spec's insufficient_scope challenge), otherwise 403. `Row.allowed_status` is what success
looks like (2xx, or 412 for a project delete the policy allows but the project's contents refuse).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ANONYMOUS = "anonymous"
NON_MEMBER = "nonmember"
ADMIN = "admin"  # the system administrator (sysadmin_flag), not a member of the projects

#: Project members by Harbor role name -> Harbor role id.
ROLE_IDS: dict[str, int] = {"limitedGuest": 5, "guest": 3, "developer": 2, "maintainer": 4, "projectAdmin": 1}
SUBJECTS: tuple[str, ...] = (ANONYMOUS, NON_MEMBER, *ROLE_IDS, ADMIN)


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


PROJECTS: tuple[Visibility, ...] = (Visibility.PUBLIC, Visibility.PRIVATE)


class Surface(StrEnum):
    """Where the action is served: it decides how a denial looks (see `Row.denied_status`)."""

    API = "api"  # /api/v2.0: a private project is hidden (404) from signed-in non-members
    REGISTRY = "v2"  # /v2 with Basic credentials: 403 DENIED for signed-in callers
    TOKEN = "token"  # /v2 with a bearer token lacking the action: 401 (insufficient_scope) for everyone
    POLICY = "policy"  # GET /users/current/permissions: "denied" = the permission is not listed (anonymous: 401)
    LISTING = "listing"  # a list or search: "denied" = the project is not in it (200, anonymous included)
    MOUNT = "mount"  # a cross-repository blob mount: "denied" = a plain upload session instead (202)


EVERYONE = frozenset(SUBJECTS)
SIGNED_IN = EVERYONE - {ANONYMOUS}
MEMBERS = frozenset({*ROLE_IDS, ADMIN})
DEVELOPERS = frozenset({"developer", "maintainer", "projectAdmin", ADMIN})
MAINTAINERS = frozenset({"maintainer", "projectAdmin", ADMIN})
PROJECT_ADMINS = frozenset({"projectAdmin", ADMIN})
GUESTS = MEMBERS - {"limitedGuest"}  # Harbor's member:list and friends: every role but limitedGuest


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    action: str  # the HTTP request(s), for people reading a failure
    surface: Surface
    public: frozenset[str]
    private: frozenset[str]
    allowed_status: int = 200
    skip_reason: str | None = None  # the action is not served yet; the cell is skipped with this reason

    def allows(self, subject: str, project: Visibility) -> bool:
        return subject in (self.public if project is Visibility.PUBLIC else self.private)

    def denied_status(self, subject: str, project: Visibility) -> int:
        if self.surface is Surface.LISTING:
            return 200  # the list simply lacks the project
        if subject == ANONYMOUS or self.surface is Surface.TOKEN:
            return 401
        if self.surface is Surface.POLICY:
            return 200  # signed in: the list simply lacks the permission
        if self.surface is Surface.MOUNT:
            return 202  # the distribution spec's fallback: an upload session, nothing mounted
        hidden = project is Visibility.PRIVATE and subject not in MEMBERS
        return 404 if self.surface is Surface.API and hidden else 403

    def expected_status(self, subject: str, project: Visibility) -> int:
        return self.allowed_status if self.allows(subject, project) else self.denied_status(subject, project)


def _row(name: str, action: str, surface: Surface, public: frozenset[str], private: frozenset[str] | None = None,
         *, allowed_status: int = 200, skip_reason: str | None = None) -> Row:
    """A row; `private` defaults to `public` (the same subjects are allowed in both projects)."""
    return Row(name, action, surface, public, public if private is None else private, allowed_status, skip_reason)


# The anonymous column of the "-basic" /v2 rows is "denied" everywhere: a request without
# credentials is always challenged (401 + Bearer realm), even for a public project, as Harbor does;
# the "-token" rows are what docker-style clients do next, and carry the anonymous public pull.
ROWS: tuple[Row, ...] = (
    _row("view-project", "GET /api/v2.0/projects/{p}", Surface.API, EVERYONE, MEMBERS),
    _row("view-project-by-id", "GET /api/v2.0/projects/<id>", Surface.API, EVERYONE, MEMBERS),
    _row("list-projects", "GET /api/v2.0/projects?name={p} lists the project", Surface.LISTING, EVERYONE, MEMBERS),
    _row("search", "GET /api/v2.0/search?q={p} finds the project", Surface.LISTING, EVERYONE, MEMBERS),
    _row("list-repositories", "GET /api/v2.0/projects/{p}/repositories", Surface.API, EVERYONE, MEMBERS),
    _row("list-artifacts", "GET /api/v2.0/projects/{p}/repositories/app/artifacts", Surface.API, EVERYONE, MEMBERS),
    _row("list-all-repositories", "GET /api/v2.0/repositories lists {p}/app", Surface.LISTING, EVERYONE, MEMBERS),
    _row("pull-basic", "GET /v2/{p}/app/manifests/1.0 with Basic credentials", Surface.REGISTRY,
         SIGNED_IN, MEMBERS),
    _row("pull-blob", "GET /v2/{p}/app/blobs/<layer digest> with Basic credentials", Surface.REGISTRY,
         SIGNED_IN, MEMBERS),
    _row("list-tags-v2", "GET /v2/{p}/app/tags/list with Basic credentials", Surface.REGISTRY, SIGNED_IN, MEMBERS),
    _row("pull-token", "GET /service/token scope repository:{p}/app:pull, then GET the manifest with the token",
         Surface.TOKEN, EVERYONE, MEMBERS),
    _row("push-basic", "POST a blob + PUT /v2/{p}/app/manifests/<new tag> with Basic credentials",
         Surface.REGISTRY, DEVELOPERS, allowed_status=201),
    _row("push-token", "token for repository:{p}/app:pull,push, then POST a blob + PUT a new tag with it",
         Surface.TOKEN, DEVELOPERS, allowed_status=201),
    _row("copy-artifact", "POST /api/v2.0/projects/{p}/repositories/<new repo>/artifacts?from={p}/app:1.0",
         Surface.API, DEVELOPERS, allowed_status=201),
    # Out of the project into the sandbox, where every signed-in subject is a developer: needs pull here.
    _row("copy-artifact-out", "POST /api/v2.0/projects/matrix-sandbox/repositories/<new>/artifacts?from={p}/app:1.0",
         Surface.API, SIGNED_IN, MEMBERS, allowed_status=201),
    _row("mount-blob-out", "POST /v2/matrix-sandbox/<new>/blobs/uploads/?mount=<layer>&from={p}/app (Basic)",
         Surface.MOUNT, SIGNED_IN, MEMBERS, allowed_status=201),
    _row("delete-artifact", "DELETE /api/v2.0/projects/{p}/repositories/app/artifacts/<digest>", Surface.API,
         MAINTAINERS),
    _row("delete-repository", "DELETE /api/v2.0/projects/{p}/repositories/<a repository of its own>", Surface.API,
         MAINTAINERS),
    _row("delete-manifest-basic", "DELETE /v2/{p}/app/manifests/<digest> with Basic credentials",
         Surface.REGISTRY, MAINTAINERS, allowed_status=202),
    _row("delete-manifest-token", "token for repository:{p}/app:delete, then DELETE /v2/{p}/app/manifests/<digest>",
         Surface.TOKEN, MAINTAINERS, allowed_status=202),
    # A /v2 tag delete needs the token action `delete`, which is artifact deletion (maintainer+): a token
    # cannot grant "tags only", so developers delete tags through the API (delete-tag).
    _row("delete-tag-v2", "DELETE /v2/{p}/app/manifests/<tag> with Basic credentials", Surface.REGISTRY,
         MAINTAINERS, allowed_status=202),
    _row("create-tag", "POST /api/v2.0/projects/{p}/repositories/app/artifacts/1.0/tags {name}", Surface.API,
         DEVELOPERS, allowed_status=201),
    _row("delete-tag", "DELETE /api/v2.0/projects/{p}/repositories/app/artifacts/1.0/tags/<name>", Surface.API,
         DEVELOPERS),
    _row("list-members", "GET /api/v2.0/projects/{p}/members", Surface.API, GUESTS),
    _row("project-audit-log", "GET /api/v2.0/projects/{p}/logs (Harbor: log:list, projectAdmin only)", Surface.API,
         PROJECT_ADMINS),
    _row("add-member", "POST /api/v2.0/projects/{p}/members {role_id: 2 developer}", Surface.API, MAINTAINERS,
         allowed_status=201),
    _row("remove-member", "DELETE /api/v2.0/projects/{p}/members/<id of a developer>", Surface.API, MAINTAINERS),
    _row("change-member-role", "PUT /api/v2.0/projects/{p}/members/<id of a developer> {role_id: 4 maintainer}",
         Surface.API, MAINTAINERS),
    _row("promote-to-project-admin", "PUT /api/v2.0/projects/{p}/members/<id of a developer> {role_id: 1}",
         Surface.API, PROJECT_ADMINS),
    _row("demote-project-admin", "PUT /api/v2.0/projects/{p}/members/<id of a projectAdmin> {role_id: 2}",
         Surface.API, PROJECT_ADMINS),
    _row("add-project-admin", "POST /api/v2.0/projects/{p}/members {role_id: 1 projectAdmin}", Surface.API,
         PROJECT_ADMINS, allowed_status=201),
    _row("remove-project-admin", "DELETE /api/v2.0/projects/{p}/members/<id of a projectAdmin>", Surface.API,
         PROJECT_ADMINS),
    _row("update-project", "PUT /api/v2.0/projects/<a project of its own, same visibility and role> "
         "{metadata: {auto_scan: true}}", Surface.API, PROJECT_ADMINS),
    _row("delete-project", "DELETE /api/v2.0/projects/<an empty project, same visibility and role>", Surface.API,
         PROJECT_ADMINS),
    _row("delete-nonempty-project", "DELETE /api/v2.0/projects/<a project holding app:1.0>: 412 when allowed",
         Surface.API, PROJECT_ADMINS, allowed_status=412),
    _row("scan-read-policy", "GET /api/v2.0/users/current/permissions?scope=/project/<id> lists scan:read",
         Surface.POLICY, SIGNED_IN, MEMBERS),
    _row("scan-create-policy", "GET /api/v2.0/users/current/permissions?scope=/project/<id> lists scan:create",
         Surface.POLICY, DEVELOPERS),
    _row("scan", "POST /api/v2.0/projects/{p}/repositories/app/artifacts/1.0/scan", Surface.API, DEVELOPERS,
         allowed_status=202, skip_reason="the scan API arrives in a later issue; scan-*-policy rows cover the policy"),
)
ROWS_BY_NAME: dict[str, Row] = {row.name: row for row in ROWS}


def cell_id(row: Row, subject: str, project: Visibility) -> str:
    """The test id of one cell, e.g. `push-basic-developer-private`."""
    return f"{row.name}-{subject}-{project}"
