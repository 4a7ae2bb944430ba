"""The source registry: what a registered source is (kind, URL, language hint, options) and the YAML file format."""

import json
import re
from pathlib import Path
from typing import Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from stancewire.frames import SOURCES, conform
from stancewire.urls import refuse_literal_credentials
from tasks.inputs.yaml_files import read_yaml, validation_problems, yaml_problem

SourceKind = Literal["rss", "atom", "jsonfeed", "sitemap", "urls", "folder"]
FEED_KINDS = ("rss", "atom", "jsonfeed")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class SourcesFileError(ValueError):
    """The sources YAML cannot be used; the message says where and why."""


class SourceOptions(BaseModel):
    """Per-source options; unknown keys are an error, so a typo does not pass silently."""

    model_config = ConfigDict(extra="forbid")

    max_items: int = Field(default=1000, ge=1, description="Most article URLs fetched per run, newest first")
    max_age_days: float | None = Field(default=None, gt=0, description="Skip listed articles older than this")
    url_pattern: str | None = Field(default=None, description="Regular expression an article URL must match")
    max_sitemaps: int = Field(
        default=50, ge=1, description="Most sitemaps a sitemap index leads to read per run, nested indexes included"
    )

    @field_validator("url_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from exc
        return value


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source_id: str = Field(alias="id")
    kind: SourceKind
    url: str
    language_hint: str | None = Field(default=None, alias="language")
    options: SourceOptions = Field(default_factory=SourceOptions)
    enabled: bool = True

    @field_validator("source_id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
        return value

    @field_validator("url")
    @classmethod
    def _no_literal_credentials(cls, value: str) -> str:
        return refuse_literal_credentials(value)

    @field_validator("language_hint")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().lower()
        if not re.fullmatch(r"[a-z]{2}", code):
            raise ValueError(f"expected an ISO 639-1 code such as 'it', got {value!r}")
        return code

    @model_validator(mode="after")
    def _url_fits_kind(self) -> "Source":
        is_web = self.url.lower().startswith(("http://", "https://"))
        if self.kind in (*FEED_KINDS, "sitemap") and not is_web:
            raise ValueError(f"a {self.kind} source needs an http(s) URL, got {self.url!r}")
        if self.kind == "folder" and is_web:
            raise ValueError("a folder source needs a local path")
        return self


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """`key=value` strings (values read as YAML scalars: 200, 3.5, true, text) → an options mapping."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"options are key=value, got {pair!r}")
        options[key.strip()] = yaml.safe_load(value) if value.strip() else None
    return options


def load_sources_file(path: str | Path) -> list[Source]:
    """Read a YAML file `{sources: [{id, kind, url, language?, options?, enabled?}, ...]}`."""
    path = Path(path)
    try:
        data = read_yaml(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesFileError(f"{path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SourcesFileError(f"{path} is not valid YAML: {yaml_problem(exc)}") from exc
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise SourcesFileError(f"{path}: expected a mapping with a 'sources' list")
    sources, errors, seen = [], [], set()
    for n, entry in enumerate(entries):
        try:
            source = Source.model_validate(entry)
        except ValidationError as exc:
            errors.append(f"sources[{n}]: {validation_problems(exc)}")
            continue
        if source.source_id in seen:
            errors.append(f"sources[{n}]: duplicate id {source.source_id!r}")
        seen.add(source.source_id)
        sources.append(source)
    if errors:
        raise SourcesFileError(f"{path}:\n  " + "\n  ".join(errors))
    return sources


def sources_frame(sources: list[Source]) -> pl.DataFrame:
    rows = [
        {
            "source_id": s.source_id,
            "kind": s.kind,
            "url": s.url,
            "language_hint": s.language_hint,
            "options": json.dumps(s.options.model_dump(exclude_defaults=True), sort_keys=True),
            "enabled": s.enabled,
        }
        for s in sources
    ]
    return conform(pl.DataFrame(rows, schema=SOURCES), SOURCES)


def sources_from_frame(df: pl.DataFrame) -> list[Source]:
    """Registry rows (frames.SOURCES) → sources; the store only holds rows that validated when added."""
    return [
        Source(
            source_id=row["source_id"],
            kind=row["kind"],
            url=row["url"],
            language_hint=row["language_hint"],
            options=SourceOptions.model_validate(json.loads(row["options"] or "{}")),
            enabled=row["enabled"],
        )
        for row in df.iter_rows(named=True)
    ]
