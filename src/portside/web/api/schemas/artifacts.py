"""Harbor's Artifact, Tag, Reference, Platform, AdditionLink and Accessory models (swagger
definitions, exact JSON field names) built from the artifact service's views."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from portside.services import artifacts as service
from portside.store.artifacts import TagRow
from portside.web.api.schemas.labels import Label
from portside.web.api.schemas.repositories import rfc3339, rfc3339_or_none

API_PREFIX = "/api/v2.0"


class Platform(BaseModel):
    """An index entry's platform; Harbor's JSON keys are literally `'os.version'` and `'os.features'`."""

    model_config = ConfigDict(populate_by_name=True)

    architecture: str | None = None
    os: str | None = None
    os_version: str | None = Field(default=None, alias="'os.version'")
    os_features: list[str] | None = Field(default=None, alias="'os.features'")
    variant: str | None = None

    @model_serializer(mode="wrap")
    def _omit_empty(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}

    @classmethod
    def of(cls, platform: dict[str, Any]) -> Platform:
        def text(key: str) -> str | None:
            value = platform.get(key)
            return value if isinstance(value, str) else None

        features = platform.get("os.features")
        return cls(architecture=text("architecture"), os=text("os"), os_version=text("os.version"),
                   os_features=[f for f in features if isinstance(f, str)] if isinstance(features, list) else None,
                   variant=text("variant"))


class Reference(BaseModel):
    parent_id: int
    child_id: int
    child_digest: str
    platform: Platform | None = None
    annotations: dict[str, Any] | None = None
    urls: list[Any] | None = None

    @classmethod
    def of(cls, reference: service.Reference) -> Reference:
        return cls(parent_id=reference.parent_id, child_id=reference.child_id, child_digest=reference.child_digest,
                   platform=Platform.of(reference.platform) if reference.platform else None,
                   annotations=reference.annotations, urls=reference.urls)


class Tag(BaseModel):
    id: int
    repository_id: int
    artifact_id: int
    name: str
    push_time: str
    pull_time: str | None
    immutable: bool = False

    @classmethod
    def of(cls, row: TagRow) -> Tag:
        return cls(id=row.id, repository_id=row.repository_id, artifact_id=row.artifact_id, name=row.name,
                   push_time=rfc3339(row.push_time), pull_time=rfc3339_or_none(row.pull_time))


class TagReq(BaseModel):
    """The body of POST .../artifacts/{reference}/tags: a Tag of which only `name` is used."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(max_length=1024)


class AdditionLink(BaseModel):
    href: str
    absolute: bool = False


class Accessory(BaseModel):
    id: int
    artifact_id: int
    subject_artifact_id: int
    subject_artifact_digest: str
    subject_artifact_repo: str
    size: int
    digest: str
    type: str
    icon: str = ""
    creation_time: str

    @classmethod
    def of(cls, accessory: service.Accessory) -> Accessory:
        row = accessory.artifact
        return cls(id=row.id, artifact_id=row.id, subject_artifact_id=accessory.subject.id,
                   subject_artifact_digest=accessory.subject.digest, subject_artifact_repo=row.repository_name,
                   size=accessory.size, digest=row.digest, type=accessory.type,
                   creation_time=rfc3339(row.push_time))


class Artifact(BaseModel):
    id: int
    type: str
    media_type: str
    manifest_media_type: str
    artifact_type: str | None
    project_id: int
    repository_id: int
    repository_name: str
    digest: str
    size: int
    icon: str = ""
    push_time: str
    pull_time: str | None
    extra_attrs: dict[str, Any] | None
    annotations: dict[str, Any] | None
    references: list[Reference] | None
    tags: list[Tag] | None
    addition_links: dict[str, AdditionLink]
    labels: list[Label] | None
    accessories: list[Accessory] | None

    @classmethod
    def of(cls, view: service.ArtifactView) -> Artifact:
        row = view.row
        return cls(
            id=row.id, type=view.type, media_type=view.media_type, manifest_media_type=row.manifest_media_type,
            artifact_type=row.artifact_type, project_id=row.project_id, repository_id=row.repository_id,
            repository_name=row.repository_name, digest=row.digest, size=view.size,
            push_time=rfc3339(row.push_time), pull_time=rfc3339_or_none(row.pull_time),
            extra_attrs=row.extra_attrs, annotations=row.annotations or None,
            references=[Reference.of(r) for r in view.references] if view.references else None,
            tags=[Tag.of(t) for t in view.tags] if view.tags else None,
            addition_links={name: AdditionLink(href=addition_href(row.repository_name, row.digest, name))
                            for name in view.additions},
            labels=[Label.of(label) for label in view.labels] if view.labels else None,
            accessories=[Accessory.of(a) for a in view.accessories] if view.accessories else None,
        )


def addition_href(repository_name: str, digest: str, addition: str) -> str:
    """Harbor's addition link: the repository part double URL-encoded (`a/b` → `a%252Fb`)."""
    project, _, repository = repository_name.partition("/")
    encoded = quote(quote(repository, safe=""), safe="")
    return f"{API_PREFIX}/projects/{project}/repositories/{encoded}/artifacts/{digest}/additions/{addition}"
