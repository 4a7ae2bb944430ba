"""Entities, quantities and quantity conflicts against hand-written gold, on the seed texts and the demo corpus.

    python bench/facts.py                 # both corpora; the seeds need the shared NER model
    python bench/facts.py --corpus demo   # one of them

Each corpus goes through the real pipeline (`stancewire run`, no claims, NLI off) into a temporary store; the seeds
as a JSON Lines file giving each text its publication day (bench/gold/seeds_facts.yaml), the demo corpus as shipped.
NER is the shared Italian-trained model ($STANCEWIRE_SHARED_DIR/models/ner-e5small-it, default ../shared beside the
checkout); without it the seeds are skipped and the demo corpus runs with it absent too (a note says so).

Scores, per corpus:
- entity precision: canonical entities of an article (name, type) that name a gold entity of that article with a
  right type / all of them; recall: gold entities (not optional) found / gold entities.
- quantity recall (found): gold figures read with the right value; (value, thing, role): what is counted and how
  as well; (all fields): with the right subject (a gold subject's name or a spelling the gold entity list gives it
  in that file, as entity scoring matches) and dates too; precision: read figures that are gold figures / figures read outside ignored lines.
- conflict precision: rows of v_quantity_conflicts whose two figures the gold calls a conflict / rows.
Targets (issue: seeds with the shared NER model): entity precision >= 0.95, quantity recall >= 0.9, conflict
precision 1.0.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stancewire.ids import sha256_hex  # noqa: E402
from tasks.inputs.aliases import name_key  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGETS = {"entity precision": 0.95, "quantity recall (all fields)": 0.9, "conflict precision": 1.0}


def shared_dir() -> Path:
    return Path(os.environ.get("STANCEWIRE_SHARED_DIR", ROOT.parent / "shared"))


def ner_model() -> Path | None:
    path = shared_dir() / "models" / "ner-e5small-it"
    return path if (path / "config.json").exists() else None


def seeds_source(gold: dict, work: Path) -> Path | None:
    seeds = shared_dir() / "seeds"
    lines = []
    for name, meta in gold["files"].items():
        path = seeds / name
        if not path.exists():
            return None
        text = path.read_text(encoding="utf-8")
        if sha256_hex(text) != meta["sha256"]:
            print(f"warning: {name} differs from the file the gold was written on; it is left out")
            continue
        published = f"{meta['published']}T12:00:00Z"
        lines.append(json.dumps({"url": f"https://seeds.invalid/{name}", "text": text, "published": published}))
    source = work / "seeds.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return source


def run_pipeline(source: Path, db: Path, model: Path | None) -> None:
    command = [str(Path(sys.executable).with_name("stancewire")), "run", "-s", str(source), "--no-claims"]
    command += ["--db", str(db), "--no-progress"]
    command += ["--ner-model", str(model)] if model else []
    env = os.environ | {"HF_HUB_OFFLINE": "1", "PREFECT_LOGGING_LEVEL": "WARNING"}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"pipeline failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def file_of(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def score_entities(con: duckdb.DuckDBPyConnection, gold: dict) -> tuple[dict, list[str]]:
    rows = con.sql(
        "SELECT d.uri, m.entity_name, m.entity_type, list(DISTINCT m.text) FROM v_entity_mentions m "
        "JOIN articles a USING (article_id) JOIN documents d ON d.doc_id = a.doc_id GROUP BY ALL"
    ).fetchall()
    predicted, right, notes = 0, 0, []
    found: set[tuple[str, str]] = set()
    for uri, name, etype, surfaces in rows:
        f = file_of(uri)
        entries = gold["entities"].get(f)
        if entries is None:
            continue
        predicted += 1
        keys = {name_key(name), *(name_key(s) for s in surfaces)}
        match = [e for e in entries if keys & {name_key(e[0]), *(name_key(a) for a in e[2])}]
        if match and etype in match[0][1]:
            right += 1
            found.add((f, match[0][0]))
        else:
            why = f"type {etype} (gold {'/'.join(match[0][1])})" if match else "not a gold entity"
            notes.append(f"  wrong entity  {f[:3]} {name!r} [{etype}] from {surfaces}: {why}")
    wanted = [(f, e[0]) for f, entries in gold["entities"].items() for e in entries if len(e) < 4]
    for f, name in wanted:
        if (f, name) not in found:
            notes.append(f"  missed entity {f[:3]} {name!r}")
    recall = sum((f, n) in found for f, n in wanted) / len(wanted) if wanted else 1.0
    scores = {"entities": predicted, "entity precision": right / predicted if predicted else 1.0}
    return scores | {"entity recall": recall}, notes


def _dates_right(gold_dates, refers_from: date, refers_to: date, date_from: str) -> bool:
    if gold_dates == "article":
        return date_from == "article"
    return date_from == "text" and [refers_from, refers_to] == list(gold_dates)


def _spellings(names: list[str], entries: list) -> set[str]:
    """Name keys of the gold subjects and of the spellings the gold entity list gives them in that file."""
    keys = {name_key(n) for n in names}
    return keys | {name_key(a) for e in entries if name_key(e[0]) in keys for a in e[2]}


def score_quantities(con: duckdb.DuckDBPyConnection, gold: dict) -> tuple[dict, list[str], dict[str, str]]:
    rows = con.sql(
        "SELECT q.quantity_id, d.uri, q.text, q.value, q.value_max, q.thing, q.role, q.refers_from, q.refers_to, "
        "q.date_from, se.text, (SELECT list(DISTINCT v.subject) FROM v_quantities v "
        "WHERE v.quantity_id = q.quantity_id AND v.subject IS NOT NULL) "
        "FROM quantities q JOIN articles a USING (article_id) JOIN documents d ON d.doc_id = a.doc_id "
        "JOIN sentences se ON se.sentence_id = q.sentence_id ORDER BY d.uri, q.start"
    ).fetchall()
    ignore = gold.get("ignore", {})
    read = [
        r for r in rows if file_of(r[1]) in gold["files"] and not any(p in r[10] for p in ignore.get(file_of(r[1]), []))
    ]
    matched: dict[str, str] = {}  # quantity_id → gold id
    full, counted, notes = 0, 0, []
    for g in gold["quantities"]:
        candidates = [
            r
            for r in read
            if file_of(r[1]) == g["file"]
            and r[0] not in matched
            and g["in"] in r[10]
            and r[3] == g["value"]
            and r[4] == g.get("value_max", g["value"])
        ]
        if not candidates:
            notes.append(f"  missed figure {g['id']}: {g['text']!r} ({g['thing']}) in a sentence with {g['in']!r}")
            continue
        r = candidates[0]
        matched[r[0]] = g["id"]
        wrong = []
        things = g["thing"] if isinstance(g["thing"], list) else [g["thing"]]
        if r[5] not in things:
            wrong.append(f"thing {r[5]} (gold {'/'.join(things)})")
        if r[6] not in g["role"]:
            wrong.append(f"role {r[6]} (gold {'/'.join(g['role'])})")
        counted += not wrong
        if g["subject"] != "-" and not _spellings(g["subject"], gold["entities"].get(g["file"], [])) & {
            name_key(s) for s in r[11] or []
        }:
            wrong.append(f"subjects {r[11]} (gold {'/'.join(g['subject'])})")
        if not _dates_right(g["dates"], r[7], r[8], r[9]):
            wrong.append(f"dates {r[7]}..{r[8]} from {r[9]} (gold {g['dates']})")
        if wrong:
            notes.append(f"  figure {g['id']} {g['text']!r}: " + "; ".join(wrong))
        else:
            full += 1
    for r in read:
        if r[0] not in matched:
            notes.append(f"  not a gold figure: {file_of(r[1])[:3]} {r[2]!r} ({r[5]}, {r[6]}) in {r[10][:70]!r}")
    total = len(gold["quantities"])
    scores = {
        "figures read": len(read),
        "quantity precision": len(matched) / len(read) if read else 1.0,
        "quantity recall (found)": len(matched) / total if total else 1.0,
        "quantity recall (value, thing, role)": counted / total if total else 1.0,
        "quantity recall (all fields)": full / total if total else 1.0,
    }
    return scores, notes, matched


def score_conflicts(con: duckdb.DuckDBPyConnection, gold: dict, matched: dict[str, str]) -> tuple[dict, list[str]]:
    truth = {frozenset(pair) for pair in gold.get("conflicts", [])}
    rows = con.sql("SELECT a_quantity_id, b_quantity_id, reason FROM v_quantity_conflicts").fetchall()
    right, notes = 0, []
    for a, b, reason in rows:
        pair = frozenset((matched.get(a, a), matched.get(b, b)))
        if pair in truth:
            right += 1
        else:
            notes.append(f"  false conflict: {reason}")
    found = {frozenset((matched.get(a, a), matched.get(b, b))) for a, b, _ in rows}
    notes += [f"  missed conflict: {' vs '.join(sorted(p))}" for p in truth - found]
    precision = right / len(rows) if rows else None
    return {"conflict rows": len(rows), "conflict precision": precision, "true conflicts": len(truth)}, notes


def bench(corpus: str, model: Path | None) -> dict | None:
    gold = yaml.safe_load((BENCH / "gold" / f"{corpus}_facts.yaml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if corpus == "seeds":
            if model is None:
                print("seeds: skipped (the shared NER model is absent)")
                return None
            source = seeds_source(gold, work)
            if source is None:
                print(f"seeds: skipped ({shared_dir() / 'seeds'} is absent)")
                return None
        else:
            source = ROOT / "demo" / "articles"
        db = work / "facts.duckdb"
        run_pipeline(source, db, model)
        with duckdb.connect(str(db), read_only=True) as con:
            entity_scores, entity_notes = score_entities(con, gold)
            quantity_scores, quantity_notes, matched = score_quantities(con, gold)
            conflict_scores, conflict_notes = score_conflicts(con, gold, matched)
    print(f"\n## {corpus}\n")
    for note in entity_notes + quantity_notes + conflict_notes:
        print(note)
    return entity_scores | quantity_scores | conflict_scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=["seeds", "demo"], action="append")
    args = parser.parse_args()
    model = ner_model()
    print(f"NER model: {model or 'absent (entities from no model: demo only, entity scores are empty)'}")
    results = {c: bench(c, model) for c in args.corpus or ["seeds", "demo"]}
    results = {c: r for c, r in results.items() if r is not None}
    names = list(next(iter(results.values()))) if results else []
    print("\n| measure | " + " | ".join(results) + " | target |")
    print("|---|" + "--:|" * len(results) + "--:|")
    for name in names:
        cells = [_cell(results[c][name]) for c in results]
        print(f"| {name} | " + " | ".join(cells) + f" | {TARGETS.get(name, '')} |")


def _cell(value) -> str:
    if value is None:
        return "n/a (no rows)"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
