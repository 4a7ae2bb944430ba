"""`stancewire entities ...`: look up canonical entities and correct the links (merge, split).

Corrections are stored as overrides in the database and re-applied on every run, so they survive reruns and apply to
mentions found later. Each change is applied to the working database at once, validated and published (unless
`--no-publish`: then the next run publishes it). An entity is named by its id (or a prefix of 6+ characters), its
key (`alias:north-korea`, `PER:volodymyr zelensky`) or a name or alias when that names only one entity.
"""

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from flows.cli.options import DbOption, WaitOption, db_path, fail

app = typer.Typer(help="Canonical entities: list, show, merge, split, overrides.", no_args_is_help=True)

PublishOption = Annotated[bool, typer.Option("--publish/--no-publish", help="Validate and publish now")]
NoteOption = Annotated[str | None, typer.Option(help="Why: kept with the override")]

_ENTITY_COLUMNS = "entity_id, entity_key, type, name, aliases, stands_for, merged_into, origin"


class EntityNotFound(LookupError):
    """The reference names no entity, or several."""


def find_entity(query: Any, ref: str) -> dict[str, Any]:
    """The entity `ref` names; `query(sql, params)` returns a polars frame. Raises EntityNotFound."""
    from tasks.inputs.aliases import name_key

    exact = query(
        f"SELECT {_ENTITY_COLUMNS} FROM entities WHERE entity_id = $ref OR entity_key = $ref "
        "OR (length($ref) >= 6 AND starts_with(entity_id, lower($ref)))",
        {"ref": ref},
    )
    if exact.height == 1:
        return exact.row(0, named=True)
    if exact.height > 1:
        raise EntityNotFound(f"{ref!r} is the start of several entity ids: {_listing(exact)}")
    key = name_key(ref)
    live = query(f"SELECT {_ENTITY_COLUMNS} FROM entities WHERE merged_into IS NULL ORDER BY name", {})
    named = live.filter(pl.col("name").map_elements(name_key, return_dtype=pl.String) == key) if key else live.clear()
    if named.is_empty() and key:
        named = live.filter(
            pl.col("aliases").list.eval(pl.element().map_elements(name_key, return_dtype=pl.String)).list.contains(key)
        )
    if named.height == 1:
        return named.row(0, named=True)
    if named.is_empty():
        raise EntityNotFound(f"no entity is named {ref!r}: try `stancewire entities list --search {ref!r}`")
    raise EntityNotFound(f"{ref!r} names several entities, give an id: {_listing(named)}")


def _listing(frame: pl.DataFrame) -> str:
    return "; ".join(f"{r['entity_id'][:10]} {r['name']} ({r['entity_key']})" for r in frame.iter_rows(named=True))


def _read(db: Path | None) -> Any:
    from stancewire.schema import StoreError
    from stancewire.snapshot import open_readonly

    try:
        return open_readonly(db_path(db))
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
    where, params = ["TRUE"], {"limit": limit}
    if search:
        where.append("(name ILIKE $pattern OR len(list_filter(aliases, lambda a: a ILIKE $pattern)) > 0)")
        params["pattern"] = f"%{search}%"
    if entity_type:
        where.append("type = $type")
        params["type"] = entity_type.upper()
    with _read(db) as con:
        frame = con.sql(
            "SELECT substr(entity_id, 1, 10) AS id, name, type, mentions, articles, sources, entity_key, "
            f"stands_for_name FROM v_entities WHERE {' AND '.join(where)} ORDER BY mentions DESC, name LIMIT $limit",
            params=params,
        ).pl()
    _print(frame, limit)


@app.command("show")
def show(ref: Annotated[str, typer.Argument(help="Entity id, id prefix, key, or name")], db: DbOption = None) -> None:
    """One entity: names, how its mentions were linked, where it appears, and the overrides that touch it."""
    with _read(db) as con:

        def query(sql: str, params: dict) -> pl.DataFrame:
            return con.sql(sql, params=params or None).pl()

        try:
            entity = find_entity(query, ref)
        except EntityNotFound as exc:
            fail(str(exc))
        eid = {"id": entity["entity_id"]}
        stands_for = query("SELECT name FROM entities WHERE entity_id = $id", {"id": entity["stands_for"] or ""})
        merged_in = query("SELECT name, entity_key FROM entities WHERE merged_into = $id ORDER BY name", eid)
        methods = query(
            "SELECT method, count(*) AS mentions, count(DISTINCT article_id) AS articles, "
            "string_agg(DISTINCT text, ' | ' ORDER BY text) AS spellings FROM v_entity_mentions "
            "WHERE entity_id = $id GROUP BY ALL ORDER BY mentions DESC",
            eid,
        )
        articles = query(
            "SELECT m.day, coalesce(m.site, m.source) AS source, a.title, count(*) AS mentions "
            "FROM v_entity_mentions m JOIN articles a USING (article_id) WHERE m.entity_id = $id "
            "GROUP BY ALL ORDER BY m.day DESC NULLS LAST, mentions DESC LIMIT 10",
            eid,
        )
        overrides = query(
            "SELECT override_id, action, entity_id, target_id, name_key, article_id, mention_id, note, created_at "
            "FROM entity_overrides WHERE $id IN (entity_id, target_id) ORDER BY created_at",
            eid,
        )
    typer.echo(f"{entity['name']}  [{entity['type']}]  {entity['entity_id']}")
    typer.echo(f"key: {entity['entity_key']}   origin: {entity['origin']}")
    if entity["merged_into"]:
        typer.echo(f"merged into: {entity['merged_into']}")
    if stands_for.height:
        typer.echo(f"can stand for: {stands_for['name'][0]}")
    typer.echo(f"aliases: {', '.join(entity['aliases'] or [])}")
    if merged_in.height:
        typer.echo("merged in: " + ", ".join(f"{n} ({k})" for n, k in merged_in.iter_rows()))
    for title, frame in (("links", methods), ("articles", articles), ("overrides", overrides)):
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
            report = validate_all(store, f"entities-{uuid.uuid4()}")
            if not report.success:
                fail(f"not published, validation failed:\n{report.markdown()}")
            store.publish()
            typer.echo(f"published {store.db_path}")
    except StoreBusy as exc:
        fail(str(exc))


