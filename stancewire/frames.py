"""Polars schemas of the frames that flow between stages.

Every stage function takes and returns frames of these shapes; the store maps them onto tables and adds
`run_id` (and write timestamps) itself, so stage code never deals with run bookkeeping.
"""

from collections.abc import Iterator

import polars as pl

from stancewire.ids import stable_groups

UTC_DATETIME = pl.Datetime("us", "UTC")

DOCUMENTS = {
    "doc_id": pl.String,  # sha256(uri + "\0" + content_hash)[:32]
    "source": pl.String,  # the source spec as the user gave it (path, URL)
    "uri": pl.String,  # file path, file path#record, or URL
    "fetched_at": UTC_DATETIME,
    "content_type": pl.String,  # "text/html", "text/plain", "application/json"
    "content_hash": pl.String,  # sha256 hex of payload
    "size_bytes": pl.Int64,
    "payload": pl.Binary,
}

QUARANTINE = {
    "item_id": pl.String,  # stable id of the bad item (doc_id, or hash of the uri when nothing was read)
    "stage": pl.String,  # fetch | clean | ner | stance | validate
    "source": pl.String,
    "uri": pl.String,
    "reason": pl.String,  # short machine-readable reason, e.g. "too_large", "http_404", "empty_text"
    "detail": pl.String,  # human-readable detail (never credentials)
}

ARTICLES = {
    "article_id": pl.String,  # == doc_id: one article per document
    "doc_id": pl.String,
    "source": pl.String,
    "url": pl.String,
    "title": pl.String,
    "author": pl.String,
    "published": UTC_DATETIME,
    "site": pl.String,
    "language": pl.String,  # ISO 639-1, or "und" when unknown
    "language_confidence": pl.Float64,
    "text": pl.String,  # cleaned, normalised text; all offsets point into it
    "text_hash": pl.String,  # sha256 hex of text
    "extractor": pl.String,  # "trafilatura" | "plain" | "json"
    "text_hash_normalised": pl.String,  # sha256 hex of the lowercased words of text (tasks.text.dedup)
    "minhash": pl.Binary,  # MinHash of word 3-shingles (tasks.text.dedup), None for very short texts
    "duplicate_of": pl.String,  # the canonical article this one duplicates (exactly or nearly), else None
    "duplicate_similarity": pl.Float64,  # estimated Jaccard similarity to duplicate_of (1.0 exact)
}

SENTENCES = {
    "sentence_id": pl.String,  # f"{article_id}:{idx}"
    "article_id": pl.String,
    "idx": pl.Int32,
    "start": pl.Int32,  # char offsets into articles.text, end exclusive
    "end": pl.Int32,
    "text": pl.String,
    "language": pl.String,  # ISO 639-1 or "und": the article's, unless the sentence's line is clearly in another
}

BOILERPLATE_LINES = {  # lines the clean stage removed from an article's extracted text, kept for audit
    "article_id": pl.String,
    "line_no": pl.Int32,  # 0-based line of the extracted, normalised text (before removal)
    "start": pl.Int32,  # char offsets into that text, end exclusive
    "end": pl.Int32,
    "text": pl.String,
    "reason": pl.String,  # tasks.text.furniture signal: teaser, promo, duplicated_headline, context, ...
}

SOURCE_LINES = {  # how many documents of a site (or source) carried a short line: repeated ones are furniture
    "source_key": pl.String,
    "line_hash": pl.String,  # sha256 hex of tasks.text.furniture.line_key(line)
    "docs": pl.Int64,
}

MENTIONS = {
    "mention_id": pl.String,  # sha256(article_id, start, end, label, model_id, model_revision)[:32]
    "article_id": pl.String,
    "sentence_id": pl.String,
    "start": pl.Int32,  # char offsets into articles.text, end exclusive
    "end": pl.Int32,
    "text": pl.String,  # == articles.text[start:end]
    "label": pl.String,  # PER | ORG | LOC | MISC | ... as the model names it, without B-/I-
    "label_from": pl.String,  # "model", or what in the text states the type: "dateline" | "cue <word>" (type_cues)
    "score": pl.Float64,  # the model's confidence in the span
    "model_id": pl.String,
    "model_revision": pl.String,
}

