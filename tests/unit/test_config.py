"""Unit tests for portside.core.config: precedence and validation of Settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from portside.core.config import Settings, load_settings


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_load_settings_defaults_with_empty_environment() -> None:
    settings = load_settings(environ={})
    assert (settings.host, settings.port, settings.storage, settings.log_level) == (
        "127.0.0.1", 5000, "filesystem", "info",
    )


def test_load_settings_default_data_dir() -> None:
    assert load_settings(environ={}).data_dir == Path("portside-data")


def test_toml_file_overrides_default(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "portside.toml", "port = 6000\n")
    assert load_settings(config, environ={}).port == 6000


def test_environment_overrides_toml_file(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "portside.toml", "port = 6000\n")
    assert load_settings(config, environ={"PORTSIDE_PORT": "7000"}).port == 7000


def test_override_beats_environment_and_toml_file(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "portside.toml", "port = 6000\n")
    settings = load_settings(config, environ={"PORTSIDE_PORT": "7000"}, overrides={"port": 8000})
    assert settings.port == 8000


def test_none_override_leaves_lower_layer_in_place() -> None:
    settings = load_settings(environ={"PORTSIDE_PORT": "7000"}, overrides={"port": None})
    assert settings.port == 7000


def test_toml_value_kept_for_fields_not_set_higher(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "portside.toml", 'host = "0.0.0.0"\nport = 6000\n')
    settings = load_settings(config, environ={"PORTSIDE_PORT": "7000"})
    assert (settings.host, settings.port) == ("0.0.0.0", 7000)


def test_portside_config_variable_names_the_toml_file(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "from-env.toml", 'log_level = "debug"\n')
    assert load_settings(environ={"PORTSIDE_CONFIG": str(config)}).log_level == "debug"


def test_explicit_config_file_beats_portside_config_variable(tmp_path: Path) -> None:
    from_env = write_toml(tmp_path / "from-env.toml", 'log_level = "debug"\n')
    explicit = write_toml(tmp_path / "explicit.toml", 'log_level = "error"\n')
    settings = load_settings(explicit, environ={"PORTSIDE_CONFIG": str(from_env)})
    assert settings.log_level == "error"


def test_environment_boolean_false_is_parsed() -> None:
    assert load_settings(environ={"PORTSIDE_STORAGE_FSYNC": "false"}).storage_fsync is False


def test_environment_path_is_parsed() -> None:
    assert load_settings(environ={"PORTSIDE_DATA_DIR": "/srv/portside"}).data_dir == Path("/srv/portside")


def test_unprefixed_environment_variable_is_ignored() -> None:
    assert load_settings(environ={"PORT": "7000"}).port == 5000


def test_lowercase_prefixed_variable_is_ignored() -> None:
    assert load_settings(environ={"portside_port": "7000"}).port == 5000


def test_non_numeric_port_from_environment_is_rejected() -> None:
    with pytest.raises(ValidationError):
        load_settings(environ={"PORTSIDE_PORT": "not-a-port"})


def test_port_above_65535_is_rejected() -> None:
    with pytest.raises(ValidationError):
        load_settings(environ={}, overrides={"port": 65536})


def test_unknown_storage_is_rejected() -> None:
    with pytest.raises(ValidationError):
        load_settings(environ={"PORTSIDE_STORAGE": "ftp"})


def test_unknown_log_level_is_rejected() -> None:
    with pytest.raises(ValidationError):
        load_settings(environ={"PORTSIDE_LOG_LEVEL": "verbose"})


def test_unknown_toml_key_is_rejected(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "portside.toml", "prot = 6000\n")
    with pytest.raises(ValidationError):
        load_settings(config, environ={})


def test_s3_part_size_below_5_mib_is_rejected() -> None:
    with pytest.raises(ValidationError):
        load_settings(environ={"PORTSIDE_S3_PART_SIZE": str(5 * 1024 * 1024 - 1)})


def test_upload_max_age_below_one_minute_is_rejected() -> None:
    with pytest.raises(ValidationError):
        load_settings(environ={"PORTSIDE_UPLOAD_MAX_AGE": "59"})


def test_s3_storage_without_bucket_is_rejected() -> None:
    with pytest.raises(ValidationError, match="s3_bucket"):
        load_settings(environ={"PORTSIDE_STORAGE": "s3"})


def test_s3_storage_with_bucket_is_accepted() -> None:
    settings = load_settings(environ={"PORTSIDE_STORAGE": "s3", "PORTSIDE_S3_BUCKET": "registry"})
    assert (settings.storage, settings.s3_bucket) == ("s3", "registry")


def test_tls_cert_without_key_is_rejected() -> None:
    with pytest.raises(ValidationError, match="tls_cert and tls_key"):
        load_settings(environ={"PORTSIDE_TLS_CERT": "/etc/cert.pem"})


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


def test_secret_access_key_is_hidden_in_repr() -> None:
    settings = load_settings(environ={"PORTSIDE_S3_SECRET_ACCESS_KEY": "hunter2"})
    assert "hunter2" not in repr(settings)


def test_secret_access_key_value_is_available() -> None:
    settings = load_settings(environ={"PORTSIDE_S3_SECRET_ACCESS_KEY": "hunter2"})
    assert settings.s3_secret_access_key is not None
    assert settings.s3_secret_access_key.get_secret_value() == "hunter2"


def test_default_database_url_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/data/portside.db"


def test_explicit_database_url_is_used() -> None:
    url = "postgresql+asyncpg://u:p@db/portside"
    assert load_settings(environ={"PORTSIDE_DATABASE_URL": url}).resolved_database_url == url


def test_storage_root_is_under_data_dir() -> None:
    assert Settings(data_dir=Path("/srv/p")).storage_root == Path("/srv/p/storage")


def test_base_url_is_http_without_tls() -> None:
    assert Settings(host="registry.local", port=5001).base_url == "http://registry.local:5001"


def test_base_url_is_https_with_tls() -> None:
    settings = Settings(host="registry.local", port=443, tls_cert=Path("c.pem"), tls_key=Path("k.pem"))
    assert settings.base_url == "https://registry.local:443"
