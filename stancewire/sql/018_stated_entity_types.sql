-- Where a mention's label comes from: the NER model, or the text around the name (a dateline, a head noun such as
-- "comitato" or "river": tasks/type_cues.py). An entity's type is the majority of its stated labels when it has any,
-- else of all its labels. Mentions found before this have the model's label.
ALTER TABLE mentions ADD COLUMN label_from VARCHAR DEFAULT 'model';
COMMENT ON COLUMN mentions.label_from IS 'model, or what in the text states the type: dateline | cue <word>.';
