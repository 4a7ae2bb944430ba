"""Expectations for `mention_links`: each mention linked to one canonical entity."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import holds, non_empty, not_null, structure
from stancewire import frames

TABLE = "mention_links"
KEY = ["mention_id"]
COLUMNS = frames.MENTION_LINKS | {"run_id": pl.String, "linked_at": frames.UTC_DATETIME}
METHODS = ["alias", "alias_joined", "short_form", "name"]

SQL = """
SELECT l.*,
    e.mention_id IS NOT NULL AS chk_mention_exists,
    coalesce(e.article_id = l.article_id, false) AS chk_same_article,
    n.entity_id IS NOT NULL AS chk_entity_exists,
    coalesce(n.merged_into IS NULL, false) AS chk_entity_not_merged,
    r.entity_id IS NOT NULL AS chk_rule_entity_exists,
    (l.entity_id = l.rule_entity_id OR o.override_id IS NOT NULL) AS chk_moved_only_by_an_override
FROM mention_links l
LEFT JOIN mentions e ON e.mention_id = l.mention_id
LEFT JOIN entities n ON n.entity_id = l.entity_id
LEFT JOIN entities r ON r.entity_id = l.rule_entity_id
LEFT JOIN entity_overrides o ON o.override_id = l.override_id
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("article_id", "entity_id", "rule_entity_id", "method", "name_key", "linker", "run_id"),
        *non_empty("name_key"),
        gxe.ExpectColumnValuesToBeInSet(column="method", value_set=METHODS),
        holds("chk_mention_exists", "the mention exists"),
        holds("chk_same_article", "the link's article is the mention's"),
        holds("chk_entity_exists", "the entity exists"),
        holds("chk_entity_not_merged", "the entity is not merged into another (links follow merges)"),
        holds("chk_rule_entity_exists", "the entity the rules chose exists"),
        holds("chk_moved_only_by_an_override", "a link leaves its rule's entity only by an analyst override"),
    ]
