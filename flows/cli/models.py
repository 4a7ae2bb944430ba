"""`stancewire models`: the model cache."""

from typing import Annotated

import typer

from flows.cli.options import MODELS_MISSING
from flows.cli.run import model_override

app = typer.Typer(help="Model cache management.", no_args_is_help=True)


@app.command("pull")
def pull(
    ner_model: Annotated[str | None, typer.Option()] = None,
    ner_revision: Annotated[str | None, typer.Option()] = None,
    nli_model: Annotated[str | None, typer.Option()] = None,
    nli_revision: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Download the configured models into the Hugging Face cache, for offline scheduled runs."""
    from models.loading import ModelUnavailable
    from models.loading import pull as pull_model
    from stancewire.config import build_params

    configured = build_params(
        overrides={
            "models": model_override(ner_model, ner_revision, "ner") | model_override(nli_model, nli_revision, "nli")
        }
    ).models
    failed = False
    for spec in (configured.ner, configured.nli):
        try:
            typer.echo(f"{spec.id}: {pull_model(spec)}")
        except ModelUnavailable as exc:
            typer.echo(f"{spec.id}: {exc}", err=True)
            failed = True
    if failed:
        raise typer.Exit(MODELS_MISSING)
