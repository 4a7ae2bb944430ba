-- Views for analysts. Where several models scored the same item, each view keeps the most recent result.
-- Days are UTC calendar days whatever the session time zone.

-- One stance row per (article, claim): the most recently scored one, ignoring rows scored before the claim text changed.
CREATE OR REPLACE VIEW v_latest_stance AS
SELECT s.*
FROM stance s
JOIN claims c USING (claim_id)
WHERE s.scored_at >= c.updated_at
QUALIFY row_number() OVER (
    PARTITION BY s.article_id, s.claim_id ORDER BY s.scored_at DESC, s.model_id, s.model_revision
) = 1;
COMMENT ON VIEW v_latest_stance IS
    'One stance row per (article, claim): the most recently scored, ignoring rows older than the claim text.';

-- The mentions of the NER model revision that processed each article most recently.
CREATE OR REPLACE VIEW v_latest_entities AS
WITH latest AS (
    SELECT article_id, model_id, model_revision
    FROM ner_done
    QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY done_at DESC, model_id, model_revision) = 1
)
SELECT e.*
FROM entities e
JOIN latest USING (article_id, model_id, model_revision);
COMMENT ON VIEW v_latest_entities IS 'Entity mentions of the NER model revision that processed each article last.';

-- Stance counts per claim, source, site and publication day (fetch day when the publication date is unknown).
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
    count(*) AS n_articles
FROM v_latest_stance s
JOIN claims c USING (claim_id)
JOIN articles a USING (article_id)
LEFT JOIN documents d ON d.doc_id = a.doc_id
GROUP BY ALL;
COMMENT ON VIEW v_claim_support_by_source_day IS
    'Per claim, source, site and UTC day: articles that support, refute or are neutral (latest model per article).';

-- Entities by normalised surface form (lower case, single spaces) and label.
CREATE OR REPLACE VIEW v_top_entities AS
SELECT
    lower(regexp_replace(trim(text), '\s+', ' ', 'g')) AS entity,
    label,
    count(*) AS mentions,
    count(DISTINCT article_id) AS articles
FROM v_latest_entities
GROUP BY ALL
ORDER BY mentions DESC, articles DESC, entity;
COMMENT ON VIEW v_top_entities IS 'Entities by normalised text and label: mentions and distinct articles (latest NER model).';

-- Article metadata next to its stance toward each claim and the evidence sentence.
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
    s.p_entailment,
    s.p_neutral,
    s.p_contradiction,
    s.evidence_text,
    s.model_id,
    s.model_revision,
    s.scored_at
FROM v_latest_stance s
JOIN claims c USING (claim_id)
JOIN articles a USING (article_id);
COMMENT ON VIEW v_article_stance IS 'Each article with its latest stance toward each claim and the evidence sentence.';

-- Runs, newest first, with their duration and the stages and tables that failed.
CREATE OR REPLACE VIEW v_runs AS
SELECT
    r.run_id,
    r.status,
    r.started_at,
    r.finished_at,
    date_diff('millisecond', r.started_at, r.finished_at) / 1000.0 AS duration_s,
    r.ner_model,
    r.ner_revision,
    r.nli_model,
    r.nli_revision,
    r.counts,
    (SELECT string_agg(stage, ', ' ORDER BY stage) FROM stage_runs g
     WHERE g.run_id = r.run_id AND g.status = 'failed') AS failed_stages,
    (SELECT string_agg(table_name, ', ' ORDER BY table_name) FROM validation_results v
     WHERE v.run_id = r.run_id AND NOT v.success) AS failed_tables
FROM runs r
ORDER BY r.started_at DESC;
COMMENT ON VIEW v_runs IS 'Runs, newest first: status, duration, models, counts, failed stages and failed validation tables.';
