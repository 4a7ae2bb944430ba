"""Reliability figures: crash safety (SIGKILL at many points, then rerun), overlapping runs, hostile input.

Every run goes through the real command line (`stancewire run`) in a subprocess, on the demo corpus plus generated
articles, with tiny generated models (so it measures the pipeline's plumbing, not model speed). One local Prefect
server serves all runs.

    python bench/reliability.py all                 # everything; prints the figures quoted in docs/reliability.md
    python bench/reliability.py crash --kills 18    # kill -9 at 18 points + 2 double kills, rerun, compare
    python bench/reliability.py overlap             # two runs started at once
    python bench/reliability.py hostile --count 1000
    python bench/reliability.py hardening           # one line per hardening case: held / broken, rows lost, duplicated

Kill points come from the fault hook in `stancewire/faults.py` (just before a write to a table commits, and between
copying and renaming the published snapshot) and from wall-clock times spread over a measured clean run.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.hardening import run_all  # noqa: E402
from bench.harness import (  # noqa: E402
    TEMPLATES,
    Diff,
    Harness,
    article_text,
    compare,
    corpus,
    harness,
    run_statuses,
    table_rows,
)

# -- crash safety


@dataclass
class KillCase:
    label: str  # where it was killed: "<point>:<n>" or "t=<s>"
    stage: str
    env: dict[str, str] | None = None
    after_s: float | None = None
    then: KillCase | None = None  # a second kill, of the rerun


@dataclass
class KillOutcome:
    case: KillCase
    killed: bool
    published_ok: bool  # the published file (when any) opened read-only after the kill
    recovered: bool
    diff: Diff
    interrupted_runs_marked: bool
    stray_files: list[str]
    seconds: float


def _stage_of_points(trace: list[str], stages: list[str]) -> list[str]:
    """The stage each traced point belongs to: a stage's writes come before its stage_runs record."""
    labels, k = [], 0
    for point in trace:
        if point == "publish":
            labels.append("publish")
        elif k >= len(stages):
            labels.append("finish")
        elif point == "runs" and k == 0 and not labels:
            labels.append("start")
        else:
            labels.append(stages[k])
        if point == "stage_runs":
            k += 1
    return labels


