"""The whole flow on the demo corpus with generated tiny models, through a real (ephemeral) Prefect engine."""

import json
import re
import shutil

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

import tasks.stance
from flows.cli import app
from flows.pipeline import ModelsMissing, ValidationFailed, stancewire_pipeline
from models.loading import run_precision
from stancewire.config import DEMO_DIR, FetchOptions, ModelOptions, ModelSpec, RunParams, StoreOptions
from stancewire.snapshot import work_path
from tests.models.tiny import make_tiny_ner, make_tiny_nli

pytestmark = pytest.mark.usefixtures("prefect_backend")


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return ModelSpec(id=str(make_tiny_ner(root / "ner"))), ModelSpec(id=str(make_tiny_nli(root / "nli")))


def params_for(db, tiny_models, sources=None, export_dir=None) -> RunParams:
    ner, nli = tiny_models
    return RunParams(
        fetch=FetchOptions(**({"sources": sources} if sources else {})),
        models=ModelOptions(ner=ner, nli=nli),
        store=StoreOptions(db_path=str(db), lock_wait_s=5, export_dir=export_dir),
    )


def with_models(params: RunParams, **models) -> RunParams:
    return params.model_copy(update={"models": params.models.model_copy(update=models)})


def read(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).pl()


def test_demo_corpus_end_to_end_then_incremental_rerun(tmp_path, tiny_models):
    db = tmp_path / "out.duckdb"
    first = stancewire_pipeline(params=params_for(db, tiny_models))
    assert first.status == "succeeded"
    counts = read(
        db,
        "SELECT (SELECT count(*) FROM articles) a, (SELECT count(*) FROM sentences) s, "
        "(SELECT count(*) FROM claims) c, (SELECT count(*) FROM stance) st, "
        "(SELECT count(DISTINCT language) FROM articles) langs",
    ).row(0, named=True)
    files = [p for p in (DEMO_DIR / "articles").iterdir() if p.suffix != ".jsonl"]
    assert counts["a"] >= len(files)
    assert counts["s"] > counts["a"]
    assert counts["langs"] >= 3
    assert counts["st"] == counts["a"] * counts["c"]
    assert read(db, "SELECT bool_and(success) ok FROM validation_results")["ok"][0] is True
    runs = read(db, "SELECT run_id, status FROM runs")
    assert runs.rows() == [(first.run_id, "succeeded")]
    assert "## Stance per claim" in first.summary_md and str(db) in first.summary_md
    cleaning = read(db, f"SELECT * FROM v_cleaning_by_source WHERE run_id = '{first.run_id}'")
    assert cleaning["articles"].sum() == counts["a"] and cleaning["share_removed"].is_between(0, 1).all()
    removed = read(db, "SELECT sum(length(text)) n FROM boilerplate_lines")["n"][0] or 0
    assert cleaning["chars_removed"].sum() == removed
    assert "## Text removed as page furniture, per source" in first.summary_md

    before = db.stat()
    second = stancewire_pipeline(params=params_for(db, tiny_models))
    assert second.status == "succeeded"
    assert "unchanged: no data changed since the last published run" in second.summary_md
    assert f"See the summary of run `{first.run_id}` and the published database" in second.summary_md
    after = db.stat()  # nothing new: the published file is not copied again
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    stages = read(work_path(db), f"SELECT stage, rows_in FROM stage_runs WHERE run_id = '{second.run_id}'")
    assert dict(stages.iter_rows())["ner"] == 0
    assert dict(stages.iter_rows())["stance"] == 0
    again = read(db, "SELECT (SELECT count(*) FROM articles) a, (SELECT count(*) FROM stance) st").row(0, named=True)
    assert (again["a"], again["st"]) == (counts["a"], counts["st"])

    result = CliRunner().invoke(
        app, ["query", "--db", str(db), "--format", "csv", "SELECT count(*) AS n FROM articles"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["n", str(counts["a"])]


def test_injected_bad_probability_fails_validation_and_publishes_nothing(tmp_path, tiny_models, monkeypatch):
    db = tmp_path / "bad.duckdb"
    real_aggregate = tasks.stance.aggregate

    def corrupt(scored, **kw):
        return real_aggregate(scored, **kw).with_columns(p_entailment=pl.col("p_entailment") + 0.3)

    monkeypatch.setattr(tasks.stance, "aggregate", corrupt)
    with pytest.raises(ValidationFailed, match="stance") as failure:
        stancewire_pipeline(params=params_for(db, tiny_models))
    assert not db.exists()
    rejected = list(tmp_path.glob("bad.duckdb.rejected-*"))
    assert len(rejected) == 1 and str(rejected[0]) in str(failure.value)
    assert read(rejected[0], "SELECT max(p_entailment + p_neutral + p_contradiction) s FROM stance")["s"][0] > 1.2

    monkeypatch.undo()
    assert stancewire_pipeline(params=params_for(db, tiny_models)).status == "succeeded"
    assert read(db, "SELECT max(p_entailment + p_neutral + p_contradiction) s FROM stance")["s"][0] < 1.001


def test_missing_models_are_reported_not_invented(tmp_path, tiny_models):
    db = tmp_path / "nomodel.duckdb"
    missing = ModelSpec(id="example-org/not-in-the-cache")  # offline: a Hub model that cannot be had
    result = stancewire_pipeline(params=with_models(params_for(db, tiny_models), ner=missing, nli=missing))
    assert "ner not run" in result.summary_md and "stance not run" in result.summary_md
    assert "_no article has a stance score yet: the stance stage did not run (see Warnings)_" in result.summary_md
    assert "_no entities yet: the ner stage did not run (see Warnings)_" in result.summary_md
    assert read(db, "SELECT count(*) n FROM mentions")["n"][0] == 0
    stages = dict(read(db, "SELECT stage, status FROM stage_runs").iter_rows())
    assert stages["ner"] == "skipped" and stages["stance"] == "skipped"
    # the skipped stages' work waits for the next run that has the models, though no data changed in between
    later = stancewire_pipeline(params=params_for(db, tiny_models))
    done = dict(read(db, f"SELECT stage, rows_in FROM stage_runs WHERE run_id = '{later.run_id}'").iter_rows())
    assert done["ner"] > 0 and done["stance"] > 0 and done["clean"] == 0


def test_a_model_that_resolves_but_does_not_load_is_skipped_with_the_reason(tmp_path, tiny_models):
    broken = tmp_path / "broken-ner"
    shutil.copytree(tiny_models[0].id, broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    db = tmp_path / "broken.duckdb"
    params = with_models(params_for(db, tiny_models), ner=ModelSpec(id=str(broken)))
    result = stancewire_pipeline(params=params)
    assert result.status == "succeeded"
    ner = read(db, "SELECT status, reason FROM stage_runs WHERE stage = 'ner'").row(0, named=True)
    assert ner["status"] == "skipped" and str(broken) in ner["reason"]
    assert read(db, "SELECT count(*) n FROM mentions")["n"][0] == 0
    assert read(db, "SELECT count(*) n FROM stance")["n"][0] > 0  # the other model stage still ran
    with pytest.raises(ModelsMissing, match="ner"):
        stancewire_pipeline(params=with_models(params, require_models=True))


def test_shared_seeds_through_the_flow(tmp_path, tiny_models, seeds_dir):
    db = tmp_path / "seeds.duckdb"
    stancewire_pipeline(params=params_for(db, tiny_models, sources=[str(seeds_dir)]))
    arts = read(db, "SELECT language, length(text) n FROM articles")
    assert arts.height == len(list(seeds_dir.glob("*.txt")))
    assert set(arts["language"]) == {"it"}


def test_a_run_whose_given_sources_all_fail_ends_with_one_clear_line(tmp_path):
    missing, empty_dir = tmp_path / "artciles", tmp_path / "empty"
    empty_dir.mkdir()
    db = tmp_path / "typo.duckdb"
    result = CliRunner().invoke(
        app, ["run", "--db", str(db), "--no-claims", "--source", str(missing), "--source", str(empty_dir)]
    )
    assert result.exit_code == 2  # bad input
    assert (
        f"run failed: none of the given sources could be read: {missing} (not_found); {empty_dir} (empty_directory)"
        in result.output
    )
    assert "Traceback" not in result.output and not db.exists()


def test_a_run_that_cannot_publish_is_recorded_failed_with_one_clear_line(tmp_path, tiny_models, monkeypatch):
    import errno

    from flows.pipeline_run import PublishFailed
    from stancewire.snapshot import WorkingCopy

    def full_disk(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    db = tmp_path / "full.duckdb"
    monkeypatch.setattr(WorkingCopy, "publish", full_disk)
    with pytest.raises(PublishFailed, match=r"^publishing .*full.duckdb failed: No space left on device; the run's"):
        stancewire_pipeline(params=params_for(db, tiny_models))
    monkeypatch.undo()
    assert not db.exists()
    assert stancewire_pipeline(params=params_for(db, tiny_models)).status == "succeeded"
    statuses = read(db, "SELECT status, summary_md FROM runs ORDER BY started_at").rows()
    assert [s for s, _ in statuses] == ["failed", "succeeded"]
    assert "No space left on device" in statuses[0][1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "mps"], "run failed: device 'mps' is not available here"),
        (["--device", "gpu"], "invalid parameters: models.device: Input should be 'auto', 'cpu', 'cuda' or 'mps'"),
        (["--device", "cpu", "--precision", "fp16"], "run failed: fp16 runs on GPUs only; on CPU set --precision"),
        (["--claims", "no-such-claims.yaml"], "run failed: cannot read claims file no-such-claims.yaml"),
        (["--source", "no/such/folder"], "run failed: none of the given sources exists: no/such/folder"),
        (["--ner-model", "models/no/such-ner"], "run failed: model directory 'models/no/such-ner' does not exist"),
        (
            ["--embedding-model", "models/no/such-encoder"],
            "run failed: model directory 'models/no/such-encoder' does not",
        ),
        (["--semantic-threshold", "2"], "invalid parameters: models.semantic_threshold: Input should be less than"),
    ],
)
def test_common_mistakes_are_refused_before_any_work_with_one_line(tmp_path, args, message):
    db = tmp_path / "mistake.duckdb"
    result = CliRunner().invoke(app, ["run", "--db", str(db), *args])
    assert result.exit_code == 2  # bad input
    assert result.output.strip().splitlines() == [result.output.strip()] and result.output.startswith(message)
    assert not db.exists() and not (tmp_path / "mistake.duckdb.work").exists()


def test_a_model_directory_without_a_model_is_refused_before_any_work(tmp_path):
    empty = tmp_path / "my-nli"
    empty.mkdir()
    result = CliRunner().invoke(app, ["run", "--db", str(tmp_path / "m.duckdb"), "--nli-model", str(empty)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"run failed: {empty} holds no config.json, so it is not a model; set STANCEWIRE_NLI_MODEL / --nli-model"
    )
    assert not (tmp_path / "m.duckdb").exists()


def test_the_run_records_the_models_it_resolved(tmp_path, tiny_models):
    db = tmp_path / "models.duckdb"
    result = stancewire_pipeline(params=params_for(db, tiny_models))
    run = read(db, f"SELECT * FROM v_runs WHERE run_id = '{result.run_id}'")
    row = run.row(0, named=True)
    assert row["ner_revision"] and row["nli_revision"]  # a local directory's fingerprint, not null
    chosen = run_precision(params_for(db, tiny_models).models)
    assert row["ner_kernel"] == row["nli_kernel"] == chosen.describe()
    assert row["ner_revision"].endswith("+bf16") == (chosen.name == "bf16")
    mentions = read(db, "SELECT DISTINCT model_id, model_revision FROM mentions").rows()
    assert mentions == [(row["ner_model"], row["ner_revision"])]


def test_model_stages_report_their_progress(tmp_path, tiny_models):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterType

    params = params_for(tmp_path / "progress.duckdb", tiny_models)
    params.models.batch_size = 2  # several batches
    result = stancewire_pipeline(params=params)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[result.run_id]), type=ArtifactFilterType(any_=["progress"])
            )
        )
    final = {a.key: (a.data, a.description) for a in artifacts}
    assert set(final) == {"stancewire-ner-progress", "stancewire-stance-progress"}
    assert all(data == 100.0 for data, _ in final.values())
    articles = read(tmp_path / "progress.duckdb", "SELECT count(*) n FROM articles")["n"][0]
    assert final["stancewire-ner-progress"][1] == f"ner: {articles:,} of {articles:,} articles done"
    with get_client(sync_client=True) as client:
        tables = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[result.run_id]), type=ArtifactFilterType(any_=["table"])
            )
        )
    (per_claim,) = [a for a in tables if a.key == "stancewire-stance-per-claim"]
    rows = json.loads(per_claim.data) if isinstance(per_claim.data, str) else per_claim.data
    claims = read(tmp_path / "progress.duckdb", "SELECT count(*) n FROM claims")["n"][0]
    assert len(rows) == claims and {"claim_id", "support", "refute", "neutral", "unrelated"} <= set(rows[0])
    with get_client(sync_client=True) as client:
        images = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[result.run_id]), type=ArtifactFilterType(any_=["image"])
            )
        )
    days = read(tmp_path / "progress.duckdb", "SELECT count(DISTINCT day) n FROM v_claim_support_by_source_day")
    assert days["n"][0] >= 2  # the demo corpus spans several days
    (chart,) = [a for a in images if a.key == "stancewire-stance-over-time"]
    assert chart.data.startswith("data:image/svg+xml;base64,")


