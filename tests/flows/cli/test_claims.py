"""Claims as data through the CLI: adding a claim later scores only its pairs; disagreement views over the result."""

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.pipeline import stancewire_pipeline
from stancewire.config import AnalystFiles, FetchOptions, ModelOptions, ModelSpec, RunParams, StoreOptions
from stancewire.snapshot import work_path
from tests.models.tiny import make_tiny_ner, make_tiny_nli

ARTICLES = {
    "a.txt": "Notizie dal fronte\n\nRoma, sì, ha inviato circa 1.000 soldati al confine.\nIl tempo era bello.",
    "b.txt": "Smentita\n\nNo, Roma non ha inviato tra 1.500 e 2.000 soldati al confine.\nLa pioggia continua.",
    "c.txt": "Cucina\n\nLa ricetta della torta richiede farina e uova.\nServire fredda.",
}


pytestmark = pytest.mark.usefixtures("prefect_backend")


def read(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).pl()


def test_claim_added_later_scores_only_its_pairs_and_sides_show_in_the_views(tmp_path):
    models = tmp_path / "models"
    nli = str(make_tiny_nli(models / "nli"))
    sources = tmp_path / "articles"
    sources.mkdir()
    for name, text in ARTICLES.items():
        (sources / name).write_text(text, encoding="utf-8")
    claims = tmp_path / "claims.csv"
    claims.write_text("id,text,language,text_en\nsoldiers,Roma ha inviato soldati al confine.,it,Rome sent soldiers.\n")
    db = tmp_path / "c.duckdb"
    params = RunParams(
        fetch=FetchOptions(sources=[str(sources)], use_registered_sources=False),
        inputs=AnalystFiles(claims_file=str(claims)),
        models=ModelOptions(ner=ModelSpec(id=str(make_tiny_ner(models / "ner"))), nli=ModelSpec(id=nli)),
        store=StoreOptions(db_path=str(db), lock_wait_s=5),
    )
    stancewire_pipeline(params=params)
    first = read(
        db,
        "SELECT article_id, claim_id, label, relevance, sentences_scored, run_id, scored_at FROM stance ORDER BY ALL",
    )
    assert sorted(first["label"]) == ["REFUTE", "SUPPORT", "UNRELATED"]
    assert read(
        db, "SELECT supporting IS NOT NULL AND refuting IS NOT NULL AS c, contested FROM v_claim_disagreement"
    ).rows() == [(True, True)]
    conflict = read(
        db, "SELECT subjects, thing, role, a_text, a_low, a_high, b_text, b_low, b_high FROM v_quantity_conflicts"
    )
    # "Roma" is linked to its canonical entity; about 1,000 ([900, 1100]) and 1,500-2,000 cannot both hold
    sides = {conflict.row(0)[3:6], conflict.row(0)[6:9]}
    assert conflict.height == 1 and conflict.row(0)[:3] == (["Rome"], "soldiers", "total")
    assert sides == {("1.000", 900.0, 1100.0), ("1.500 e 2.000", 1500.0, 2000.0)}

    runner = CliRunner()
    added = runner.invoke(
        app, ["claims", "add", "cake", "La torta richiede farina.", "-l", "it", "--db", str(db), "--nli-model", nli]
    )
    assert added.exit_code == 0, added.output
    stance = read(
        db,
        "SELECT article_id, claim_id, label, relevance, sentences_scored, run_id, scored_at FROM stance ORDER BY ALL",
    )
    assert stance.filter(stance["claim_id"] == "soldiers").equals(first)  # untouched
    assert stance.filter(stance["claim_id"] == "cake")["relevance"].sort().to_list() == [
        "candidates",
        "no_overlap",
        "no_overlap",
    ]
    last_run = read(db, "SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1")["run_id"][0]
    stages = dict(read(db, f"SELECT stage, rows_in FROM stage_runs WHERE run_id = '{last_run}'").iter_rows())
    assert (stages["fetch"], stages["clean"], stages["stance"]) == (0, 0, 3)  # no source, three new pairs

    listed = runner.invoke(app, ["claims", "list", "--db", str(db)])
    assert "soldiers" in listed.output and "cake" in listed.output
    disabled = runner.invoke(app, ["claims", "disable", "cake", "--no-score", "--db", str(db)])
    assert disabled.exit_code == 0, disabled.output
    assert read(work_path(db), "SELECT claim_id FROM claims WHERE enabled").rows() == [("soldiers",)]
    assert runner.invoke(app, ["claims", "disable", "nope", "--no-score", "--db", str(db)]).exit_code == 1
