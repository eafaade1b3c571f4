"""The system administrator's pages: global labels, scanner registrations and the
vulnerability database (with the scan-all schedule).

Every page first asks the permission policy for the system-level permission the API's own
routes need (`label`, `scanner`, `scan-all`): an anonymous visitor is sent to sign in, any
other non-administrator gets a 403 page, and a form they post changes nothing (the services
check the same permission again on every change, so a crafted POST is refused there too).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from portside.domain.errors import BadRequest, NotFound
from portside.services.labels import LabelFields
from portside.services.row_ids import parse_row_id
from portside.services.scan_all import PRESET_CRONS, scan_all_service
from portside.services.scanners import RegistrationFields, RegistrationView, scanner_service
from portside.services.vulndb import VulnerabilityDatabase
from portside.store import scanner_registrations as registration_store
from portside.store.labels import LabelRow
from portside.web.ui.pages_repositories import label_color
from portside.web.ui.rendering import Pager, action, field, page, path_row_id, render
from portside.web.ui.visitor import Visitor

LABELS = "/harbor/admin/labels"
SCANNERS = "/harbor/admin/scanners"
VULNERABILITY_DATABASE = "/harbor/admin/vulnerability-database"
PAGE_SIZE = 20
#: Auth types of a scanner adapter as the registration form offers them ("" = none).
AUTH_CHOICES = (("", "None"), ("Basic", "Basic"), ("Bearer", "Bearer"),
                ("X-ScannerAdapter-API-Key", "API key (X-ScannerAdapter-API-Key)"))
SCHEDULE_CHOICES = ("None", *PRESET_CRONS, "Custom")
MAX_SHOWN_IMPORT_ERRORS = 10
_MAX_UUID = 64


async def _require(visitor: Visitor, resource: str, action_name: str) -> None:
    """Unauthorized (anonymous: sign in) or Denied unless the policy grants it system-wide."""
    await visitor.services.access.require(visitor.principal, None, resource, action_name)


# --- labels ------------------------------------------------------------------------------------


async def _global_label(request: Request, visitor: Visitor) -> LabelRow:
    """The global label of the path (NotFound for a project label: those belong to their project)."""
    label = await visitor.services.labels.get(visitor.principal, path_row_id(request, "label_id", "label"))
    if label.scope != "g":
        raise NotFound(f"global label {label.id} not found")
    return label


def _label_fields(form: FormData) -> LabelFields:
    return LabelFields(name=field(form, "name", 256).strip(), description=field(form, "description", 2048),
                       color=field(form, "color", 32).strip(), scope="g")


@page
async def labels(request: Request, visitor: Visitor) -> Response:
    """Global labels by name (`?name=` matches part of it); `?edit=<id>` opens one in the side form."""
    await _require(visitor, "label", "create")
    search = request.query_params.get("name", "").strip()[:128]
    pager = Pager(request, PAGE_SIZE)
    rows, pager.total = await visitor.services.labels.list_labels(
        visitor.principal, scope="g", project_id=None, name=search or None, q=None, sort="name",
        offset=pager.offset, limit=PAGE_SIZE)
    editing: LabelRow | None = None
    if "edit" in request.query_params:
        label_id = parse_row_id(request.query_params["edit"])
        editing = await visitor.services.labels.get(visitor.principal, label_id) if label_id else None
        if editing is None or editing.scope != "g":
            raise NotFound(f"global label {request.query_params['edit'][:20]} not found")
    return render(visitor, "admin_labels.html", labels=[(row, label_color(row)) for row in rows], pager=pager,
                  search=search, editing=editing)


@action
async def create_label(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    fields = _label_fields(form)
    await visitor.services.labels.create(visitor.principal, visitor.actor(request), fields)
    return LABELS, f"Label {fields.name} created."


@action
async def update_label(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    fields = _label_fields(form)
    label = await _global_label(request, visitor)
    await visitor.services.labels.update(visitor.principal, visitor.actor(request), label.id, fields)
    return LABELS, f"Label {fields.name} saved."


@action
async def delete_label(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    label = await _global_label(request, visitor)
    await visitor.services.labels.delete(visitor.principal, visitor.actor(request), label.id)
    return LABELS, f"Label {label.name} deleted."


# --- scanners ----------------------------------------------------------------------------------


def _registration_uuid(request: Request) -> str:
    return str(request.path_params["registration"])[:_MAX_UUID]


@page
async def scanners(request: Request, visitor: Visitor) -> Response:
    """The registrations by name, without calling any adapter; `?check=<uuid>` asks that one
    adapter for its metadata (at most the probe timeout) and shows its health."""
    service = scanner_service(visitor.services)
    pager = Pager(request, PAGE_SIZE)
    views, pager.total = await service.list_registrations(visitor.principal, sort="name", offset=pager.offset,
                                                          limit=PAGE_SIZE)
    checked: RegistrationView | None = None
    if "check" in request.query_params:
        checked = await service.get(visitor.principal, request.query_params["check"][:_MAX_UUID])
    return render(visitor, "admin_scanners.html", scanners=views, pager=pager, checked=checked,
                  auth_choices=AUTH_CHOICES)


@action
async def register_scanner(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    """Register an adapter; with `test=true` only after it answered a ping (as Harbor's UI offers)."""
    fields = RegistrationFields(
        name=field(form, "name", 300).strip(), url=field(form, "url", 1100).strip(),
        description=field(form, "description", 1024), auth=field(form, "auth", 40),
        access_credential=field(form, "access_credential", 4096),
        skip_cert_verify=field(form, "skip_cert_verify") == "true", disabled=field(form, "disabled") == "true")
    service = scanner_service(visitor.services)
    if field(form, "test") == "true":
        await service.ping(visitor.principal, fields)
    await service.create(visitor.principal, visitor.actor(request), fields)
    return SCANNERS, f"Scanner {fields.name} registered."


@action
async def make_default_scanner(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    await scanner_service(visitor.services).set_default(visitor.principal, visitor.actor(request),
                                                        _registration_uuid(request), True)
    return SCANNERS, "Default scanner changed."


@action
async def enable_scanner(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    """Enable (`enabled=true`) or disable a registration, keeping its other settings (the API's
    PUT with the stored values; the stored credential never leaves the server)."""
    await _require(visitor, "scanner", "update")  # before looking anything up: unknown and forbidden look alike
    registration_uuid = _registration_uuid(request)
    async with visitor.services.db.read() as conn:
        found = await registration_store.find_by_uuid(conn, registration_uuid)
    if found is None:
        raise NotFound(f"scanner registration {registration_uuid} not found")
    enabled = field(form, "enabled") == "true"
    await scanner_service(visitor.services).update(visitor.principal, visitor.actor(request), registration_uuid,
                                                   RegistrationFields(
        name=found.name, url=found.url, description=found.description, auth=found.auth,
        access_credential=found.access_credential, skip_cert_verify=found.skip_cert_verify,
        use_internal_addr=found.use_internal_addr, disabled=not enabled))
    return SCANNERS, f"Scanner {found.name} {'enabled' if enabled else 'disabled'}."


@action
async def delete_scanner(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    deleted = await scanner_service(visitor.services).delete(visitor.principal, visitor.actor(request),
                                                             _registration_uuid(request))
    return SCANNERS, f"Scanner {deleted.registration.name} deleted."


# --- the vulnerability database ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ecosystem:
    name: str
    advisories: int
    percent: float  # of the largest ecosystem's count, for the bar


@page
async def vulnerability_database(request: Request, visitor: Visitor) -> Response:
    """Advisories per ecosystem, the import runs and, for those who may see it, scan-all."""
    await _require(visitor, "scanner", "read")  # the database is part of the scanning setup
    database = VulnerabilityDatabase(visitor.services.db)
    status = await database.status()
    runs = await database.import_runs()
    largest = max(status.per_ecosystem.values(), default=0) or 1
    ecosystems = [Ecosystem(name, count, round(100 * count / largest, 1))
                  for name, count in sorted(status.per_ecosystem.items(), key=lambda item: (-item[1], item[0]))]
    scan_all = None
    if await visitor.services.access.allowed(visitor.principal, None, "scan-all", "read"):
        service = scan_all_service(visitor.services)
        scan_all = {"schedule": (await service.schedule(visitor.principal)).get("schedule"),
                    "metrics": await service.metrics(visitor.principal),
                    "may_update": await visitor.services.access.allowed(visitor.principal, None, "scan-all",
                                                                        "update")}
    return render(visitor, "admin_vulndb.html", database=status, runs=runs, ecosystems=ecosystems, scan_all=scan_all,
                  schedule_choices=SCHEDULE_CHOICES, max_errors=MAX_SHOWN_IMPORT_ERRORS)


@action
async def scan_all_now(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    """`POST /api/v2.0/system/scanAll/schedule` with type Manual: start a scan of every artifact."""
    await scan_all_service(visitor.services).set_schedule(visitor.principal, "Manual", None)
    return VULNERABILITY_DATABASE, "Scan all started: every artifact is queued for scanning."


@action
async def set_scan_all_schedule(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    schedule_type = field(form, "schedule_type", 32)
    if schedule_type not in SCHEDULE_CHOICES:
        raise BadRequest(f"choose a schedule: {', '.join(SCHEDULE_CHOICES)}")
    cron = field(form, "cron", 128).strip() or None
    await scan_all_service(visitor.services).set_schedule(visitor.principal, schedule_type, cron)
    return VULNERABILITY_DATABASE, ("Scan all schedule removed." if schedule_type == "None"
                                    else f"Scan all scheduled: {schedule_type}.")
