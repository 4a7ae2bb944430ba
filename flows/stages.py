"""Each stage of the DAG against the store: read what is pending, run the stage's Prefect task over it batch by
batch, save each batch's typed result in one transaction, and report rows in and out.

Work is incremental: each stage asks the store what is still pending (new documents, articles without mentions
from this NER model revision, mentions not linked by the current rules and alias list, (article, claim) pairs
without a score from this NLI revision), so a rerun with nothing new loads no model and writes nothing.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import polars as pl
from prefect import Task, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.task_runners import TaskRunner

from flows.batches import chunks, run_batches, split
from flows.link_mentions import link_pending
from flows.pipeline_run import StageOutcome
from flows.semantic import SemanticRule
from models.loading import ModelUnavailable, resolve, run_precision
from models.ner import SETTING as NER_SETTING
from models.nli import SETTING as NLI_SETTING
from models.resident import ResidentModel
from stancewire.config import AnalystFiles, FetchOptions, ModelOptions
from stancewire.store import Store
from tasks.clean import build_language_detector, clean_task, source_keys
from tasks.crawl import crawl_task
from tasks.fetch import fetch_task
from tasks.inputs.aliases import load_aliases
from tasks.inputs.claims import load_claims
from tasks.inputs.sources import load_sources_file, sources_frame, sources_from_frame
from tasks.ner import ner_task
from tasks.quantities import EXTRACTOR_VERSION, quantities_task
from tasks.stance import stance_task, unscorable
from tasks.text.dedup import DuplicateIndex, Fingerprint
from tasks.web.fetcher import PoliteFetcher


class SourcesUnreadable(RuntimeError):
    """Sources were given and none of them could be read (a mistyped path, a dead URL)."""


def _unread(quarantine: pl.DataFrame) -> str:
    reasons = quarantine.group_by("source", maintain_order=True).agg(pl.col("reason").unique(maintain_order=True))
    listed = "; ".join(f"{source} ({', '.join(why)})" for source, why in reasons.iter_rows())
    return f"none of the given sources could be read: {listed or 'no source yielded a document'}"


def claims(store: Store, run_id: str, inputs: AnalystFiles) -> StageOutcome:
    loaded = load_claims(inputs.claims_file)
    store.write_claims(loaded)
    return StageOutcome(loaded.height, loaded.height)


def fetch(store: Store, run_id: str, options: FetchOptions, fetcher: PoliteFetcher | None = None) -> StageOutcome:
    """The given sources, then the registry's enabled ones, through one polite fetcher (made from `options` unless
    one is given)."""
    fetcher = fetcher or PoliteFetcher(
        user_agent=options.user_agent,
        host_delay_s=options.host_delay_s,
        host_concurrency=options.host_concurrency,
        respect_robots=options.respect_robots,
        allow_private_hosts=options.allow_private_hosts,
        budget_s=options.fetch_budget_s,
    )
    with fetcher:
        fetched = fetch_task(options.sources, fetcher, allow_files=options.allow_file_sources)
        store.save(fetched, run_id)
        if options.sources and fetched.documents.is_empty():
            raise SourcesUnreadable(_unread(fetched.quarantine))
        outcome = StageOutcome(len(options.sources), fetched.documents.height)
        if not options.use_registered_sources:
            return outcome
        if options.sources_file:
            store.write_sources(sources_frame(load_sources_file(options.sources_file)))
        registered = sources_from_frame(store.sources(enabled_only=True))
        if registered:
            crawled = crawl_task(registered, store.fetch_state(), fetcher, allow_files=options.allow_file_sources)
            store.save(crawled, run_id)
            outcome.rows_in += len(registered)
            outcome.rows_out += crawled.documents.height
    return outcome


def clean(store: Store, run_id: str, batch_size: int) -> StageOutcome:
    pending = store.pending_documents()
    outcome = StageOutcome(pending.height)
    if pending.is_empty():
        return outcome
    detector = build_language_detector()
    store.backfill_bands(progress=get_run_logger().info)
    known = StoredArticles(store)
    for chunk in pending.iter_slices(batch_size):
        cleaned = clean_task(chunk, detector, known, store.source_line_counts(source_keys(chunk)))
        store.save(cleaned, run_id)
        outcome.rows_out += cleaned.articles.height
    return outcome


class StoredArticles:
    """The stored canonical articles a batch may duplicate, looked up by hash and LSH band (not all of them)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def index_for(self, fingerprints: Sequence[Fingerprint]) -> DuplicateIndex:
        return DuplicateIndex(
            self.store.duplicate_candidates([(f.text_hash_normalised, f.minhash) for f in fingerprints])
        )


def ner(store: Store, run_id: str, options: ModelOptions, runner: TaskRunner) -> StageOutcome:
    model = _stage_model(store, run_id, "ner", options)
    if isinstance(model, str):
        return StageOutcome(skipped=model)
    articles, sentences = store.pending_ner(model.model_id, model.revision)
    article_ids = articles["article_id"].to_list()
    outcome = StageOutcome(len(article_ids))
    batches = split(article_ids, options.batch_size, runner) if article_ids else []
    inputs = (
        {"sentences": sentences.filter(pl.col("article_id").is_in(b)), "article_ids": b, "model": model}
        for b in batches
    )
    progress = Progress("ner", "articles", len(article_ids))
    return _save_batches(
        store,
        run_id,
        runner,
        ner_task,
        inputs,
        outcome,
        progress,
        rows=lambda found: found.mentions.height,
        done=lambda found: len(found.article_ids),
    )


