-- Registered sources (feeds, sitemaps, URL lists, folders) with their health, and the fetch state of every URL
-- they led to, so that a run fetches only what is new or changed.

CREATE TABLE sources (
    source_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL CHECK (kind IN ('rss', 'atom', 'jsonfeed', 'sitemap', 'urls', 'folder')),
    url VARCHAR NOT NULL,
    language_hint VARCHAR,
    options JSON,
    enabled BOOLEAN NOT NULL,
    added_at TIMESTAMPTZ NOT NULL,
    last_checked_at TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error VARCHAR,
    articles_last_run BIGINT
);

CREATE TABLE fetch_state (
    url VARCHAR PRIMARY KEY,
    source_id VARCHAR,
    role VARCHAR NOT NULL CHECK (role IN ('listing', 'article')),
    etag VARCHAR,
    last_modified VARCHAR,
    content_hash VARCHAR,
    published TIMESTAMPTZ,
    last_fetched_at TIMESTAMPTZ,
    status VARCHAR NOT NULL CHECK (status IN ('fetched', 'unchanged', 'failed')),
    failures INTEGER NOT NULL DEFAULT 0,
    last_error VARCHAR,
    run_id VARCHAR NOT NULL
);

COMMENT ON TABLE sources IS 'Registered sources (feeds, sitemaps, URL lists, folders) with options and health.';
COMMENT ON TABLE fetch_state IS 'Per canonical URL: validators and content hash of the last fetch, so reruns fetch only new or changed URLs.';
