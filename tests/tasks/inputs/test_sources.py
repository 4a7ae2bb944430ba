import json

import pytest

from tasks.inputs.sources import (
    Source,
    SourcesFileError,
    load_sources_file,
    parse_options,
    sources_frame,
    sources_from_frame,
)


def write(tmp_path, text):
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_file_round_trips_through_the_registry_frame(tmp_path):
    path = write(
        tmp_path,
        """
sources:
  - id: ansa-politica
    kind: rss
    url: https://news.example.it/politica/rss.xml
    language: IT
    options: {max_items: 200, url_pattern: "/politica/"}
  - id: archive
    kind: folder
    url: /data/archive
    enabled: false
""",
    )
    sources = load_sources_file(path)
    assert [(s.source_id, s.kind, s.language_hint, s.enabled) for s in sources] == [
        ("ansa-politica", "rss", "it", True),
        ("archive", "folder", None, False),
    ]
    frame = sources_frame(sources)
    assert json.loads(frame["options"][0]) == {"max_items": 200, "url_pattern": "/politica/"}
    assert json.loads(frame["options"][1]) == {}
    assert sources_from_frame(frame) == sources


@pytest.mark.parametrize(
    "entry, problem",
    [
        ("{id: Bad Id, kind: rss, url: 'https://x.com/f'}", "id"),
        ("{id: a, kind: podcast, url: 'https://x.com/f'}", "kind"),
        ("{id: a, kind: rss, url: /local/feed.xml}", "needs an http(s) URL"),
        ("{id: a, kind: folder, url: 'https://x.com/'}", "local path"),
        ("{id: a, kind: rss, url: 'https://x.com/f', language: italian}", "ISO 639-1"),
        ("{id: a, kind: rss, url: 'https://x.com/f', options: {max_itms: 3}}", "max_itms"),
        ("{id: a, kind: rss, url: 'https://x.com/f', options: {url_pattern: '(('}}", "regular expression"),
        ("{id: a, kind: rss, url: 'https://x.com/f', colour: red}", "colour"),
    ],
)
def test_invalid_entries_are_reported_with_their_position(tmp_path, entry, problem):
    path = write(tmp_path, f"sources:\n  - {{id: ok, kind: rss, url: 'https://x.com/ok'}}\n  - {entry}\n")
    with pytest.raises(SourcesFileError, match=r"sources\[1\]") as err:
        load_sources_file(path)
    assert problem in str(err.value)


def test_duplicate_ids_and_wrong_shapes(tmp_path):
    with pytest.raises(SourcesFileError, match="duplicate id 'a'"):
        load_sources_file(
            write(
                tmp_path,
                "sources:\n  - {id: a, kind: sitemap, url: 'https://x.com/s.xml'}\n"
                "  - {id: a, kind: rss, url: 'https://x.com/f'}\n",
            )
        )
    with pytest.raises(SourcesFileError, match="'sources' list"):
        load_sources_file(write(tmp_path, "- just a list\n"))
    with pytest.raises(SourcesFileError):
        load_sources_file(tmp_path / "missing.yaml")


def test_parse_options():
    assert parse_options(["max_items=50", "max_age_days=2.5", "url_pattern=/news/"]) == {
        "max_items": 50,
        "max_age_days": 2.5,
        "url_pattern": "/news/",
    }
    with pytest.raises(ValueError):
        parse_options(["max_items"])
    assert Source(id="a", kind="urls", url="lists/today.txt").kind == "urls"