def test_exit_codes_tell_a_failed_validation_and_missing_models_apart(tmp_path, tiny_models, monkeypatch):
    ner, nli = tiny_models
    broken = tmp_path / "broken-ner"
    shutil.copytree(ner.id, broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    command = ["run", "--nli-model", nli.id, "--device", "cpu"]
    missing = CliRunner().invoke(
        app, [*command, "--db", str(tmp_path / "m.duckdb"), "--ner-model", str(broken), "--require-models"]
    )
    assert missing.exit_code == 4, missing.output
    assert "run failed:" in missing.output and str(broken) in missing.output

    real_aggregate = tasks.stance.aggregate
    monkeypatch.setattr(
        tasks.stance,
        "aggregate",
        lambda scored, **kw: real_aggregate(scored, **kw).with_columns(p_entailment=pl.col("p_entailment") + 0.3),
    )
    invalid = CliRunner().invoke(app, [*command, "--db", str(tmp_path / "v.duckdb"), "--ner-model", ner.id])
    assert invalid.exit_code == 3, invalid.output
    assert "run failed:" in invalid.output and not (tmp_path / "v.duckdb").exists()


def test_the_command_line_shows_a_progress_bar_per_model_stage(tmp_path, tiny_models):
    ner, nli = tiny_models
    db = tmp_path / "bars.duckdb"
    command = ["run", "--db", str(db), "--ner-model", ner.id, "--nli-model", nli.id, "--batch-size", "3"]
    shown = CliRunner().invoke(app, [*command, "--progress"])
    assert shown.exit_code == 0, shown.output
    articles = read(db, "SELECT count(*) n FROM articles")["n"][0]
    pairs = read(db, "SELECT count(*) n FROM stance")["n"][0]
    assert re.search(rf"ner \(articles\)\s.*{articles}/{articles}", shown.output)
    assert re.search(rf"stance \(\(article, claim\) pairs\)\s.*{pairs}/{pairs}", shown.output)
    quiet = CliRunner().invoke(app, [*command, "--db", str(tmp_path / "quiet.duckdb"), "--no-progress"])
    assert quiet.exit_code == 0 and "ner (articles)" not in quiet.output
