"""One pipeline run around the DAG: its record in `runs`, each stage's outcome in `stage_runs`, then publish or
reject, the summary artifact, and the exception that tells Prefect how the run ended."""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_image_artifact, create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run

from expectations import ValidationReport
from flows.run_summary import build_summary, stance_per_claim
from flows.stance_chart import data_url, stance_by_day, stance_chart_svg
from models.embeddings import check_local_embedder
from models.loading import ModelUnavailable, check_local, run_precision
from models.ner import SETTING as NER_SETTING
from models.nli import SETTING as NLI_SETTING
from stancewire.config import RunParams
from stancewire.lake import export as export_lake
from stancewire.lake import exported as lake_exported
from stancewire.store import Store
from tasks.inputs.aliases import load_aliases
from tasks.inputs.claims import load_claims


class ValidationFailed(RuntimeError):
    """A data-quality suite failed: nothing from this run was published."""


class PublishFailed(RuntimeError):
    """The run's data passed validation but the published file could not be replaced (a full disk, say)."""


class InvalidParameters(ValueError):
    """A run parameter that cannot work here (a device this machine lacks): refused before any work."""


class ModelsMissing(RuntimeError):
    """A model stage was skipped although the run asked for every model to be present."""


@dataclass
class StageOutcome:
    """What a stage reports: rows in and out, and why it did not run when it was skipped."""

    rows_in: int = 0
    rows_out: int = 0
    skipped: str | None = None


@dataclass
class StageRecord:
    stage: str
    status: str  # ok | skipped | failed
    rows_in: int
    rows_out: int
    reason: str | None
    started_at: datetime
    finished_at: datetime


@dataclass
class RunResult:
    run_id: str
    db_path: str
    status: str
    summary_md: str


@dataclass
class PipelineRun:
    store: Store
    run_id: str
    records: dict[str, StageRecord] = field(default_factory=dict)
    report: ValidationReport | None = None
    result: RunResult | None = None

    def stage(self, name: str, stage: Callable[..., StageOutcome], *args: Any) -> StageOutcome:
        """Run `stage(store, run_id, *args)` and record its outcome (a failure is recorded, then raised)."""
        started = datetime.now(UTC)
        try:
            outcome = stage(self.store, self.run_id, *args)
        except BaseException as exc:
            self._record(name, StageOutcome(), started, "failed", f"{type(exc).__name__}: {exc}")
            raise
        status = "skipped" if outcome.skipped else "ok"
        self._record(name, outcome, started, status, outcome.skipped)
        return outcome

    def validate(self, validate: Callable[[Store, str], ValidationReport]) -> None:
        """The last stage: every table's suite; its report decides whether the run is published."""

        def stage(store: Store, run_id: str) -> StageOutcome:
            self.report = validate(store, run_id)
            return StageOutcome(len(self.report.rows), sum(1 for r in self.report.rows if not r["success"]))

        self.stage("validate", stage)

    @property
    def skipped(self) -> dict[str, str]:
        return {r.stage: r.reason or "" for r in self.records.values() if r.status == "skipped"}

    def counts(self) -> dict[str, dict]:
        return {r.stage: {"status": r.status, "in": r.rows_in, "out": r.rows_out} for r in self.records.values()}

    def _record(self, name: str, outcome: StageOutcome, started: datetime, status: str, reason: str | None) -> None:
        record = StageRecord(name, status, outcome.rows_in, outcome.rows_out, reason, started, datetime.now(UTC))
        self.records[name] = record
        self.store.record_stage(
            self.run_id, name, status, record.rows_in, record.rows_out, reason, record.started_at, record.finished_at
        )


