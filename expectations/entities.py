"""Expectations for `entities`: canonical entities, one per real-world thing."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import HEX32, holds, non_empty, not_null, structure
from stancewire import frames

TABLE = "entities"
KEY = ["entity_id"]
COLUMNS = {c: t for c, t in frames.ENTITIES.items() if c != "declared_aliases"} | {
    "merged_into": pl.String,
    "run_id": pl.String,
    "updated_at": frames.UTC_DATETIME,
}

SQL = """
SELECT n.* EXCLUDE (declared_aliases, aliases),
    n.entity_id = substr(sha256('entity' || chr(31) || n.entity_key), 1, 32) AS chk_id_from_key,
    count(*) OVER (PARTITION BY n.entity_key) = 1 AS chk_key_unique,
    coalesce(split_part(n.entity_key, ':', 1) IN ('alias', 'name') OR n.type = split_part(n.entity_key, ':', 2), false)
        AS chk_type_matches_key,
    split_part(n.entity_key, ':', 1) IN ('alias', 'name', 'analyst') AS chk_key_kind,
    (n.stands_for IS NULL OR s.entity_id IS NOT NULL) AS chk_stands_for_exists,
    (n.merged_into IS NULL OR (m.entity_id IS NOT NULL AND m.merged_into IS NULL AND m.entity_id <> n.entity_id))
        AS chk_merged_into_a_live_entity
FROM entities n
LEFT JOIN main.entities s ON s.entity_id = n.stands_for
LEFT JOIN main.entities m ON m.entity_id = n.merged_into
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("entity_key", "type", "name", "origin", "run_id"),
        *non_empty("entity_key", "type", "name"),
        gxe.ExpectColumnValuesToMatchRegex(column="entity_id", regex=HEX32),
        gxe.ExpectColumnValuesToBeInSet(column="origin", value_set=["alias_list", "mentions", "analyst"]),
        holds("chk_id_from_key", "entity_id is the stable id of entity_key"),
        holds("chk_key_unique", "one entity per entity_key"),
        holds("chk_type_matches_key", "an analyst entity's type is the one its entity_key names"),
        holds("chk_key_kind", "entity_key is alias:, name: or analyst:"),
        holds("chk_stands_for_exists", "stands_for names an existing entity"),
        holds("chk_merged_into_a_live_entity", "merged_into names another entity that is not merged itself"),
    ]
