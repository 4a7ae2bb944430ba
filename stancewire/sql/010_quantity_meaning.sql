-- What a figure counts (thing, role), whose it is (subjects: entity ids, and where they were found) and the days
-- it refers to; the surfaces of the sentence's mentions give way to the subjects. Extractor version 2 reads every
-- article again.
DROP VIEW IF EXISTS v_quantity_conflicts;
DROP VIEW IF EXISTS v_quantity_mentions;
ALTER TABLE quantities DROP COLUMN entities;
ALTER TABLE quantities ADD COLUMN thing VARCHAR;
ALTER TABLE quantities ADD COLUMN role VARCHAR;
ALTER TABLE quantities ADD COLUMN estimated BOOLEAN;
ALTER TABLE quantities ADD COLUMN subjects VARCHAR[];
ALTER TABLE quantities ADD COLUMN subject_from VARCHAR;
ALTER TABLE quantities ADD COLUMN refers_from DATE;
ALTER TABLE quantities ADD COLUMN refers_to DATE;
ALTER TABLE quantities ADD COLUMN date_from VARCHAR;
COMMENT ON TABLE quantities IS
    'Figures with what they count (thing, unit), role, qualifier and range, whose they are (subjects) and when.';
COMMENT ON COLUMN quantities.thing IS 'What is counted across languages: soldiers, killed, wounded, casualties, people, ... else the noun''s stem or the unit.';
COMMENT ON COLUMN quantities.role IS 'increment (added: "3,000 more") | total (a stock or cumulative count) | rate (per time or per cent) | forecast.';
COMMENT ON COLUMN quantities.subjects IS 'Entity ids whose figure it is; subject_from says where they were found: thing (a demonym of the counted noun), sentence, neighbour (sentence), article (title and lead).';
COMMENT ON COLUMN quantities.refers_from IS 'First day the figure refers to: from a date in its sentence (date_from = text), else the article''s day (article).';