ENTITIES = {  # a canonical entity: one per real-world thing, whatever the spelling or language
    "entity_id": pl.String,  # stable_id("entity", entity_key)
    "entity_key": pl.String,  # "alias:<alias-list id>" | "name:<name key>" | "analyst:<TYPE>:<name key>"
    "type": pl.String,  # PER | LOC | ORG | MISC | ... (the NER label set); a name's: its mentions' majority
    "name": pl.String,  # preferred name
    "declared_aliases": pl.List(pl.String),  # spellings from the alias list (observed ones are added by the store)
    "stands_for": pl.String,  # entity_id a metonym can stand for (a capital for its state), or null
    "origin": pl.String,  # alias_list | mentions | analyst
}

MENTION_LINKS = {  # mention → canonical entity
    "mention_id": pl.String,
    "article_id": pl.String,
    "entity_id": pl.String,  # after analyst overrides
    "rule_entity_id": pl.String,  # what the linking rules chose
    "method": pl.String,  # alias | alias_joined | short_form | name
    "reason": pl.String,  # human-readable why, e.g. "short form of Volodymyr Zelensky in this article"
    "name_key": pl.String,  # the normalised surface (tasks.inputs.aliases.name_key)
    "override_id": pl.String,  # the analyst override that moved it, or null
    "linker": pl.String,  # fingerprint of the rules and alias list that produced it
}

ENTITY_OVERRIDES = {  # analyst corrections, applied on every run in created_at order
    "override_id": pl.String,
    "action": pl.String,  # merge: entity_id is the same as target_id | split: move matching mentions to target_id
    "entity_id": pl.String,
    "target_id": pl.String,
    "name_key": pl.String,  # split only: mentions with this normalised surface (null: any)
    "article_id": pl.String,  # split only: in this article (null: any)
    "mention_id": pl.String,  # split only: this one mention (null: any)
    "note": pl.String,
    "created_at": UTC_DATETIME,
}

CLAIMS = {
    "claim_id": pl.String,
    "text": pl.String,
    "language": pl.String,
    "enabled": pl.Boolean,
    "translations": pl.String,  # JSON object {language: text} of the claim in other languages, or None
}

STANCE = {
    "article_id": pl.String,
    "claim_id": pl.String,
    "model_id": pl.String,
    "model_revision": pl.String,
    "label": pl.String,  # SUPPORT | REFUTE | NEUTRAL | UNRELATED (no sentence passed the relevance prefilter)
    "score": pl.Float64,  # article-level probability of the label (see tasks/stance/__init__.py); None when UNRELATED
    "p_entailment": pl.Float64,  # of the evidence sentence; the three sum to 1; None when UNRELATED
    "p_neutral": pl.Float64,
    "p_contradiction": pl.Float64,
    "evidence_sentence_id": pl.String,  # None when UNRELATED
    "evidence_text": pl.String,
    "evidence_start": pl.Int32,
    "evidence_end": pl.Int32,
    "opposing_sentence_id": pl.String,  # strongest sentence for the other side (SUPPORT/REFUTE only)
    "opposing_text": pl.String,
    "opposing_start": pl.Int32,
    "opposing_end": pl.Int32,
    "opposing_p": pl.Float64,  # its P(contradiction) when SUPPORT, P(entailment) when REFUTE
    "sentences_total": pl.Int32,  # sentences of the article
    "sentences_scored": pl.Int32,  # sentences the relevance prefilter kept and NLI scored
    "relevance": pl.String,  # candidates | no_overlap
    "matched_terms": pl.String,  # claim terms found in the kept sentences, space-separated
    "relevance_method": pl.String,  # lexical | semantic | lexical+semantic | none: what kept the sentences
    "best_similarity": pl.Float64,  # highest claim-to-sentence cosine in the article; None without embeddings
    "relevance_model": pl.String,  # embedding model id@revision; None when only the lexical rule could run
    "relevance_note": pl.String,  # why the semantic rule did not run for this pair, when it did not
}

SENTENCE_EMBEDDINGS = {
    "sentence_id": pl.String,
    "article_id": pl.String,
    "model_id": pl.String,
    "model_revision": pl.String,
    "vector": pl.List(pl.Int8),  # round(127 x the L2-normalised vector); None when the model cannot read the sentence
    "unreadable": pl.String,  # why not, else None
}

