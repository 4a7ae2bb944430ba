"""`stancewire` command line: run the flow, query the published database, manage models, sources, entities, claims."""

import typer

import flows  # noqa: F401  (sets telemetry-off environment before prefect is imported)
from flows.cli import claims, entities, export, models, query, run, sources, validate

app = typer.Typer(help="Multilingual news → entities and stance toward claims, in DuckDB.", no_args_is_help=True)
app.command("run")(run.run)
app.command("query")(query.query)
app.command("export")(export.export)
app.command("validate")(validate.validate)
app.add_typer(models.app, name="models")
app.add_typer(sources.app, name="sources")
app.add_typer(entities.app, name="entities")
app.add_typer(claims.claims_app, name="claims")
