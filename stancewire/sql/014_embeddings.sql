-- Sentence embeddings for semantic relevance (models/embeddings.py), computed once per sentence and embedding model
-- revision and reused by every claim and run; what each (article, claim) relevance decision was based on.
CREATE TABLE sentence_embeddings (
    sentence_id VARCHAR NOT NULL,
    article_id VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    model_revision VARCHAR NOT NULL,
    vector TINYINT[],
    unreadable VARCHAR,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (sentence_id, model_id, model_revision)
);
COMMENT ON TABLE sentence_embeddings IS
    'One L2-normalised vector per sentence and embedding model revision, stored as round(127 x component) in int8 (a '
    'quarter of float32''s size; cosines move by 0.002 on average); a sentence the model cannot read (a script it was not '
    'trained on) has no vector and says why in `unreadable`.';

CREATE TABLE article_embeddings (
    article_id VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    model_revision VARCHAR NOT NULL,
    vector FLOAT[] NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (article_id, model_id, model_revision)
);
COMMENT ON TABLE article_embeddings IS
    'The normalised mean of an article''s sentence vectors per embedding model revision (v_similar_articles).';

CREATE TABLE claim_embeddings (
    claim_id VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    model_revision VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    vector FLOAT[],
    unreadable VARCHAR,
    PRIMARY KEY (claim_id, model_id, model_revision)
);
COMMENT ON TABLE claim_embeddings IS 'A claim''s vector per embedding model revision, for the claim text it was made from.';

ALTER TABLE stance ADD COLUMN relevance_method VARCHAR;
ALTER TABLE stance ADD COLUMN best_similarity DOUBLE;
ALTER TABLE stance ADD COLUMN relevance_model VARCHAR;
ALTER TABLE stance ADD COLUMN relevance_note VARCHAR;
COMMENT ON COLUMN stance.relevance_method IS 'What kept sentences for NLI: lexical | semantic | lexical+semantic | none';
COMMENT ON COLUMN stance.best_similarity IS 'Highest claim-to-sentence cosine in the article (NULL: no embeddings used)';
COMMENT ON COLUMN stance.relevance_model IS 'Embedding model id@revision of the decision; NULL when only the lexical rule ran';
COMMENT ON COLUMN stance.relevance_note IS 'Why the semantic rule did not run for this pair, when it did not';

ALTER TABLE runs ADD COLUMN embedding_model VARCHAR;
ALTER TABLE runs ADD COLUMN embedding_revision VARCHAR;
ALTER TABLE runs ADD COLUMN embedding_kernel VARCHAR;
