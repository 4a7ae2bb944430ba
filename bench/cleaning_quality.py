"""Cleaning quality and speed: line-level precision/recall of article body lines, and articles per second.

    python bench/cleaning_quality.py            # all sets; the seed set is skipped when its texts are absent

Sets (gold in bench/gold and bench/data):
- seeds: real Italian news texts with page furniture, read from $STANCEWIRE_SHARED_DIR/seeds (see
  tests/conftest.py for the default); gold = line numbers of title and furniture lines, checked by sha256.
- dev text / dev HTML: bench/data/text_dev, bench/data/html_dev, written for this benchmark while the rules were
  designed, with furniture the seeds do not have (bylines, mastheads, menus, photo credits, tags, related lists,
  paywall and comment prompts, cookie banners, share bars, ads, newsletter and author boxes; en/de/fr/es/it).
- held-out text / held-out HTML: bench/data/text_heldout, bench/data/html_heldout, written afterwards with yet
  other furniture (breadcrumbs with ›, "Listen to this article", sponsored links, video teasers, reading times,
  app and newsletter prompts, feedback widgets, comment counts). Never used to tune the first rule set; its
  failures were read when the filter became recall-first (positive evidence only), so it is no longer unseen.
Text folders are sites, so repetition across a site's documents plays its part. HTML gold is `<name>.gold.txt`:
"# title", then the body lines.

A unit is a line of the gold after normalisation (a glued heading splits into two). The prediction is the lines of the
stored text, which opens with the title. Precision = predicted lines that are gold body or title / predicted lines;
recall = gold body and title lines predicted / gold body and title lines (matched on tasks.text.furniture.line_key).
"""

import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stancewire.frames import DOCUMENTS  # noqa: E402
from stancewire.ids import sha256_hex  # noqa: E402
from tasks.clean import build_language_detector, clean_documents  # noqa: E402
from tasks.fetch import document_id  # noqa: E402
from tasks.text import extract  # noqa: E402
from tasks.text import furniture as boilerplate  # noqa: E402
from tasks.text.decode import normalise  # noqa: E402
from tasks.text.dedup import NEAR_DUPLICATE_JACCARD, fingerprint  # noqa: E402
from tasks.text.furniture import line_key  # noqa: E402
from tasks.text.sentences import split_sentences  # noqa: E402

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TEXT_SETS = (("text_dev", "dev_text_lines.json"), ("text_heldout", "heldout_text_lines.json"))
TRAFILATURA_VARIANTS = {
    "defaults, tables on": {"include_comments": False, "include_tables": True},
    "balanced": {"include_comments": False, "include_tables": False},
    "favor_precision": {"include_comments": False, "include_tables": False, "favor_precision": True},
    "favor_recall": {"include_comments": False, "include_tables": False, "favor_recall": True},
    "favor_recall+tables": {"include_comments": False, "include_tables": True, "favor_recall": True},
    "no_fallback (fast)": {"include_comments": False, "include_tables": False, "no_fallback": True},
}


def seeds_dir() -> Path | None:
    shared = Path(os.environ.get("STANCEWIRE_SHARED_DIR", REPO.parent / "shared"))
    seeds = shared / "seeds"
    return seeds if any(seeds.glob("*.txt")) else None


def documents(items: list[tuple[str, str, str, bytes]]) -> pl.DataFrame:
    """(uri, source, content_type, payload) → a DOCUMENTS frame."""
    rows = []
    for n, (uri, source, content_type, payload) in enumerate(items):
        content_hash = sha256_hex(payload)
        rows.append(
            {
                "doc_id": document_id(uri, content_hash),
                "source": source,
                "uri": uri,
                "fetched_at": datetime(2025, 1, 1, 0, 0, n % 60, tzinfo=UTC),
                "content_type": content_type,
                "content_hash": content_hash,
                "size_bytes": len(payload),
                "payload": payload,
            }
        )
    return pl.DataFrame(rows, schema=DOCUMENTS)


