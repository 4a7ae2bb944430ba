"""The stancewire DAG: fetch → clean → NER → link → stance → load → validate, then publish the snapshot.

Work is incremental: each stage asks the store what is still pending (new documents, articles without
mentions from this NER model revision, mentions not linked to a canonical entity by the current rules and
alias list, (article, claim) pairs without a score from this NLI revision),
so a rerun with nothing new loads no model and writes nothing but its run record.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner

from flows.batches import chunks, model_task_runner, run_batches, split
from flows.ledger import RunLedger, StageRecord
from flows.link_mentions import link_pending
from flows.registered import fetch_registered
from flows.run_summary import build_summary
from models.loading import ModelUnavailable, resolve
from models.ner import SETTING as NER_SETTING
from models.nli import SETTING as NLI_SETTING
from models.resident import ResidentModel
from stancewire import __version__
from stancewire.config import RunParams
from stancewire.lake import export as export_lake
from stancewire.store import Store
from tasks.inputs.aliases import load_aliases
from tasks.inputs.claims import load_claims
from tasks.clean import build_language_detector, clean_task, source_keys
from tasks.text.dedup import DuplicateIndex
from tasks.fetch import fetch_task
from tasks.load import load_task
from tasks.ner import ner_task
from tasks.quantities import EXTRACTOR_VERSION, quantities_task
from tasks.stance import stance_task, unscorable
from tasks.validate import validate_task


class ValidationFailed(RuntimeError):
    """A data-quality suite failed: nothing from this run was published."""


class ModelsMissing(RuntimeError):
    """A model stage was skipped although the run asked for every model to be present."""


@dataclass
class RunResult:
    run_id: str
    db_path: str
    status: str
    summary_md: str


def resident_model(kind: str, params: RunParams) -> ResidentModel:
    """The handle the NER ("ner") or stance ("nli") batches carry, named by what the configured model resolves to now;
    whichever process runs a batch loads the model once (models/resident.py). Raises ModelUnavailable."""
    spec, setting = (params.ner_model, NER_SETTING) if kind == "ner" else (params.nli_model, NLI_SETTING)
    resolved = resolve(spec, setting)
    return ResidentModel(
        kind, spec, resolved.model_id, resolved.revision, params.device, params.token_budget, params.quantize_int8
    )


def _fetch_and_clean(store: Store, ledger: RunLedger, run_id: str, params: RunParams) -> None:
    with ledger.stage("fetch") as rec:
        fetched = fetch_task(
            params.sources,
            allow_files=params.allow_file_sources,
            allow_private_hosts=params.allow_private_hosts,
        )
        load_task(store, run_id, {"documents": fetched.documents, "quarantine": fetched.quarantine})
        rec.rows_in, rec.rows_out = len(params.sources), fetched.documents.height
        if params.use_registered_sources:
            registered = fetch_registered(store, run_id, params)
            rec.rows_in, rec.rows_out = rec.rows_in + registered.sources, rec.rows_out + registered.documents
    with ledger.stage("clean") as rec:
        pending = store.pending_documents()
        rec.rows_in = pending.height
        if pending.is_empty():
            return
        detector = build_language_detector()
        known = DuplicateIndex(store.article_fingerprints())
        for chunk in pending.iter_slices(params.batch_size):
            source_lines = store.source_line_counts(source_keys(chunk))
            cleaned = clean_task(chunk, detector, known, source_lines)
            load_task(
                store,
                run_id,
                {
                    "articles": cleaned.articles,
                    "sentences": cleaned.sentences,
                    "quarantine": cleaned.quarantine,
                    "boilerplate_lines": cleaned.boilerplate_lines,
                    "source_lines": cleaned.source_lines,
                },
            )
            known.add_articles(cleaned.articles)
            rec.rows_out += cleaned.articles.height


def _ner(store: Store, ledger: RunLedger, run_id: str, params: RunParams, runner: TaskRunner) -> None:
    try:
        model = resident_model("ner", params)
    except ModelUnavailable as exc:
        ledger.skip("ner", str(exc))
        return
    with ledger.stage("ner") as rec:
        articles, sentences = store.pending_ner(model.model_id, model.revision)
        article_ids = articles["article_id"].to_list()
        rec.rows_in = len(article_ids)
        if not article_ids:
            return
        batches = split(article_ids, params.batch_size, runner)
        inputs = ({"sentences": sentences.filter(pl.col("article_id").is_in(b)), "model": model} for b in batches)
        with _skip_when_unloadable(rec):
            for batch, entities in zip(batches, run_batches(runner, ner_task, inputs), strict=True):
                done = pl.DataFrame({"article_id": batch}).with_columns(
                    model_id=pl.lit(model.model_id), model_revision=pl.lit(model.revision)
                )
                load_task(store, run_id, {"entities": entities, "mentions_done": done})
                rec.rows_out += entities.height


def _link(store: Store, ledger: RunLedger, run_id: str, params: RunParams) -> None:
    """Link new mentions to canonical entities and re-apply the analysts' merges and splits."""
    with ledger.stage("link") as rec:
        counts = link_pending(store, run_id, load_aliases(params.alias_files))
        rec.rows_in, rec.rows_out = counts.mentions, counts.mentions + counts.relinked


