"""Load stage: hands each stage's frames to the store, all of one call in one transaction."""

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.store import Store


def load_frames(store: Store, run_id: str, frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Write whichever of documents, quarantine, articles+sentences, boilerplate_lines, source_lines, entities,
    stance are given; return row counts.

    Entities come with `mentions_done` (article_id, model_id, model_revision): the articles the model has processed,
    including those where it found nothing, so they are not run again. Quantities likewise come with
    `quantities_done` (article_id, extractor_version).

    One transaction: a crash leaves all of a batch or none of it, so a rerun finds the batch pending or done.
    """
    with store.atomic():
        _write_frames(store, run_id, frames)
    return {name: frame.height for name, frame in frames.items()}


def _write_frames(store: Store, run_id: str, frames: dict[str, pl.DataFrame]) -> None:
    if "documents" in frames:
        store.write_documents(frames["documents"], run_id)
    if "quarantine" in frames:
        store.write_quarantine(frames["quarantine"], run_id)
    if "articles" in frames:
        store.write_articles(frames["articles"], frames["sentences"], run_id)
    if "boilerplate_lines" in frames:
        store.write_boilerplate_lines(frames["boilerplate_lines"], run_id)
    if "source_lines" in frames:
        store.add_source_lines(frames["source_lines"], run_id)
    if "entities" in frames:
        done = frames["mentions_done"]
        store.write_mentions(
            frames["entities"],
            run_id,
            done["article_id"].to_list(),
            model_id=done["model_id"][0],
            model_revision=done["model_revision"][0],
        )
    if "stance" in frames:
        store.write_stance(frames["stance"], run_id)
    if "quantities" in frames:
        done = frames["quantities_done"]
        store.write_quantities(
            frames["quantities"], run_id, done["article_id"].to_list(), extractor_version=done["extractor_version"][0]
        )


@task(name="load", cache_policy=NO_CACHE)
def load_task(store: Store, run_id: str, frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    written = load_frames(store, run_id, frames)
    get_run_logger().info("loaded %s", written)
    return written
