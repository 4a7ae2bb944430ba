"""The run summary: one Markdown text for the Prefect artifact and the command line."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from stancewire.store import Store

EXAMPLE_QUERIES = (
    "SELECT * FROM v_claim_support_by_source_day ORDER BY day DESC LIMIT 20",
    "SELECT name, type, mentions, articles, sources FROM v_entities ORDER BY mentions DESC LIMIT 20",
    "SELECT title, claim_text, label, evidence_text FROM v_article_stance WHERE label <> 'NEUTRAL'",
)


def md_table(df: pl.DataFrame) -> str:
    if df.is_empty():
        return "_none_"
    cells = [[("" if v is None else str(v)).replace("|", "\\|").replace("\n", " ") for v in row] for row in df.rows()]
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * df.width]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def stance_per_claim(store: Store) -> pl.DataFrame:
    """Per enabled claim: articles by latest label, and the strongest supporting and refuting evidence."""
    return store.query(
        """
        SELECT c.claim_id, c.text AS claim,
               count(*) FILTER (WHERE s.label = 'SUPPORT') AS support,
               count(*) FILTER (WHERE s.label = 'REFUTE') AS refute,
               count(*) FILTER (WHERE s.label = 'NEUTRAL') AS neutral,
               count(*) FILTER (WHERE s.label = 'UNRELATED') AS unrelated,
               left(arg_max(s.evidence_text, s.score) FILTER (WHERE s.label = 'SUPPORT'), 120)
                   || ' (' || round(max(s.score) FILTER (WHERE s.label = 'SUPPORT'), 2) || ')' AS strongest_support,
               left(arg_max(s.evidence_text, s.score) FILTER (WHERE s.label = 'REFUTE'), 120)
                   || ' (' || round(max(s.score) FILTER (WHERE s.label = 'REFUTE'), 2) || ')' AS strongest_refute
        FROM claims c LEFT JOIN v_latest_stance s USING (claim_id)
        WHERE c.enabled
        GROUP BY ALL ORDER BY c.claim_id
        """
    )


def _scored(claim_stance: pl.DataFrame) -> bool:
    return bool(claim_stance.select(pl.sum_horizontal("support", "refute", "neutral", "unrelated").sum()).item())


def _not_yet(what: str, records: Sequence[Any], stage: str) -> str:
    """Say why a table is empty, so that zeros are not read as a result."""
    skipped = any(r.stage == stage and r.status == "skipped" for r in records)
    return f"_{what} yet" + (f": the {stage} stage did not run (see Warnings)_" if skipped else "_")


def _as_before(store: Store, run_id: str) -> str:
    """Where to read the whole-store tables a run with no new data does not compute again."""
    last = store.query(
        "SELECT r.run_id, strftime(v.changed_at, '%Y-%m-%d %H:%M UTC') AS changed FROM data_version v "
        "LEFT JOIN runs r ON r.status = 'succeeded' AND r.run_id <> ? AND r.started_at <= v.changed_at "
        "ORDER BY r.started_at DESC NULLS LAST LIMIT 1",
        [run_id],
    ).row(0, named=True)
    where = f"the summary of run `{last['run_id']}` and " if last["run_id"] else ""
    return (
        f"_Not computed again: no data changed since {last['changed']}. See {where}the published database "
        "(`v_claim_support_by_source_day`, `v_entities`)._"
    )


def _publication(valid: bool, new_data: bool) -> str:
    if not valid:
        return "NOT published: validation failed"
    if not new_data:
        return "unchanged: no data changed since the last published run, so that snapshot stays as it is"
    return "published"


def build_summary(
    store: Store,
    run_id: str,
    records: Sequence[Any],
    report,
    db_path: Path,
    new_data: bool = True,
    claim_stance: pl.DataFrame | None = None,
) -> str:
    """`records`: the run's StageRecords (stage, status, rows_in, rows_out, reason), in stage order; `new_data`:
    whether the run leaves data the published database lacks (else a passing run leaves that file as it is, and the
    whole-store tables, which would read as in the last run's summary, are not computed again); `claim_stance`:
    stance_per_claim(store) when the caller has it already."""
    stages = pl.DataFrame(
        [
            {"stage": r.stage, "status": r.status, "in": r.rows_in, "out": r.rows_out, "note": r.reason or ""}
            for r in records
        ]
    )
    if new_data:
        claim_stance = stance_per_claim(store) if claim_stance is None else claim_stance
        top_entities = store.query(
            "SELECT name AS entity, type, mentions, articles, sources FROM v_entities WHERE mentions > 0 "
            "ORDER BY mentions DESC, name LIMIT 10"
        )
        whole_store = [
            "## Stance per claim (all articles in the store, latest score per model)",
            md_table(claim_stance)
            if _scored(claim_stance)
            else _not_yet("no article has a stance score", records, "stance"),
            "## Top entities",
            md_table(top_entities) if top_entities.height else _not_yet("no entities", records, "ner"),
        ]
    else:
        whole_store = ["## Stance per claim and top entities", _as_before(store, run_id)]
    quarantined = store.query(
        "SELECT stage, reason, count(*) AS items FROM quarantine WHERE run_id = ? GROUP BY ALL ORDER BY items DESC",
        [run_id],
    )
    models = store.query(
        """
        SELECT 'ner' AS stage, model_id, model_revision, count(*) AS rows FROM mentions WHERE run_id = ? GROUP BY ALL
        UNION ALL
        SELECT 'stance', model_id, model_revision, count(*) FROM stance WHERE run_id = ? GROUP BY ALL
        """,
        [run_id, run_id],
    )
    cleaning = store.query(
        "SELECT source, articles, lines_removed, share_removed, main_reason FROM v_cleaning_by_source "
        "WHERE run_id = ? ORDER BY share_removed DESC, source LIMIT 20",
        [run_id],
    )
    sources = store.source_health()
    warnings = [f"- **{r.stage} not run**: {r.reason}" for r in records if r.status == "skipped"]
    warnings += [
        f"- **source {s['source_id']} failing** ({s['consecutive_failures']} runs in a row): {s['last_error']}"
        for s in sources.filter(pl.col("enabled") & (pl.col("consecutive_failures") > 0)).iter_rows(named=True)
    ]
    parts = [
        f"# stancewire run `{run_id}`",
        f"Database: `{db_path}` ({_publication(report.success, new_data)})",
        *(["## Warnings", *warnings] if warnings else []),
        "## Stages",
        md_table(stages),
        *whole_store,
        "## Models used in this run",
        md_table(models),
        "## Quarantined in this run",
        md_table(quarantined),
        "## Text removed as page furniture, per source (this run; a high share means cleaning may misfire there)",
        md_table(cleaning),
        *(["## Source health", md_table(sources)] if sources.height else []),
        "## Validation",
        report.markdown(),
        "## Query it",
        "\n".join(f'    stancewire query --db {db_path} "{q}"' for q in EXAMPLE_QUERIES),
    ]
    return "\n\n".join(parts) + "\n"