def link(store: Store, run_id: str, inputs: AnalystFiles) -> StageOutcome:
    """Link new mentions to canonical entities and re-apply the analysts' merges and splits."""
    counts = link_pending(store, run_id, load_aliases(inputs.alias_files))
    return StageOutcome(counts.mentions, counts.mentions + counts.relinked)


def quantities(store: Store, run_id: str, batch_size: int, inputs: AnalystFiles) -> StageOutcome:
    """Read quantities from articles not read yet, or whose mentions changed since."""
    articles, sentences, mentions = store.pending_quantities(EXTRACTOR_VERSION)
    aliases = load_aliases(inputs.alias_files)
    article_ids = articles["article_id"].to_list()
    outcome = StageOutcome(len(article_ids))
    for batch in chunks(article_ids, batch_size):
        in_batch = pl.col("article_id").is_in(batch)
        found = quantities_task(
            sentences.filter(in_batch), articles.filter(in_batch), mentions.filter(in_batch), aliases
        )
        store.save(found, run_id)
        outcome.rows_out += found.quantities.height
    return outcome


def stance(store: Store, run_id: str, options: ModelOptions, runner: TaskRunner) -> StageOutcome:
    model = _stage_model(store, run_id, "nli", options)
    if isinstance(model, str):
        return StageOutcome(skipped=model)
    semantic = SemanticRule(store, options)
    pairs, sentences = store.pending_stance(model.model_id, model.revision, semantic.relevance_model)
    outcome = StageOutcome(pairs.height)
    if pairs.is_empty():
        return outcome
    store.write_quarantine(unscorable(pairs, sentences), run_id)
    enabled = store.claims(enabled_only=True)
    semantic.prepare(enabled)
    article_ids = pairs["article_id"].unique(maintain_order=True).to_list()
    languages, mentions = store.article_languages(article_ids), store.latest_mentions(article_ids)
    inputs = (
        {
            "pairs": pairs.filter(in_batch),
            "sentences": sentences.filter(in_batch),
            "claims": enabled,
            "model": model,
            "languages": languages.filter(in_batch),
            "entities": mentions.filter(in_batch),
            "semantic": semantic.evidence(batch),
        }
        for batch in split(article_ids, options.batch_size, runner)
        for in_batch in (pl.col("article_id").is_in(batch),)
    )
    progress = Progress("stance", "(article, claim) pairs", pairs.height)
    return _save_batches(
        store,
        run_id,
        runner,
        stance_task,
        inputs,
        outcome,
        progress,
        rows=lambda scored: scored.stance.height,
        done=lambda scored: scored.stance.height,
    )


def _save_batches(
    store: Store,
    run_id: str,
    runner: TaskRunner,
    task: Task,
    inputs: Iterable[dict[str, Any]],
    outcome: StageOutcome,
    progress: "Progress",
    *,
    rows: Callable[[Any], int],
    done: Callable[[Any], int],
) -> StageOutcome:
    """Save each model batch's result as it comes back. A model that resolved but does not load (broken weights, a
    head of the wrong kind, another revision on a worker) skips the rest of the stage with the reason, as an
    unresolvable one does; the batches landed so far stay."""
    try:
        for result in run_batches(runner, task, inputs):
            store.save(result, run_id)
            outcome.rows_out += rows(result)
            progress.advance(done(result))
    except ModelUnavailable as exc:
        outcome.skipped = str(exc)
    return outcome


# Called with (stage, unit, done, total) as a model stage advances, in the flow's process: the command line's bar.
PROGRESS_LISTENERS: list[Callable[[str, str, int, int], None]] = []


class Progress:
    """How far a model stage is: a progress artifact on the run's page in the Prefect UI, a log line per batch, and
    whatever PROGRESS_LISTENERS show."""

    def __init__(self, stage: str, unit: str, total: int) -> None:
        self.stage, self.unit, self.total, self.done = stage, unit, total, 0
        key, line = f"stancewire-{stage}-progress", self._line()
        self.artifact = create_progress_artifact(0.0, key=key, description=line) if total else None
        self._tell()

    def advance(self, n: int) -> None:
        self.done += n
        if self.artifact is None:
            return
        update_progress_artifact(self.artifact, 100.0 * self.done / max(1, self.total), description=self._line())
        get_run_logger().info(self._line())
        self._tell()

    def _tell(self) -> None:
        for listener in PROGRESS_LISTENERS:
            listener(self.stage, self.unit, self.done, self.total)

    def _line(self) -> str:
        return f"{self.stage}: {self.done:,} of {self.total:,} {self.unit} done"


def _stage_model(store: Store, run_id: str, kind: str, options: ModelOptions) -> ResidentModel | str:
    """The model a stage runs, recorded on the run with its precision and kernel; or, when it cannot be resolved,
    why."""
    try:
        model = resident_model(kind, options)
    except ModelUnavailable as exc:
        return str(exc)
    store.record_run_model(run_id, kind, model.model_id, model.revision, run_precision(options).describe())
    return model


def resident_model(kind: str, options: ModelOptions) -> ResidentModel:
    """The handle the NER ("ner") or stance ("nli") batches carry, named by what the configured model resolves to now
    at the precision chosen here; whichever process runs a batch loads the model once (models/resident.py). Raises
    ModelUnavailable."""
    spec, setting = (options.ner, NER_SETTING) if kind == "ner" else (options.nli, NLI_SETTING)
    resolved = resolve(spec, setting)
    chosen = run_precision(options)
    return ResidentModel(
        kind,
        spec,
        resolved.model_id,
        chosen.tag(resolved.revision),
        options.device,
        options.token_budget,
        chosen.name,
        chosen.backend,
    )
