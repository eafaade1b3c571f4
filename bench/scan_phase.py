"""Vulnerability-scan timings for bench/run.py (Portside issue 4).

Claim under test: "a scan of an image whose layers are all cached takes well under a second; a
first scan of a 500 MB image is bounded by reading it once".

* ``prepare`` (before the servers start): generate the scan image once per bench run in the bench
  temp dir, and ``portside vulndb import`` the OSV records of ../shared/testdata/osv into the
  database in Portside's data dir — before Portside starts, so the re-scan that an import triggers
  finds nothing to scan and cannot warm the layer cache before the first scan is measured.
* ``run_scan_phase`` (after the other phases): push the image to both servers, then measure

  - on Portside, ``POST …/artifacts/{digest}/scan`` until the artifact's ``scan_overview`` says
    Success (polled every 0.05 s, at most SCAN_TIMEOUT_S): once with no layer analysed yet
    (``scan first``), then ``--runs`` times with every layer in the analysis cache (``scan
    cached``); also the report's own start→end, and the job log is checked to say which one it was;
  - on the reference, "reading it once": every layer blob pulled with ``curl -o /dev/null``,
    one after the other, times summed.

  Each scan's report must hold the advisories the image was built to match (EXPECTED_IDS), so the
  times are of a real scan.

The image (deterministic: the same bytes for the same size; random.Random with fixed seeds) is an
Alpine 3.10 system in LAYER_PLAN's layers, gzip level 1: an apk database (``lib/apk/db/installed``),
Python ``*.dist-info/METADATA`` and npm ``node_modules/*/package.json`` files (the package choices
follow tests/scan_images.py and the OSV README's expected matches), plus filler files of
incompressible bytes (some executable, which the scanner reads for Go build info) up to
``--scan-image-mib``. There is no dpkg database: the test advisories have no Debian records, and an
image has one OS.

Only the standard library is used (and this module imports bench/run.py as ``run``: run it through
``run.py``).
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import hashlib
import io
import json
import os
import random
import tarfile
import time
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from run import (
    BIG_TIMEOUT_S,
    HTTP_TIMEOUT_S,
    MEASUREMENT_ERRORS,
    MIB,
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    PORTSIDE_BIN,
    REFERENCE,
    Bench,
    BenchError,
    Conn,
    Metric,
    Reply,
    Server,
    describe,
    error_text,
    log,
    push_small_blob,
    put_manifest,
    run_cmd,
    sha256_digest,
    start_upload,
    with_digest,
)

OSV_DIR = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "osv"
PROJECT = "bench"
REPOSITORY = "scan"
SCAN_REPO = f"{PROJECT}/{REPOSITORY}"
TAG = "v1"
API = "/api/v2.0"
REPORT_MIME = "application/vnd.security.vulnerability.report; version=1.1"
SCAN_TIMEOUT_S = 600.0
POLL_INTERVAL_S = 0.05
IMPORT_TIMEOUT_S = 300.0
MAX_FILLER_FILES = 200_000  # per layer; the size budget ends the loop long before
COPY_BUFFER = MIB
SEED = "portside-bench-scan"
TAR_MTIME = 1_700_000_000

# --------------------------------------------------------------------------------------------------
# What the image holds
# --------------------------------------------------------------------------------------------------

ALPINE_OS_RELEASE = (
    b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.9\n'
    b'PRETTY_NAME="Alpine Linux v3.10"\nHOME_URL="https://alpinelinux.org/"\n'
)
# (name, version, origin). musl and busybox are affected on Alpine v3.10; libcrypto1.1's advisory
# covers v3.11 only (a negative case, as in tests/scan_images.py).
APK_VULNERABLE = (("musl", "1.1.22-r2", "musl"), ("busybox", "1.30.1-r1", "busybox"),
                  ("libcrypto1.1", "1.1.1d-r2", "openssl"))
APK_OTHERS = ("alpine-baselayout", "alpine-keys", "apk-tools", "ca-certificates-cacert", "libc-utils",
              "libssl1.1", "libtls-standard", "musl-utils", "scanelf", "ssl_client", "zlib", "ncurses-libs",
              "readline", "bash", "libgcc", "libstdc++", "expat", "libffi", "gdbm", "sqlite-libs", "xz-libs")
APK_GENERATED = 400  # more packages, so that parsing the database is work of a realistic size
PYTHON_VULNERABLE = (("urllib3", "2.0.3"), ("PyYAML", "5.3.1"), ("Jinja2", "2.10"), ("requests", "2.25.1"),
                     ("Pillow", "10.2.0"))
PYTHON_OTHERS = (("certifi", "2024.2.2"), ("idna", "3.6"), ("six", "1.16.0"), ("click", "8.1.7"),
                 ("attrs", "23.2.0"), ("packaging", "24.0"), ("MarkupSafe", "2.1.5"), ("setuptools", "69.2.0"))
PYTHON_GENERATED = 150
NPM_VULNERABLE = (("lodash", "4.17.15"), ("minimist", "1.2.5"))
NPM_OTHERS = (("express", "4.19.2"), ("debug", "4.3.4"), ("ms", "2.1.3"), ("semver", "7.6.0"),
              ("chalk", "5.3.0"), ("commander", "12.0.0"))
NPM_GENERATED = 300
SITE_PACKAGES = "usr/lib/python3.11/site-packages"
NODE_MODULES = "usr/lib/node_modules"

#: Every one of these must be in each scan's report (CVE aliases, as the report names them):
#: pyyaml, lodash, jinja2 (2), urllib3 (3), busybox, musl — tests/scan_images.py's EXPECTED — and
#: requests (GHSA-j8r2), Pillow (GHSA-44wm), minimist (GHSA-xvch).
EXPECTED_IDS = frozenset({
    "CVE-2020-14343", "CVE-2021-23337", "CVE-2024-22195", "CVE-2020-28493", "CVE-2023-43804", "CVE-2023-45803",
    "CVE-2024-37891", "CVE-2019-5747", "CVE-2019-14697", "CVE-2023-32681", "CVE-2024-28219", "CVE-2021-44906",
})


@dataclass(frozen=True)
class LayerPlan:
    """One layer: its name (seed), its share of the filler budget, where its filler goes, and how
    many of its filler files are executable (1 in ``executable_every``; 0 = none)."""

    name: str
    share: float
    filler_dir: str
    executable_every: int = 0


LAYER_PLAN = (
    LayerPlan("alpine-base", 0.15, "usr/lib/bench-base", executable_every=8),
    LayerPlan("python", 0.20, f"{SITE_PACKAGES}/bench_data"),
    LayerPlan("node", 0.15, f"{NODE_MODULES}/bench-assets/dist"),
    LayerPlan("app", 0.25, "opt/app/lib", executable_every=20),
    LayerPlan("data", 0.25, "opt/app/data"),
)


def apk_installed() -> bytes:
    """An apk database: the vulnerable packages, some real names, and APK_GENERATED more."""
    packages = list(APK_VULNERABLE) + [(name, "1.0.0-r0", name) for name in APK_OTHERS]
    packages += [(f"bench-lib{i:03d}", f"{1 + i % 7}.{i % 13}.{i % 5}-r{i % 3}", f"bench-lib{i:03d}")
                 for i in range(APK_GENERATED)]
    records = [
        f"C:Q1{hashlib.sha1(name.encode()).hexdigest()[:27]}=\nP:{name}\nV:{version}\nA:x86_64\nS:{1000 + len(name)}\n"
        f"I:{4096 + len(name)}\nT:{name} for the Portside benchmark\nU:https://example.org/{name}\nL:MIT\n"
        f"o:{origin}\nm:Bench <bench@example.org>\nt:1700000000\nF:usr/lib\nR:lib{name}.so.1\nZ:Q1abc=\n"
        for name, version, origin in packages
    ]
    return "\n".join(records).encode()


def python_files() -> dict[str, bytes]:
    """``*.dist-info/METADATA`` (and RECORD, which the scanner does not read) per distribution."""
    dists = list(PYTHON_VULNERABLE) + list(PYTHON_OTHERS)
    dists += [(f"bench-pkg-{i:03d}", f"0.{i}.{i % 4}") for i in range(PYTHON_GENERATED)]
    files = {}
    for name, version in dists:
        base = f"{SITE_PACKAGES}/{name.replace('-', '_')}-{version}.dist-info"
        files[f"{base}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                     f"Summary: {name} for the Portside benchmark\nLicense: MIT\n").encode()
        files[f"{base}/RECORD"] = f"{name}/__init__.py,,\n".encode()
    return files


def npm_files() -> dict[str, bytes]:
    """One ``node_modules/<name>/package.json`` per installed package."""
    packages = list(NPM_VULNERABLE) + list(NPM_OTHERS)
    packages += [(f"bench-mod-{i:03d}", f"1.{i}.0") for i in range(NPM_GENERATED)]
    return {f"{NODE_MODULES}/{name}/package.json": json.dumps(
        {"name": name, "version": version, "license": "MIT", "main": "index.js"}).encode()
        for name, version in packages}


def metadata_files(plan: LayerPlan) -> dict[str, bytes]:
    """The package databases and OS files of a layer."""
    if plan.name == "alpine-base":
        return {"etc/os-release": ALPINE_OS_RELEASE, "etc/alpine-release": b"3.10.9\n",
                "lib/apk/db/installed": apk_installed()}
    if plan.name == "python":
        return python_files()
    if plan.name == "node":
        return npm_files()
    return {"opt/app/package.json": json.dumps({"name": "bench-app", "version": "1.0.0", "private": True}).encode()}


# --------------------------------------------------------------------------------------------------
# Generating the layers (streamed to disk: tar → sha256 (diff_id) → gzip -1 → sha256 (digest))
# --------------------------------------------------------------------------------------------------


class GzipSink:
    """A write-only file for tarfile: hashes the tar stream, gzips it (level 1) to ``out``, hashes that."""

    def __init__(self, out: io.BufferedWriter) -> None:
        self.out = out
        self.tar_hash = hashlib.sha256()
        self.gz_hash = hashlib.sha256()
        self.offset = 0
        self.size = 0
        # wbits 31: gzip framing; zlib writes mtime 0 in the header, so the bytes are reproducible.
        self.compressor = zlib.compressobj(1, zlib.DEFLATED, 31)

    def write(self, data: bytes) -> int:
        """Take tar bytes."""
        self.tar_hash.update(data)
        self.offset += len(data)
        self._emit(self.compressor.compress(data))
        return len(data)

    def tell(self) -> int:
        """Position in the tar stream (tarfile asks)."""
        return self.offset

    def finish(self) -> None:
        """Flush the compressor."""
        self._emit(self.compressor.flush())

    def _emit(self, data: bytes) -> None:
        if data:
            self.gz_hash.update(data)
            self.size += len(data)
            self.out.write(data)


@dataclass(frozen=True)
class LayerBlob:
    """A generated layer on disk."""

    path: Path
    size: int
    digest: str
    diff_id: str


@dataclass(frozen=True)
class ScanImage:
    """The generated image: its layers on disk, the config and the manifest."""

    size_mib: int
    layers: tuple[LayerBlob, ...]
    config: bytes
    manifest: bytes

    @property
    def digest(self) -> str:
        """The manifest digest (the artifact's)."""
        return sha256_digest(self.manifest)

    @property
    def layer_bytes(self) -> int:
        """Total compressed size of the layers."""
        return sum(layer.size for layer in self.layers)


def filler_sizes(rng: random.Random, budget: int) -> list[int]:
    """File sizes that add up to ``budget``: mostly small files (256 B – 16 KiB), some large (1 – 8 MiB)."""
    sizes: list[int] = []
    left = budget
    while left > 0 and len(sizes) < MAX_FILLER_FILES:
        size = rng.randint(1 * MIB, 8 * MIB) if rng.random() < 0.03 else rng.randint(256, 16 * 1024)
        sizes.append(min(size, left))
        left -= sizes[-1]
    return sizes


def add_file(tar: tarfile.TarFile, path: str, data: bytes, mode: int = 0o644) -> None:
    """Add one regular file with fixed metadata."""
    info = tarfile.TarInfo(path)
    info.size, info.mode, info.mtime = len(data), mode, TAR_MTIME
    info.uname = info.gname = "root"
    tar.addfile(info, io.BytesIO(data))


def write_layer(path: Path, plan: LayerPlan, budget: int) -> LayerBlob:
    """Write one layer: its package files, then ``budget`` bytes of incompressible filler."""
    rng = random.Random(f"{SEED}-{plan.name}")
    with path.open("wb") as out:
        sink = GzipSink(out)
        with tarfile.open(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT,  # type: ignore[call-overload]
                          copybufsize=COPY_BUFFER) as tar:
            for name, data in metadata_files(plan).items():
                add_file(tar, name, data)
            for n, size in enumerate(filler_sizes(rng, budget)):
                executable = plan.executable_every > 0 and n % plan.executable_every == 0
                name = f"{plan.filler_dir}/{n // 100:03d}/{'bin' if executable else 'file'}{n:05d}"
                add_file(tar, name, rng.randbytes(size), 0o755 if executable else 0o644)
        sink.finish()
    return LayerBlob(path, sink.size, "sha256:" + sink.gz_hash.hexdigest(), "sha256:" + sink.tar_hash.hexdigest())


def make_scan_image(directory: Path, size_mib: int) -> ScanImage:
    """Generate the image's layers in ``directory`` (in parallel threads: zlib and sha256 release the GIL)."""
    directory.mkdir(parents=True, exist_ok=True)
    total = size_mib * MIB
    workers = max(1, min(len(LAYER_PLAN), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(write_layer, directory / f"layer{i}-{plan.name}.tar.gz", plan, int(total * plan.share))
                   for i, plan in enumerate(LAYER_PLAN)]
        layers = tuple(future.result(timeout=BIG_TIMEOUT_S) for future in futures)
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-03-15T10:30:00Z",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": "2024-03-15T10:30:00Z", "created_by": f"ADD {plan.name}"} for plan in LAYER_PLAN],
    }, separators=(",", ":")).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": layer.digest, "size": layer.size} for layer in layers],
    }, indent=2).encode()
    return ScanImage(size_mib, layers, config, manifest)


