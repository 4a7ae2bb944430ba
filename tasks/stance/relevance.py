"""Relevance prefilter: which sentences of an article are worth an NLI call for a claim.

A sentence is a candidate for a claim when it shares at least `min_score` points with it: one point per claim term
it contains (stems and numbers of the claim text and all its translations, see tasks/text/stems.py) and one more per
entity mention in the sentence whose terms all belong to the claim ("Corea del Nord" for a claim naming North Korea
in Italian). Neighbours within `window` sentences of a candidate are kept too, so a sentence that continues the
story with a pronoun is scored. An (article, claim) with no candidate is UNRELATED without any model call.
"""

import polars as pl

from tasks.inputs.claims import claim_texts
from tasks.text.stems import terms

MIN_SCORE = 2
WINDOW = 1

CANDIDATES = {
    "article_id": pl.String,
    "claim_id": pl.String,
    "sentence_id": pl.String,
    "start": pl.Int32,
    "end": pl.Int32,
    "text": pl.String,
}
DECISIONS = {
    "article_id": pl.String,
    "claim_id": pl.String,
    "sentences_total": pl.Int32,
    "sentences_kept": pl.Int32,
    "relevance": pl.String,  # candidates | no_overlap
    "matched_terms": pl.String,
}


def claim_terms(claims: pl.DataFrame) -> dict[str, set[str]]:
    """claim_id → the union of the terms of its text and translations, each read in its own language."""
    return {
        claim_id: set().union(*(terms(text, language) for language, text in texts.items()))
        for claim_id, texts in claim_texts(claims).items()
    }


def select_candidates(
    pairs: pl.DataFrame,
    sentences: pl.DataFrame,
    claims: pl.DataFrame,
    *,
    languages: pl.DataFrame | None = None,
    entities: pl.DataFrame | None = None,
    min_score: int = MIN_SCORE,
    window: int = WINDOW,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(candidate sentences per pair, one decision row per pair whose article has sentences).

    `languages` (article_id, language) and `entities` (sentence_id, text) are optional; without a language the
    stopwords of every supported language are dropped.
    """
    lang_of = dict(languages.select("article_id", "language").iter_rows()) if languages is not None else {}
    wanted = claim_terms(claims)
    entity_terms: dict[str, list[set[str]]] = {}
    if entities is not None:
        sentence_article = dict(sentences.select("sentence_id", "article_id").iter_rows())
        for sid, surface in entities.select("sentence_id", "text").iter_rows():
            if sid in sentence_article:
                entity_terms.setdefault(sid, []).append(terms(surface, lang_of.get(sentence_article[sid])))
    by_article = {
        key[0]: frame.sort("start")
        for key, frame in sentences.select("sentence_id", "article_id", "start", "end", "text")
        .partition_by("article_id", as_dict=True)
        .items()
    }
    sentence_terms = {
        aid: [terms(text, lang_of.get(aid)) for text in frame["text"]] for aid, frame in by_article.items()
    }
    kept_rows, decisions = [], []
    for aid, cid in pairs.select("article_id", "claim_id").iter_rows():
        frame = by_article.get(aid)
        if frame is None or cid not in wanted:
            continue
        claim = wanted[cid]
        hits, matched = [], set()
        for i, (sid, found) in enumerate(zip(frame["sentence_id"], sentence_terms[aid], strict=True)):
            shared = found & claim
            entity_hits = sum(1 for t in entity_terms.get(sid, []) if t and t <= claim)
            if min_score <= 0 or (shared and len(shared) + entity_hits >= min_score):
                hits.append(i)
                matched |= shared
        keep = sorted({j for i in hits for j in range(i - window, i + window + 1) if 0 <= j < frame.height})
        for row in frame[keep].iter_rows(named=True):
            kept_rows.append({"claim_id": cid, **row})
        decisions.append(
            {
                "article_id": aid,
                "claim_id": cid,
                "sentences_total": frame.height,
                "sentences_kept": len(keep),
                "relevance": "candidates" if keep else "no_overlap",
                "matched_terms": " ".join(sorted(matched)) or None,
            }
        )
    candidates = pl.DataFrame(kept_rows, schema_overrides=CANDIDATES) if kept_rows else pl.DataFrame(schema=CANDIDATES)
    return candidates.select(list(CANDIDATES)).cast(CANDIDATES), pl.DataFrame(decisions, schema=DECISIONS)
