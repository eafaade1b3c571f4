"""The `portside` command: serve, migrate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from portside import __version__
from portside.core.config import Settings, load_settings
from portside.core.logging import configure_logging
from portside.vulndb_cli import vulndb_app

cli = typer.Typer(help="Portside: a Harbor-compatible container registry.", no_args_is_help=True,
                  add_completion=False)
console = Console(stderr=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML file with settings", exists=True,
                                                 dir_okay=False)]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="data directory [./portside-data]")]
DatabaseOpt = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL [SQLite in the data dir]")]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config, overrides=overrides)
    except ValidationError as error:
        console.print(f"[red]invalid settings:[/red] {error}")
        raise typer.Exit(2) from None


def _prepare_malloc() -> None:
    """Free one 8 MiB block so glibc raises its mmap/trim thresholds now.

    Request bodies arrive as ~256 KB bytes objects, above glibc's initial 128 KiB
    mmap threshold: until a large block has been freed once, every chunk is mmap'd
    and page-faulted anew, which halves upload throughput (performance notes §2b).
    """
    block = bytearray(8 * 1024 * 1024)
    del block


@cli.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="address to listen on [127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on [5000]")] = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
    storage: Annotated[str | None, typer.Option(help="blob storage: filesystem | s3")] = None,
    storage_fsync: Annotated[bool | None, typer.Option("--storage-fsync/--no-storage-fsync",
                                                       help="fsync blobs before commit [on]")] = None,
    s3_endpoint_url: Annotated[str | None, typer.Option(help="S3 endpoint URL")] = None,
    s3_bucket: Annotated[str | None, typer.Option(help="S3 bucket")] = None,
    s3_region: Annotated[str | None, typer.Option(help="S3 region")] = None,
    s3_access_key_id: Annotated[str | None, typer.Option(help="S3 access key id")] = None,
    s3_secret_access_key: Annotated[str | None, typer.Option(help="S3 secret (prefer the env variable)")] = None,
    s3_prefix: Annotated[str | None, typer.Option(help="key prefix inside the bucket")] = None,
    s3_redirect: Annotated[bool | None, typer.Option("--s3-redirect/--no-s3-redirect",
                                                     help="redirect blob GETs to presigned URLs")] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM)")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM)")] = None,
    upload_max_age: Annotated[int | None, typer.Option(help="seconds before an idle upload is removed")] = None,
    auto_create_projects: Annotated[bool | None, typer.Option("--auto-create-projects/--no-auto-create-projects",
                                                              help="create a project on first push")] = None,
    run_jobs: Annotated[bool | None, typer.Option("--run-jobs/--no-run-jobs",
                                                  help="run background jobs in this process [on]")] = None,
    access_log: Annotated[bool | None, typer.Option("--access-log/--no-access-log")] = None,
    log_level: Annotated[str | None, typer.Option(help="debug | info | warning | error")] = None,
) -> None:
    """Run the registry (migrates the database first)."""
    settings = _settings(
        config, host=host, port=port, data_dir=data_dir, database_url=database_url, storage=storage,
        storage_fsync=storage_fsync, s3_endpoint_url=s3_endpoint_url, s3_bucket=s3_bucket, s3_region=s3_region,
        s3_access_key_id=s3_access_key_id, s3_secret_access_key=s3_secret_access_key, s3_prefix=s3_prefix,
        s3_redirect=s3_redirect, tls_cert=tls_cert, tls_key=tls_key, upload_max_age=upload_max_age,
        auto_create_projects=auto_create_projects, run_jobs=run_jobs, access_log=access_log, log_level=log_level,
    )
    configure_logging(settings.log_level, access_log=settings.access_log)
    _prepare_malloc()
    from portside.server import run_server  # heavy imports only for this command

    run_server(settings, announce=lambda url: console.print(
        f"Portside {__version__} listening on [bold]{url}[/bold] "
        f"(data: {settings.data_dir}, storage: {settings.storage}, "
        f"database: {settings.resolved_database_url.split(':', 1)[0]})"))


@cli.command()
def worker(config: ConfigOpt = None, data_dir: DataDirOpt = None, database_url: DatabaseOpt = None,
           storage: Annotated[str | None, typer.Option(help="blob storage: filesystem | s3")] = None,
           s3_endpoint_url: Annotated[str | None, typer.Option(help="S3 endpoint URL")] = None,
           s3_bucket: Annotated[str | None, typer.Option(help="S3 bucket")] = None,
           concurrency: Annotated[int | None, typer.Option("--concurrency", help="jobs at once [2]")] = None,
           log_level: Annotated[str | None, typer.Option(help="debug | info | warning | error")] = None) -> None:
    """Run background jobs only (scale-out: several workers share a PostgreSQL database)."""
    settings = _settings(config, data_dir=data_dir, database_url=database_url, storage=storage,
                         s3_endpoint_url=s3_endpoint_url, s3_bucket=s3_bucket, job_concurrency=concurrency,
                         log_level=log_level)
    configure_logging(settings.log_level, access_log=False)
    from portside.worker_process import run_worker

    run_worker(settings, announce=lambda text: console.print(text))


@cli.command()
def migrate(config: ConfigOpt = None, data_dir: DataDirOpt = None, database_url: DatabaseOpt = None) -> None:
    """Bring the database schema up to date."""
    from portside.store.migrate import upgrade

    settings = _settings(config, data_dir=data_dir, database_url=database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    console.print("database is up to date")


cli.add_typer(vulndb_app, name="vulndb")


@cli.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    cli()
