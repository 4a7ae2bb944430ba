"""`stancewire` command line: run the flow, query the published database, manage models."""

from pathlib import Path
from typing import Annotated

import polars as pl
import typer

import flows  # noqa: F401  (sets telemetry-off environment before prefect is imported)
from flows.cli.claims import claims_app
from flows.cli.entities import app as entities_app
from flows.cli.export import export as export_command
from flows.cli.sources import app as sources_app
from stancewire.config import DaskOptions, ModelSpec, RunParams, Settings

app = typer.Typer(help="Multilingual news → entities and stance toward claims, in DuckDB.", no_args_is_help=True)
models_app = typer.Typer(help="Model cache management.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(sources_app, name="sources")
app.add_typer(entities_app, name="entities")
app.add_typer(claims_app, name="claims")
app.command("export")(export_command)

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB file (default: STANCEWIRE_DB_PATH or data/stancewire.duckdb)")]


@app.command()
def run(
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="File, directory or URL; repeatable (default: the demo corpus)")] = None,
    claims: Annotated[str | None, typer.Option(help="Claims YAML (default: the demo claims)")] = None,
    no_claims: Annotated[bool, typer.Option("--no-claims", help="Keep the stored claims, load none")] = False,
    db: DbOption = None,
    ner_model: Annotated[str | None, typer.Option(help="NER model: hub id or local directory")] = None,
    ner_revision: Annotated[str | None, typer.Option(help="NER model revision (branch, tag, commit)")] = None,
    nli_model: Annotated[str | None, typer.Option(help="NLI model: hub id or local directory")] = None,
    nli_revision: Annotated[str | None, typer.Option(help="NLI model revision")] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda | mps")] = None,
    token_budget: Annotated[int | None, typer.Option(help="Padded tokens per model forward pass (default 1024 CPU, 8192 GPU)")] = None,
    int8: Annotated[bool | None, typer.Option("--int8/--no-int8", help="CPU only: int8-quantised models (faster, slightly less accurate)")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Articles per NER/stance task run")] = None,
    dask_workers: Annotated[int | None, typer.Option(min=1, help="Run NER and stance on a local Dask cluster of this many worker processes")] = None,
    dask_address: Annotated[str | None, typer.Option(help="Run NER and stance on the Dask cluster at this scheduler address (tcp://host:8786)")] = None,
    require_models: Annotated[bool, typer.Option(help="Fail when a model cannot be loaded")] = False,
    allow_private_hosts: Annotated[bool, typer.Option(help="Allow fetching from loopback/private addresses")] = False,
    aliases: Annotated[list[str] | None, typer.Option("--aliases", help="Alias list (YAML/CSV) extending the built-in one; repeatable")] = None,
    export_dir: Annotated[Path | None, typer.Option(help="Also write the published tables as Parquet here (see `stancewire export`)")] = None,
) -> None:
    """Run the pipeline once and print its summary."""
    from flows.pipeline import ModelsMissing, ValidationFailed, stancewire_pipeline
    from stancewire.lake import ExportError
    from stancewire.store import StoreError
    from tasks.inputs.aliases import AliasFileError
    from tasks.inputs.claims import ClaimsFileError

    overrides: dict = {"require_models": require_models, "allow_private_hosts": allow_private_hosts}
    if source:
        overrides["sources"] = source
    if no_claims:
        overrides["claims_file"] = None
    elif claims:
        overrides["claims_file"] = claims
    if db:
        overrides["db_path"] = str(db)
    defaults = RunParams()
    if ner_model or ner_revision:
        overrides["ner_model"] = ModelSpec(id=ner_model or defaults.ner_model.id, revision=ner_revision)
    if nli_model or nli_revision:
        overrides["nli_model"] = ModelSpec(id=nli_model or defaults.nli_model.id, revision=nli_revision)
    if device:
        overrides["device"] = device
    if token_budget:
        overrides["token_budget"] = token_budget
    if int8 is not None:
        overrides["quantize_int8"] = int8
    if aliases:
        overrides["alias_files"] = aliases
    if batch_size:
        overrides["batch_size"] = batch_size
    if dask_workers or dask_address:
        overrides["dask"] = DaskOptions(address=dask_address, **({"workers": dask_workers} if dask_workers else {}))
    if export_dir:
        overrides["export_dir"] = str(export_dir)
    params = RunParams(**{**defaults.model_dump(), **overrides})
    try:
        result = stancewire_pipeline(params=params)
    except (ValidationFailed, ModelsMissing, ClaimsFileError, AliasFileError, StoreError, ExportError) as exc:
        typer.echo(f"\nrun failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(result.summary_md)


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run read-only against the published database")],
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    max_rows: Annotated[int, typer.Option(help="Rows to show in table format")] = 50,
) -> None:
    """Run a read-only SQL query and print the result."""
    import duckdb

    from stancewire.store import StoreError, open_readonly

    try:
        with open_readonly(db or Settings().db_path) as con:
            frame = con.sql(sql).pl()
    except (duckdb.Error, StoreError) as exc:
        typer.echo(f"query failed: {exc}", err=True)
        raise typer.Exit(1) from None
    if fmt == "csv":
        typer.echo(frame.write_csv(), nl=False)
    elif fmt == "json":
        typer.echo(frame.write_json())
    else:
        with pl.Config(tbl_rows=max_rows, tbl_cols=-1, fmt_str_lengths=80, tbl_width_chars=200):
            typer.echo(frame)


@models_app.command("pull")
def models_pull(
    ner_model: Annotated[str | None, typer.Option()] = None,
    ner_revision: Annotated[str | None, typer.Option()] = None,
    nli_model: Annotated[str | None, typer.Option()] = None,
    nli_revision: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Download the configured models into the Hugging Face cache, for offline scheduled runs."""
    from models.loading import ModelUnavailable, pull

    settings = Settings()
    specs = [
        ModelSpec(id=ner_model or settings.ner_model, revision=ner_revision or settings.ner_revision),
        ModelSpec(id=nli_model or settings.nli_model, revision=nli_revision or settings.nli_revision),
    ]
    failed = False
    for spec in specs:
        try:
            typer.echo(f"{spec.id}: {pull(spec)}")
        except ModelUnavailable as exc:
            typer.echo(f"{spec.id}: {exc}", err=True)
            failed = True
    if failed:
        raise typer.Exit(1)
