"""`portside vulndb`: import OSV data into the offline vulnerability database, show its state.

Registered in `portside.cli` with `cli.add_typer(vulndb_app, name="vulndb")`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from portside.core.config import Settings, load_settings
from portside.services.vulndb import ImportProgress, ImportResult, VulnerabilityDatabase
from portside.store import events as event_store
from portside.store.database import Database

vulndb_app = typer.Typer(help="The offline vulnerability database (OSV advisories).", no_args_is_help=True,
                         add_completion=False)
console = Console(stderr=True, soft_wrap=True)  # paths and messages stay on one line

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML file with settings", exists=True,
                                                 dir_okay=False)]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="data directory [./portside-data]")]
DatabaseOpt = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL [SQLite in the data dir]")]
PathsArg = Annotated[list[Path], typer.Argument(help="OSV .json files, .zip exports or directories of them",
                                                exists=True, show_default=False)]


def _settings(config: Path | None, data_dir: Path | None, database_url: str | None) -> Settings:
    try:
        return load_settings(config, overrides={"data_dir": data_dir, "database_url": database_url})
    except ValidationError as error:
        console.print(f"[red]invalid settings:[/red] {error}")
        raise typer.Exit(2) from None


def _report(result: ImportResult) -> None:
    console.print(f"{result.source}: [bold]{result.imported}[/bold] imported, {result.unchanged} unchanged, "
                  f"{result.withdrawn} withdrawn, {len(result.errors)} malformed")
    for problem in result.errors:
        console.print(f"  [yellow]skipped[/yellow] {problem.file}: {problem.error}")


async def _import(settings: Settings, paths: list[Path]) -> list[ImportResult]:
    db = Database(settings.resolved_database_url)
    results = []
    try:
        vulndb = VulnerabilityDatabase(db)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            for path in paths:
                task: TaskID = bar.add_task(path.name, total=None)

                def advance(update: ImportProgress, task: TaskID = task) -> None:
                    bar.update(task, total=update.files_total, completed=update.files_done)

                results.append(await vulndb.import_path(path, progress=advance))
                bar.remove_task(task)
        if any(result.imported or result.withdrawn for result in results):
            # The outbox: a running server (or worker) re-scans every artifact against the new data.
            async with db.write() as conn:
                await event_store.add(conn, "vulndb.imported", {"import_ids": [r.import_id for r in results]})
    finally:
        await db.dispose()
    return results


@vulndb_app.command("import")
def import_command(paths: PathsArg, config: ConfigOpt = None, data_dir: DataDirOpt = None,
                   database_url: DatabaseOpt = None) -> None:
    """Import OSV advisories; unchanged records are skipped, malformed files reported (exit status 1)."""
    from portside.store.migrate import upgrade

    settings = _settings(config, data_dir, database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    results = asyncio.run(_import(settings, paths))
    for result in results:
        _report(result)
    if any(result.errors for result in results):
        raise typer.Exit(1)


async def _status(settings: Settings) -> None:
    db = Database(settings.resolved_database_url)
    try:
        status = await VulnerabilityDatabase(db).status()
    except DBAPIError as error:
        console.print(f"[red]cannot read the vulnerability database[/red] (run `portside migrate`?): {error.orig}")
        raise typer.Exit(2) from None
    finally:
        await db.dispose()
    table = Table("ecosystem", "advisories", title=f"{status.advisories} advisories")
    for ecosystem, count in status.per_ecosystem.items():
        table.add_row(ecosystem, str(count))
    Console().print(table)
    last = status.last_import
    if last is None:
        console.print("no import yet")
        return
    console.print(f"last import: {last.source} at {last.started_at:%Y-%m-%d %H:%M:%S} UTC, {last.status}: "
                  f"{last.imported} imported, {last.unchanged} unchanged, {last.skipped} skipped")


@vulndb_app.command("status")
def status_command(config: ConfigOpt = None, data_dir: DataDirOpt = None, database_url: DatabaseOpt = None) -> None:
    """Show the number of advisories per ecosystem and the last import."""
    asyncio.run(_status(_settings(config, data_dir, database_url)))
