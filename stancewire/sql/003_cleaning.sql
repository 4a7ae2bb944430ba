-- Cleaning: duplicate links and fingerprints on articles, sentence languages, removed boilerplate lines, and
-- per-source line counts that let repeated page furniture be recognised across documents.

ALTER TABLE articles ADD COLUMN text_hash_normalised VARCHAR;
ALTER TABLE articles ADD COLUMN minhash BLOB;
ALTER TABLE articles ADD COLUMN duplicate_of VARCHAR;
ALTER TABLE articles ADD COLUMN duplicate_similarity DOUBLE;
ALTER TABLE sentences ADD COLUMN language VARCHAR;

CREATE TABLE boilerplate_lines (
    article_id VARCHAR NOT NULL,
    line_no INTEGER NOT NULL,
    start INTEGER,
    "end" INTEGER,
    text VARCHAR,
    reason VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (article_id, line_no)
);

CREATE TABLE source_lines (
    source_key VARCHAR NOT NULL,
    line_hash VARCHAR NOT NULL,
    docs BIGINT NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (source_key, line_hash)
);

COMMENT ON COLUMN articles.duplicate_of IS
    'Canonical article this one duplicates (same normalised text or MinHash Jaccard >= 0.7); not scored.';
COMMENT ON COLUMN sentences.language IS
    'ISO 639-1 language of the sentence: the article language unless its line is confidently in another.';
COMMENT ON TABLE boilerplate_lines IS
    'Lines removed from extracted text as page furniture, with the signal that removed them.';
COMMENT ON TABLE source_lines IS
    'Documents per site (or source) that carried each short line; lines in 3+ documents are treated as furniture.';
