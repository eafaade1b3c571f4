"""Settings: one object built by the CLI and passed to `create_app`.

Every field can be set, in rising precedence, by its default, a TOML config file
(`--config`, top-level keys named like the fields), a `PORTSIDE_<FIELD>`
environment variable, and a command-line flag. Nothing imports settings globally.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

ENV_PREFIX = "PORTSIDE_"


class Settings(BaseModel):
    """Everything an operator can configure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(5000, ge=0, le=65535)
    data_dir: Path = Path("portside-data")
    database_url: str | None = None
    storage: Literal["filesystem", "s3"] = "filesystem"
    storage_fsync: bool = True
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_prefix: str = ""
    s3_part_size: int = Field(8 * 1024 * 1024, ge=5 * 1024 * 1024)
    s3_redirect: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    upload_max_age: int = Field(24 * 3600, ge=60, description="seconds before an idle upload is removed")
    upload_cleanup_interval: int = Field(600, ge=1)
    auto_create_projects: bool = False
    admin_password: SecretStr | None = None
    external_url: str | None = None
    token_expiration: int = Field(30, ge=1, le=24 * 60, description="registry token lifetime in minutes")
    audit_retention_days: int = Field(365, ge=1)
    run_jobs: bool = Field(True, description="run the job worker, scheduler and event dispatcher in-process")
    job_concurrency: int = Field(2, ge=1, le=64)
    access_log: bool = True
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    graceful_timeout: int = Field(30, ge=0)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("storage 's3' needs s3_bucket (PORTSIDE_S3_BUCKET or --s3-bucket)")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL; by default an SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'portside.db').resolve()}"

    @property
    def storage_root(self) -> Path:
        return self.data_dir / "storage"

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls_cert else "http"
        return f"{scheme}://{self.host}:{self.port}"


def _env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Settings.model_fields:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = raw
    return values


def load_settings(config_file: Path | None = None, *, environ: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """Merge defaults, the TOML file, PORTSIDE_* variables and flags (None means unset)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_path = config_file or (Path(environ[ENV_PREFIX + "CONFIG"]) if ENV_PREFIX + "CONFIG" in environ else None)
    if config_path is not None:
        with config_path.open("rb") as handle:
            values.update(tomllib.load(handle))
    values.update(_env_values(environ))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return Settings.model_validate(values)
