"""Portal page timings at scale for bench/run.py (Portside issue 5).

Claim under test: "pages stay fast with 10,000 artifacts in a repository and 1,000 projects
(paginated, server-side filtering)". Portside only: the reference registry has no portal, so these
rows have absolute targets and a "-" in its column.

* ``populate``: as admin (Basic auth, which Portside caches per credential), ``POST /api/v2.0/projects``
  PROJECTS private projects, then push ARTIFACTS distinct manifests (one small config + layer shared by
  all, each manifest made distinct by an annotation) under their own tags into PORTAL_REPO. Both with
  run.py's WORKERS threads, each with its own persistent http.client connection, within
  POPULATE_TIMEOUT_S overall, progress logged every PROGRESS_EVERY items.
* ``run_portal_phase`` then measures, signed in as admin, the repository page of PORTAL_REPO, the
  projects list and one artifact's page:

  - server time: the whole HTML response (http.client, session cookie from ``POST /c/login``),
    median of SERVER_LOADS requests after one warm-up request; each response must be 200 and show
    the page's content (e.g. "10000 in all"), so an error page is never timed;
  - in the browser (Debian's chromium driven by Playwright, signed in through the sign-in form):
    ``first-contentful-paint`` (``performance.getEntriesByType('paint')``) and DOMContentLoaded
    (``domContentLoadedEventEnd`` of the navigation entry), median of BROWSER_LOADS navigations after
    one warm-up navigation (so the static CSS/JS is cached, as for a signed-in user moving between
    pages). Without Playwright or chromium the browser rows hold an error (logged loudly); the
    bench goes on.

Playwright is the one import outside the standard library (the bench runs with the project's venv);
it is imported only here, when the phase runs. This module imports bench/run.py as ``run``: run it
through ``run.py``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from run import (
    HOST,
    MEASUREMENT_ERRORS,
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    REFERENCE,
    WORKERS,
    Bench,
    BenchError,
    Conn,
    Image,
    Metric,
    Server,
    describe,
    error_text,
    fmt,
    log,
    push_small_blob,
    run_workers,
    sha256_digest,
)
from scan_phase import HeaderConn, portside_headers

PROJECTS = 1000
ARTIFACTS = 10_000
PORTAL_PROJECT = "bench"
PORTAL_REPOSITORY = "portal"
PORTAL_REPO = f"{PORTAL_PROJECT}/{PORTAL_REPOSITORY}"
PROJECT_PREFIX = "bench-p"
ARTIFACTS_PER_PAGE = 25  # the repository page's page size (web/ui/pages_repositories.py)
API = "/api/v2.0"
POPULATE_TIMEOUT_S = 900.0
PROGRESS_EVERY = 1000
SERVER_LOADS = 10
BROWSER_LOADS = 5
PAGE_TIMEOUT_S = 30.0
PAINT_WAIT_MS = 5000  # how long the page script waits for a paint entry that has not come yet
FIRST_PAINT_TARGET = "<1000ms"
DCL_TARGET = "<1000ms"
SERVER_TARGET = "<300ms"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ANNOTATION = "org.portside.bench.index"
TOTAL_RE = re.compile(r"(\d+) in all")

# Read once the page has loaded: the first contentful paint (waited for up to PAINT_WAIT_MS, as
# chromium may report it after the load event) and the navigation's DOMContentLoaded end, both in
# ms from the navigation's start.
TIMINGS_JS = """(waitMs) => new Promise((resolve) => {
  const nav = performance.getEntriesByType('navigation')[0];
  const dcl = nav ? nav.domContentLoadedEventEnd : null;
  const fcp = () => performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint');
  const found = fcp();
  if (found) { resolve({fcp: found.startTime, dcl}); return; }
  new PerformanceObserver(() => { const e = fcp(); if (e) resolve({fcp: e.startTime, dcl}); })
    .observe({type: 'paint', buffered: true});
  setTimeout(() => resolve({fcp: null, dcl}), waitMs);
})"""


# --------------------------------------------------------------------------------------------------
# Populating Portside
# --------------------------------------------------------------------------------------------------


def artifact_manifest(image: Image, index: int) -> bytes:
    """The shared config and layer, with an annotation that makes manifest ``index`` distinct."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(image.config), "size": len(image.config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": sha256_digest(image.layer), "size": len(image.layer)}],
            "annotations": {ANNOTATION: str(index)},
        },
        separators=(",", ":"),
    ).encode()


def artifact_tag(index: int) -> str:
    """The tag of artifact ``index`` (zero-padded: tag order is push order)."""
    return f"a{index:05d}"


