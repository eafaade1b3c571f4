"""Harbor's Label model (swagger definition, exact JSON field names) and its request bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from portside.services.labels import LabelFields
from portside.services.row_ids import MAX_ROW_ID
from portside.store.labels import LabelRow
from portside.web.api.schemas.repositories import rfc3339


class Label(BaseModel):
    id: int
    name: str
    description: str
    color: str
    scope: str
    project_id: int  # 0 for a global label, as in Harbor
    creation_time: str
    update_time: str

    @classmethod
    def of(cls, row: LabelRow) -> Label:
        return cls(id=row.id, name=row.name, description=row.description, color=row.color, scope=row.scope,
                   project_id=row.project_id or 0, creation_time=rfc3339(row.creation_time),
                   update_time=rfc3339(row.update_time))


class LabelReq(BaseModel):
    """The body of POST and PUT /labels: a Label; `id` and the times are ignored."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(default="", max_length=1024)
    description: str | None = None
    color: str | None = None
    scope: str | None = None
    project_id: int | None = Field(default=None, ge=0, le=MAX_ROW_ID)

    def to_fields(self) -> LabelFields:
        return LabelFields(name=self.name, description=self.description or "", color=self.color or "",
                           scope=self.scope or "g", project_id=self.project_id or None)


class ArtifactLabelReq(BaseModel):
    """The body of POST .../artifacts/{reference}/labels: a Label of which only `id` is used."""

    model_config = ConfigDict(extra="ignore")

    id: int = Field(ge=1, le=MAX_ROW_ID)
