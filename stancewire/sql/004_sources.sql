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

-- Articles of registered sources with the source that led to them and the publication date its listing gave.
CREATE OR REPLACE VIEW v_source_articles AS
SELECT
    f.source_id,
    a.article_id,
    a.url,
    a.title,
    coalesce(a.published, f.published) AS published,
    a.language,
    s.language_hint,
    d.fetched_at
FROM articles a
JOIN documents d ON d.doc_id = a.doc_id
JOIN fetch_state f ON f.url = d.uri
LEFT JOIN sources s USING (source_id);

COMMENT ON TABLE sources IS 'Registered sources (feeds, sitemaps, URL lists, folders) with options and health.';
COMMENT ON TABLE fetch_state IS 'Per canonical URL: validators and content hash of the last fetch, so reruns fetch only new or changed URLs.';
COMMENT ON VIEW v_source_articles IS 'Articles of registered sources, with the publication date from the listing when the page gave none.';