def gold_units(raw: str, title_line: int | None, furniture: set[int]) -> tuple[Counter[str], Counter[str]]:
    """(content keys: title and body, furniture keys) of a labelled text."""
    content, junk = Counter(), Counter()
    for no, line in enumerate(raw.split("\n"), 1):
        for part in normalise(line).split("\n"):
            if key := line_key(part):
                (junk if no in furniture else content)[key] += 1
    return content, junk


def predicted_units(text: str) -> Counter[str]:
    """The lines of a text (a stored article's text opens with its title)."""
    return Counter(line_key(line) for line in text.split("\n") if line_key(line))


class Score:
    def __init__(self) -> None:
        self.tp = self.predicted = self.gold = 0
        self.misses: list[str] = []

    def add(self, name: str, gold: Counter[str], predicted: Counter[str]) -> None:
        tp = sum((gold & predicted).values())
        self.tp += tp
        self.predicted += sum(predicted.values())
        self.gold += sum(gold.values())
        self.misses += [f"{name}: kept furniture  | {k[:70]}" for k in (predicted - gold)]
        self.misses += [f"{name}: lost body line | {k[:70]}" for k in (gold - predicted)]

    def line(self, label: str) -> str:
        p = self.tp / self.predicted if self.predicted else 0.0
        r = self.tp / self.gold if self.gold else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return f"{label:<52} P={p:.3f}  R={r:.3f}  F1={f1:.3f}  ({self.tp}/{self.predicted} kept, {self.gold} gold)"


@contextmanager
def without_cue_phrases() -> Iterator[None]:
    """Ablation: switch off the multilingual call-to-action phrase signal, leaving the structural ones."""
    saved = boilerplate._CUE
    boilerplate._CUE = re.compile(r"(?!)")
    try:
        yield
    finally:
        boilerplate._CUE = saved


def text_set(root: Path, gold: dict[str, Any], detector: Any) -> tuple[Score, float]:
    items, labels = [], {}
    for name, g in gold.items():
        if name.startswith("_"):
            continue
        path = root / name
        payload = path.read_bytes()
        if "sha256" in g and sha256_hex(payload) != g["sha256"]:
            print(f"  warning: {name} differs from the labelled version; skipped")
            continue
        source = str(path.parent)
        items.append((str(path), source, "text/plain", payload))
        labels[str(path)] = (name, gold_units(payload.decode(), g["title"], set(g["furniture"]))[0])
    docs = documents(items)
    start = time.perf_counter()
    result = clean_documents(docs, detector=detector)
    elapsed = time.perf_counter() - start
    score = Score()
    by_uri = dict(zip(docs["doc_id"], docs["uri"], strict=True))
    for article in result.articles.iter_rows(named=True):
        name, gold_content = labels.pop(by_uri[article["article_id"]])
        score.add(name, gold_content, predicted_units(article["text"]))
    for name, gold_content in labels.values():  # quarantined: nothing kept
        score.add(name, gold_content, Counter())
    return score, elapsed


def html_pages(folder: str) -> list[tuple[Path, str | None, Counter[str]]]:
    pages = []
    for page in sorted((BENCH / "data" / folder).glob("*.html")):
        lines = page.with_suffix(".gold.txt").read_text().splitlines()
        title = lines[0][2:] if lines and lines[0].startswith("# ") else None
        body = Counter(line_key(x) for x in lines[1:] if line_key(x))
        pages.append((page, title, body))
    return pages


def html_variant(options: dict[str, Any], folder: str) -> Score:
    """trafilatura alone with these options: body lines against the gold body (titles are metadata here)."""
    score = Score()
    for page, _, body in html_pages(folder):
        try:
            got = extract.extract_html(page.read_text(), options=options).body
        except extract.ExtractionError:
            got = ""
        score.add(page.name, body, predicted_units(normalise(got)))
    return score


def html_pipeline(detector: Any, folder: str) -> tuple[Score, int, int]:
    """The whole clean stage on the HTML pages: body lines plus title, and how many titles are right."""
    pages = html_pages(folder)
    docs = documents([(str(p), str(p.parent), "text/html", p.read_bytes()) for p, _, _ in pages])
    result = clean_documents(docs, detector=detector)
    by_uri = dict(zip(docs["doc_id"], docs["uri"], strict=True))
    articles = {by_uri[a["article_id"]]: a for a in result.articles.iter_rows(named=True)}
    score, titles = Score(), 0
    for page, title, body in pages:
        article = articles.get(str(page))
        gold = body + Counter([line_key(title)] if title else [])
        predicted = predicted_units(article["text"]) if article else Counter()
        score.add(page.name, gold, predicted)
        titles += bool(article and title and line_key(article["title"] or "") == line_key(title))
    return score, titles, len(pages)


