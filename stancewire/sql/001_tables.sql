-- Tables of the stancewire store. Every derived row carries the run_id of the run that last wrote it.
-- No foreign keys: DuckDB cannot update rows that other tables reference, and upserts need to. Referential
-- integrity is checked by the expectation suites instead.

CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'validation_failed')),
    params JSON,
    ner_model VARCHAR,
    ner_revision VARCHAR,
    nli_model VARCHAR,
    nli_revision VARCHAR,
    counts JSON,
    summary_md VARCHAR
);

CREATE TABLE stage_runs (
    run_id VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('ok', 'skipped', 'failed')),
    rows_in BIGINT,
    rows_out BIGINT,
    reason VARCHAR,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (run_id, stage)
);

CREATE TABLE documents (
    doc_id VARCHAR PRIMARY KEY,
    source VARCHAR,
    uri VARCHAR,
    fetched_at TIMESTAMPTZ,
    content_type VARCHAR,
    content_hash VARCHAR,
    size_bytes BIGINT,
    payload BLOB,
    run_id VARCHAR NOT NULL
);

CREATE TABLE quarantine (
    item_id VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    source VARCHAR,
    uri VARCHAR,
    reason VARCHAR,
    detail VARCHAR,
    run_id VARCHAR NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (item_id, stage)
);

CREATE TABLE articles (
    article_id VARCHAR PRIMARY KEY,
    doc_id VARCHAR,
    source VARCHAR,
    url VARCHAR,
    title VARCHAR,
    author VARCHAR,
    published TIMESTAMPTZ,
    site VARCHAR,
    language VARCHAR,
    language_confidence DOUBLE,
    text VARCHAR,
    text_hash VARCHAR,
    extractor VARCHAR,
    run_id VARCHAR NOT NULL
);

CREATE TABLE sentences (
    sentence_id VARCHAR PRIMARY KEY,
    article_id VARCHAR NOT NULL,
    idx INTEGER,
    start INTEGER,
    "end" INTEGER,
    text VARCHAR,
    run_id VARCHAR NOT NULL
);

CREATE TABLE entities (
    mention_id VARCHAR PRIMARY KEY,
    article_id VARCHAR NOT NULL,
    sentence_id VARCHAR,
    start INTEGER,
    "end" INTEGER,
    text VARCHAR,
    label VARCHAR,
    score DOUBLE,
    model_id VARCHAR NOT NULL,
    model_revision VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL
);

-- Articles a NER model has processed, so that articles without any entity are not run again.
CREATE TABLE ner_done (
    article_id VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    model_revision VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    done_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, model_id, model_revision)
);

-- updated_at moves only when text or language change: stance scored before it is stale.
CREATE TABLE claims (
    claim_id VARCHAR PRIMARY KEY,
    text VARCHAR NOT NULL,
    language VARCHAR,
    enabled BOOLEAN NOT NULL,
    added_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE stance (
    article_id VARCHAR NOT NULL,
    claim_id VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    model_revision VARCHAR NOT NULL,
    label VARCHAR,
    p_entailment DOUBLE,
    p_neutral DOUBLE,
    p_contradiction DOUBLE,
    evidence_sentence_id VARCHAR,
    evidence_text VARCHAR,
    evidence_start INTEGER,
    evidence_end INTEGER,
    sentences_scored INTEGER,
    run_id VARCHAR NOT NULL,
    scored_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, claim_id, model_id, model_revision)
);

CREATE TABLE validation_results (
    run_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    success BOOLEAN NOT NULL,
    evaluated INTEGER,
    failed INTEGER,
    details JSON,
    PRIMARY KEY (run_id, table_name)
);

COMMENT ON TABLE runs IS 'One row per pipeline run: parameters, models, outcome, counts and a Markdown summary.';
COMMENT ON TABLE stage_runs IS 'Per run and stage: ok/skipped/failed, rows in and out, why.';
COMMENT ON TABLE documents IS 'Raw fetched payloads, keyed by a hash of uri and content.';
COMMENT ON TABLE quarantine IS 'Items a stage rejected, with a machine-readable reason and a human-readable detail.';
COMMENT ON TABLE articles IS 'Cleaned article text and metadata, one per document (article_id = doc_id).';
COMMENT ON TABLE sentences IS 'Sentence spans; start/end are character offsets into articles.text, end exclusive.';
COMMENT ON TABLE entities IS 'Named-entity mentions per model and revision; offsets into articles.text.';
COMMENT ON TABLE ner_done IS 'Articles each NER model revision has processed, entities found or not.';
COMMENT ON TABLE claims IS 'Claims to score articles against; never deleted, disabled instead.';
COMMENT ON TABLE stance IS 'Stance of an article toward a claim per NLI model and revision, with its evidence sentence.';
COMMENT ON TABLE validation_results IS 'Expectation suite outcome per run and table; details lists the failed expectations.';
