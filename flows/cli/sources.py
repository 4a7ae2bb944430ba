"""`stancewire sources ...`: the source registry (feeds, sitemaps, URL lists, folders) and its health."""

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import polars as pl
import typer
from pydantic import ValidationError

from flows.cli.options import DbOption, WaitOption, db_path, fail

if TYPE_CHECKING:
    from stancewire.store import Store

app = typer.Typer(
    help="Registered sources: feeds, sitemaps, URL lists and folders fetched on every run.", no_args_is_help=True
)


def _open(db: Path | None, wait_s: float) -> AbstractContextManager["Store"]:
    """The working database, where runs read the registry; changes reach the published file with the next run."""
    from stancewire.store import Store

    return Store.open_run(db_path(db), wait_s=wait_s)


@app.command("add")
def add(
    source_id: Annotated[str | None, typer.Argument(help="Id of the source: lowercase letters, digits, . _ -")] = None,
    kind: Annotated[str | None, typer.Option(help="rss | atom | jsonfeed | sitemap | urls | folder")] = None,
    url: Annotated[
        str | None, typer.Option(help="Feed, sitemap or URL-list address; a path for folder and local lists")
    ] = None,
    language: Annotated[str | None, typer.Option(help="ISO 639-1 language hint, e.g. it")] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="key=value: max_items, max_age_days, url_pattern, max_sitemaps"),
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Register it without fetching it yet")] = False,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="YAML file of sources to add or update")] = None,
    db: DbOption = None,
    wait_s: WaitOption = 30.0,
) -> None:
    """Add a source (or update the one with the same id), or every source of a YAML file."""
    from stancewire.snapshot import StoreBusy
    from stancewire.urls import redact_url
    from tasks.inputs.sources import Source, SourcesFileError, load_sources_file, parse_options, sources_frame
    from tasks.inputs.yaml_files import validation_problems

    if file is not None:
        if source_id or kind or url:
            fail("give either --file or a source id with --kind and --url, not both")
        try:
            sources = load_sources_file(file)
        except SourcesFileError as exc:
            fail(f"cannot add sources: {exc}")
    else:
        if not (source_id and kind and url):
            fail("a source needs an id, --kind and --url (or use --file)")
        try:
            options = parse_options(option or [])
            sources = [
                Source(id=source_id, kind=kind, url=url, language=language, options=options, enabled=not disabled)
            ]
        except ValidationError as exc:
            fail(f"cannot add source {source_id}: {validation_problems(exc)}")
        except ValueError as exc:
            fail(f"cannot add source {source_id}: {exc}")
    try:
        with _open(db, wait_s) as store:
            store.write_sources(sources_frame(sources))
    except StoreBusy as exc:
        fail(str(exc))
    for source in sources:
        where = redact_url(source.url) if source.url.lower().startswith(("http://", "https://")) else source.url
        typer.echo(f"{source.source_id}: {source.kind} {where}{'' if source.enabled else ' (disabled)'}")


@app.command("list")
def list_sources(
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    wait_s: WaitOption = 30.0,
) -> None:
    """Registered sources with their health: last success, consecutive failures, last error, articles last run."""
    from stancewire.snapshot import StoreBusy
    from stancewire.urls import redact_url

    try:
        with _open(db, wait_s) as store:
            frame = store.sources().join(store.source_health().drop("kind", "enabled"), on="source_id", how="left")
    except StoreBusy as exc:
        fail(str(exc))
    frame = frame.with_columns(pl.col("url").map_elements(redact_url, return_dtype=pl.String))
    if fmt == "csv":
        typer.echo(frame.write_csv(), nl=False)
    elif fmt == "json":
        typer.echo(frame.write_json())
    elif frame.is_empty():
        typer.echo("no sources registered: add one with `stancewire sources add`")
    else:
        with pl.Config(
            tbl_rows=-1,
            tbl_cols=-1,
            fmt_str_lengths=60,
            tbl_width_chars=220,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
        ):
            typer.echo(frame)


def _set_enabled(source_id: str, enabled: bool, db: Path | None, wait_s: float) -> None:
    from stancewire.snapshot import StoreBusy

    try:
        with _open(db, wait_s) as store:
            found = store.set_source_enabled(source_id, enabled)
    except StoreBusy as exc:
        fail(str(exc))
    if not found:
        fail(f"no source {source_id!r} is registered")
    typer.echo(f"{source_id}: {'enabled' if enabled else 'disabled'}")


@app.command("disable")
def disable(source_id: str, db: DbOption = None, wait_s: WaitOption = 30.0) -> None:
    """Stop fetching a source; its history and fetch state are kept."""
    _set_enabled(source_id, False, db, wait_s)


@app.command("enable")
def enable(source_id: str, db: DbOption = None, wait_s: WaitOption = 30.0) -> None:
    """Fetch a disabled source again."""
    _set_enabled(source_id, True, db, wait_s)
