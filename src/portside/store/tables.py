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
    UniqueConstraint,
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


projects = Table(
    "projects", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", lexical(255), nullable=False, unique=True),
    Column("public", Boolean, nullable=False, default=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

repositories = Table(
    "repositories", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", lexical(255), nullable=False, unique=True),
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
    UniqueConstraint("repository_id", "name"),
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
