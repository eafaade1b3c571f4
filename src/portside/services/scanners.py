"""Scanner registrations (Harbor's /scanners API) and the scanner each project uses.

Rules:
- The built-in scanner's row (url "builtin:", created lazily and race-safely by
  `store.scans.ensure_builtin_registration`, the default when no other is) is always listed; it
  is immutable (PUT/DELETE answer 403, as Harbor's for its bundled Trivy) but may be made the
  default again. Its metadata is Portside's own (`portside_metadata`), never fetched.
- External adapters are registered by URL (http/https) with an auth type and credential. The
  credential is write-only: responses show `access_credential` as "", and a PUT without one
  keeps the stored credential while the auth type still needs it (Harbor's swagger).
- Exactly one registration is the default. Deleting the default makes the built-in the default
  again; a disabled registration cannot become the default (400).
- A project uses its chosen registration (project_scanners) or, without one, the default.
- Registrations are a system resource (`scanner` at system level: administrators); the project
  scanner is `scanner` read/create in the project (projectAdmin creates, members read).
- An adapter pulls what it scans from our /v2 at `registry_url` with a scan token: a registry
  JWT whose subject is `robot$portside-scanner@<report id>` (no user or robot can have that
  name: '@' is in neither alphabet, so only the scan job issues such tokens) granting `pull`
  and `scanner-pull` on exactly the scanned repository. /v2 honours a token's grants and
  nothing else; `scan_token_principal` lets the vulnerability pull policy exempt it, as Harbor
  exempts its per-scan robot.
"""

from __future__ import annotations

import asyncio
import uuid as uuid_module
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.exc import IntegrityError

from portside import __version__
from portside.clients.scanner_adapter import (
    AUTH_TYPES,
    AdapterAuth,
    AdapterError,
    ScannerAdapterClient,
    ScanRequest,
)
from portside.core.config import Settings
from portside.domain.errors import BadRequest, Conflict, Denied, NotFound
from portside.domain.models import Project
from portside.domain.query import parse_query
from portside.domain.rbac import Principal, PrincipalKind, RobotGrant
from portside.domain.vulnerability_report import NATIVE_REPORT_MIME, REPORT_MIME
from portside.services.audit import Actor
from portside.services.deps import ServiceDeps, deps_of
from portside.services.scan_queue import project_registration
from portside.services.tokens import TokenClaims
from portside.store import scanner_registrations as registration_store
from portside.store import scans as scan_store
from portside.store.artifacts import parse_sort
from portside.store.scanner_registrations import SORT_COLUMNS, Registration
from portside.store.scans import BUILTIN_URL

if TYPE_CHECKING:
    from portside.services.bundle import Services

SBOM_REPORT_MIME = "application/vnd.security.sbom.report+json; version=1.0"
RAW_REPORT_MIME = "application/vnd.scanner.adapter.vuln.report.raw"
CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json"
SPDX_MEDIA_TYPE = "application/spdx+json"
CONSUMED_MIMES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")
#: Metadata of an unreachable adapter is asked for with this (short) timeout.
PROBE_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
SCAN_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
MAX_NAME = 255
MAX_URL = 1024
SCAN_TOKEN_SUBJECT_PREFIX = "robot$portside-scanner@"
SCANNER_PULL_ACTIONS = ("pull", "scanner-pull")


def registry_url(settings: Settings, registration: Registration) -> str:
    """Our registry's base URL as the adapter must reach it: the settings' `external_url` if set
    (the address clients use), else where the server listens (`base_url`); a registration with
    `use_internal_addr` always gets the latter (Harbor's "use internal registry address")."""
    if settings.external_url and not registration.use_internal_addr:
        return settings.external_url.rstrip("/")
    return settings.base_url


def scan_token_subject(report_id: str) -> str:
    """The subject of the registry token issued to an adapter for the scan making `report_id`."""
    return SCAN_TOKEN_SUBJECT_PREFIX + report_id


def scan_token_access(repository: str) -> list[dict[str, Any]]:
    """The token `access` of a scan: pull (and scanner-pull) of `repository`, nothing else."""
    return [{"type": "repository", "name": repository, "actions": list(SCANNER_PULL_ACTIONS)}]