def _quantities(store: Store, ledger: RunLedger, run_id: str, params: RunParams) -> None:
    """Read quantities from articles not read yet, or whose entities changed since."""
    with ledger.stage("quantities") as rec:
        languages, sentences, entities = store.pending_quantities(EXTRACTOR_VERSION)
        article_ids = languages["article_id"].to_list()
        rec.rows_in = len(article_ids)
        for batch in chunks(article_ids, params.batch_size):
            in_batch = pl.col("article_id").is_in(batch)
            found = quantities_task(sentences.filter(in_batch), languages.filter(in_batch), entities.filter(in_batch))
            done = pl.DataFrame({"article_id": batch}).with_columns(extractor_version=pl.lit(EXTRACTOR_VERSION))
            load_task(store, run_id, {"quantities": found, "quantities_done": done})
            rec.rows_out += found.height


def _stance(store: Store, ledger: RunLedger, run_id: str, params: RunParams, runner: TaskRunner) -> None:
    try:
        model = resident_model("nli", params)
    except ModelUnavailable as exc:
        ledger.skip("stance", str(exc))
        return
    with ledger.stage("stance") as rec:
        pairs, sentences = store.pending_stance(model.model_id, model.revision)
        rec.rows_in = pairs.height
        if pairs.is_empty():
            return
        load_task(store, run_id, {"quarantine": unscorable(pairs, sentences)})
        claims = store.claims(enabled_only=True)
        article_ids = pairs["article_id"].unique(maintain_order=True).to_list()
        languages, entities = store.article_languages(article_ids), store.latest_mentions(article_ids)
        inputs = (
            {
                "pairs": pairs.filter(in_batch),
                "sentences": sentences.filter(in_batch),
                "claims": claims,
                "model": model,
                "languages": languages.filter(in_batch),
                "entities": entities.filter(in_batch),
            }
            for in_batch in (pl.col("article_id").is_in(b) for b in split(article_ids, params.batch_size, runner))
        )
        with _skip_when_unloadable(rec):
            for stance in run_batches(runner, stance_task, inputs):
                load_task(store, run_id, {"stance": stance})
                rec.rows_out += stance.height


@contextmanager
def _skip_when_unloadable(rec: StageRecord) -> Iterator[None]:
    """A model that resolves but does not load (broken weights, a head of the wrong kind, another revision on a
    worker) skips the rest of its stage with the reason, as an unresolvable one does; batches landed so far stay."""
    try:
        yield
    except ModelUnavailable as exc:
        rec.status, rec.reason = "skipped", str(exc)


@flow(name="stancewire", version=__version__)
def stancewire_pipeline(params: RunParams = RunParams()) -> RunResult:
    """Fetch the sources, clean, find entities, score stance toward the claims, validate, publish."""
    logger = get_run_logger()
    run_id = str(flow_run.get_id() or uuid.uuid4())
    db_path = Path(params.db_path)
    with Store.open_run(db_path, wait_s=params.lock_wait_s) as store:
        ledger = RunLedger(store, run_id)
        store.begin_run(run_id, params.model_dump(mode="json"), models={"ner": params.ner_model, "nli": params.nli_model})
        try:
            if params.claims_file:
                with ledger.stage("claims") as rec:
                    claims = load_claims(params.claims_file)
                    store.write_claims(claims)
                    rec.rows_in = rec.rows_out = claims.height
            _fetch_and_clean(store, ledger, run_id, params)
            with model_task_runner(params.dask) as runner:
                _ner(store, ledger, run_id, params, runner)
                _link(store, ledger, run_id, params)
                _quantities(store, ledger, run_id, params)
                _stance(store, ledger, run_id, params, runner)
            with ledger.stage("validate") as rec:
                report = validate_task(store, run_id)
                rec.rows_in, rec.rows_out = len(report.rows), sum(1 for r in report.rows if not r["success"])
        except BaseException as exc:
            store.finish_run(run_id, "failed", ledger.counts(), f"{type(exc).__name__}: {exc}")
            raise
        status = "succeeded" if report.success else "validation_failed"
        summary = build_summary(store, run_id, ledger, report, db_path)
        store.finish_run(run_id, status, ledger.counts(), summary)
        if report.success:
            store.publish()
            logger.info("published %s", db_path)
            if params.export_dir:
                with ledger.stage("export") as rec:  # recorded in the working database: published by the next run
                    exported = export_lake(db_path, params.export_dir)
                    rec.rows_in, rec.rows_out = len(exported.tables), exported.rows
        else:
            rejected = store.reject(run_id)
    create_markdown_artifact(markdown=summary, key="stancewire-run-summary", description=f"stancewire run {run_id}")
    if not report.success:
        raise ValidationFailed(
            f"data-quality checks failed; nothing was published. This run's data is set aside in {rejected} "
            f"for inspection; the next run starts again from the last published snapshot.\n\n{report.markdown()}"
        )
    if params.require_models and ledger.skipped:
        raise ModelsMissing("; ".join(f"{stage}: {why}" for stage, why in ledger.skipped.items()))
    return RunResult(run_id=run_id, db_path=str(db_path), status=status, summary_md=summary)