# --------------------------------------------------------------------------------------------------
# Before the servers start
# --------------------------------------------------------------------------------------------------


def skip_reason(args: argparse.Namespace) -> str | None:
    """Why the scan phase cannot run with these options (None: it can)."""
    if args.portside_cmd == REFERENCE:
        return "the 'portside' server is a docker-registry (--portside-cmd reference): it has no scanner"
    if not args.portside_admin_password:
        return "no --portside-admin-password: the scan API needs an admin login"
    if not OSV_DIR.is_dir():
        return f"no advisories to import: {OSV_DIR} is missing"
    return None


def prepare(args: argparse.Namespace, root: Path) -> ScanImage | None:
    """Generate the image and import the advisories into Portside's data dir (``root/portside/data``,
    as run.py's server_command lays it out); None (logged) if the phase cannot run."""
    reason = skip_reason(args)
    if reason:
        log(f"scan phase skipped: {reason}")
        return None
    t0 = time.perf_counter()
    image = make_scan_image(root / "scan-image", args.scan_image_mib)
    log(f"generated the {args.scan_image_mib} MiB scan image ({len(image.layers)} layers, "
        f"{image.layer_bytes / MIB:.0f} MiB gzip) in {time.perf_counter() - t0:.1f} s")
    data_dir = root / "portside" / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    out = run_cmd([str(PORTSIDE_BIN), "vulndb", "import", "--data-dir", str(data_dir), str(OSV_DIR)],
                  timeout=IMPORT_TIMEOUT_S)
    log(f"imported {OSV_DIR} into {data_dir} in {time.perf_counter() - t0:.1f} s {out.strip()}".rstrip())
    return image