def scan_token_principal(claims: TokenClaims) -> Principal | None:
    """For a scan token: a robot principal holding `repository:scanner-pull` in the projects of
    the repositories the token grants scanner-pull on (so the pull policy lets the scanner pull
    what it scans); None for any other token. It grants nothing else: /v2 checks the token's
    own grants for every request."""
    if not claims.subject.startswith(SCAN_TOKEN_SUBJECT_PREFIX):
        return None
    projects = sorted({name.split("/", 1)[0] for (kind, name), actions in claims.access.items()
                       if kind == "repository" and "/" in name and "scanner-pull" in actions})
    grants = tuple(RobotGrant("project", project, frozenset({("repository", "scanner-pull")})) for project in projects)
    return Principal(PrincipalKind.ROBOT, claims.subject, robot_grants=grants)


def portside_metadata(database_updated_at: str | None = None) -> dict[str, Any]:
    """The built-in scanner's ScannerAdapterMetadata (also served by the adapter API)."""
    properties = {"harbor.scanner-adapter/scanner-type": "os-package-vulnerability",
                  "harbor.scanner-adapter/registry-authorization-type": "Basic"}
    if database_updated_at:
        properties["harbor.scanner-adapter/vulnerability-database-updated-at"] = database_updated_at
    return {
        "scanner": {"name": "Portside", "vendor": "Portside", "version": __version__},
        "capabilities": [
            {"type": "vulnerability", "consumes_mime_types": list(CONSUMED_MIMES),
             "produces_mime_types": [REPORT_MIME, NATIVE_REPORT_MIME]},
            {"type": "sbom", "consumes_mime_types": list(CONSUMED_MIMES),
             "produces_mime_types": [SBOM_REPORT_MIME],
             "additional_attributes": {"sbom_media_types": [SPDX_MEDIA_TYPE, CYCLONEDX_MEDIA_TYPE]}},
        ],
        "properties": properties,
    }


@dataclass(frozen=True, slots=True)
class RegistrationFields:
    """A ScannerRegistrationReq (or the ScannerRegistrationSettings of a ping)."""

    name: str
    url: str
    description: str = ""
    auth: str = ""
    access_credential: str = ""
    skip_cert_verify: bool = False
    use_internal_addr: bool = False
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class RegistrationView:
    """A registration as the API shows it, with what its adapter's metadata says."""

    registration: Registration
    adapter: str = ""
    vendor: str = ""
    version: str = ""
    health: str = ""
    capabilities: dict[str, bool] | None = None

    @property
    def builtin(self) -> bool:
        return self.registration.url == BUILTIN_URL


def capability_flags(metadata: dict[str, Any]) -> dict[str, bool]:
    """Harbor's `capabilities` map of a registration from its adapter's metadata (a capability
    without a type is a vulnerability scanner, as the spec says)."""
    types = {str(item.get("type") or "vulnerability") for item in metadata.get("capabilities") or []
             if isinstance(item, dict)}
    return {"support_vulnerability": "vulnerability" in types, "support_sbom": "sbom" in types}


def _with_metadata(registration: Registration, metadata: dict[str, Any] | None) -> RegistrationView:
    if metadata is None:
        return RegistrationView(registration, health="unhealthy")
    scanner = metadata.get("scanner") or {}
    return RegistrationView(registration, adapter=str(scanner.get("name", "")), vendor=str(scanner.get("vendor", "")),
                            version=str(scanner.get("version", "")), health="healthy",
                            capabilities=capability_flags(metadata))


