-- Tables named after what they hold: NER mentions, canonical entities, mention→entity links and the NER ledger.
-- Views are dropped first (they bind tables by name) and recreated from views.sql under their old names, so saved
-- queries on v_entities, v_entity_mentions, ... keep working.
DROP VIEW IF EXISTS v_top_entities_by_stance;
DROP VIEW IF EXISTS v_entity_mentions_by_source_day;
DROP VIEW IF EXISTS v_entity_cooccurrence_sentence;
DROP VIEW IF EXISTS v_entity_cooccurrence_article;
DROP VIEW IF EXISTS v_entities;
DROP VIEW IF EXISTS v_entity_mentions;
DROP VIEW IF EXISTS v_quantity_conflicts;
DROP VIEW IF EXISTS v_quantity_mentions;
DROP VIEW IF EXISTS v_claim_disagreement;
DROP VIEW IF EXISTS v_claim_stance_timeline;
DROP VIEW IF EXISTS v_source_articles;
DROP VIEW IF EXISTS v_runs;
DROP VIEW IF EXISTS v_article_stance;
DROP VIEW IF EXISTS v_top_entities;
DROP VIEW IF EXISTS v_claim_support_by_source_day;
DROP VIEW IF EXISTS v_latest_entities;
DROP VIEW IF EXISTS v_latest_stance;

ALTER TABLE entities RENAME TO mentions;
ALTER TABLE ner_done RENAME TO mentions_done;
ALTER TABLE entity RENAME TO entities;
ALTER TABLE entity_mentions RENAME TO mention_links;

COMMENT ON TABLE mentions IS 'Named-entity mentions per NER model and revision; offsets into articles.text.';
COMMENT ON TABLE mentions_done IS 'Articles each NER model revision has processed, mentions found or not.';
COMMENT ON TABLE entities IS 'Canonical entities; entity_id = hash of entity_key, so ids survive reruns. aliases = listed and observed spellings.';
COMMENT ON TABLE mention_links IS 'Each mention linked to its canonical entity, with the rule (method) and why; overrides applied.';
