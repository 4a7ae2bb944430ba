-- Near-duplicate lookup by locality-sensitive hashing (stancewire/lsh.py): the band keys of every canonical
-- article's MinHash signature, so a new article is compared with the articles sharing a band, not with all of them.
-- Stores made before this version fill it once (Store.backfill_bands, resumable); store_jobs records that it is done.
CREATE TABLE article_bands (
    band_key BIGINT NOT NULL,
    article_id VARCHAR NOT NULL
);
CREATE TABLE store_jobs (
    job VARCHAR PRIMARY KEY,
    done_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE article_bands IS 'LSH band keys of canonical articles'' MinHash signatures, for near-duplicate lookup.';
COMMENT ON TABLE store_jobs IS 'One-off maintenance jobs a store has completed (e.g. the article_bands backfill).';
