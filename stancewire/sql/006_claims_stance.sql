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

CREATE OR REPLACE VIEW v_claim_support_by_source_day AS
SELECT
    c.claim_id,
    c.text AS claim_text,
    a.source,
    a.site,
    CAST(timezone('UTC', coalesce(a.published, d.fetched_at)) AS DATE) AS day,
    count(*) FILTER (WHERE s.label = 'SUPPORT') AS n_support,
    count(*) FILTER (WHERE s.label = 'REFUTE') AS n_refute,
    count(*) FILTER (WHERE s.label = 'NEUTRAL') AS n_neutral,
    count(*) FILTER (WHERE s.label = 'UNRELATED') AS n_unrelated,
    count(*) AS n_articles
FROM v_latest_stance s
JOIN claims c USING (claim_id)
JOIN articles a USING (article_id)
LEFT JOIN documents d ON d.doc_id = a.doc_id
GROUP BY ALL;
COMMENT ON VIEW v_claim_support_by_source_day IS
    'Per claim, source, site and UTC day: articles that support, refute, are neutral or unrelated (latest model).';

CREATE OR REPLACE VIEW v_article_stance AS
SELECT
    a.article_id,
    a.title,
    a.url,
    a.source,
    a.site,
    a.published,
    a.language,
    s.claim_id,
    c.text AS claim_text,
    s.label,
    s.score,
    s.p_entailment,
    s.p_neutral,
    s.p_contradiction,
    s.evidence_text,
    s.evidence_start,
    s.evidence_end,
    s.opposing_text,
    s.opposing_p,
    s.sentences_total,
    s.sentences_scored,
    s.relevance,
    s.model_id,
    s.model_revision,
    s.scored_at
FROM v_latest_stance s
JOIN claims c USING (claim_id)
JOIN articles a USING (article_id);
COMMENT ON VIEW v_article_stance IS
    'Each article with its latest stance toward each claim: label, score, evidence and opposing evidence.';

-- Who says what, when: one row per article that supports or refutes a claim, publisher = site, URL host or source.
CREATE OR REPLACE VIEW v_claim_stance_timeline AS
SELECT
    s.claim_id,
    c.text AS claim_text,
    CAST(timezone('UTC', coalesce(a.published, d.fetched_at)) AS DATE) AS day,
    coalesce(a.site, nullif(regexp_extract(a.url, '^https?://([^/]+)', 1), ''), a.source) AS publisher,
    s.label,
    s.score,
    a.article_id,
    a.title,
    s.evidence_text,
    s.evidence_start,
    s.evidence_end
FROM v_latest_stance s
JOIN claims c USING (claim_id)
JOIN articles a USING (article_id)
LEFT JOIN documents d ON d.doc_id = a.doc_id
WHERE s.label IN ('SUPPORT', 'REFUTE');
COMMENT ON VIEW v_claim_stance_timeline IS
    'Per claim, every article that supports or refutes it, by day and publisher, with the evidence sentence.';

-- Per claim: the publishers on each side and when they said it; contested when both sides have one.
CREATE OR REPLACE VIEW v_claim_disagreement AS
SELECT
    claim_id,
    any_value(claim_text) AS claim_text,
    count(DISTINCT publisher) FILTER (WHERE label = 'SUPPORT') AS support_publishers,
    count(DISTINCT publisher) FILTER (WHERE label = 'REFUTE') AS refute_publishers,
    count(*) FILTER (WHERE label = 'SUPPORT') AS support_articles,
    count(*) FILTER (WHERE label = 'REFUTE') AS refute_articles,
    string_agg(DISTINCT publisher, ', ' ORDER BY publisher) FILTER (WHERE label = 'SUPPORT') AS supporting,
    string_agg(DISTINCT publisher, ', ' ORDER BY publisher) FILTER (WHERE label = 'REFUTE') AS refuting,
    min(day) FILTER (WHERE label = 'SUPPORT') AS first_support,
    max(day) FILTER (WHERE label = 'SUPPORT') AS last_support,
    min(day) FILTER (WHERE label = 'REFUTE') AS first_refute,
    max(day) FILTER (WHERE label = 'REFUTE') AS last_refute,
    count(*) FILTER (WHERE label = 'SUPPORT') > 0 AND count(*) FILTER (WHERE label = 'REFUTE') > 0 AS contested
FROM v_claim_stance_timeline
GROUP BY claim_id;
COMMENT ON VIEW v_claim_disagreement IS
    'Per claim: publishers and articles supporting vs refuting it, first and last day of each side, contested flag.';

-- Quantities once per entity mentioned in their sentence (the canonical entity name where the mention is linked to
-- one, else its surface, by the latest NER run), read as intervals: exact [v, v], about [0.9v, 1.1v],
-- more_than/at_least [v, inf), less_than/at_most [0, v], range [v, v_max].
CREATE OR REPLACE VIEW v_quantity_mentions AS
SELECT DISTINCT
    q.quantity_id,
    lower(regexp_replace(trim(coalesce(m.entity_name, e.text)), '\s+', ' ', 'g')) AS entity,
    coalesce(q.object_key, '') AS object_key,
    coalesce(q.unit, '') AS unit,
    q.object,
    q.text AS quantity_text,
    q.value,
    q.value_max,
    q.qualifier,
    CASE q.qualifier WHEN 'about' THEN 0.9 * q.value WHEN 'less_than' THEN 0 WHEN 'at_most' THEN 0 ELSE q.value END
        AS low,
    CASE q.qualifier WHEN 'about' THEN 1.1 * q.value WHEN 'more_than' THEN 'infinity'::DOUBLE
        WHEN 'at_least' THEN 'infinity'::DOUBLE ELSE q.value_max END AS high,
    q.article_id,
    a.title,
    coalesce(a.site, nullif(regexp_extract(a.url, '^https?://([^/]+)', 1), ''), a.source) AS publisher,
    CAST(timezone('UTC', coalesce(a.published, d.fetched_at)) AS DATE) AS day,
    se.text AS sentence
FROM quantities q
JOIN v_latest_entities e ON e.sentence_id = q.sentence_id
LEFT JOIN v_entity_mentions m ON m.mention_id = e.mention_id
JOIN articles a ON a.article_id = q.article_id
LEFT JOIN documents d ON d.doc_id = a.doc_id
LEFT JOIN sentences se ON se.sentence_id = q.sentence_id
WHERE q.object_key IS NOT NULL OR q.unit IS NOT NULL;
COMMENT ON VIEW v_quantity_mentions IS
    'Each quantity once per entity (canonical name, else surface) of its sentence, with its interval [low, high].';

-- (entity, measured thing, unit) groups that at least two articles give and whose intervals do not all overlap:
-- every quantity of such a group, with the sentence that states it.
CREATE OR REPLACE VIEW v_quantity_conflicts AS
WITH groups AS (
    SELECT entity, object_key, unit
    FROM v_quantity_mentions
    GROUP BY ALL
    HAVING count(DISTINCT article_id) >= 2 AND max(low) > min(high)
)
SELECT m.entity, m.object_key, m.unit, m.object, m.quantity_text, m.qualifier, m.value, m.value_max, m.low, m.high,
       m.day, m.publisher, m.title, m.article_id, m.sentence
FROM v_quantity_mentions m
JOIN groups USING (entity, object_key, unit)
ORDER BY m.entity, m.object_key, m.unit, m.day, m.low;
COMMENT ON VIEW v_quantity_conflicts IS
    'Quantities of the same entity and measured thing that articles state incompatibly, with evidence sentences.';
