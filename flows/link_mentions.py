"""Entity linking against the store: link the mentions not linked yet, then re-apply every analyst override.

Shared by the pipeline's link stage and `stancewire entities`.
"""

from dataclasses import dataclass

import polars as pl

from stancewire.ids import sha256_hex
from stancewire.store import Store
from tasks.inputs.aliases import AliasList, name_key
from tasks.link import apply_overrides, link_task, linker_fingerprint, merge_targets


@dataclass
class LinkCounts:
    articles: int
    mentions: int
    relinked: int


def link_pending(store: Store, run_id: str, aliases: AliasList) -> LinkCounts:
    """Link the mentions of every article with a mention these rules and aliases have not linked (all of them when
    the alias list changed; new links get the overrides as they are made), then re-apply the overrides to all links
    if they changed since they were last applied."""
    mentions = store.pending_links(linker_fingerprint(aliases))
    article_ids = mentions["article_id"].unique().to_list()
    if article_ids:
        existing = store.entities(keys={f"name:{name_key(t or '')}" for t in mentions["text"]})
        store.save(link_task(mentions, existing, aliases, store.entity_overrides()), run_id)
    return LinkCounts(len(article_ids), mentions.height, reapply_overrides(store))


def reapply_overrides(store: Store) -> int:
    """Recompute every link's entity from its rule entity and the overrides; returns the number of links moved.
    Unless the overrides changed since they were last applied, only the entities are tidied (every link already
    carries them), so a run does not load every link of the store."""
    overrides = store.entity_overrides()
    applied = "overrides:" + sha256_hex(overrides.write_csv())[:16]
    if store.job_done(applied):
        store.apply_entity_overrides(pl.DataFrame(schema=MOVED), merge_targets(overrides))
        return 0
    links = store.mention_links()
    before = links.select("mention_id", old_entity="entity_id", old_override="override_id")
    moved = (
        apply_overrides(links, overrides)
        .join(before, on="mention_id")
        .filter(
            (pl.col("entity_id") != pl.col("old_entity")) | pl.col("override_id").ne_missing(pl.col("old_override"))
        )
    )
    store.apply_entity_overrides(moved, merge_targets(overrides))
    store.mark_job_done(applied)
    return moved.height


MOVED = {"mention_id": pl.String, "entity_id": pl.String, "override_id": pl.String}