@contextmanager
def pipeline_run(params: RunParams) -> Iterator[PipelineRun]:
    """Open the store and record the run; when the body (the DAG) is done: finish the run record, publish the
    snapshot if validation passed (else set the working copy aside), export the lake, post the summary artifact, and
    raise ValidationFailed or ModelsMissing when the run must show as failed."""
    check_before_work(params)
    run_id = str(flow_run.get_id() or uuid.uuid4())
    db_path = Path(params.store.db_path)
    with Store.open_run(db_path, wait_s=params.store.lock_wait_s, memory_limit=params.store.memory_limit) as store:
        run = PipelineRun(store, run_id)
        models = {"ner": params.models.ner, "nli": params.models.nli}
        store.begin_run(run_id, params.model_dump(mode="json"), models=models)
        try:
            yield run
            if run.report is None:
                raise RuntimeError("the pipeline ended without validating its data")
        except BaseException as exc:
            store.finish_run(run_id, "failed", run.counts(), f"{type(exc).__name__}: {exc}")
            raise
        report = run.report
        status = "succeeded" if report.success else "validation_failed"
        if report.success and all(r.status == "ok" for r in run.records.values()):
            store.mark_drained()  # every stage went through all its work: a rerun with nothing new need not look
        new_data = store.unpublished_changes()
        per_claim = stance_per_claim(store) if new_data else None
        chart = stance_chart_svg(stance_by_day(store)) if new_data else None
        summary = build_summary(store, run_id, list(run.records.values()), report, db_path, new_data, per_claim)
        store.finish_run(run_id, status, run.counts(), summary)
        if not report.success:
            rejected = store.reject(run_id)
        elif not new_data:
            get_run_logger().info("no data changed since the last publish: %s left as it is", db_path)
        else:
            try:
                store.publish()
            except OSError as exc:  # a full disk, a read-only directory: the run is not published, so not succeeded
                status, why = "failed", f"publishing {db_path} failed: {exc.strerror or exc}"
                store.finish_run(run_id, status, run.counts(), f"{summary}\n\n**{why}**")
                raise PublishFailed(f"{why}; the run's data stays in {store.work_path} for the next run") from None
            get_run_logger().info("published %s", db_path)
        export_dir = params.store.export_dir
        if report.success and export_dir and (new_data or not lake_exported(export_dir, db_path)):
            run.stage("export", _export, db_path, export_dir)  # recorded in the working database: published later
    run.result = RunResult(run_id=run_id, db_path=str(db_path), status=status, summary_md=summary)
    create_markdown_artifact(markdown=summary, key="stancewire-run-summary", description=f"stancewire run {run_id}")
    if per_claim is not None:  # else the latest artifacts under these keys still hold the same data
        create_table_artifact(
            table=per_claim.to_dicts(), key="stancewire-stance-per-claim", description="Latest stance per claim"
        )
    if chart:
        create_image_artifact(
            image_url=data_url(chart),
            key="stancewire-stance-over-time",
            description="Net support per claim and day: (supporting - refuting) / scored articles",
        )
    if not report.success:
        raise ValidationFailed(
            f"data-quality checks failed; nothing was published. This run's data is set aside in {rejected} "
            f"for inspection; the next run starts again from the last published snapshot.\n\n{report.markdown()}"
        )
    if params.models.require_models and run.skipped:
        raise ModelsMissing("; ".join(f"{stage}: {why}" for stage, why in run.skipped.items()))


def check_before_work(params: RunParams) -> None:
    """What can be known wrong before the store is opened or a source fetched: the device and precision, local model
    directories, the claims file, the alias lists. Each raises with one line naming the fix (InvalidParameters,
    ClaimsFileError, AliasFileError)."""
    try:
        run_precision(params.models)
        check_local(params.models.ner, NER_SETTING)
        check_local(params.models.nli, NLI_SETTING)
        check_local_embedder(params.models.embedding)
    except (ValueError, ModelUnavailable) as exc:
        raise InvalidParameters(str(exc)) from None
    if params.inputs.claims_file:
        load_claims(params.inputs.claims_file)
    load_aliases(params.inputs.alias_files)


def _export(store: Store, run_id: str, db_path: Path, export_dir: str) -> StageOutcome:
    exported = export_lake(db_path, export_dir)
    return StageOutcome(len(exported.tables), exported.rows)