def plan_kills(trace: list[str], stages: list[str], kills: int, duration: float, timed: int) -> list[KillCase]:
    """At least one kill per stage, the rest spread evenly over the traced points, plus `timed` wall-clock kills."""
    labels = _stage_of_points(trace, stages)
    seen: Counter[str] = Counter()
    points = []
    for point, stage in zip(trace, labels, strict=True):
        seen[point] += 1
        points.append((f"{point}:{seen[point]}", stage))
    by_stage: dict[str, list[int]] = {}
    for i, (_, stage) in enumerate(points):
        by_stage.setdefault(stage, []).append(i)
    chosen = {indices[len(indices) // 2] for indices in by_stage.values()}
    others = [i for i in range(len(points)) if i not in chosen]
    extra = min(max(kills - timed, len(chosen)) - len(chosen), len(others))
    chosen |= {others[k * len(others) // extra] for k in range(extra)} if extra > 0 else set()
    cases = [KillCase(points[i][0], points[i][1], env={"STANCEWIRE_FAULT_AT": points[i][0]}) for i in sorted(chosen)]
    for j in range(timed):
        after = duration * (0.15 + 0.8 * j / max(1, timed - 1))
        cases.append(KillCase(f"t={after:.1f}s", "by time", after_s=after))
    # Two double kills: the rerun is killed as well, later in the pipeline, before a last clean rerun.
    for first, second in ((0.25, 0.75), (0.5, 0.95)):
        a, b = points[int(first * (len(points) - 1))], points[int(second * (len(points) - 1))]
        cases.append(
            KillCase(
                f"{a[0]} then {b[0]}",
                f"{a[1]} then {b[1]}",
                env={"STANCEWIRE_FAULT_AT": a[0]},
                then=KillCase(b[0], b[1], env={"STANCEWIRE_FAULT_AT": b[0]}),
            )
        )
    return cases


def _published_ok(db: Path) -> bool:
    if not db.exists():
        return True  # nothing published yet: readers get a clear "no run has been published" error
    from stancewire.schema import StoreError
    from stancewire.snapshot import open_readonly

    try:
        con = open_readonly(db, wait_s=5)
    except StoreError:
        return False
    try:
        con.execute("SELECT count(*) FROM articles").fetchall()
        return True
    finally:
        con.close()


def _one_kill(h: Harness, sources: list[Path], base: dict[str, Counter[str]], case: KillCase, n: int) -> KillOutcome:
    started = time.monotonic()
    work = h.root / "kills" / f"{n:02d}"
    work.mkdir(parents=True)
    db = work / "out.duckdb"
    killed, published_ok = True, True
    step: KillCase | None = case
    while step is not None:
        if step.after_s is not None:
            rc, _ = h.run_killed_at(db, sources, step.after_s)
        else:
            rc, _, _ = h.run(db, sources, extra_env=step.env)
        killed &= rc == -signal.SIGKILL
        published_ok &= _published_ok(db)
        step = step.then
    rc, _, err = h.run(db, sources)
    recovered = rc == 0
    if not recovered:
        print(f"  rerun after {case.label} failed (exit {rc}):\n{err}", file=sys.stderr)
    diff = compare(base, table_rows(db)) if recovered else Diff(lost=-1)
    statuses = run_statuses(db) if recovered else Counter()
    expected = {db.name, f"{db.name}.work", f"{db.name}.work.wal"}
    strays = sorted(p.name for p in work.iterdir() if p.name not in expected)
    shutil.rmtree(work, ignore_errors=True)
    return KillOutcome(
        case, killed, published_ok, recovered, diff, statuses.get("running", 0) == 0, strays, time.monotonic() - started
    )


def crash(h: Harness, kills: int, timed: int, jobs: int, generated: int) -> dict:
    sources = corpus(h.root, generated)
    base_db = h.root / "baseline" / "out.duckdb"
    trace_file = h.root / "baseline" / "trace.txt"
    base_db.parent.mkdir()
    rc, duration, err = h.run(base_db, sources, extra_env={"STANCEWIRE_FAULT_TRACE": str(trace_file)})
    if rc != 0:
        raise SystemExit(f"the uninterrupted run failed (exit {rc}):\n{err}")
    base = table_rows(base_db)
    with duckdb.connect(str(base_db), read_only=True) as con:
        stages = [s for (s,) in con.execute("SELECT stage FROM stage_runs ORDER BY finished_at").fetchall()]
    trace = trace_file.read_text().split()
    print(f"clean run: {duration:.1f} s, stages {' → '.join(stages)}, {len(trace)} fault points")
    print("  rows per table: " + ", ".join(f"{t} {sum(r.values())}" for t, r in base.items()))

    rc, rerun_s, err = h.run(base_db, sources)
    unchanged = rc == 0 and compare(base, table_rows(base_db))
    rerun_changes = "failed" if rc != 0 else f"{unchanged.lost} lost, {unchanged.extra} added"
    print(f"rerun of the completed run: {rerun_s:.1f} s, {rerun_changes}")

    cases = plan_kills(trace, stages, kills, duration, timed)
    print(f"\n{len(cases)} kill cases, {jobs} at a time")
    print(f"{'#':>3} {'killed at':<34} {'stage':<22} {'kill':<5} {'snap':<5} {'rerun':<6} {'lost':>4} {'dup':>4}  s")
    outcomes: list[KillOutcome] = []
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = [pool.submit(_one_kill, h, sources, base, case, n) for n, case in enumerate(cases)]
        for n, future in enumerate(futures):
            o = future.result()
            outcomes.append(o)
            yes = {True: "yes", False: "NO"}
            print(
                f"{n:>3} {o.case.label:<34} {o.case.stage:<22} {yes[o.killed]:<5} {yes[o.published_ok]:<5} "
                f"{yes[o.recovered]:<6} {o.diff.lost:>4} {o.diff.extra:>4}  {o.seconds:.0f}"
                + (f"  differs: {' '.join(o.diff.tables)}" if o.diff.tables else "")
                + (f"  strays: {' '.join(o.stray_files)}" if o.stray_files else "")
            )
    finally:
        pool.shutdown(cancel_futures=True)
    killed = [o for o in outcomes if o.killed]
    figures = {
        "clean_run_s": round(duration, 1),
        "fault_points": len(trace),
        "kill_cases": len(cases),
        "kills": sum(1 + (o.case.then is not None) for o in killed),
        "kills_survived": sum(
            1 + (o.case.then is not None) for o in killed if o.recovered and not o.diff.lost and not o.diff.extra
        ),
        "not_killed": [o.case.label for o in outcomes if not o.killed],
        "stages_hit": sorted({s for o in killed for s in o.case.stage.split(" then ")}),
        "rows_lost": sum(max(o.diff.lost, 0) for o in outcomes),
        "rows_duplicated": sum(o.diff.extra for o in outcomes),
        "recovery_failures": sum(not o.recovered for o in outcomes),
        "snapshot_broken": sum(not o.published_ok for o in outcomes),
        "interrupted_left_running": sum(not o.interrupted_runs_marked for o in outcomes),
        "stray_files": sorted({f for o in outcomes for f in o.stray_files}),
        "rerun_of_completed": rerun_changes,
        "seconds": round(time.monotonic() - started, 1),
    }
    return figures


# -- overlap


def overlap(h: Harness, generated: int) -> dict:
    """Two runs started together: with a lock wait the second waits and both succeed; without one it refuses."""
    sources = corpus(h.root, generated)
    figures = {}
    for wait in (600, 0):
        work = h.root / f"overlap-{wait}"
        work.mkdir()
        db = work / "out.duckdb"
        env = {"STANCEWIRE_LOCK_WAIT_S": str(wait)}
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda _: h.run(db, sources, extra_env=env), range(2)))  # noqa: B023
        codes = sorted(rc for rc, _, _ in results)
        refusals = [err for rc, _, err in results if rc != 0]
        lines = [line for err in refusals for line in err.splitlines()]
        message = next((line for line in lines if line.startswith("run failed:")), "")
        statuses = run_statuses(db)
        rows = table_rows(db)
        figures[f"lock_wait_{wait}s"] = {
            "exit_codes": codes,
            "seconds": [round(s, 1) for _, s, _ in results],
            "runs": dict(statuses),
            "refusal": message.strip(),
            "rows": sum(sum(r.values()) for r in rows.values()),
        }
    return figures


# -- hostile input


@dataclass
class Item:
    category: str
    uri: str  # as the fetch stage names it: the resolved path, or `<path>#<n>` for a JSON record
    expect: str  # "quarantine" | "process" | "either"


def _write(path: Path, data: bytes | str) -> str:
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path.resolve())


def generate_hostile(
    directory: Path, count: int = 1000, good: int = 40, seed: int = 11, giants: bool = True
) -> list[Item]:
    """About `count` bad inputs over every category below plus `good` ordinary articles; returns what each should do.

    giants: also the 50 MB text, the 1M-element and the deeply nested HTML (slow to write; tests leave them out).
    """
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []
    per = max(1, count // 40)  # share of one category of ordinary size

    def add(category: str, name: str, data: bytes | str, expect: str = "quarantine") -> None:
        items.append(Item(category, _write(directory / name, data), expect))

    def text(i: int) -> str:
        return article_text(rng, "it", 100_000 + len(items) * 7 + i)

    for i in range(per):
        for ext in ("txt", "html", "json", "jsonl"):
            add("empty file", f"empty-{i}.{ext}", b"")
    whitespace = [" ", "\n", "\t", "\r\n", "\u00a0", "\u200b", "\u3000", "\ufeff", " \n\t "]
    for i in range(per * 2):
        add("whitespace only", f"blank-{i}.txt", "".join(rng.choice(whitespace) for _ in range(rng.randint(1, 300))))
    for i in range(per * 3):
        add("binary", f"binary-{i}.{rng.choice(['txt', 'html'])}", rng.randbytes(rng.randint(16, 20_000)))
    for i, magic in enumerate([b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"PK\x03\x04", b"\x1f\x8b\x08", b"\x7fELF"] * per):
        add("binary (file signature)", f"magic-{i}.txt", magic + rng.randbytes(2000))
    for i in range(per * 3):
        junk = bytes(rng.choice(range(0x80, 0x100)) for _ in range(rng.randint(50, 3000)))
        add("invalid UTF-8 (garbage)", f"badutf8-{i}.txt", junk)
    for i in range(per * 2):
        body = text(i).encode()
        cut = rng.randint(10, len(body) - 10)
        add("invalid UTF-8 inside text", f"brokenutf8-{i}.txt", body[:cut] + b"\xff\xfe\xc3" + body[cut:], "process")
    for i in range(per * 2):
        latin = "Città di Valmora: l'àrea è più ampia, perché così è stata disegnata nel novecento.".encode("cp1252")
        add("mixed encodings", f"mixed-{i}.txt", text(i).encode() + b"\n\n" + latin, "process")
    controls = [*range(1, 9), 11, 12, *range(14, 32), 127]
    for i in range(per):
        body = text(i) + text(i + 1)  # one stray control character in about 1,500
        stray = body.replace(" ", chr(rng.choice(controls)), 1)
        add("control characters in text", f"control-{i}.txt", stray, "process")
    for i in range(per):
        chars = "".join(chr(rng.choice(controls)) for _ in range(8))
        words = text(i).split(" ")
        riddled = " ".join(w + (chars if j % 9 == 0 else "") for j, w in enumerate(words))
        add("text riddled with control characters", f"riddled-{i}.txt", riddled, "either")
    for i in range(per):
        only = bytes(rng.choice([*range(1, 9), *range(14, 32)]) for _ in range(500))
        add("control characters only", f"controlonly-{i}.txt", only)
    for i in range(per):
        head = f"<head><title>Titolo {i}</title><meta charset='utf-8'></head>"
        add("HTML without body", f"nobody-{i}.html", f"<html>{head}</html>")
        scripts = f"<script>var x{i} = 1;</script>" * rng.randint(1, 50)
        add("HTML scripts only", f"scripts-{i}.html", f"<html><body>{scripts}</body></html>")
        styles = f"<html><head><style>p{{color:red}}</style></head><body><!-- {i} --></body></html>"
        add("HTML styles and comments only", f"styles-{i}.html", styles)
        soup = "".join(rng.choice(["<", ">", "</", "<div", "&", "&#x", ";", '="', "\0"]) for _ in range(500))
        add("HTML garbage markup", f"tagsoup-{i}.html", soup)
        depth = rng.randint(500, 5000)
        nested = "<div>" * depth + text(i).replace("\n", "<br>") + "</div>" * depth
        add("HTML deeply nested (under the limit)", f"nested-{i}.html", f"<html><body>{nested}</body></html>", "either")
    rtl = [
        "أعلنت الحكومة الإقليمية اليوم عن خطة جديدة لبناء سد في الوادي، وقال المتحدث إن المشروع سيكلف {n} مليون يورو.",
        "وأضاف أن السكان سيتمكنون من تقديم ملاحظاتهم خلال {m} أسبوعا قبل اتخاذ القرار النهائي في المجلس البلدي.",
        "הממשלה האזורית הודיעה היום על תוכנית חדשה לבניית סכר בעמק, והדובר אמר שהפרויקט יעלה {n} מיליון יורו.",
        "לדבריו, התושבים יוכלו להגיש הערות במשך {m} שבועות לפני שמועצת העיר תקבל החלטה סופית.",
    ]
    for i in range(per):
        for language, title, templates in (("ar", "عنوان الخبر رقم", rtl[:2]), ("he", "כותרת הידיעה מספר", rtl[2:])):
            body = " ".join(t.format(n=rng.randint(2, 900), m=rng.randint(2, 9)) for t in templates)
            add("right-to-left text", f"rtl-{language}-{i}.txt", f"{title} {i}\n\n{body}\n", "process")
    emoji = ["😀", "🎉", "🚀", "🇮🇹", "👩‍👩‍👧", "❤️", "🔥"]
    for i in range(per * 2):
        lines = text(i).split(". ")
        add("emoji in text", f"emoji-{i}.txt", ". ".join(f"{line} {rng.choice(emoji)}" for line in lines), "process")
    for i in range(per):
        only = "".join(rng.choice(emoji) for _ in range(rng.randint(1, 400)))
        add("emoji only", f"emojionly-{i}.txt", only, "either")
    for i in range(per):
        line = " ".join(rng.choice(["parola", "frase", "testo", "Roma"]) for _ in range(rng.randint(60_000, 150_000)))
        add("huge single line", f"hugeline-{i}.txt", line, "quarantine")
    for i in range(per):
        add("huge single line (no spaces)", f"hugetoken-{i}.txt", "a" * rng.randint(300_000, 2_000_000))
    for i, ext in enumerate(["pdf", "exe", "md", "docx", "csv", ""] * max(1, per // 2)):
        add("unsupported extension", f"other-{i}" + (f".{ext}" if ext else ""), text(i))
    # JSON: wrong types, missing text, invalid syntax, non-objects, duplicate ids.
    wrong = [
        {"text": 12345}, {"text": ["a", "list"]}, {"text": {"nested": "object"}}, {"text": True}, {"text": None},
        {"title": ["not", "a", "string"], "text": "Testo"}, {"url": 42, "text": "Testo"},
        {"published": {"y": 2024}, "text": "Testo"},
        {"author": 7, "text": "Testo"}, {"site": [1, 2], "text": "Testo"}, {"language": 3.5, "text": "Testo"},
        {"body": False}, {"content": [["deep"]]}, {"published": True, "text": "Testo"},
    ]  # fmt: skip
    lines, records = [], []
    for i in range(per * 5):
        record = dict(rng.choice(wrong))
        record["id"] = f"wrong-{i}"
        lines.append(json.dumps(record))
        records.append("JSON with wrong types")
    for i in range(per * 2):
        lines.append(json.dumps({"id": f"notext-{i}", "title": f"Solo titolo {i}"}))
        records.append("JSON without text")
    broken = ['{"text": "unterminated', "{'single': 'quotes'}", '{"a": 1,}', "NaN", '{"text": NaN}', "[1, 2", "}{"]
    broken.append("nul\x00l")
    for i in range(per * 2):
        lines.append(rng.choice(broken) + f" {i}" * (i % 2))
        records.append("invalid JSON")
    for _ in range(per):
        lines.append(json.dumps(rng.choice([[1, 2], "string", 42, None, True, []])))
        records.append("JSON that is not an object")
    for i in range(per):
        body = text(i)
        record = {"id": f"dup-{i}", "url": f"https://news.example.org/dup/{i}", "title": f"Doppione {i}", "text": body}
        lines += [json.dumps(record)] * 2
        records += ["duplicate id, same content"] * 2
        changed = {**record, "text": body + "\n\nAggiornamento delle ore 18."}
        lines.append(json.dumps(changed))
        records.append("duplicate id, new content")
    order = list(range(len(lines)))
    rng.shuffle(order)
    feed = directory / "feed.jsonl"
    _write(feed, "\n".join(lines[k] for k in order) + "\n")
    for n, k in enumerate(order):
        url = json.loads(lines[k]).get("url") if records[k].startswith("duplicate") else None
        expect = "process" if records[k].startswith("duplicate") else "quarantine"
        items.append(Item(records[k], url or f"{feed.resolve()}#{n}", expect))
    for i in range(per):
        record = dict(rng.choice(wrong))
        add("JSON file with wrong types", f"wrong-{i}.json", json.dumps(record))
        add("invalid JSON file", f"broken-{i}.json", rng.choice(broken))
    if giants:
        add("50 MB text", "giant-50mb.txt", ("Roma è grande. " * 3_500_000).encode())
        add("15 MB text (under the fetch cap)", "giant-15mb.txt", "Il testo continua senza fine. " * 520_000)
        add("1M-element HTML", "giant-1m-nodes.html", "<html><body>" + "<span>x</span>" * 1_000_000 + "</body></html>")
        deep = "<div>" * 200_000 + "fondo" + "</div>" * 200_000
        add("deeply nested HTML (200k levels)", "giant-deep.html", f"<html><body>{deep}</body></html>")
        add("huge single line (10 MB)", "giant-line.txt", "parola " * 1_500_000)
    for i in range(good):
        language = list(TEMPLATES)[i % len(TEMPLATES)]
        add("good article", f"good-{i:04d}-{language}.txt", article_text(rng, language, i), "process")
    return items


def hostile(h: Harness, count: int, good: int) -> dict:
    directory = h.root / "hostile"
    started = time.monotonic()
    items = generate_hostile(directory, count, good)
    generated_s = time.monotonic() - started
    db = h.root / "hostile.duckdb"
    rc, seconds, err = h.run(db, [directory], timeout=1800)
    if rc != 0:
        print(err, file=sys.stderr)
    figures = hostile_outcomes(db, items) if db.exists() else {}
    bad = [i for i in items if i.category != "good article"]
    figures.update(
        {
            "exit_code": rc,
            "inputs": len(items),
            "bad_inputs": len(bad),
            "good_inputs": len(items) - len(bad),
            "bytes": sum(p.stat().st_size for p in directory.iterdir()),
            "generate_s": round(generated_s, 1),
            "run_s": round(seconds, 1),
        }
    )
    return figures


def hostile_outcomes(db: Path, items: list[Item]) -> dict:
    """Per category: inputs, quarantined (by reason), processed into articles, and lost (neither)."""
    with duckdb.connect(str(db), read_only=True) as con:
        quarantined: dict[str, str] = {}
        for uri, stage, reason in con.execute("SELECT uri, stage, reason FROM quarantine ORDER BY stage").fetchall():
            quarantined.setdefault(uri, f"{stage}:{reason}")
        processed = {
            uri
            for (uri,) in con.execute(
                "SELECT DISTINCT d.uri FROM documents d JOIN articles a ON a.doc_id = d.doc_id"
            ).fetchall()
        }
        status = con.execute("SELECT status FROM runs ORDER BY started_at DESC LIMIT 1").fetchall()[0][0]
    table: dict[str, dict] = {}
    wrong: list[str] = []
    for item in items:
        if item.uri.endswith(".json") and item.uri not in quarantined and item.uri not in processed:
            item = Item(item.category, f"{item.uri}#0", item.expect)  # the record of a one-object JSON file
        empty = {"inputs": 0, "quarantined": 0, "processed": 0, "lost": 0, "reasons": Counter()}
        row = table.setdefault(item.category, empty)
        row["inputs"] += 1
        if item.uri in quarantined and item.uri not in processed:
            row["quarantined"] += 1
            row["reasons"][quarantined[item.uri]] += 1
            outcome = "quarantine"
        elif item.uri in processed:
            row["processed"] += 1
            outcome = "process"
        else:
            row["lost"] += 1
            outcome = "lost"
        if outcome != item.expect and not (item.expect == "either" and outcome != "lost"):
            wrong.append(f"{item.category}: {Path(item.uri).name} expected {item.expect}, got {outcome}")
    return {
        "run_status": status,
        "categories": {k: {**v, "reasons": dict(v["reasons"])} for k, v in table.items()},
        "lost": sum(v["lost"] for v in table.values()),
        "unexpected": wrong,
    }


# -- main


def _print_hostile(figures: dict) -> None:
    print(f"\n{'category':<40} {'inputs':>6} {'quar.':>6} {'proc.':>6} {'lost':>5}  reasons")
    for category, row in figures.get("categories", {}).items():
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(row["reasons"].items(), key=lambda kv: -kv[1]))
        counts = f"{row['inputs']:>6} {row['quarantined']:>6} {row['processed']:>6} {row['lost']:>5}"
        print(f"{category:<40} {counts}  {reasons}")
    for line in figures.get("unexpected", [])[:30]:
        print("  unexpected:", line)
    summary = {k: v for k, v in figures.items() if k not in ("categories", "unexpected")}
    summary["unexpected"] = len(figures.get("unexpected", []))
    print(json.dumps(summary, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["all", "crash", "overlap", "hostile", "hardening"])
    parser.add_argument("--kills", type=int, default=18, help="kill cases besides the two double kills")
    parser.add_argument("--timed", type=int, default=4, help="how many of them are wall-clock kills")
    parser.add_argument("--jobs", type=int, default=3, help="kill cases run side by side")
    parser.add_argument("--generated", type=int, default=6, help="generated articles added to the demo corpus")
    parser.add_argument("--count", type=int, default=1000, help="bad inputs to generate (about)")
    parser.add_argument("--good", type=int, default=40, help="good articles among them")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    root = Path(tempfile.mkdtemp(prefix="stancewire-reliability-"))
    started = time.monotonic()
    results = {}
    try:
        with harness(root) as h:
            if args.what in ("all", "crash"):
                print("== crash safety and idempotency")
                results["crash"] = crash(h, args.kills, args.timed, args.jobs, args.generated)
                print(json.dumps(results["crash"], indent=1))
            if args.what in ("all", "overlap"):
                print("\n== overlapping runs")
                results["overlap"] = overlap(h, args.generated)
                print(json.dumps(results["overlap"], indent=1))
            if args.what in ("all", "hostile"):
                print("\n== hostile input")
                results["hostile"] = hostile(h, args.count, args.good)
                _print_hostile(results["hostile"])
            if args.what in ("all", "hardening"):
                print("\n== hardening cases")
                for case in run_all(h):
                    print(case.line(), flush=True)
    finally:
        if args.keep:
            print(f"working directory kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
