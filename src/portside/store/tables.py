"""Every table of the metadata database (SQLAlchemy Core).

Names and tags use bytewise ("C") collation on PostgreSQL so that ordering and
`> last` pagination are lexical, as SQLite's default BINARY collation already is.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeEngine

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def lexical(length: int) -> TypeEngine[str]:
    """A string column that sorts bytewise on every backend."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def _timestamp(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", lexical(255), nullable=False, unique=True),
    Column("email", String(255), nullable=True, unique=True),
    Column("realname", String(255), nullable=False, default=""),
    Column("comment", Text, nullable=False, default=""),
    Column("password_hash", String(255), nullable=False),  # argon2id
    Column("cli_secret_hash", String(255), nullable=True),  # argon2id of the CLI secret
    Column("sysadmin", Boolean, nullable=False, default=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

projects = Table(
    "projects", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", lexical(255), nullable=False, unique=True),
    Column("public", Boolean, nullable=False, default=False),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    # Harbor's project metadata: a map of strings ("true"/"false", severities, ...), `public` excepted.
    Column("metadata", JSON, nullable=True),
    Column("storage_limit", BigInteger, nullable=False, default=-1, server_default=text("-1")),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

project_members = Table(
    "project_members", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("role", Integer, nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    UniqueConstraint("project_id", "user_id"),
)

robots = Table(
    "robots", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", lexical(255), nullable=False, unique=True),  # robot$<name> or robot$<project>+<name>
    Column("description", Text, nullable=False, default=""),
    Column("level", String(16), nullable=False),  # system | project
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("secret_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("duration", Integer, nullable=False, default=-1),  # days; -1 never expires
    Column("expires_at", BigInteger, nullable=False, default=-1),  # unix seconds; -1 never
    Column("permissions", JSON, nullable=False),
    Column("creator_type", String(16), nullable=False, default="user"),
    Column("creator_ref", Integer, nullable=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

signing_keys = Table(
    "signing_keys", metadata,
    Column("id", Integer, primary_key=True),
    Column("kid", String(128), nullable=False, unique=True),
    Column("private_key_pem", Text, nullable=False),
    _timestamp("created_at"),
)

audit_logs = Table(
    "audit_logs", metadata,
    Column("id", Integer, primary_key=True),
    _timestamp("op_time"),
    Column("username", String(255), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("resource_type", String(32), nullable=False),
    Column("resource", String(512), nullable=False),
    Column("project_id", Integer, nullable=True),  # no foreign key: the log outlives the project
    Column("ip_address", String(64), nullable=False, default=""),
    Column("user_agent", String(512), nullable=False, default=""),
    Column("status", String(16), nullable=False, default="SUCCESS"),
    Column("description", String(1024), nullable=False, default=""),
    Index(None, "op_time"),
    Index(None, "project_id", "op_time"),
)

labels = Table(
    "labels", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("color", String(16), nullable=False, default=""),
    Column("scope", String(1), nullable=False),  # g: global, p: project
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=True, index=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    UniqueConstraint("name", "scope", "project_id"),
)

repositories = Table(
    "repositories", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", lexical(255), nullable=False, unique=True),
    Column("description", Text, nullable=False, default="", server_default=""),
    Column("pull_count", BigInteger, nullable=False, default=0, server_default=text("0")),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

blobs = Table(
    "blobs", metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", String(150), nullable=False, unique=True),
    Column("size", BigInteger, nullable=False),
    Column("storage_key", String(512), nullable=False),
    # Harbor's GC states: none -> delete -> deleting (only `none` is used until GC lands).
    Column("status", String(16), nullable=False, default="none"),
    _timestamp("created_at"),
)

repository_blobs = Table(
    "repository_blobs", metadata,
    Column("repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("blob_id", Integer, ForeignKey("blobs.id", ondelete="CASCADE"), primary_key=True, index=True),
    _timestamp("created_at"),
)

manifests = Table(
    "manifests", metadata,
    Column("id", Integer, primary_key=True),
    Column("repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(150), nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("artifact_type", String(255), nullable=True),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("subject_digest", String(150), nullable=True),
    Column("annotations", JSON, nullable=True),
    Column("config_media_type", String(255), nullable=True),
    # From the image config: architecture, os, created, author, config (Labels, Env, Cmd, ...).
    Column("extra_attrs", JSON, nullable=True),
    _timestamp("created_at"),
    _timestamp("pulled_at", nullable=True),
    UniqueConstraint("repository_id", "digest"),
    Index(None, "repository_id", "subject_digest"),
)

manifest_blobs = Table(
    "manifest_blobs", metadata,
    Column("manifest_id", Integer, ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True),
    Column("blob_id", Integer, ForeignKey("blobs.id", ondelete="CASCADE"), primary_key=True, index=True),
)

manifest_children = Table(
    "manifest_children", metadata,
    Column("parent_id", Integer, ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True),
    Column("child_id", Integer, ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True, index=True),
)

tags = Table(
    "tags", metadata,
    Column("id", Integer, primary_key=True),
    Column("repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("name", lexical(128), nullable=False),
    Column("manifest_id", Integer, ForeignKey("manifests.id", ondelete="CASCADE"), nullable=False, index=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    _timestamp("pulled_at", nullable=True),
    UniqueConstraint("repository_id", "name"),
)

artifact_labels = Table(
    "artifact_labels", metadata,
    Column("manifest_id", Integer, ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True),
    Column("label_id", Integer, ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True, index=True),
    _timestamp("created_at"),
)

uploads = Table(
    "uploads", metadata,
    Column("id", String(36), primary_key=True),
    Column("repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("state", JSON, nullable=False),
    Column("size", BigInteger, nullable=False, default=0),
    _timestamp("created_at"),
    _timestamp("updated_at", nullable=False),
    _timestamp("lease_until", nullable=True),
    Index(None, "updated_at"),
)

# --- background work: executions/tasks (Harbor's reporting model), jobs, the outbox, schedules ---

executions = Table(
    "executions", metadata,
    Column("id", Integer, primary_key=True),
    Column("vendor_type", String(32), nullable=False),  # SCAN, SCAN_ALL, GC, REPLICATION, RETENTION, ...
    Column("vendor_id", Integer, nullable=True),
    Column("trigger", String(16), nullable=False),  # MANUAL, SCHEDULE, EVENT
    Column("status", String(16), nullable=False, default="Running"),
    Column("status_message", Text, nullable=False, default=""),
    Column("extra_attrs", JSON, nullable=True),
    _timestamp("start_time"),
    _timestamp("end_time", nullable=True),
    Index(None, "vendor_type", "vendor_id"),
)

jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("params", JSON, nullable=False),
    # queued -> running -> succeeded | failed (retried: back to queued) | dead | stopped
    Column("status", String(16), nullable=False, default="queued"),
    Column("execution_id", Integer, ForeignKey("executions.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=3),
    Column("locked_by", String(64), nullable=True),
    _timestamp("locked_until", nullable=True),
    _timestamp("run_after"),
    Column("last_error", Text, nullable=True),
    Column("log", Text, nullable=False, default=""),
    Column("stop_requested", Boolean, nullable=False, default=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    _timestamp("finished_at", nullable=True),
    Index(None, "status", "run_after"),
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True),
    Column("type", String(64), nullable=False),  # artifact.pushed, artifact.deleted, scan.completed, ...
    Column("payload", JSON, nullable=False),
    _timestamp("created_at"),
    _timestamp("dispatched_at", nullable=True),
    Index(None, "dispatched_at", "id"),
)

schedules = Table(
    "schedules", metadata,
    Column("id", Integer, primary_key=True),
    Column("vendor_type", String(32), nullable=False),
    Column("vendor_id", Integer, nullable=True),
    Column("cron", String(64), nullable=False),  # Harbor's 6 fields, seconds first
    Column("job_kind", String(64), nullable=False),
    Column("params", JSON, nullable=False),
    _timestamp("next_run"),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    UniqueConstraint("vendor_type", "vendor_id"),
)

# --- vulnerability scanning ---------------------------------------------------------------------

vuln_advisories = Table(
    "vuln_advisories", metadata,
    Column("id", String(128), primary_key=True),  # the OSV id (GHSA-…, PYSEC-…, GO-…, ALPINE-CVE-…)
    Column("aliases", JSON, nullable=False),  # CVE ids first
    Column("summary", Text, nullable=False, default=""),
    Column("details", Text, nullable=False, default=""),
    Column("severity", String(16), nullable=False, default="Unknown"),  # Harbor's capitalised labels
    Column("cvss_vector", String(255), nullable=True),
    Column("cvss_score", String(16), nullable=True),
    Column("references", JSON, nullable=False),
    Column("cwe_ids", JSON, nullable=False),
    Column("published", DateTime(timezone=True), nullable=True),
    Column("modified", DateTime(timezone=True), nullable=False),
    Column("source", String(255), nullable=False, default=""),
)

vuln_affected = Table(
    "vuln_affected", metadata,
    Column("id", Integer, primary_key=True),
    Column("advisory_id", String(128), ForeignKey("vuln_advisories.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("ecosystem", String(128), nullable=False),  # "Debian:12", "Alpine:v3.19", "PyPI", "npm", "Go", "Maven"
    Column("package", String(512), nullable=False),  # normalised name (PEP 503 for PyPI)
    Column("ranges", JSON, nullable=False),  # [{type, events:[{introduced|fixed|last_affected|limit}]}]
    Column("versions", JSON, nullable=False),  # explicit affected versions
    Column("severity", String(16), nullable=True),  # a per-package severity when the advisory has one
    Index(None, "ecosystem", "package"),
)

vulndb_imports = Table(
    "vulndb_imports", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(1024), nullable=False),
    Column("status", String(16), nullable=False),  # Running | Success | Error
    Column("imported", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("errors", JSON, nullable=False),  # [{file, error}] (bounded)
    _timestamp("started_at"),
    _timestamp("finished_at", nullable=True),
)

layer_analyses = Table(
    "layer_analyses", metadata,
    Column("digest", String(150), primary_key=True),  # the layer blob digest
    Column("analyzer_version", Integer, primary_key=True),
    Column("result", JSON, nullable=False),  # packages by source path, whiteouts, opaque dirs, os-release
    _timestamp("created_at"),
)

scanner_registrations = Table(
    "scanner_registrations", metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("url", String(1024), nullable=False),  # "builtin:" for Portside's own scanner
    Column("auth", String(32), nullable=False, default=""),  # "" | Basic | Bearer | X-ScannerAdapter-API-Key
    Column("access_credential", Text, nullable=False, default=""),
    Column("skip_cert_verify", Boolean, nullable=False, default=False),
    Column("use_internal_addr", Boolean, nullable=False, default=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("is_default", Boolean, nullable=False, default=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

project_scanners = Table(
    "project_scanners", metadata,
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("registration_id", Integer, ForeignKey("scanner_registrations.id", ondelete="CASCADE"), nullable=False),
)

scan_reports = Table(
    "scan_reports", metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(64), nullable=False, unique=True),  # Harbor's report_id
    Column("digest", String(150), nullable=False),  # the scanned manifest's digest
    Column("registration_id", Integer, ForeignKey("scanner_registrations.id", ondelete="CASCADE"), nullable=False),
    Column("mime_type", String(128), nullable=False),
    Column("status", String(16), nullable=False),  # Pending | Running | Success | Error | Stopped
    Column("status_message", Text, nullable=False, default=""),
    Column("severity", String(16), nullable=False, default="None"),
    Column("summary", JSON, nullable=True),  # {total, fixable, summary:{Critical:n,...}}
    Column("report", JSON, nullable=True),  # the full report (vulnerabilities list) or SBOM reference
    Column("execution_id", Integer, ForeignKey("executions.id", ondelete="SET NULL"), nullable=True),
    _timestamp("start_time"),
    _timestamp("end_time", nullable=True),
    # Harbor's Scanner {name, vendor, version} that made the report; NULL (rows older than 0005): Portside's.
    Column("scanner", JSON, nullable=True),
    UniqueConstraint("digest", "registration_id", "mime_type"),
)

cve_allowlists = Table(
    "cve_allowlists", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=True, unique=True),
    Column("items", JSON, nullable=False),  # [{"cve_id": "CVE-…"}]
    Column("expires_at", BigInteger, nullable=True),  # unix seconds; None never
    _timestamp("created_at"),
    _timestamp("updated_at"),
)
