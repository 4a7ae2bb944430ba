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

