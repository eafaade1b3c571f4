"""Harbor's scanner models (swagger: ScannerRegistration, ScannerRegistrationReq,
ScannerRegistrationSettings, IsDefault, ProjectScanner), exact JSON field names."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from portside.services.scanners import RegistrationFields, RegistrationView
from portside.web.api.schemas.repositories import rfc3339


class ScannerRegistration(BaseModel):
    """A registration; `access_credential` is always "" (write-only)."""

    model_config = ConfigDict(populate_by_name=True)

    uuid: str
    name: str
    description: str
    url: str
    disabled: bool
    is_default: bool
    auth: str
    access_credential: str = ""
    skip_cert_verify: bool = Field(alias="skip_certVerify")
    use_internal_addr: bool
    create_time: str
    update_time: str
    adapter: str
    vendor: str
    version: str
    health: str
    capabilities: dict[str, bool]

    @classmethod
    def of(cls, view: RegistrationView) -> ScannerRegistration:
        row = view.registration
        return cls(uuid=row.uuid, name=row.name, description=row.description, url=row.url, disabled=row.disabled,
                   is_default=row.is_default, auth=row.auth, skip_cert_verify=row.skip_cert_verify,
                   use_internal_addr=row.use_internal_addr, create_time=rfc3339(row.created_at),
                   update_time=rfc3339(row.updated_at), adapter=view.adapter, vendor=view.vendor,
                   version=view.version, health=view.health, capabilities=view.capabilities or {})

    def as_json(self) -> dict[str, object]:
        return self.model_dump(by_alias=True)


class ScannerRegistrationReq(BaseModel):
    """The body of POST /scanners and PUT /scanners/{id}."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str = Field(max_length=1024)
    url: str = Field(max_length=4096)
    description: str | None = Field(default=None, max_length=4096)
    auth: str | None = Field(default=None, max_length=64)
    access_credential: str | None = Field(default=None, max_length=8192)
    skip_cert_verify: bool | None = Field(default=None, alias="skip_certVerify")
    use_internal_addr: bool | None = None
    disabled: bool | None = None

    def to_fields(self) -> RegistrationFields:
        return RegistrationFields(name=self.name, url=self.url, description=self.description or "",
                                  auth=self.auth or "", access_credential=self.access_credential or "",
                                  skip_cert_verify=bool(self.skip_cert_verify),
                                  use_internal_addr=bool(self.use_internal_addr), disabled=bool(self.disabled))


class ScannerRegistrationSettings(BaseModel):
    """The body of POST /scanners/ping."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(max_length=1024)
    url: str = Field(max_length=4096)
    auth: str | None = Field(default=None, max_length=64)
    access_credential: str | None = Field(default=None, max_length=8192)

    def to_fields(self) -> RegistrationFields:
        return RegistrationFields(name=self.name, url=self.url, auth=self.auth or "",
                                  access_credential=self.access_credential or "")


class IsDefault(BaseModel):
    model_config = ConfigDict(extra="ignore")

    is_default: bool = False


class ProjectScanner(BaseModel):
    model_config = ConfigDict(extra="ignore")

    uuid: str = Field(min_length=1, max_length=64)
