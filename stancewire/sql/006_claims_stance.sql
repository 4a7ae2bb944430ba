-- Claims with translations; stance with a score, opposing evidence and what the relevance prefilter did;
-- quantities read from sentences; views of where sources disagree.

ALTER TABLE claims ADD COLUMN translations VARCHAR;  -- JSON object {language: text}

ALTER TABLE stance ADD COLUMN score DOUBLE;
ALTER TABLE stance ADD COLUMN opposing_sentence_id VARCHAR;
ALTER TABLE stance ADD COLUMN opposing_text VARCHAR;
ALTER TABLE stance ADD COLUMN opposing_start INTEGER;
ALTER TABLE stance ADD COLUMN opposing_end INTEGER;
ALTER TABLE stance ADD COLUMN opposing_p DOUBLE;
ALTER TABLE stance ADD COLUMN sentences_total INTEGER;
ALTER TABLE stance ADD COLUMN relevance VARCHAR;
ALTER TABLE stance ADD COLUMN matched_terms VARCHAR;
COMMENT ON TABLE stance IS
    'Stance of an article toward a claim per NLI model and revision: label, score, evidence and opposing evidence; '
    'UNRELATED rows were not sent to the model (relevance = no_overlap).';

CREATE TABLE quantities (
    quantity_id VARCHAR PRIMARY KEY,
    article_id VARCHAR NOT NULL,
    sentence_id VARCHAR NOT NULL,
    start INTEGER,
    "end" INTEGER,
    text VARCHAR,
    value DOUBLE NOT NULL,
    value_max DOUBLE NOT NULL,
    qualifier VARCHAR NOT NULL,
    unit VARCHAR,
    object VARCHAR,
    object_key VARCHAR,
    entities VARCHAR[],
    run_id VARCHAR NOT NULL
);
COMMENT ON TABLE quantities IS
    'Numbers with what they count or measure (object, unit), qualifier and range, and the entities of their sentence.';

-- Articles the quantity extractor has read, so those without any quantity are not read again; done_at before the
-- article's latest NER run means its entity links are stale and it is read again.
CREATE TABLE quantities_done (
    article_id VARCHAR PRIMARY KEY,
    extractor_version VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    done_at TIMESTAMPTZ NOT NULL
);

