-- Canonical entities: one id per real-world entity, every mention linked to one, analyst corrections kept.

CREATE TABLE entity (
    entity_id VARCHAR PRIMARY KEY,
    entity_key VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    declared_aliases VARCHAR[],
    aliases VARCHAR[],
    stands_for VARCHAR,
    origin VARCHAR NOT NULL CHECK (origin IN ('alias_list', 'mentions', 'analyst')),
    merged_into VARCHAR,
    run_id VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE entity_mentions (
    mention_id VARCHAR PRIMARY KEY,
    article_id VARCHAR NOT NULL,
    entity_id VARCHAR NOT NULL,
    rule_entity_id VARCHAR NOT NULL,
    method VARCHAR NOT NULL CHECK (method IN ('alias', 'alias_joined', 'short_form', 'name')),
    reason VARCHAR,
    name_key VARCHAR NOT NULL,
    override_id VARCHAR,
    linker VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    linked_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE entity_overrides (
    override_id VARCHAR PRIMARY KEY,
    action VARCHAR NOT NULL CHECK (action IN ('merge', 'split')),
    entity_id VARCHAR NOT NULL,
    target_id VARCHAR NOT NULL,
    name_key VARCHAR,
    article_id VARCHAR,
    mention_id VARCHAR,
    note VARCHAR,
    created_at TIMESTAMPTZ NOT NULL
);

COMMENT ON TABLE entity IS 'Canonical entities; entity_id = hash of entity_key, so ids survive reruns. aliases = listed and observed spellings.';
COMMENT ON COLUMN entity.stands_for IS 'Entity a metonym can stand for: a capital or seat of government for its state ("Pyongyang said").';
COMMENT ON COLUMN entity.merged_into IS 'Set when an analyst merged this entity into another: its mentions are linked there.';
COMMENT ON TABLE entity_mentions IS 'Each entity mention linked to its canonical entity, with the rule (method) and why; overrides applied.';
COMMENT ON TABLE entity_overrides IS 'Analyst merges and splits (stancewire entities merge/split), applied on every run in created_at order.';

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
JOIN entity_mentions l USING (mention_id)
JOIN entity n ON n.entity_id = l.entity_id
LEFT JOIN entity s ON s.entity_id = n.stands_for
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
FROM entity n
LEFT JOIN entity s ON s.entity_id = n.stands_for
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