def _check_fields(fields: RegistrationFields, *, existing: Registration | None = None) -> RegistrationFields:
    """Validate a request; returns it with the stored credential kept where Harbor keeps it."""
    name = fields.name.strip()
    if not name or len(name) > MAX_NAME:
        raise BadRequest(f"the scanner name must have 1 to {MAX_NAME} characters")
    parts = urlsplit(fields.url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(fields.url) > MAX_URL:
        raise BadRequest(f"the scanner url {fields.url[:200]!r} is not an http(s) URL")
    if fields.auth not in AUTH_TYPES:
        raise BadRequest(f"unsupported auth {fields.auth[:40]!r}: use one of Basic, Bearer, X-ScannerAdapter-API-Key")
    credential = fields.access_credential
    if fields.auth and not credential and existing is not None and existing.auth:
        credential = existing.access_credential
    if fields.auth and not credential:
        raise BadRequest(f"auth {fields.auth} needs an access_credential")
    if fields.auth == "Basic" and ":" not in credential:
        raise BadRequest("a Basic access_credential is user:secret")
    return replace(fields, name=name, access_credential=credential if fields.auth else "")


def _filters(q: str | None) -> dict[str, Any]:
    terms = parse_query(q)
    unknown = set(terms) - {"name", "url"}
    if unknown:
        raise BadRequest(f"cannot filter scanners by {sorted(unknown)[0][:64]!r}: use name or url")
    filters: dict[str, Any] = {}
    if "name" in terms:
        key = "name_like" if terms["name"].kind == "fuzzy" else "name"
        filters[key] = terms["name"].value
    if "url" in terms:
        filters["url"] = terms["url"].value
    return filters


def _order(sort: str | None) -> list[Any]:
    return [SORT_COLUMNS[name].desc() if descending else SORT_COLUMNS[name].asc()
            for name, descending in parse_sort(sort, SORT_COLUMNS)]


class ScannerService:
    def __init__(self, deps: ServiceDeps, *, adapter_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._deps = deps
        self._db = deps.db
        self._transport = adapter_transport  # tests may route adapter calls in process

    # --- talking to adapters ------------------------------------------------------------------------

    def adapter_client(self, registration: Registration | RegistrationFields,
                       timeout: httpx.Timeout = PROBE_TIMEOUT,
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> ScannerAdapterClient:
        """A client of the registration's adapter (the caller closes it); `sleep` waits between polls."""
        verify = not (registration.skip_cert_verify if isinstance(registration, Registration)
                      else registration.skip_cert_verify)
        return ScannerAdapterClient(registration.url, AdapterAuth(registration.auth, registration.access_credential),
                                    verify=verify, timeout=timeout, transport=self._transport, sleep=sleep)

    async def fetch_metadata(self, registration: Registration | RegistrationFields) -> dict[str, Any]:
        """The registration's ScannerAdapterMetadata (Portside's own for the built-in scanner);
        raises AdapterError."""
        return await self._fetch_metadata(registration)

    async def _fetch_metadata(self, registration: Registration | RegistrationFields) -> dict[str, Any]:
        if registration.url == BUILTIN_URL:
            return portside_metadata()
        async with self.adapter_client(registration) as adapter:
            return await adapter.metadata()

    async def _probe(self, registration: Registration) -> RegistrationView:
        try:
            return _with_metadata(registration, await self._fetch_metadata(registration))
        except AdapterError:
            return _with_metadata(registration, None)

    # --- registrations ------------------------------------------------------------------------------

    async def _require_admin(self, principal: Principal, action: str) -> None:
        await self._deps.access.require(principal, None, "scanner", action)

    async def _find(self, conn: Any, registration_uuid: str) -> Registration:
        await scan_store.ensure_builtin_registration(conn)
        found = await registration_store.find_by_uuid(conn, registration_uuid)
        if found is None:
            raise NotFound(f"scanner registration {registration_uuid[:64]} not found")
        return found

    async def list_registrations(self, principal: Principal, *, q: str | None = None, sort: str | None = None,
                   offset: int = 0, limit: int = 10) -> tuple[list[RegistrationView], int]:
        """A page of registrations (no adapter is called: health shows only on a single GET)."""
        await self._require_admin(principal, "list")
        return await self._page(q, sort, offset, limit, enabled_only=False)

    async def _page(self, q: str | None, sort: str | None, offset: int, limit: int, *,
                    enabled_only: bool) -> tuple[list[RegistrationView], int]:
        filters, order = _filters(q), _order(sort)
        async with self._db.write() as conn:  # write: the built-in row may be created here
            await scan_store.ensure_builtin_registration(conn)
            rows, total = await registration_store.list_registrations(conn, order=order, offset=offset,
                                                                      limit=limit, enabled_only=enabled_only,
                                                                      **filters)
        return [self._static_view(row) for row in rows], total

    @staticmethod
    def _static_view(registration: Registration) -> RegistrationView:
        if registration.url == BUILTIN_URL:
            return _with_metadata(registration, portside_metadata())
        return RegistrationView(registration)

    async def get(self, principal: Principal, registration_uuid: str) -> RegistrationView:
        """A registration with its adapter's name, vendor, version, health and capabilities."""
        await self._require_admin(principal, "read")
        async with self._db.write() as conn:
            registration = await self._find(conn, registration_uuid)
        return await self._probe(registration)

    async def create(self, principal: Principal, actor: Actor, fields: RegistrationFields) -> str:
        """Register an adapter; its uuid. Raises BadRequest, Conflict (name or URL taken)."""
        await self._require_admin(principal, "create")
        fields = _check_fields(fields)
        registration_uuid = str(uuid_module.uuid4())
        async with self._db.write() as conn:
            await scan_store.ensure_builtin_registration(conn)
            await self._check_unique(conn, fields, None)
            try:
                await registration_store.create(conn, uuid=registration_uuid, **self._columns(fields), is_default=False)
            except IntegrityError:
                raise Conflict(f"a scanner named {fields.name!r} already exists") from None
        self._deps.audit.record(actor, "create", "scanner", fields.name)
        return registration_uuid

    @staticmethod
    async def _check_unique(conn: Any, fields: RegistrationFields, own_id: int | None) -> None:
        named = await registration_store.find_by_name(conn, fields.name)
        if named is not None and named.id != own_id:
            raise Conflict(f"a scanner named {fields.name!r} already exists")
        same_url, _ = await registration_store.list_registrations(conn, url=fields.url, limit=2)
        if any(row.id != own_id for row in same_url):
            raise Conflict(f"a scanner with url {fields.url[:200]!r} is already registered")

    @staticmethod
    def _columns(fields: RegistrationFields) -> dict[str, Any]:
        return {"name": fields.name, "description": fields.description, "url": fields.url, "auth": fields.auth,
                "access_credential": fields.access_credential, "skip_cert_verify": fields.skip_cert_verify,
                "use_internal_addr": fields.use_internal_addr, "disabled": fields.disabled}

    async def update(self, principal: Principal, actor: Actor, registration_uuid: str,
                     fields: RegistrationFields) -> None:
        """Replace a registration's settings (the built-in one is immutable: Denied)."""
        await self._require_admin(principal, "update")
        async with self._db.write() as conn:
            registration = self._mutable(await self._find(conn, registration_uuid), "updated")
            fields = _check_fields(fields, existing=registration)
            if fields.disabled and registration.is_default:
                raise BadRequest("the default scanner can not be disabled: make another one the default first")
            await self._check_unique(conn, fields, registration.id)
            await registration_store.update_fields(conn, registration.id, **self._columns(fields))
        self._deps.audit.record(actor, "update", "scanner", fields.name)

    @staticmethod
    def _mutable(registration: Registration, verb: str) -> Registration:
        if registration.url == BUILTIN_URL:
            raise Denied(f"the built-in scanner {registration.name} is immutable and can not be {verb}")
        return registration

    async def delete(self, principal: Principal, actor: Actor, registration_uuid: str) -> RegistrationView:
        """Delete a registration and return it; projects that used it fall back to the default."""
        await self._require_admin(principal, "delete")
        async with self._db.write() as conn:
            registration = self._mutable(await self._find(conn, registration_uuid), "deleted")
            await registration_store.delete(conn, registration.id)
            if registration.is_default:
                await registration_store.set_default(conn, await scan_store.ensure_builtin_registration(conn))
        self._deps.audit.record(actor, "delete", "scanner", registration.name)
        return self._static_view(registration)

    async def set_default(self, principal: Principal, actor: Actor, registration_uuid: str, is_default: bool) -> None:
        """PATCH {is_default}: true makes it the only default; false is accepted and changes nothing
        (there must always be a default, as in Harbor)."""
        await self._require_admin(principal, "update")
        async with self._db.write() as conn:
            registration = await self._find(conn, registration_uuid)
            if not is_default:
                return
            if registration.disabled:
                raise BadRequest(f"the scanner {registration.name} is disabled and can not be the default")
            await registration_store.set_default(conn, registration.id)
        self._deps.audit.record(actor, "update", "scanner", registration.name)

    async def metadata(self, principal: Principal, registration_uuid: str) -> dict[str, Any]:
        """The adapter's ScannerAdapterMetadata; BadRequest when it cannot be reached."""
        await self._require_admin(principal, "read")
        async with self._db.write() as conn:
            registration = await self._find(conn, registration_uuid)
        try:
            return await self._fetch_metadata(registration)
        except AdapterError as error:
            raise BadRequest(f"cannot get the metadata of scanner {registration.name}: {error}") from None

    async def ping(self, principal: Principal, fields: RegistrationFields) -> dict[str, Any]:
        """Test settings before registering them: GET <url>/api/v1/metadata must answer with
        scanner metadata (BadRequest with the reason otherwise)."""
        await self._require_admin(principal, "create")
        fields = _check_fields(fields)
        try:
            metadata = await self._fetch_metadata(fields)
        except AdapterError as error:
            raise BadRequest(f"failed to ping the scanner adapter {fields.url[:200]}: {error}") from None
        consumed = {mime for item in metadata["capabilities"] if isinstance(item, dict)
                    for mime in item.get("consumes_mime_types") or []}
        if CONSUMED_MIMES[1] not in consumed:  # Harbor insists on the Docker v2 manifest type
            raise BadRequest(f"the scanner adapter does not consume {CONSUMED_MIMES[1]}")
        return metadata

    async def scan_with_adapter(self, registration: Registration, request: ScanRequest,
                                mime_type: str = REPORT_MIME,
                                checkpoint: Callable[[], Awaitable[None]] | None = None) -> Any:
        """Have an external adapter scan an artifact and return its report in `mime_type`
        (submit, then poll honouring Refresh-After for at most 30 minutes). Raises AdapterError,
        AdapterTimeout. `request` carries the pull credentials the adapter uses on our /v2
        (a short-lived scan token, see the module doc). `checkpoint` (a job's: a stop takes effect,
        it raises, and the lease is renewed) runs once the request is accepted and after every
        wait between polls, so no stretch without one is longer than one adapter call."""

        async def noop() -> None:
            return None

        renew = checkpoint or noop

        async def wait(seconds: float) -> None:
            await asyncio.sleep(seconds)
            await renew()

        async with self.adapter_client(registration, SCAN_TIMEOUT, sleep=wait) as adapter:
            request_id = await adapter.submit(request)
            await renew()
            return await adapter.wait_for_report(request_id, mime_type)

    # --- project scanners ------------------------------------------------------------------------

    async def scanner_for_project(self, project_id: int) -> Registration:
        """The registration scans of the project use: its own choice, else the default (created
        lazily: the built-in scanner)."""
        async with self._db.write() as conn:
            return await project_registration(conn, project_id)

    async def project_scanner(self, principal: Principal, project: Project) -> RegistrationView:
        await self._deps.access.require(principal, project.name, "scanner", "read")
        return self._static_view(await self.scanner_for_project(project.id))

    async def set_project_scanner(self, principal: Principal, actor: Actor, project: Project,
                                  registration_uuid: str) -> None:
        await self._deps.access.require(principal, project.name, "scanner", "create")
        async with self._db.write() as conn:
            registration = await registration_store.find_by_uuid(conn, registration_uuid)
            if registration is None:
                raise BadRequest(f"scanner registration {registration_uuid[:64]} does not exist")
            if registration.disabled:
                raise BadRequest(f"the scanner {registration.name} is disabled")
            await registration_store.set_project_registration(conn, project.id, registration.id)
        self._deps.audit.record(actor, "update", "project_scanner", f"{project.name}:{registration.name}",
                                project_id=project.id)

    async def candidates(self, principal: Principal, project: Project, *, q: str | None = None,
                         sort: str | None = None, offset: int = 0,
                         limit: int = 10) -> tuple[list[RegistrationView], int]:
        """The enabled registrations a project may choose from (projectAdmin and administrators)."""
        await self._deps.access.require(principal, project.name, "scanner", "create")
        return await self._page(q, sort, offset, limit, enabled_only=True)



def scanner_service(services: Services) -> ScannerService:
    """A ScannerService over the bundle's parts (cheap: it holds no state of its own)."""
    return ScannerService(deps_of(services))
