"""Load stage: hands each stage's frames to the store, one transaction per table group."""

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.store import Store


def load_frames(store: Store, run_id: str, frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Write whichever of documents, quarantine, articles+sentences, entities, stance are given; return row counts.

    Entities come with `ner_done` (article_id, model_id, model_revision): the articles the model has processed,
    including those where it found nothing, so they are not run again.
    """
    if "documents" in frames:
        store.write_documents(frames["documents"], run_id)
    if "quarantine" in frames:
        store.write_quarantine(frames["quarantine"], run_id)
    if "articles" in frames:
        store.write_articles(frames["articles"], frames["sentences"], run_id)
    if "entities" in frames:
        done = frames["ner_done"]
        store.write_entities(
            frames["entities"],
            run_id,
            done["article_id"].to_list(),
            model_id=done["model_id"][0],
            model_revision=done["model_revision"][0],
        )
    if "stance" in frames:
        store.write_stance(frames["stance"], run_id)
    return {name: frame.height for name, frame in frames.items()}


@task(name="load", cache_policy=NO_CACHE)
def load_task(store: Store, run_id: str, frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    written = load_frames(store, run_id, frames)
    get_run_logger().info("loaded %s", written)
    return written
