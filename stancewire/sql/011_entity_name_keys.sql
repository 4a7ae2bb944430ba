-- Entities found by name are keyed by the name alone ("name:<key>", was "<TYPE>:<key>"): one entity per name, typed
-- by the label most of its mentions carry. Ids are re-derived (stable_id("entity", key)) and every reference moved,
-- analysts' overrides included; two entities that differed by type alone become one.
CREATE TEMP TABLE _rekey AS
SELECT old_id, new_key, substr(sha256('entity' || chr(31) || new_key), 1, 32) AS new_id
FROM (
    SELECT entity_id AS old_id, 'name:' || substr(entity_key, strpos(entity_key, ':') + 1) AS new_key
    FROM entities
    WHERE origin = 'mentions' AND regexp_matches(entity_key, '^[A-Z][A-Z0-9_-]*:')
);
INSERT INTO entities
SELECT DISTINCT ON (r.new_id) r.new_id, r.new_key, e.type, e.name, e.declared_aliases, e.aliases, e.stands_for,
       e.origin, e.merged_into, e.run_id, e.updated_at
FROM _rekey r
JOIN entities e ON e.entity_id = r.old_id
WHERE r.new_id NOT IN (SELECT entity_id FROM entities)
ORDER BY r.new_id, (SELECT count(*) FROM mention_links l WHERE l.entity_id = e.entity_id) DESC, e.type;
UPDATE mention_links SET entity_id = r.new_id FROM _rekey r WHERE mention_links.entity_id = r.old_id;
UPDATE mention_links SET rule_entity_id = r.new_id FROM _rekey r WHERE mention_links.rule_entity_id = r.old_id;
UPDATE entity_overrides SET entity_id = r.new_id FROM _rekey r WHERE entity_overrides.entity_id = r.old_id;
UPDATE entity_overrides SET target_id = r.new_id FROM _rekey r WHERE entity_overrides.target_id = r.old_id;
UPDATE entities SET merged_into = r.new_id FROM _rekey r WHERE entities.merged_into = r.old_id;
DELETE FROM entities WHERE entity_id IN (SELECT old_id FROM _rekey);
DROP TABLE _rekey;
