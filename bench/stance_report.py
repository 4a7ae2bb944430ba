"""Claims and stance report: runs the pipeline on the demo corpus (and the seed texts when present) and prints, per
claim, the stance of each article with its evidence, the quantities found, the disagreements found and how many NLI
pairs the relevance prefilter saved.

    python bench/stance_report.py [--nli-model DIR] [--ner-model DIR] [--seeds DIR]

Without --nli-model it generates the tiny lexicon NLI model of the test suite: its labels and scores are
meaningless (it only reacts to a few words); the relevance, quantity and disagreement figures do not depend on it.
Seed texts are read from `--seeds`, else `$STANCEWIRE_SHARED_DIR/seeds` or `../shared/seeds` beside the checkout.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import duckdb  # noqa: E402
import polars as pl  # noqa: E402
from offline_env import REPO_ROOT as REPO  # sets up sys.path and the environment before the imports below

from stancewire.config import (  # noqa: E402
    DEMO_DIR,
    AnalystFiles,
    FetchOptions,
    ModelOptions,
    ModelSpec,
    RunParams,
    StoreOptions,
)
from stancewire.store import Store  # noqa: E402
from tasks.inputs.claims import load_claims  # noqa: E402


def _seeds(arg: str | None) -> Path | None:
    shared = Path(os.environ.get("STANCEWIRE_SHARED_DIR", REPO.parent / "shared"))
    seeds = Path(arg) if arg else shared / "seeds"
    return seeds if seeds.is_dir() and any(seeds.glob("*.txt")) else None


def _ner_default() -> Path | None:
    model = Path(os.environ.get("STANCEWIRE_SHARED_DIR", REPO.parent / "shared")) / "models" / "ner-e5small-it"
    return model if (model / "config.json").exists() else None


def show(con: duckdb.DuckDBPyConnection, title: str, sql: str, rows: int = 60) -> pl.DataFrame:
    frame = con.sql(sql).pl()
    print(f"\n## {title}\n")
    with pl.Config(tbl_rows=rows, tbl_cols=-1, fmt_str_lengths=90, tbl_width_chars=220, tbl_hide_dataframe_shape=True):
        print(frame if frame.height else "(none)")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nli-model", help="local NLI model directory (default: the generated tiny model)")
    parser.add_argument("--ner-model", help="local NER model directory (default: the trained Italian one if present)")
    parser.add_argument("--seeds", help="folder of seed .txt articles")
    args = parser.parse_args()

    from flows.pipeline import stancewire_pipeline
    from tests.models.tiny import make_tiny_ner, make_tiny_nli

    work = Path(tempfile.mkdtemp(prefix="stance-report-"))
    nli = Path(args.nli_model) if args.nli_model else make_tiny_nli(work / "tiny-nli")
    ner = Path(args.ner_model) if args.ner_model else _ner_default() or make_tiny_ner(work / "tiny-ner")
    seeds = _seeds(args.seeds)
    sources = [str(DEMO_DIR / "articles")] + ([str(seeds)] if seeds else [])
    print(f"NLI model: {nli}{'' if args.nli_model else '  (tiny lexicon model: labels and scores are meaningless)'}")
    print(f"NER model: {ner}")
    seed_note = f" + {len(list(seeds.glob('*.txt')))} seed texts" if seeds else " (no seed texts found)"
    print(f"sources: demo corpus{seed_note}")

    db = work / "report.duckdb"
    with Store.open_run(db) as store:
        claims = [load_claims(DEMO_DIR / "claims.yaml"), load_claims(REPO / "bench" / "claims_seeds.yaml")]
        store.write_claims(pl.concat(claims))
    params = RunParams(
        fetch=FetchOptions(sources=sources, use_registered_sources=False),
        inputs=AnalystFiles(claims_file=None),
        models=ModelOptions(ner=ModelSpec(id=str(ner)), nli=ModelSpec(id=str(nli))),
        store=StoreOptions(db_path=str(db), lock_wait_s=5),
    )
    started = time.perf_counter()
    result = stancewire_pipeline(params=params)
    print(f"run {result.status} in {time.perf_counter() - started:.1f} s")

    with duckdb.connect(str(db), read_only=True) as con:
        show(
            con,
            "NLI pairs: relevance prefilter vs every sentence",
            """
            SELECT count(*) AS article_claim_pairs,
                   count(*) FILTER (WHERE label = 'UNRELATED') AS unrelated_without_nli,
                   sum(sentences_total) AS nli_pairs_without_prefilter,
                   sum(sentences_scored) AS nli_pairs_with_prefilter,
                   round(1 - sum(sentences_scored) / sum(sentences_total), 3) AS saved_ratio
            FROM stance""",
        )
        show(
            con,
            "Stance per claim and article",
            """
            SELECT claim_id, coalesce(title, url, article_id)[:40] AS article, label, round(score, 2) AS score,
                   sentences_scored || '/' || sentences_total AS scored, evidence_text[:90] AS evidence,
                   opposing_text[:60] AS opposing, round(opposing_p, 2) AS opp_p
            FROM v_article_stance WHERE label <> 'UNRELATED' ORDER BY claim_id, label, score DESC""",
            rows=200,
        )
        show(
            con,
            "Quantities with a measured thing",
            """
            SELECT a.language AS lang, q.quantity_text AS text, q.value, q.value_max, q.qualifier, q.unit, q.thing,
                   q.role, string_agg(q.subject, '; ')[:60] AS subjects
            FROM v_quantities q JOIN articles a USING (article_id)
            GROUP BY ALL ORDER BY a.language, q.article_id, q.quantity_text""",
            rows=200,
        )
        show(con, "Claims: supporting vs refuting publishers", "SELECT * FROM v_claim_disagreement ORDER BY claim_id")
        show(
            con,
            "Conflicting quantities (same counted thing, role and subject, overlapping days, values that do not fit)",
            """
            SELECT reason, a_sentence[:80] AS a_sentence, b_sentence[:80] AS b_sentence
            FROM v_quantity_conflicts""",
            rows=200,
        )


if __name__ == "__main__":
    main()
