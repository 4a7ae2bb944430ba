"""HTTP for the fetch stage: guarded downloads, the polite fetcher (robots.txt, per-host spacing), feed and sitemap listings."""
