-- The precision and kernel each model ran with ("bf16 on cpu avx512_bf16"); derived rows tell precisions apart by
-- their model revision ("<commit>+bf16").
ALTER TABLE runs ADD COLUMN ner_kernel VARCHAR;
ALTER TABLE runs ADD COLUMN nli_kernel VARCHAR;
COMMENT ON COLUMN runs.ner_kernel IS 'Precision and kernel the NER model ran with, e.g. "bf16 on cpu avx512_bf16".';
COMMENT ON COLUMN runs.nli_kernel IS 'Precision and kernel the NLI model ran with.';
