"""`stancewire entities ...`: look up canonical entities and correct the links (merge, split).

Corrections are stored as overrides in the database and re-applied on every run, so they survive reruns and apply to
mentions found later. Each change is applied to the working database at once, validated and published (unless
`--no-publish`: then the next run publishes it). An entity is named by its id (or a prefix of 6+ characters), its
key (`alias:north-korea`, `PER:volodymyr zelensky`) or a name or alias when that names only one entity.
"""

import uuid
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from flows.cli.options import VALIDATION_FAILED, DbOption, WaitOption, db_path, fail
from stancewire.published import (
    Query,
    entities_by_id_or_key,
    entity_list,
    entity_profile,
    links_matching,
    live_entities,
    override_list,
    reader,
)
from tasks.inputs.aliases import name_key
from tasks.link import EntityNotFound, analyst_entity, override_row, pick_entity

app = typer.Typer(help="Canonical entities: list, show, merge, split, overrides.", no_args_is_help=True)

PublishOption = Annotated[bool, typer.Option("--publish/--no-publish", help="Validate and publish now")]
NoteOption = Annotated[str | None, typer.Option(help="Why: kept with the override")]


def _find(query: Query, ref: str) -> dict[str, Any]:
    try:
        return pick_entity(ref, entities_by_id_or_key(query, ref), live_entities(query))
    except EntityNotFound as exc:
        fail(str(exc))


def _read(db: Path | None) -> Any:
    from stancewire.schema import StoreError
    from stancewire.snapshot import open_readonly

    try:
        return open_readonly(db_path(db), sandboxed=True)
    except StoreError as exc:
        fail(str(exc))


def _print(frame: pl.DataFrame, rows: int = 50) -> None:
    with pl.Config(tbl_rows=rows, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=220, tbl_hide_dataframe_shape=True):
        typer.echo(frame)