class Progress:
    """Counts finished items across the worker threads, logs every PROGRESS_EVERY, and enforces a deadline."""

    def __init__(self, what: str, total: int, deadline: float) -> None:
        self.what, self.total, self.deadline = what, total, deadline
        self.done = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def check_time(self) -> None:
        """Raise (stopping the workers) once the populate budget is spent."""
        if time.monotonic() > self.deadline:
            raise BenchError(f"{self.what}: only {self.done} of {self.total} done within {POPULATE_TIMEOUT_S:.0f} s")

    def step(self) -> None:
        """One more item done."""
        with self._lock:
            self.done += 1
            done = self.done
        if done % PROGRESS_EVERY == 0 or done == self.total:
            rate = done / max(time.monotonic() - self.started, 1e-9)
            log(f"  portside  {self.what}: {done}/{self.total} ({rate:.0f}/s)")


def create_project(conn: Conn, name: str, headers: dict[str, str]) -> None:
    """``POST /api/v2.0/projects`` a private project; 201 expected."""
    target = f"{API}/projects"
    body = json.dumps({"project_name": name, "metadata": {"public": "false"}}).encode()
    reply = conn.request("POST", target, body, {**headers, "Content-Type": "application/json"})
    if reply.status != 201:
        raise BenchError(describe("POST", f"{target} {name}", reply))


def push_artifact(conn: Conn, image: Image, index: int, headers: dict[str, str]) -> None:
    """PUT manifest ``index`` under its tag into PORTAL_REPO."""
    path = f"/v2/{PORTAL_REPO}/manifests/{artifact_tag(index)}"
    reply = conn.request("PUT", path, artifact_manifest(image, index), {**headers, "Content-Type": OCI_MANIFEST})
    if reply.status != 201:
        raise BenchError(describe("PUT", path, reply))


def in_parallel(port: int, what: str, items: list[Any], work: Callable[[Conn, Any], None], deadline: float) -> float:
    """``work`` over ``items`` with run.py's worker threads, progress logged, within ``deadline``; items/s."""
    progress = Progress(what, len(items), deadline)

    def one(conn: Conn, item: Any) -> None:
        progress.check_time()
        work(conn, item)
        progress.step()

    return len(items) / run_workers(port, items, one)


@dataclass
class Populated:
    """What populate made: rates for the info rows, and the artifact whose page is measured."""

    projects_per_s: float
    artifacts_per_s: float
    artifact_digest: str


def populate(server: Server, image: Image, headers: dict[str, str]) -> Populated:
    """Create PROJECTS projects, then push ARTIFACTS manifests into PORTAL_REPO (blobs first)."""
    deadline = time.monotonic() + POPULATE_TIMEOUT_S
    log(f"portal: creating {PROJECTS} projects, pushing {ARTIFACTS} artifacts to {PORTAL_REPO} ({WORKERS} workers)")
    names = [f"{PROJECT_PREFIX}{i:04d}" for i in range(PROJECTS)]
    projects_per_s = in_parallel(server.port, "projects", names,
                                 lambda conn, name: create_project(conn, name, headers), deadline)
    push_image(server.port, image, headers)
    artifacts_per_s = in_parallel(server.port, "artifacts", list(range(ARTIFACTS)),
                                  lambda conn, i: push_artifact(conn, image, i, headers), deadline)
    return Populated(projects_per_s, artifacts_per_s, sha256_digest(artifact_manifest(image, 0)))


def push_image(port: int, image: Image, headers: dict[str, str]) -> None:
    """Push the shared config and layer blobs into PORTAL_REPO."""
    conn = HeaderConn(port, headers)
    try:
        for data in (image.config, image.layer):
            push_small_blob(conn, PORTAL_REPO, data, sha256_digest(data))
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------------
# The pages
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortalPage:
    """A page to time: its path, a row-name label, and text its HTML must contain (not an error page)."""

    label: str
    path: str
    expect: str


