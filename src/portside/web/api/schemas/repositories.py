"""Harbor's Repository model (swagger definition, exact JSON field names) and RFC 3339 times."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from portside.store.artifacts import RepositoryRow


def rfc3339(moment: datetime) -> str:
    """A UTC RFC 3339 timestamp with milliseconds, as Harbor writes them (naive times are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rfc3339_or_none(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment is not None else None


class Repository(BaseModel):
    id: int
    project_id: int
    name: str
    description: str
    artifact_count: int
    pull_count: int
    creation_time: str
    update_time: str

    @classmethod
    def of(cls, row: RepositoryRow) -> Repository:
        return cls(id=row.id, project_id=row.project_id, name=row.name, description=row.description,
                   artifact_count=row.artifact_count, pull_count=row.pull_count,
                   creation_time=rfc3339(row.creation_time), update_time=rfc3339(row.update_time))


class RepositoryUpdate(BaseModel):
    """The body of PUT .../repositories/{name}: a Repository of which only `description` is used."""

    model_config = ConfigDict(extra="ignore")

    description: str | None = None