@app.command("list")
def list_entities(
    search: Annotated[str | None, typer.Option(help="Part of a name or alias (case-insensitive)")] = None,
    entity_type: Annotated[str | None, typer.Option("--type", help="PER, LOC, ORG, ...")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show")] = 30,
    db: DbOption = None,
) -> None:
    """Entities by number of mentions (published database)."""
    with _read(db) as con:
        frame = entity_list(reader(con), search, entity_type, limit)
    _print(frame, limit)


@app.command("show")
def show(ref: Annotated[str, typer.Argument(help="Entity id, id prefix, key, or name")], db: DbOption = None) -> None:
    """One entity: names, how its mentions were linked, where it appears, and the overrides that touch it."""
    with _read(db) as con:
        entity = _find(reader(con), ref)
        profile = entity_profile(reader(con), entity)
    typer.echo(f"{entity['name']}  [{entity['type']}]  {entity['entity_id']}")
    typer.echo(f"key: {entity['entity_key']}   origin: {entity['origin']}")
    if entity["merged_into"]:
        typer.echo(f"merged into: {entity['merged_into']}")
    if profile.stands_for.height:
        typer.echo(f"can stand for: {profile.stands_for['name'][0]}")
    typer.echo(f"aliases: {', '.join(entity['aliases'] or [])}")
    if profile.merged_in.height:
        typer.echo("merged in: " + ", ".join(f"{n} ({k})" for n, k in profile.merged_in.iter_rows()))
    for title, frame in (("links", profile.links), ("articles", profile.articles), ("overrides", profile.overrides)):
        if frame.height:
            typer.echo(f"\n{title}:")
            _print(frame)


def _change(db: Path | None, wait_s: float, publish: bool, edit: Any) -> None:
    """Open the working database, run `edit(store)`, re-apply every override, then validate and publish."""
    from expectations import validate_all
    from flows.link_mentions import reapply_overrides
    from stancewire.snapshot import StoreBusy
    from stancewire.store import Store

    try:
        with Store.open_run(db_path(db), wait_s=wait_s) as store:
            edit(store)
            moved = reapply_overrides(store)
            typer.echo(f"{moved} mention links moved")
            if not publish:
                typer.echo("stored; the next run publishes it")
                return
            report = validate_all(store, f"entities-{uuid.uuid4()}", scope="full")  # links change in place
            if not report.success:
                fail(f"not published, validation failed:\n{report.markdown()}", VALIDATION_FAILED)
            store.publish()
            typer.echo(f"published {store.db_path}")
    except StoreBusy as exc:
        fail(str(exc))


@app.command("merge")
def merge(
    keep: Annotated[str, typer.Argument(help="The entity to keep")],
    others: Annotated[list[str], typer.Argument(help="Entities that are the same as KEEP")],
    note: NoteOption = None,
    db: DbOption = None,
    wait_s: WaitOption = 30.0,
    publish: PublishOption = True,
) -> None:
    """Merge entities: every mention of OTHERS (now and in later runs) is linked to KEEP."""

    def edit(store: Any) -> None:
        target = _find(store.query, keep)
        sources = [_find(store.query, ref) for ref in others]
        for source in sources:
            if source["entity_id"] == target["entity_id"]:
                fail(f"{source['name']} is {target['name']}: nothing to merge")
            if source["merged_into"]:
                fail(f"{source['name']} is already merged into {source['merged_into']}")
        for source in sources:
            if source["type"] != target["type"]:
                typer.echo(f"note: merging {source['type']} {source['name']} into {target['type']} {target['name']}")
            store.add_entity_override(override_row("merge", source["entity_id"], target["entity_id"], note))
            typer.echo(
                f"merged {source['name']} ({source['entity_key']}) into {target['name']} ({target['entity_key']})"
            )

    _change(db, wait_s, publish, edit)


@app.command("split")
def split(
    ref: Annotated[str, typer.Argument(help="The entity to take mentions from")],
    surface: Annotated[str | None, typer.Option(help="Only mentions spelled like this (case, accents ignored)")] = None,
    article: Annotated[str | None, typer.Option(help="Only mentions in this article (article_id)")] = None,
    mention: Annotated[str | None, typer.Option(help="Only this mention (mention_id)")] = None,
    into: Annotated[str | None, typer.Option(help="Move them to this existing entity")] = None,
    new: Annotated[str | None, typer.Option(help="Move them to a new entity of this name")] = None,
    new_type: Annotated[
        str | None, typer.Option("--type", help="Type of the new entity (default: the source's)")
    ] = None,
    note: NoteOption = None,
    db: DbOption = None,
    wait_s: WaitOption = 30.0,
    publish: PublishOption = True,
) -> None:
    """Split mentions off an entity (by spelling, article or mention) into another entity or a new one."""
    if not (surface or article or mention):
        fail("say which mentions to split off: --surface, --article and/or --mention")
    if bool(into) == bool(new):
        fail("give exactly one of --into (an existing entity) or --new (a name for a new entity)")
    key = name_key(surface) if surface else None
    if surface and not key:
        fail(f"--surface {surface!r} holds no letter or digit")

    def edit(store: Any) -> None:
        source = _find(store.query, ref)
        target = _find(store.query, into) if into else None
        if target is None:
            try:
                created = analyst_entity(new, new_type or source["type"])
            except ValueError:
                fail(f"--new {new!r} holds no letter or digit")
            store.write_entities(created, "entities-cli")
            target = created.row(0, named=True)
        elif target["entity_id"] == source["entity_id"]:
            fail("the mentions already belong there")
        matching = links_matching(store.query, source["entity_id"], key, article, mention)
        store.add_entity_override(
            override_row(
                "split",
                source["entity_id"],
                target["entity_id"],
                note,
                name_key=key,
                article_id=article,
                mention_id=mention,
            )
        )
        typer.echo(f"split {matching} mentions (and later ones that match) off {source['name']} into {target['name']}")

    _change(db, wait_s, publish, edit)


@app.command("overrides")
def overrides(
    remove: Annotated[str | None, typer.Option(help="Remove this override (its id) and re-apply the others")] = None,
    db: DbOption = None,
    wait_s: WaitOption = 30.0,
    publish: PublishOption = True,
) -> None:
    """List the analyst overrides, oldest first, or remove one."""
    if remove:

        def edit(store: Any) -> None:
            if not store.remove_entity_override(remove):
                fail(f"no override {remove!r}")
            typer.echo(f"removed override {remove}")

        _change(db, wait_s, publish, edit)
        return
    with _read(db) as con:
        frame = override_list(reader(con))
    if frame.is_empty():
        typer.echo("no overrides: correct links with `stancewire entities merge` or `split`")
    else:
        _print(frame, 200)