def pages_to_time(artifact_digest: str) -> list[PortalPage]:
    """The repository page (first page, a tag search, the last page), the projects list (first page,
    a name search) and one artifact's page. Each search matches the 10 names ending in 0990…0999."""
    repository = f"/harbor/projects/{PORTAL_PROJECT}/repositories/{PORTAL_REPOSITORY}"
    last_page = -(-ARTIFACTS // ARTIFACTS_PER_PAGE)
    tag_search = artifact_tag(ARTIFACTS - 10)[:-1]  # "a0999": a09990 … a09999
    name_search = f"{PROJECT_PREFIX}{PROJECTS - 10:04d}"[:-1]  # "bench-p099": bench-p0990 … bench-p0999
    return [
        PortalPage(f"repository page ({ARTIFACTS} artifacts)", repository, f"{ARTIFACTS} in all"),
        PortalPage("repository page, tag search", f"{repository}?tag={tag_search}", "10 in all"),
        PortalPage(f"repository page, last page ({last_page})", f"{repository}?page={last_page}",
                   f"Page {last_page} of {last_page}"),
        PortalPage(f"projects list ({PROJECTS}+ projects)", "/harbor/projects", f"{PROJECT_PREFIX}0000"),
        PortalPage("projects list, name search", f"/harbor/projects?name={name_search}", "10 in all"),
        PortalPage("artifact page",
                   f"/harbor/projects/{PORTAL_PROJECT}/artifacts/{PORTAL_REPOSITORY}/{artifact_digest}",
                   artifact_digest),
    ]


def cookies_of(response: http.client.HTTPResponse) -> dict[str, str]:
    """The cookies a response sets (name → value)."""
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def cookie_header(cookies: dict[str, str]) -> str:
    """A Cookie request header."""
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def sign_in(port: int, password: str) -> dict[str, str]:
    """Sign in as admin as a browser does (sign-in page for the CSRF seed, ``POST /c/login``); the cookies."""
    conn = http.client.HTTPConnection(HOST, port, timeout=PAGE_TIMEOUT_S)
    try:
        conn.request("GET", "/harbor/sign-in", headers={"Accept": "text/html"})
        response = conn.getresponse()
        response.read()
        token = response.getheader("X-Harbor-CSRF-Token") or ""
        cookies = cookies_of(response)
        if response.status != 200 or not token:
            raise BenchError(f"GET /harbor/sign-in -> {response.status}, CSRF token: {bool(token)}")
        form = urlencode({"principal": "admin", "password": password, "csrf_token": token, "next": "/harbor/projects"})
        conn.request("POST", "/c/login", body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_header(cookies)})
        response = conn.getresponse()
        body = response.read()
        cookies.update(cookies_of(response))
        if response.status != 303 or "sid" not in cookies:
            raise BenchError(f"POST /c/login -> {response.status} {body[:300]!r} (no session cookie)")
        return cookies
    finally:
        conn.close()


def html_seconds(conn: http.client.HTTPConnection, page: PortalPage, cookies: dict[str, str]) -> float:
    """One GET of the page's HTML, whole body read; seconds. BenchError unless it is the page itself."""
    t0 = time.perf_counter()
    conn.request("GET", page.path, headers={"Accept": "text/html", "Cookie": cookie_header(cookies)})
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - t0
    if response.will_close:
        conn.close()
    if response.status != 200 or page.expect.encode() not in body:
        raise BenchError(f"GET {page.path} -> {response.status}, {len(body)} bytes without {page.expect!r}: "
                         f"{body[:300].decode('utf-8', 'replace')!r}")
    return elapsed


def server_times(port: int, page: PortalPage, cookies: dict[str, str]) -> list[float]:
    """SERVER_LOADS timed GETs of the page over one kept-alive connection, after one warm-up GET."""
    conn = http.client.HTTPConnection(HOST, port, timeout=PAGE_TIMEOUT_S)
    try:
        html_seconds(conn, page, cookies)
        return [html_seconds(conn, page, cookies) for _ in range(SERVER_LOADS)]
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------------
# In the browser
# --------------------------------------------------------------------------------------------------


@dataclass
class BrowserTimes:
    """Per page label: first-contentful-paint and DOMContentLoaded of each measured load, in seconds."""

    first_paint: dict[str, list[float]]
    dom_content_loaded: dict[str, list[float]]


def browser_missing() -> str | None:
    """Why the browser rows cannot be measured (None: they can)."""
    try:
        import playwright.sync_api  # noqa: F401 - only whether it is there
    except ImportError:
        return "playwright is not installed in this Python (the venv's .[test] extra has it)"
    if not shutil.which(CHROMIUM):
        return f"no {CHROMIUM} (apt-get install -y chromium)"
    return None


