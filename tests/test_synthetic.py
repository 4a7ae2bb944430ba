"""The synthetic corpus of the scale benchmark: reproducible, distinct, multilingual, partly about the claims."""

import json
from collections import Counter

import polars as pl

from bench import synthetic
from tasks.inputs.claims import load_claims
from tasks.stance.relevance import select_candidates
from tasks.text.dedup import DuplicateIndex, fingerprint
from tasks.text.sentences import split_sentences


def test_same_seed_same_articles_other_seed_other_articles():
    first = list(synthetic.articles(20, seed=3))
    assert first == list(synthetic.articles(20, seed=3))
    assert first[5:] == list(synthetic.articles(15, seed=3, start=5))  # article i depends on (seed, i) only
    assert not {a["text"] for a in first} & {a["text"] for a in synthetic.articles(20, seed=4)}


def test_articles_are_distinct_for_the_near_duplicate_detector():
    index = DuplicateIndex()
    for serial, record in enumerate(synthetic.articles(400, seed=0)):
        found = fingerprint(record["text"])
        assert found.minhash is not None
        assert index.match(found) is None, f"article {serial} duplicates {index.match(found)}"
        index.add(str(serial), found)


def test_articles_look_like_news_in_five_languages():
    records = list(synthetic.articles(100))
    assert Counter(r["language"] for r in records) == {language: 20 for language in synthetic.LANGUAGES}
    for record in records:
        assert record["title"] and record["url"].startswith("https://") and record["published"].startswith("2026-")
        assert 8 <= len(split_sentences(record["text"])) <= 27 + 2  # 8-25 sentences and up to 2 claim reports
        assert any(ch.isdigit() for ch in record["text"])


def test_jsonl_files_and_claims_file_are_what_the_pipeline_reads(tmp_path):
    paths = synthetic.write_jsonl(tmp_path / "articles", 25, per_file=10)
    assert [sum(1 for _ in p.open()) for p in paths] == [10, 10, 5]
    assert json.loads(paths[0].read_text().splitlines()[0]) == synthetic.article(0, 0)
    claims = load_claims(synthetic.write_claims(tmp_path / "claims.yaml"))
    assert claims.height == len(synthetic.CLAIMS)

    records = list(synthetic.articles(60))
    sentences = pl.DataFrame(
        [
            {"sentence_id": f"{i}-{n}", "article_id": str(i), "start": s, "end": e, "text": r["text"][s:e]}
            for i, r in enumerate(records)
            for n, (s, e) in enumerate(split_sentences(r["text"]))
        ],
        schema={
            "sentence_id": pl.String,
            "article_id": pl.String,
            "start": pl.Int32,
            "end": pl.Int32,
            "text": pl.String,
        },
    )
    pairs = pl.DataFrame({"article_id": [str(i) for i in range(len(records))]}).join(
        claims.select("claim_id"), how="cross"
    )
    languages = pl.DataFrame(
        {"article_id": [str(i) for i in range(len(records))], "language": [r["language"] for r in records]}
    )
    _, decisions = select_candidates(pairs, sentences, claims, languages=languages)
    relevance = Counter(decisions["relevance"])
    assert relevance["candidates"] >= 10 and relevance["no_overlap"] >= len(pairs) / 2  # some pairs go to NLI, most not
    scored = decisions.filter(pl.col("relevance") == "candidates")
    assert scored["article_id"].n_unique() >= 10 and scored["claim_id"].n_unique() == len(synthetic.CLAIMS)