def _jaccard(a: str, b: str) -> float:
    x, y = (np.frombuffer(fingerprint(t).minhash, dtype="<u4") for t in (a, b))
    return float((x == y).mean())


def max_pair_similarity(texts: list[str]) -> float:
    return max(_jaccard(a, b) for i, a in enumerate(texts) for b in texts[i + 1 :])


def copy_similarity(text: str) -> float:
    words = text.split(" ")
    words[len(words) // 2] = "modificato"
    return _jaccard(text, "AGENZIA (ANSA)\n" + " ".join(words) + "\nRiproduzione riservata.")


def rewrite_similarity(text: str) -> float:
    """The first quarter of the words replaced by new ones: a rewritten version, not a copy."""
    words = text.split()
    cut = len(words) // 4
    return _jaccard(text, " ".join([*(f"nuova{i}" for i in range(cut)), *words[cut:]]))


def clean_articles(seeds: Path | None) -> list[list[str]]:
    """Clean articles (no furniture at all), as title and body lines: the labelled texts without their furniture, and
    the short news articles of bench/data/prose (one file per language, each article a "# title" line and one
    paragraph per line; written for this bench)."""
    sets = [(BENCH / "data" / f, json.loads((BENCH / "gold" / g).read_text())) for f, g in TEXT_SETS]
    if seeds is not None:
        sets.append((seeds, json.loads((BENCH / "gold" / "seeds_body_lines.json").read_text())))
    articles = []
    for root, gold in sets:
        for name, g in gold.items():
            if name.startswith("_"):
                continue
            lines = normalise((root / name).read_text()).split("\n")
            articles.append([x for no, x in enumerate(lines, 1) if no not in set(g["furniture"]) and x.strip()])
    for folder in ("html_dev", "html_heldout"):
        for page in sorted((BENCH / "data" / folder).glob("*.gold.txt")):
            lines = page.read_text().splitlines()
            articles.append([lines[0].removeprefix("# "), *(x for x in lines[1:] if x.strip())])
    for path in sorted((BENCH / "data" / "prose").glob("*.txt")):
        for block in path.read_text().split("\n# "):
            title, *paragraphs = block.removeprefix("# ").strip().split("\n")
            articles.append([title, *(x for x in paragraphs if x.strip())])
    return articles


def prose_removals(articles: list[list[str]], detector: Any, per_sentence: bool) -> tuple[int, int, list[str]]:
    """(lines removed, lines given, the removed lines) when clean articles go through the clean stage, one
    paragraph or one sentence per line."""
    items = []
    for n, (title, *paragraphs) in enumerate(articles):
        lines = [title]
        for paragraph in paragraphs:
            lines += [paragraph[a:b] for a, b in split_sentences(paragraph)] if per_sentence else [paragraph]
        items.append((f"prose/{n}.txt", f"prose/{n}", "text/plain", "\n".join(lines).encode()))
    result = clean_documents(documents(items), detector=detector)
    given = sum(len(payload.decode().split("\n")) for *_, payload in items)
    removed = result.boilerplate_lines["text"].to_list()
    lost = [f"quarantined: {r}" for r in result.quarantine["reason"]]
    return len(removed) + len(lost), given, removed + lost


def throughput(items: list[tuple[str, str, str, bytes]], detector: Any, repeat: int) -> str:
    """Articles per second of wall time and per second of this process's CPU time (robust to a busy machine)."""
    batch = [(f"{uri}?copy={i}", source, ct, payload) for i in range(repeat) for uri, source, ct, payload in items]
    docs = documents(batch)
    wall, cpu = time.perf_counter(), time.process_time()
    clean_documents(docs, detector=detector)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return f"{docs.height / wall:.1f} articles/s wall, {docs.height / cpu:.1f} per CPU-second ({docs.height} articles)"


def main() -> None:
    detector = build_language_detector()
    print("== Body-line precision / recall (title counts as content)")
    seeds = seeds_dir()
    if seeds is None:
        print("seeds: not present (set STANCEWIRE_SHARED_DIR); skipped")
    else:
        seed_gold = json.loads((BENCH / "gold" / "seeds_body_lines.json").read_text())
        score, _ = text_set(seeds, seed_gold, detector)
        print(score.line("seeds (5 texts)"))
        misses = score.misses
        with without_cue_phrases():
            score, _ = text_set(seeds, seed_gold, detector)
        print(score.line("seeds, without the cue-phrase signal"))
        for miss in misses:
            print("   ", miss)
    for label, (folder, gold_file) in zip(("dev text", "held-out text"), TEXT_SETS, strict=True):
        gold = json.loads((BENCH / "gold" / gold_file).read_text())
        score, _ = text_set(BENCH / "data" / folder, gold, detector)
        print(score.line(f"{label} ({len(gold) - 1} texts)"))
        misses = score.misses
        with without_cue_phrases():
            score, _ = text_set(BENCH / "data" / folder, gold, detector)
        print(score.line(f"{label}, without the cue-phrase signal"))
        for miss in misses:
            print("   ", miss)
    for label, folder in (("dev HTML", "html_dev"), ("held-out HTML", "html_heldout")):
        score, titles, n = html_pipeline(detector, folder)
        print(score.line(f"{label} ({n} pages), clean stage"), f" titles right: {titles}/{n}")
        for miss in score.misses:
            print("   ", miss)

    print("\n== Clean prose (the labelled texts without their furniture): lines the clean stage removes")
    articles = clean_articles(seeds)
    for label, per_sentence in (("one paragraph per line", False), ("one sentence per line", True)):
        removed, given, lines = prose_removals(articles, detector, per_sentence)
        print(f"{label:<24} {removed}/{given} lines removed ({removed / given:.2%}) from {len(articles)} articles")
        for line in lines:
            print("   ", line[:90])

    print("\n== trafilatura settings on the HTML pages: trafilatura alone (body lines) / whole clean stage")
    used = extract.TRAFILATURA_OPTIONS
    try:
        for label, options in TRAFILATURA_VARIANTS.items():
            extract.TRAFILATURA_OPTIONS = options
            chosen = "  <- used" if options == used else ""
            for folder in ("html_dev", "html_heldout"):
                print(html_variant(options, folder).line(f"{label}, {folder}: trafilatura"))
                print(html_pipeline(detector, folder)[0].line(f"{label}, {folder}: clean stage") + chosen)
    finally:
        extract.TRAFILATURA_OPTIONS = used

    print("\n== Near-duplicate margin (estimated Jaccard of word 3-shingles, threshold", NEAR_DUPLICATE_JACCARD, ")")
    texts = [normalise(p.read_text()) for p in sorted((seeds or BENCH / "data" / "text_heldout").rglob("*.txt"))]
    print(f"distinct articles, highest pair:               {max_pair_similarity(texts):.3f}")
    print(f"syndicated copies (chrome + credit + 1 word), lowest: {min(copy_similarity(t) for t in texts):.3f}")
    rewritten = [rewrite_similarity(t) for t in texts]
    print(f"a quarter of the words rewritten:               {min(rewritten):.3f}-{max(rewritten):.3f}")

    print("\n== Throughput (clean stage incl. language id, dedup, sentences; one process)")
    html_items = [
        (str(page), "bench", "text/html", page.read_bytes())
        for folder in ("html_dev", "html_heldout")
        for page, _, _ in html_pages(folder)
    ]
    print(f"HTML: {throughput(html_items, detector, 15)}")
    text_root = seeds or BENCH / "data" / "text_heldout"
    text_items = [(str(p), "bench", "text/plain", p.read_bytes()) for p in sorted(text_root.rglob("*.txt"))]
    label = "seed texts" if seeds else "held-out texts"
    print(f"text ({label}): {throughput(text_items, detector, 40)}")


if __name__ == "__main__":
    main()