def _override(action: str, entity_id: str, target_id: str, note: str | None, **selector: str | None) -> pl.DataFrame:
    from stancewire import frames

    row = {
        "override_id": uuid.uuid4().hex,
        "action": action,
        "entity_id": entity_id,
        "target_id": target_id,
        "name_key": selector.get("name_key"),
        "article_id": selector.get("article_id"),
        "mention_id": selector.get("mention_id"),
        "note": note,
        "created_at": datetime.now(UTC),
    }
    return pl.DataFrame([row], schema=frames.ENTITY_OVERRIDES)


def _store_query(store: Any) -> Any:
    return lambda sql, params: store.query(sql, params or None)


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
        try:
            target = find_entity(_store_query(store), keep)
            sources = [find_entity(_store_query(store), ref) for ref in others]
        except EntityNotFound as exc:
            fail(str(exc))
        for source in sources:
            if source["entity_id"] == target["entity_id"]:
                fail(f"{source['name']} is {target['name']}: nothing to merge")
            if source["merged_into"]:
                fail(f"{source['name']} is already merged into {source['merged_into']}")
        for source in sources:
            if source["type"] != target["type"]:
                typer.echo(f"note: merging {source['type']} {source['name']} into {target['type']} {target['name']}")
            store.add_entity_override(_override("merge", source["entity_id"], target["entity_id"], note))
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
    from stancewire import frames
    from tasks.inputs.aliases import name_key
    from tasks.link import entity_id

    if not (surface or article or mention):
        fail("say which mentions to split off: --surface, --article and/or --mention")
    if bool(into) == bool(new):
        fail("give exactly one of --into (an existing entity) or --new (a name for a new entity)")
    key = name_key(surface) if surface else None
    if surface and not key:
        fail(f"--surface {surface!r} holds no letter or digit")

    def edit(store: Any) -> None:
        try:
            source = find_entity(_store_query(store), ref)
            target = find_entity(_store_query(store), into) if into else None
        except EntityNotFound as exc:
            fail(str(exc))
        if target is None:
            kind = (new_type or source["type"]).upper()
            entity_key = f"analyst:{kind}:{name_key(new)}"
            row = {
                "entity_id": entity_id(entity_key),
                "entity_key": entity_key,
                "type": kind,
                "name": new.strip(),
                "declared_aliases": [],
                "stands_for": None,
                "origin": "analyst",
            }
            target = row
            if not name_key(new):
                fail(f"--new {new!r} holds no letter or digit")
            store.write_entities(pl.DataFrame([row], schema=frames.ENTITIES), "entities-cli")
        elif target["entity_id"] == source["entity_id"]:
            fail("the mentions already belong there")
        matching = store.query(
            "SELECT count(*) AS n FROM mention_links WHERE entity_id = $id "
            "AND ($key IS NULL OR name_key = $key) AND ($article IS NULL OR article_id = $article) "
            "AND ($mention IS NULL OR mention_id = $mention)",
            {"id": source["entity_id"], "key": key, "article": article, "mention": mention},
        )["n"][0]
        store.add_entity_override(
            _override(
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
        frame = con.sql(
            "SELECT o.override_id, o.action, s.name AS entity, t.name AS target, o.name_key AS surface, o.article_id, "
            "o.mention_id, o.note, o.created_at FROM entity_overrides o LEFT JOIN entities s ON s.entity_id = o.entity_id "
            "LEFT JOIN entities t ON t.entity_id = o.target_id ORDER BY o.created_at"
        ).pl()
    if frame.is_empty():
        typer.echo("no overrides: correct links with `stancewire entities merge` or `split`")
    else:
        _print(frame, 200)
