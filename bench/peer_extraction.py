"""The clean stage against trafilatura's own evaluation corpus, beside plain `trafilatura.extract`.

    python bench/peer_extraction.py [--limit N] [--worst 20]

Reads $STANCEWIRE_SHARED_DIR/dev/trafilatura-eval (evaldata.json + html/*.gz; skipped cleanly when absent). Scoring
is trafilatura's: per page, every "with" segment found in the output (whitespace-normalised) is a true positive,
missed a false negative; every "without" segment found is a false positive. P/R/F1 over all segments. Outputs and
segments are compared after whitespace normalisation and the product's character normalisation (typographic quotes
and dashes as plain ones, `tasks.text.decode.plain_characters`), applied to both sides and both extractors alike.

- baseline: `trafilatura.extract(html)` with its defaults, one page at a time.
- product: the clean stage as the pipeline runs it (`tasks.clean.clean_documents` on batches of the pipeline's
  batch size, each site's pages in one batch so that repetition across a site's pages plays its part); its output
  is the stored article text, whose first line is the title.
Both run in this one process on one core; pages/s counts extraction and cleaning only.
"""

import argparse
import gzip
import json
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cleaning_quality import documents  # noqa: E402
from stancewire.config import ModelOptions  # noqa: E402
from tasks.clean import build_language_detector, clean_documents  # noqa: E402
from tasks.text.decode import plain_characters  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BATCH_SIZE = ModelOptions.model_fields["batch_size"].default
_SPACE = re.compile(r"\s+")


def corpus_dir() -> Path | None:
    shared = Path(os.environ.get("STANCEWIRE_SHARED_DIR", REPO.parent / "shared"))
    folder = shared / "dev" / "trafilatura-eval"
    return folder if (folder / "evaldata.json").is_file() else None


def squash(text: str) -> str:
    return _SPACE.sub(" ", plain_characters(text)).strip()


@dataclass
class Score:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    seconds: float = 0.0
    pages: int = 0
    per_page: dict[str, tuple[int, int, list[str], list[str]]] = field(default_factory=dict)

    def add(self, name: str, output: str, with_: list[str], without: list[str]) -> None:
        text = squash(output)
        missed = [s for s in with_ if squash(s) not in text]
        kept = [s for s in without if squash(s) in text]
        self.tp += len(with_) - len(missed)
        self.fn += len(missed)
        self.fp += len(kept)
        self.per_page[name] = (len(missed), len(kept), missed, kept)

    def figures(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def line(self, label: str) -> str:
        p, r, f1 = self.figures()
        rate = self.pages / self.seconds if self.seconds else 0.0
        return f"{label:<34} P={p:.3f}  R={r:.3f}  F1={f1:.3f}  {rate:6.1f} pages/s  ({self.pages} pages)"


def load(folder: Path, limit: int | None) -> list[tuple[str, str, dict]]:
    data = json.loads((folder / "evaldata.json").read_text())
    pages = []
    for url, entry in list(data.items())[:limit]:
        html = gzip.decompress((folder / "html" / f"{entry['file']}.gz").read_bytes())
        pages.append((url, entry["file"], {"html": html, **entry}))
    return pages


def baseline(pages: list[tuple[str, str, dict]]) -> Score:
    score = Score()
    for url, name, entry in pages:
        start = time.perf_counter()
        output = trafilatura.extract(entry["html"], url=url) or ""
        score.seconds += time.perf_counter() - start
        score.pages += 1
        score.add(name, output, entry["with"], entry["without"])
    return score


def product(pages: list[tuple[str, str, dict]]) -> tuple[Score, dict[str, str]]:
    detector = build_language_detector()
    by_site: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
    for page in pages:
        by_site[urlsplit(page[0]).hostname or ""].append(page)
    score, reasons = Score(), {}
    for batch_pages in _batches(list(by_site.values())):
        docs = documents([(url, url, "text/html", entry["html"]) for url, _, entry in batch_pages])
        start = time.perf_counter()
        result = clean_documents(docs, detector=detector)
        score.seconds += time.perf_counter() - start
        score.pages += len(batch_pages)
        texts = dict(zip(result.articles["article_id"], result.articles["text"], strict=True))
        quarantined = dict(zip(result.quarantine["item_id"], result.quarantine["reason"], strict=True))
        removed = result.boilerplate_lines
        for doc_id, (_, name, entry) in zip(docs["doc_id"], batch_pages, strict=True):
            score.add(name, texts.get(doc_id, ""), entry["with"], entry["without"])
            if doc_id in quarantined:
                reasons[name] = f"quarantined: {quarantined[doc_id]}"
                continue
            lines = removed.filter(removed["article_id"] == doc_id)
            why = {}
            for segment in score.per_page[name][2]:
                why[segment[:40]] = _loss_reason(squash(segment), lines.iter_rows(named=True))
            reasons[name] = "; ".join(f"{s!r}: {r}" for s, r in why.items())
    return score, reasons


def _batches(sites: list[list[tuple[str, str, dict]]]) -> Iterable[list[tuple[str, str, dict]]]:
    """Whole sites packed into batches of at most BATCH_SIZE pages, as the pipeline cleans documents in batches of its
    batch size (a site larger than that is a batch of its own)."""
    batch: list[tuple[str, str, dict]] = []
    for pages in sites:
        if batch and len(batch) + len(pages) > BATCH_SIZE:
            yield batch
            batch = []
        batch += pages
    if batch:
        yield batch


def _loss_reason(segment: str, removed: Iterable[dict]) -> str:
    """The furniture reason of a removed line that holds the segment or part of it, else "not extracted"."""
    for row in removed:
        line = squash(row["text"])
        if segment in line or (len(line) >= 3 and line in segment):
            return row["reason"]
    return "not extracted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N pages")
    parser.add_argument("--worst", type=int, default=20, help="list the N pages where the product loses most")
    args = parser.parse_args()
    folder = corpus_dir()
    if folder is None:
        print("skipped: trafilatura evaluation corpus not found (set STANCEWIRE_SHARED_DIR)")
        return
    pages = load(folder, args.limit)
    base = baseline(pages)
    ours, reasons = product(pages)
    print(base.line("trafilatura.extract (baseline)"))
    print(ours.line("stancewire clean stage"))
    loss = []
    for name, (missed, kept, _, kept_segments) in ours.per_page.items():
        b_missed, b_kept, _, _ = base.per_page[name]
        loss.append(((missed - b_missed) + (kept - b_kept), name, kept_segments))
    loss.sort(reverse=True)
    print(f"\nthe {args.worst} pages where the product loses most against the baseline (segments):")
    for delta, name, kept_segments in loss[: args.worst]:
        if delta <= 0:
            break
        kept = f"; kept furniture {[s[:30] for s in kept_segments]}" if kept_segments else ""
        print(f"  -{delta} {name}: {reasons.get(name) or ''}{kept}")


if __name__ == "__main__":
    main()
