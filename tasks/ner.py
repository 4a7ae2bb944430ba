"""NER stage: sentences in, entity mentions with offsets into the article text out."""

from collections.abc import Sequence
from typing import Protocol

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import MENTIONS, by_stable_group, conform, empty
from stancewire.ids import stable_id
from stancewire.results import NerResult


class MentionLike(Protocol):
    start: int
    end: int
    label: str
    score: float


class NerModel(Protocol):
    model_id: str
    revision: str

    def __call__(self, texts: Sequence[str]) -> list[list[MentionLike]]: ...


def extract_entities(sentences: pl.DataFrame, model: NerModel) -> pl.DataFrame:
    """Run `model` over every sentence, one batched call per stable group of articles (stancewire.ids: the same
    articles always run together, so results do not depend on what else was pending), and map mentions back to
    article offsets.

    `sentences` needs sentence_id, article_id, start, text (frames.SENTENCES).
    """
    if sentences.is_empty():
        return empty(MENTIONS)
    rows = []
    for group in by_stable_group(sentences):
        rows += _mentions(group, model)
    if not rows:
        return empty(MENTIONS)
    return conform(pl.DataFrame(rows, schema=MENTIONS), MENTIONS)


def _mentions(sentences: pl.DataFrame, model: NerModel) -> list[dict]:
    predictions = model(sentences["text"].to_list())
    rows = []
    for sentence, mentions in zip(sentences.iter_rows(named=True), predictions, strict=True):
        for m in mentions:
            start, end = sentence["start"] + m.start, sentence["start"] + m.end
            rows.append(
                {
                    "mention_id": stable_id(
                        sentence["article_id"], start, end, m.label, model.model_id, model.revision
                    ),
                    "article_id": sentence["article_id"],
                    "sentence_id": sentence["sentence_id"],
                    "start": start,
                    "end": end,
                    "text": sentence["text"][m.start : m.end],
                    "label": m.label,
                    "score": float(m.score),
                    "model_id": model.model_id,
                    "model_revision": model.revision,
                }
            )
    return rows


@task(name="ner", cache_policy=NO_CACHE)
def ner_task(sentences: pl.DataFrame, article_ids: list[str], model: NerModel) -> NerResult:
    """The mentions `model` finds in the sentences of a batch of articles (those without sentences are done too)."""
    mentions = extract_entities(sentences, model)
    get_run_logger().info(
        "NER: %d sentences of %d articles → %d mentions", sentences.height, len(article_ids), mentions.height
    )
    return NerResult(mentions, article_ids, model.model_id, model.revision)
