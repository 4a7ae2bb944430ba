"""Load stage: hands each stage's frames to the store, one transaction per table group."""

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.store import Store


def load_frames(store: Store, run_id: str, frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Write whichever of documents, quarantine, articles+sentences, entities, stance are given; return row counts."""
    written = {}
    if "documents" in frames:
        store.write_documents(frames["documents"], run_id)
    if "quarantine" in frames:
        store.write_quarantine(frames["quarantine"], run_id)
    if "articles" in frames:
        store.write_articles(frames["articles"], frames["sentences"], run_id)
    if "entities" in frames:
        store.write_entities(frames["entities"], run_id, article_ids=frames["entity_articles"]["article_id"].to_list())
    if "stance" in frames:
        store.write_stance(frames["stance"], run_id)
    for name, frame in frames.items():
        written[name] = frame.height
    return written


@task(name="load", cache_policy=NO_CACHE)
def load_task(store: Store, run_id: str, frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    written = load_frames(store, run_id, frames)
    get_run_logger().info("loaded %s", written)
    return written
