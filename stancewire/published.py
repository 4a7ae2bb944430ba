"""The reads behind the analysts' commands (`stancewire entities`, `stancewire claims list`): entity candidates, an
entity's profile, the overrides, the claims with their stance counts.

Each takes `query(sql, params)` returning a polars frame, so it reads the published file (`reader` over a read-only
connection) or a run's working copy (`Store.query`) alike.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

Query = Callable[[str, Mapping[str, Any]], pl.DataFrame]

_ENTITY_COLUMNS = "entity_id, entity_key, type, name, aliases, stands_for, merged_into, origin"


def reader(con: duckdb.DuckDBPyConnection) -> Query:
    return lambda sql, params: con.sql(sql, params=dict(params) or None).pl()


def entities_by_id_or_key(query: Query, ref: str) -> pl.DataFrame:
    """Entities whose id or key is `ref`, or whose id starts with it (6+ characters)."""
    return query(
        f"SELECT {_ENTITY_COLUMNS} FROM entities WHERE entity_id = $ref OR entity_key = $ref "
        "OR (length($ref) >= 6 AND starts_with(entity_id, lower($ref)))",
        {"ref": ref},
    )


def live_entities(query: Query) -> pl.DataFrame:
    """Every entity not merged into another, by name."""
    return query(f"SELECT {_ENTITY_COLUMNS} FROM entities WHERE merged_into IS NULL ORDER BY name", {})


def entity_list(query: Query, search: str | None, entity_type: str | None, limit: int) -> pl.DataFrame:
    """Entities by number of mentions, optionally those with a name or alias containing `search`, of one type."""
    where: list[str] = ["TRUE"]
    params: dict[str, Any] = {"limit": limit}
    if search:
        where.append("(name ILIKE $pattern OR len(list_filter(aliases, lambda a: a ILIKE $pattern)) > 0)")
        params["pattern"] = f"%{search}%"
    if entity_type:
        where.append("type = $type")
        params["type"] = entity_type.upper()
    return query(
        "SELECT substr(entity_id, 1, 10) AS id, name, type, mentions, articles, sources, entity_key, "
        f"stands_for_name FROM v_entities WHERE {' AND '.join(where)} ORDER BY mentions DESC, name LIMIT $limit",
        params,
    )


@dataclass
class EntityProfile:
    stands_for: pl.DataFrame  # name of the entity it can stand for
    merged_in: pl.DataFrame  # name, entity_key of entities merged into it
    links: pl.DataFrame  # per link method: mentions, articles, spellings
    articles: pl.DataFrame  # the ten latest articles mentioning it
    overrides: pl.DataFrame  # the analyst overrides that touch it


def entity_profile(query: Query, entity: Mapping[str, Any]) -> EntityProfile:
    eid = {"id": entity["entity_id"]}
    return EntityProfile(
        stands_for=query("SELECT name FROM entities WHERE entity_id = $id", {"id": entity["stands_for"] or ""}),
        merged_in=query("SELECT name, entity_key FROM entities WHERE merged_into = $id ORDER BY name", eid),
        links=query(
            "SELECT method, count(*) AS mentions, count(DISTINCT article_id) AS articles, "
            "string_agg(DISTINCT text, ' | ' ORDER BY text) AS spellings FROM v_entity_mentions "
            "WHERE entity_id = $id GROUP BY ALL ORDER BY mentions DESC",
            eid,
        ),
        articles=query(
            "SELECT m.day, coalesce(m.site, m.source) AS source, a.title, count(*) AS mentions "
            "FROM v_entity_mentions m JOIN articles a USING (article_id) WHERE m.entity_id = $id "
            "GROUP BY ALL ORDER BY m.day DESC NULLS LAST, mentions DESC LIMIT 10",
            eid,
        ),
        overrides=query(
            "SELECT override_id, action, entity_id, target_id, name_key, article_id, mention_id, note, created_at "
            "FROM entity_overrides WHERE $id IN (entity_id, target_id) ORDER BY created_at",
            eid,
        ),
    )


def links_matching(
    query: Query, entity_id: str, name_key: str | None, article_id: str | None, mention_id: str | None
) -> int:
    """How many mention links of the entity a split with these selectors (None: any) would move."""
    return query(
        "SELECT count(*) AS n FROM mention_links WHERE entity_id = $id "
        "AND ($key IS NULL OR name_key = $key) AND ($article IS NULL OR article_id = $article) "
        "AND ($mention IS NULL OR mention_id = $mention)",
        {"id": entity_id, "key": name_key, "article": article_id, "mention": mention_id},
    )["n"][0]


def override_list(query: Query) -> pl.DataFrame:
    """The analyst overrides, oldest first, with the names of the entities they connect."""
    return query(
        "SELECT o.override_id, o.action, s.name AS entity, t.name AS target, o.name_key AS surface, o.article_id, "
        "o.mention_id, o.note, o.created_at FROM entity_overrides o LEFT JOIN entities s ON s.entity_id = o.entity_id "
        "LEFT JOIN entities t ON t.entity_id = o.target_id ORDER BY o.created_at",
        {},
    )


def claim_list(query: Query, include_disabled: bool) -> pl.DataFrame:
    """Claims with the latest stance counts over all articles."""
    where = "" if include_disabled else "WHERE c.enabled"
    return query(
        f"""
        SELECT c.claim_id, c.language, c.enabled, c.text,
               count(*) FILTER (WHERE s.label = 'SUPPORT') AS support,
               count(*) FILTER (WHERE s.label = 'REFUTE') AS refute,
               count(*) FILTER (WHERE s.label = 'NEUTRAL') AS neutral,
               count(*) FILTER (WHERE s.label = 'UNRELATED') AS unrelated
        FROM claims c LEFT JOIN v_latest_stance s USING (claim_id) {where}
        GROUP BY ALL ORDER BY c.claim_id
        """,
        {},
    )