ARTICLE_EMBEDDINGS = {
    "article_id": pl.String,
    "model_id": pl.String,
    "model_revision": pl.String,
    "vector": pl.List(pl.Float32),  # normalised mean of the article's sentence vectors
}

CLAIM_EMBEDDINGS = {
    "claim_id": pl.String,
    "model_id": pl.String,
    "model_revision": pl.String,
    "text": pl.String,  # the claim text the vector was made from
    "vector": pl.List(pl.Float32),
    "unreadable": pl.String,
}

STANCE_LABELS = ("SUPPORT", "REFUTE", "NEUTRAL", "UNRELATED")

QUANTITIES = {
    "quantity_id": pl.String,  # sha256(article_id, start, end)[:32]
    "article_id": pl.String,
    "sentence_id": pl.String,
    "start": pl.Int32,  # char offsets into articles.text, end exclusive
    "end": pl.Int32,
    "text": pl.String,  # == articles.text[start:end]
    "value": pl.Float64,  # the number, or the low end of a range
    "value_max": pl.Float64,  # the high end of a range; == value otherwise (the qualifier bounds it)
    "qualifier": pl.String,  # exact | about | more_than | at_least | less_than | at_most | range
    "unit": pl.String,  # % | EUR | USD | GBP | CHF | km | m | kg | t | ha, or None
    "object": pl.String,  # what is counted, as written ("soldati"), or None
    "object_key": pl.String,  # its normalised stem ("solda"), or None
    "thing": pl.String,  # what is counted across languages (soldiers, killed, casualties, ...), else the stem or unit
    "role": pl.String,  # increment | total | rate | forecast
    "estimated": pl.Boolean,  # the text gives it as an estimate
    "subjects": pl.List(pl.String),  # entity_ids whose figure it is
    "subject_from": pl.String,  # thing | sentence | neighbour | article: where the subjects were found
    "refers_from": pl.Date,  # the days the figure refers to: from the text, else the article's day
    "refers_to": pl.Date,
    "date_from": pl.String,  # text | article
}

SOURCES = {  # the source registry
    "source_id": pl.String,  # lowercase slug chosen by the user
    "kind": pl.String,  # rss | atom | jsonfeed | sitemap | urls | folder
    "url": pl.String,  # feed, sitemap or URL-list address; a local path for folder (and urls) sources
    "language_hint": pl.String,  # ISO 639-1 or None
    "options": pl.String,  # JSON object of per-source options
    "enabled": pl.Boolean,
}

FETCH_STATE = {  # what the last fetch of each URL returned, so the next run fetches only new or changed ones
    "url": pl.String,  # canonical URL (tracking parameters stripped), or the file path of a folder source's file
    "source_id": pl.String,
    "role": pl.String,  # listing (feed, sitemap, URL list) | article
    "etag": pl.String,
    "last_modified": pl.String,  # the server's Last-Modified header, verbatim
    "content_hash": pl.String,  # sha256 hex of the last payload
    "published": UTC_DATETIME,  # publication (or last-modified) date the listing gave, if any
    "last_fetched_at": UTC_DATETIME,
    "status": pl.String,  # fetched | unchanged | failed
    "failures": pl.Int32,  # consecutive failed fetches
    "last_error": pl.String,
}

SOURCE_HEALTH = {  # one row per source and run
    "source_id": pl.String,
    "checked_at": UTC_DATETIME,
    "ok": pl.Boolean,
    "error": pl.String,
    "discovered": pl.Int64,  # article URLs the listing named
    "articles": pl.Int64,  # new or changed documents fetched
}


def empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def conform(df: pl.DataFrame, schema: dict) -> pl.DataFrame:
    """Select and cast `df` to exactly `schema` (column order included); missing columns are an error."""
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing}")
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def by_stable_group(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """`frame`'s rows, one stable group of articles (stancewire.ids.stable_groups) at a time: what the model stages
    run together, so results do not depend on what else was pending."""
    for group in stable_groups(frame["article_id"]):
        yield frame.filter(pl.col("article_id").is_in(group))
