"""`stancewire claims ...`: manage the claims articles are scored against.

Changes are written to the working database and then a run over the stored articles (no sources fetched, no
claims file) scores the pairs that are missing, only those, validates and publishes; `--no-score` leaves that to
the next run.
"""

from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from flows.cli.options import BAD_INPUT, MODELS_MISSING, VALIDATION_FAILED, DbOption, db_path, fail
from flows.cli.run import model_override
from flows.cli.watchdog import guard_children
from stancewire.config import build_params
from stancewire.published import claim_list, reader

claims_app = typer.Typer(help="Claims: add, import, list, disable, score.", no_args_is_help=True)

ScoreOption = Annotated[bool, typer.Option("--score/--no-score", help="Score new pairs and publish now")]
NliOption = Annotated[str | None, typer.Option("--nli-model", help="NLI model: hub id or local directory")]


def _score(db: Path, nli_model: str | None, ner_model: str | None = None) -> None:
    """A run with no sources and no claims file: scores only the missing (article, claim) pairs, then publishes."""
    from flows.pipeline import ModelsMissing, ValidationFailed, stancewire_pipeline

    params = build_params(
        overrides={
            "fetch": {"sources": [], "use_registered_sources": False},
            "inputs": {"claims_file": None},
            "models": model_override(nli_model, None, "nli") | model_override(ner_model, None, "ner"),
            "store": {"db_path": str(db)},
        }
    )
    guard_children()
    try:
        result = stancewire_pipeline(params=params)
    except ValidationFailed as exc:
        fail(f"\nrun failed: {exc}", VALIDATION_FAILED)
    except ModelsMissing as exc:
        fail(f"\nrun failed: {exc}", MODELS_MISSING)
    typer.echo(result.summary_md)


def _write(db: Path, frame: pl.DataFrame) -> None:
    from stancewire.snapshot import StoreBusy
    from stancewire.store import Store

    try:
        with Store.open_run(db, wait_s=build_params().store.lock_wait_s) as store:
            store.write_claims(frame)
    except StoreBusy as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def _finish(db: Path, score: bool, nli_model: str | None) -> None:
    if score:
        _score(db, nli_model)
    else:
        typer.echo("stored; the next run scores it and publishes it")


@claims_app.command("add")
def add(
    claim_id: Annotated[str, typer.Argument(help="Stable lowercase id, e.g. troops-to-russia")],
    text: Annotated[str, typer.Argument(help="The claim, one sentence")],
    language: Annotated[str, typer.Option("--language", "-l", help="ISO 639-1 language of the text")],
    translation: Annotated[
        list[str] | None, typer.Option("--translation", "-t", help="LANG=TEXT, repeatable (e.g. it='La Corea...')")
    ] = None,
    db: DbOption = None,
    score: ScoreOption = True,
    nli_model: NliOption = None,
) -> None:
    """Add (or replace) one claim; by default score it against every stored article."""
    from pydantic import ValidationError

    from tasks.inputs.claims import Claim, ClaimsFileError, claims_frame

    translations = {}
    for item in translation or []:
        lang, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--translation wants LANG=TEXT, not {item!r}")
        translations[lang.strip()] = value
    try:
        claim = Claim(id=claim_id, text=text, language=language, translations=translations)
        frame = claims_frame([claim])
    except (ValidationError, ClaimsFileError) as exc:
        typer.echo(f"invalid claim: {exc}", err=True)
        raise typer.Exit(BAD_INPUT) from None
    _write(db_path(db), frame)
    _finish(db_path(db), score, nli_model)


@claims_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="Claims file: .yaml/.yml or .csv")],
    db: DbOption = None,
    score: ScoreOption = True,
    nli_model: NliOption = None,
) -> None:
    """Add or update every claim of a YAML or CSV file."""
    from tasks.inputs.claims import ClaimsFileError, load_claims

    try:
        frame = load_claims(path)
    except ClaimsFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(BAD_INPUT) from None
    _write(db_path(db), frame)
    typer.echo(f"{frame.height} claims imported")
    _finish(db_path(db), score, nli_model)


@claims_app.command("list")
def list_(
    db: DbOption = None, all_: Annotated[bool, typer.Option("--all", help="Include disabled claims")] = False
) -> None:
    """Claims in the published database with their stance counts."""
    from stancewire.schema import StoreError
    from stancewire.snapshot import open_readonly

    try:
        with open_readonly(db_path(db), sandboxed=True) as con:
            frame = claim_list(reader(con), include_disabled=all_)
    except StoreError as exc:
        fail(str(exc))
    with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=70, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        typer.echo(frame)


@claims_app.command("disable")
def disable(
    claim_ids: Annotated[list[str], typer.Argument(help="Claim ids")],
    db: DbOption = None,
    enable: Annotated[bool, typer.Option("--enable", help="Enable them again instead")] = False,
    score: ScoreOption = True,
) -> None:
    """Stop scoring claims (their results stay in the store); --enable turns them back on."""
    from stancewire.store import Store

    with Store.open_run(db_path(db), wait_s=build_params().store.lock_wait_s) as store:
        unknown = store.set_claims_enabled(claim_ids, enable)
    if unknown:
        typer.echo(f"unknown claims: {', '.join(unknown)}", err=True)
        raise typer.Exit(1)
    _finish(db_path(db), score, None)


@claims_app.command("score")
def score_(db: DbOption = None, nli_model: NliOption = None) -> None:
    """Score the (article, claim) pairs that have no score from the configured NLI model yet, and publish."""
    _score(db_path(db), nli_model)
