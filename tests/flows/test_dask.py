"""NER and stance batches on a real 2-worker Dask cluster give what the in-process run gives."""

import os

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from prefect.task_runners import ThreadPoolTaskRunner
from typer.testing import CliRunner

import flows.pipeline
from flows.batches import WORKER_MALLOC, model_task_runner
from flows.cli import app
from flows.pipeline import RunResult, stancewire_pipeline
from models.loading import usable_cpus
from models.resident import load_counts
from stancewire.config import DaskOptions, ModelOptions, ModelSpec, RunParams, StoreOptions, build_params
from stancewire.snapshot import work_path
from tests.models.tiny import NER_LEXICON, make_tiny_ner, make_tiny_nli

distributed = pytest.importorskip("distributed")
pytest.importorskip("prefect_dask")
pytestmark = pytest.mark.usefixtures("prefect_backend")

# Rows the model stages produce, in a stable order, without the run that wrote them.
PRODUCED = {
    "entities": "SELECT * EXCLUDE (run_id) FROM mentions ORDER BY mention_id",
    "mentions_done": "SELECT * EXCLUDE (run_id, done_at) FROM mentions_done ORDER BY article_id",
    "stance": "SELECT * EXCLUDE (run_id, scored_at) FROM stance ORDER BY article_id, claim_id",
    "mention_links": "SELECT * EXCLUDE (run_id, linked_at) FROM mention_links ORDER BY mention_id",
}
BATCH = 3  # demo articles per task: several batches for two workers
DEMO_NAMES = {"Valmora": "B-LOC", "Marseille": "B-LOC", "Turin": "B-LOC", "Bertolini": "B-ORG", "Lindenau": "B-ORG"}


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    ner = make_tiny_ner(root / "ner", lexicon=NER_LEXICON | DEMO_NAMES)
    return ModelSpec(id=str(ner)), ModelSpec(id=str(make_tiny_nli(root / "nli")))


def run(db, tiny_models, dask: DaskOptions | None) -> str:
    ner, nli = tiny_models
    params = RunParams(
        models=ModelOptions(ner=ner, nli=nli, device="cpu", batch_size=BATCH, dask=dask),
        store=StoreOptions(db_path=str(db)),
    )
    result = stancewire_pipeline(params=params)
    assert result.status == "succeeded"
    return result.run_id


def produced(db) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {table: con.sql(sql).pl() for table, sql in PRODUCED.items()}


@pytest.fixture(scope="module")
def in_process(tmp_path_factory, tiny_models):
    db = tmp_path_factory.mktemp("in-process") / "out.duckdb"
    run(db, tiny_models, dask=None)
    rows = produced(db)
    assert rows["entities"].height > 20 and rows["stance"].height and rows["mentions_done"].height > 2 * BATCH
    return rows


def assert_same_rows(expected: dict[str, pl.DataFrame], got: dict[str, pl.DataFrame]) -> None:
    for table, frame in expected.items():
        # Worker processes run torch with other thread counts: float sums may differ in the last bits.
        assert_frame_equal(got[table], frame, check_exact=False, rtol=1e-5, atol=1e-6, check_dtypes=True), table


def test_dask_options_choose_the_task_runner():
    assert isinstance(model_task_runner(None), ThreadPoolTaskRunner)
    assert model_task_runner(DaskOptions(address="tcp://10.0.0.5:8786")).address == "tcp://10.0.0.5:8786"
    local = model_task_runner(DaskOptions(workers=2)).cluster_kwargs
    assert local["n_workers"] == 2 and local["processes"] is True
    assert local["env"]["OMP_NUM_THREADS"] == str(max(1, usable_cpus() // 2))


def test_two_worker_cluster_gives_the_in_process_rows_loading_each_model_once_per_worker(
    tmp_path, tiny_models, in_process
):
    """The cluster is the local one `--dask-workers 2` starts, reached by address so the test can look inside."""
    db = tmp_path / "dask.duckdb"
    with distributed.LocalCluster(**model_task_runner(DaskOptions(workers=2)).cluster_kwargs) as cluster:
        with distributed.Client(cluster) as client:
            run_id = run(db, tiny_models, dask=DaskOptions(address=cluster.scheduler_address))
            loads = client.run(load_counts)
            assert set(client.run(os.getenv, "MALLOC_MMAP_THRESHOLD_").values()) == {
                WORKER_MALLOC["MALLOC_MMAP_THRESHOLD_"]
            }
            assert len(loads) == 2
            assert all(counts.get(kind, 0) <= 1 for counts in loads.values() for kind in ("ner", "nli"))
            assert sum(counts.get("ner", 0) for counts in loads.values()) >= 1

            # A rerun on the same cluster has nothing new: no batch is sent and nothing reloads.
            again = run(db, tiny_models, dask=DaskOptions(address=cluster.scheduler_address))
            assert client.run(load_counts) == loads
    assert_same_rows(in_process, produced(db))
    # The rerun changed no data, so it is recorded in the working copy and not published.
    with duckdb.connect(str(work_path(db)), read_only=True) as con:
        rows_in = dict(con.execute(f"SELECT stage, rows_in FROM stage_runs WHERE run_id = '{again}'").fetchall())
        assert con.execute(f"SELECT count(*) FROM runs WHERE run_id IN ('{run_id}', '{again}')").fetchone()[0] == 2
    assert rows_in["ner"] == 0 and rows_in["stance"] == 0


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], None),
        (["--dask-workers", "3"], DaskOptions(workers=3)),
        (["--dask-address", "tcp://10.0.0.5:8786"], DaskOptions(address="tcp://10.0.0.5:8786")),
    ],
)
def test_cli_dask_flags_reach_the_run_parameters(monkeypatch, flags, expected):
    seen = []

    def fake_pipeline(params: RunParams) -> RunResult:
        seen.append(params)
        return RunResult(run_id="r", db_path=params.store.db_path, status="succeeded", summary_md="ok")

    monkeypatch.setattr(flows.pipeline, "stancewire_pipeline", fake_pipeline)
    result = CliRunner().invoke(app, ["run", *flags])
    assert result.exit_code == 0, result.output
    assert seen[0].models.dask == expected


def test_environment_sets_the_default_cluster(monkeypatch):
    monkeypatch.setenv("STANCEWIRE_DASK_ADDRESS", "tcp://10.0.0.5:8786")
    assert build_params().models.dask == DaskOptions(address="tcp://10.0.0.5:8786")
    monkeypatch.delenv("STANCEWIRE_DASK_ADDRESS")
    monkeypatch.setenv("STANCEWIRE_DASK_WORKERS", "4")
    assert build_params().models.dask == DaskOptions(workers=4)
    monkeypatch.delenv("STANCEWIRE_DASK_WORKERS")
    assert build_params().models.dask is None