def browser_times(server: Server, password: str, pages: list[PortalPage]) -> BrowserTimes:
    """Sign in through the form, then per page one warm-up and BROWSER_LOADS timed navigations."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    times = BrowserTimes({p.label: [] for p in pages}, {p.label: [] for p in pages})
    timeout_ms = PAGE_TIMEOUT_S * 1000
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=timeout_ms)
            try:
                page = browser.new_page()
                page.set_default_timeout(timeout_ms)
                page.goto(f"{server.base}/harbor/sign-in")
                page.get_by_label("User name").fill("admin")
                page.get_by_label("Password or CLI secret").fill(password)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/harbor/projects")
                for portal_page in pages:
                    for load in range(BROWSER_LOADS + 1):
                        response = page.goto(server.base + portal_page.path, wait_until="load")
                        if response is None or response.status != 200:
                            raise BenchError(f"browser: {portal_page.path} -> {response and response.status}")
                        found = page.evaluate(TIMINGS_JS, PAINT_WAIT_MS)
                        if found.get("fcp") is None or found.get("dcl") is None:
                            raise BenchError(f"browser: {portal_page.path}: no paint or navigation timing {found}")
                        if load:  # load 0 warms the cache
                            times.first_paint[portal_page.label].append(found["fcp"] / 1000)
                            times.dom_content_loaded[portal_page.label].append(found["dcl"] / 1000)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise BenchError(f"browser: {type(exc).__name__}: {str(exc)[:500]}") from None
    return times


# --------------------------------------------------------------------------------------------------
# The phase
# --------------------------------------------------------------------------------------------------


def skip_reason(args: argparse.Namespace) -> str | None:
    """Why the portal phase cannot run with these options (None: it can)."""
    if args.portside_cmd == REFERENCE:
        return "the 'portside' server is a docker-registry (--portside-cmd reference): it has no portal"
    if not args.portside_admin_password:
        return "no --portside-admin-password: populating and signing in need the admin password"
    return None


def record_values(metric: Metric, server: Server, values: list[float]) -> None:
    """Keep every measured load as a run (the table shows their median); log them on one line."""
    metric.values[server.name].extend(values)
    each = " ".join(f"{value * 1000:.0f}" for value in values)
    log(f"  {server.name:9s} {metric.name}: median {fmt(statistics.median(values), metric.unit)} (ms: {each})")


def run_portal_phase(bench: Bench, args: argparse.Namespace) -> None:
    """Populate Portside, then time its pages: server HTML, first paint and DOMContentLoaded."""
    portside = next(server for server in bench.servers if server.name == "portside")
    setup = bench.metric(f"portal setup: {PROJECTS} projects created", "projects/s", "", info=True)
    pushed = bench.metric(f"portal setup: {ARTIFACTS} artifacts pushed", "artifacts/s", "", info=True)
    reason = skip_reason(args)
    if reason:
        log(f"portal phase skipped: {reason}")
        bench.fail(setup, portside, f"skipped: {reason}")
        return
    password = args.portside_admin_password
    result: list[Populated] = []

    def run_populate() -> float:
        result.append(populate(portside, bench.image, portside_headers(args)))
        return result[0].projects_per_s

    bench.record(setup, portside, 0, run_populate)
    if not result:
        return
    bench.record(pushed, portside, 0, lambda: result[0].artifacts_per_s)
    pages = pages_to_time(result[0].artifact_digest)
    rows = {p.label: (bench.metric(f"portal {p.label}: server HTML", "s", SERVER_TARGET),
                      bench.metric(f"portal {p.label}: first paint", "s", FIRST_PAINT_TARGET),
                      bench.metric(f"portal {p.label}: DOMContentLoaded", "s", DCL_TARGET)) for p in pages}
    log(f"portal: server HTML time, median of {SERVER_LOADS} GETs per page")
    try:
        cookies = sign_in(portside.port, password)
    except MEASUREMENT_ERRORS as exc:
        for server_row, _paint, _dcl in rows.values():
            bench.fail(server_row, portside, f"sign-in: {error_text(exc)}")
    else:
        for p in pages:
            try:
                values = server_times(portside.port, p, cookies)
            except MEASUREMENT_ERRORS as exc:
                bench.fail(rows[p.label][0], portside, error_text(exc))
                continue
            record_values(rows[p.label][0], portside, values)
    log(f"portal: first paint and DOMContentLoaded in chromium, median of {BROWSER_LOADS} loads per page")
    missing = browser_missing()
    if missing:
        log(f"!!! portal browser rows NOT MEASURED: {missing}")
    try:
        if missing:
            raise BenchError(f"not measured: {missing}")
        times = browser_times(portside, password, pages)
    except MEASUREMENT_ERRORS as exc:
        for _server_row, paint, dcl in rows.values():
            bench.fail(paint, portside, error_text(exc))
            bench.fail(dcl, portside, error_text(exc))
        return
    for p in pages:
        record_values(rows[p.label][1], portside, times.first_paint[p.label])
        record_values(rows[p.label][2], portside, times.dom_content_loaded[p.label])
