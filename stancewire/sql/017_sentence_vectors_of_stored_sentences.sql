-- From now on every sentence vector belongs to a stored sentence (a new split of an article drops the vectors of the
-- sentences it no longer has), so the embed stage finds its work by counting vectors per article. Vectors left by
-- earlier splits go once, here.
DELETE FROM sentence_embeddings e WHERE NOT EXISTS (SELECT 1 FROM sentences s WHERE s.sentence_id = e.sentence_id);
