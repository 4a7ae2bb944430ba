"""What each stage returns and the store saves: one result is one batch, saved in one transaction
(`Store.save`), so a crash leaves a batch wholly written or wholly pending."""

from dataclasses import dataclass, field

import polars as pl

from stancewire import frames


def _empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


@dataclass
class FetchResult:
    documents: pl.DataFrame  # frames.DOCUMENTS
    quarantine: pl.DataFrame  # frames.QUARANTINE


@dataclass
class CrawlResult:
    documents: pl.DataFrame  # frames.DOCUMENTS: new or changed articles only
    quarantine: pl.DataFrame  # frames.QUARANTINE
    fetch_state: pl.DataFrame  # frames.FETCH_STATE: every URL requested (or read) this run
    health: pl.DataFrame  # frames.SOURCE_HEALTH: one row per source


@dataclass
class CleanResult:
    articles: pl.DataFrame  # frames.ARTICLES
    sentences: pl.DataFrame  # frames.SENTENCES
    quarantine: pl.DataFrame  # frames.QUARANTINE
    boilerplate_lines: pl.DataFrame  # frames.BOILERPLATE_LINES
    source_lines: pl.DataFrame  # frames.SOURCE_LINES: this batch's counts, to add to the stored ones


@dataclass
class NerResult:
    """The mentions one model revision found in a batch of articles; every article of the batch is marked done,
    those without a mention too, so none is run again."""

    mentions: pl.DataFrame  # frames.MENTIONS
    article_ids: list[str]
    model_id: str
    model_revision: str | None


@dataclass
class LinkResult:
    entities: pl.DataFrame  # frames.ENTITIES: every entity a new link points to, existing names kept
    links: pl.DataFrame  # frames.MENTION_LINKS, overrides applied
    quarantine: pl.DataFrame  # frames.QUARANTINE: mentions that cannot be linked
    article_ids: list[str]  # whose links are replaced by `links`


@dataclass
class QuantitiesResult:
    quantities: pl.DataFrame  # frames.QUANTITIES
    article_ids: list[str]  # read by this extractor version, quantities found or not
    extractor_version: str
    entities: pl.DataFrame = field(default_factory=lambda: _empty(frames.ENTITIES))  # named by demonyms
    quarantine: pl.DataFrame = field(default_factory=lambda: _empty(frames.QUARANTINE))  # numbers not read


@dataclass
class StanceResult:
    stance: pl.DataFrame  # frames.STANCE
    quarantine: pl.DataFrame = field(default_factory=lambda: _empty(frames.QUARANTINE))


@dataclass
class EmbedResult:
    sentences: pl.DataFrame  # frames.SENTENCE_EMBEDDINGS: every sentence of the batch's articles
    articles: pl.DataFrame  # frames.ARTICLE_EMBEDDINGS: articles with at least one readable sentence


StageResult = (
    EmbedResult | FetchResult | CrawlResult | CleanResult | NerResult | LinkResult | QuantitiesResult | StanceResult
)