# --------------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------------


def portside_headers(args: argparse.Namespace) -> dict[str, str]:
    """Basic auth as admin: the API takes it, and the bench's Bearer token is scoped to other repositories."""
    basic = base64.b64encode(f"admin:{args.portside_admin_password}".encode()).decode()
    return {"Authorization": f"Basic {basic}"}


class HeaderConn(Conn):
    """A Conn whose every request also sends ``extra`` (the push helpers take a Conn, not headers)."""

    def __init__(self, port: int, extra: dict[str, str], timeout: float = HTTP_TIMEOUT_S) -> None:
        super().__init__(port, timeout)
        self.extra = extra

    def request(
        self, method: str, target: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        """Conn.request with ``extra`` added (``headers`` win)."""
        return super().request(method, target, body, {**self.extra, **(headers or {})})


def push_scan_image(server: Server, image: ScanImage, headers: dict[str, str]) -> None:
    """Push config and layers (each one monolithic PUT, sent with sendfile) and the manifest under TAG."""
    conn = HeaderConn(server.port, headers, timeout=BIG_TIMEOUT_S)
    try:
        push_small_blob(conn, SCAN_REPO, image.config, sha256_digest(image.config))
        for layer in image.layers:
            target = with_digest(start_upload(conn, SCAN_REPO), layer.digest)
            with layer.path.open("rb") as f:
                reply = conn.send_file("PUT", target, f, 0, layer.size,
                                       {**headers, "Content-Type": "application/octet-stream"})
            if reply.status != 201:
                raise BenchError(f"{describe('PUT', target, reply)} ({layer.size} bytes)")
        put_manifest(conn, SCAN_REPO, TAG, image.manifest)
    finally:
        conn.close()


def api_json(conn: Conn, method: str, target: str, expect: int = 200) -> Any:
    """One API request; its JSON body (None for an empty one); BenchError on another status or bad JSON."""
    reply = conn.request(method, target)
    if reply.status != expect:
        raise BenchError(describe(method, target, reply))
    try:
        return json.loads(reply.body) if reply.body else None
    except ValueError as exc:
        raise BenchError(f"{describe(method, target, reply)}: not JSON ({exc})") from None


def artifact_path(image: ScanImage) -> str:
    """The Harbor API path of the image's artifact."""
    return f"{API}/projects/{PROJECT}/repositories/{quote(REPOSITORY, safe='')}/artifacts/{image.digest}"


def parse_time(value: Any) -> datetime:
    """A report timestamp (RFC 3339, ``Z``)."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BenchError(f"report timestamp not understood: {value!r}") from None


@dataclass(frozen=True)
class ScanResult:
    """One finished scan."""

    wall_s: float  # POST …/scan → the first poll that saw Success
    report_s: float  # the report's end_time - start_time (the worker's own time)
    report_id: str
    ids: frozenset[str]
    findings: int
    log_text: str


def scan(server: Server, image: ScanImage, headers: dict[str, str], previous: str | None) -> ScanResult:
    """Request a scan and poll the artifact until a report other than ``previous`` succeeds; check its findings."""
    conn = HeaderConn(server.port, headers)
    path = artifact_path(image)
    poll = f"{path}?with_scan_overview=true"
    try:
        t0 = time.perf_counter()
        api_json(conn, "POST", f"{path}/scan", expect=202)
        deadline = t0 + SCAN_TIMEOUT_S
        status = "no report"
        summary: dict[str, Any] = {}
        while time.perf_counter() < deadline:
            artifact = api_json(conn, "GET", poll)
            summary = ((artifact or {}).get("scan_overview") or {}).get(REPORT_MIME) or {}
            status = summary.get("scan_status", "no report")
            if summary.get("report_id") != previous:
                if status == "Success":
                    break
                if status not in ("Pending", "Running"):
                    raise BenchError(f"scan of {image.digest} ended {status}: {json.dumps(summary)[:600]}")
            time.sleep(POLL_INTERVAL_S)
        else:
            raise BenchError(f"scan of {image.digest} not done after {SCAN_TIMEOUT_S:.0f} s (last: {status})")
        wall = time.perf_counter() - t0
        report_id = str(summary["report_id"])
        report_s = (parse_time(summary.get("end_time")) - parse_time(summary.get("start_time"))).total_seconds()
        additions = api_json(conn, "GET", f"{path}/additions/vulnerabilities")
        log_reply = conn.request("GET", f"{path}/scan/{report_id}/log")
    finally:
        conn.close()
    report = (additions or {}).get(REPORT_MIME) or {}
    vulnerabilities = report.get("vulnerabilities") or []
    ids = frozenset(str(item.get("id")) for item in vulnerabilities)
    missing = sorted(EXPECTED_IDS - ids)
    if missing:
        raise BenchError(f"report {report_id}: {len(vulnerabilities)} findings, expected ones missing: {missing}")
    if log_reply.status != 200:
        raise BenchError(describe("GET", f"{path}/scan/{report_id}/log", log_reply))
    return ScanResult(wall, report_s, report_id, ids, len(vulnerabilities), log_reply.body.decode("utf-8", "replace"))


def check_cache_use(result: ScanResult, image: ScanImage, cached: bool) -> None:
    """The job log must say whether the layers came from the analysis cache, as the row claims."""
    layers = len(image.layers)
    line = f"{layers} of {layers} layers from the analysis cache"
    if cached and line not in result.log_text:
        raise BenchError(f"report {result.report_id}: expected {line!r} in the scan log:\n{result.log_text[-800:]}")
    if not cached and "from the analysis cache" in result.log_text:
        raise BenchError(f"report {result.report_id}: the first scan used cached layers:\n{result.log_text[-800:]}")


def read_once(server: Server, image: ScanImage) -> float:
    """Pull every layer blob with ``curl -o /dev/null``, one after another; the summed seconds."""
    total = 0.0
    for layer in image.layers:
        url = f"{server.base}/v2/{SCAN_REPO}/blobs/{layer.digest}"
        t0 = time.perf_counter()
        out = run_cmd(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url])
        total += time.perf_counter() - t0
        if out.strip() != f"200 {layer.size}":
            raise BenchError(f"GET /v2/{SCAN_REPO}/blobs/{layer.digest} -> {out.strip()!r}, expected 200 {layer.size}")
    return total


# --------------------------------------------------------------------------------------------------
# The phase
# --------------------------------------------------------------------------------------------------


@dataclass
class ScanRows:
    """The table rows of the phase."""

    first: Metric
    first_report: Metric
    cached: Metric
    cached_report: Metric
    findings: Metric

    @classmethod
    def of(cls, bench: Bench, size_mib: int) -> ScanRows:
        """Create (or get) the rows, in table order."""
        return cls(
            first=bench.metric(f"scan first ({size_mib} MiB image) / read once", "s", "<=3.0", info=True),
            first_report=bench.metric("scan first: report start->end", "s", "", info=True),
            cached=bench.metric("scan cached (all layers cached)", "s", "<1s"),
            cached_report=bench.metric("scan cached: report start->end", "s", "", info=True),
            findings=bench.metric("scan findings", "findings", "", info=True),
        )


def run_scan_phase(bench: Bench, args: argparse.Namespace, image: ScanImage) -> None:
    """Push the image to both servers, then: read once (reference), first scan and ``--runs`` cached
    scans (Portside), each run on both before the next."""
    rows = ScanRows.of(bench, image.size_mib)
    headers = portside_headers(args)
    servers = {server.name: server for server in bench.servers}
    portside, reference = servers["portside"], servers["reference"]
    pushed: set[str] = set()
    for server in bench.servers:
        t0 = time.perf_counter()
        try:
            push_scan_image(server, image, headers if server is portside else {})
        except MEASUREMENT_ERRORS as exc:
            bench.fail(rows.first, server, f"setup (push {SCAN_REPO}:{TAG}): {error_text(exc)}")
            continue
        pushed.add(server.name)
        log(f"  {server.name:9s} pushed {SCAN_REPO}:{TAG} ({image.layer_bytes / MIB:.0f} MiB) "
            f"in {time.perf_counter() - t0:.1f} s")
    log(f"scan ({bench.runs} run(s); the first scan once)")
    previous: list[str | None] = [None]

    def measure(metric: Metric, report_metric: Metric, cached: bool, run: int) -> None:
        results: list[ScanResult] = []

        def once() -> float:
            result = scan(portside, image, headers, previous[0])
            previous[0] = result.report_id
            check_cache_use(result, image, cached)
            results.append(result)
            return result.wall_s

        bench.record(metric, portside, run, once)
        if results:
            bench.record(report_metric, portside, run, lambda: results[0].report_s)
            if not cached:
                bench.record(rows.findings, portside, run, lambda: float(results[0].findings))

    for run in range(bench.runs):
        if reference.name in pushed:
            bench.record(rows.first, reference, run, lambda: read_once(reference, image))
        if portside.name not in pushed:
            continue
        if run == 0:
            measure(rows.first, rows.first_report, cached=False, run=run)
            if not rows.first.values[portside.name]:
                return  # no finished first scan: a "cached" one would not be one
        measure(rows.cached, rows.cached_report, cached=True, run=run)
