"""Claims file (YAML or CSV) → claims frame. Claims are configuration: a malformed file stops with a clear message.

YAML: `claims:` a list of {id, text, language, enabled (default true), translations ({language: text}, optional)}.
CSV: a header row with `id,text,language`, optionally `enabled` (true/false/1/0/yes/no) and one `text_<language>`
column per translation (`text_it`, `text_fr`, ...); empty translation cells are ignored.
"""

import csv
import io
import json
from pathlib import Path
from typing import Annotated

import polars as pl
import yaml
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from stancewire.frames import CLAIMS, conform
from tasks.inputs.yaml_files import read_yaml, validation_problems, yaml_problem

Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
ClaimText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)]


class ClaimsFileError(ValueError):
    """The claims file cannot be used; the message says where and why."""


class Claim(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    text: ClaimText
    language: Language
    enabled: bool = True
    translations: dict[Language, ClaimText] = Field(default_factory=dict)


class ClaimsFile(BaseModel):
    claims: list[Claim]


def claims_frame(claims: list[Claim]) -> pl.DataFrame:
    """The CLAIMS frame of validated claims; raises ClaimsFileError when an id repeats."""
    ids = [c.id for c in claims]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ClaimsFileError(f"repeated claim ids: {', '.join(repeated)}")
    rows = [
        {
            "claim_id": c.id,
            "text": c.text,
            "language": c.language,
            "enabled": c.enabled,
            "translations": json.dumps(dict(sorted(c.translations.items())), ensure_ascii=False)
            if c.translations
            else None,
        }
        for c in claims
    ]
    return conform(pl.DataFrame(rows, schema=CLAIMS), CLAIMS)


def _csv_records(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"id", "text", "language"} - set(reader.fieldnames or [])
    if missing:
        raise ClaimsFileError(f"the CSV header lacks {', '.join(sorted(missing))}")
    records = []
    for row in reader:
        record: dict = {"id": row["id"], "text": row["text"], "language": row["language"]}
        if (row.get("enabled") or "").strip():
            record["enabled"] = row["enabled"].strip().lower()
        record["translations"] = {
            key.removeprefix("text_"): value for key, value in row.items() if key and key.startswith("text_") and value
        }
        records.append(record)
    return records


def load_claims(path: str | Path) -> pl.DataFrame:
    """Read a YAML (.yaml/.yml) or CSV (.csv) claims file."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            parsed = ClaimsFile.model_validate({"claims": _csv_records(path.read_text(encoding="utf-8"))})
        else:
            parsed = ClaimsFile.model_validate(read_yaml(path))
        return claims_frame(parsed.claims)
    except (OSError, UnicodeDecodeError) as exc:
        raise ClaimsFileError(f"cannot read claims file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ClaimsFileError(f"claims file {path} is not valid YAML: {yaml_problem(exc)}") from exc
    except ValidationError as exc:
        raise ClaimsFileError(f"claims file {path} is malformed: {validation_problems(exc)}") from exc
    except csv.Error as exc:
        raise ClaimsFileError(f"claims file {path} is malformed: {exc}") from exc
    except ClaimsFileError as exc:
        raise ClaimsFileError(f"claims file {path}: {exc}") from exc


def claim_texts(claims: pl.DataFrame) -> dict[str, dict[str, str]]:
    """claim_id → {language: text} for the claim and its translations."""
    out = {}
    rows = claims.select("claim_id", "text", "language", "translations").iter_rows()
    for claim_id, text, language, translations in rows:
        out[claim_id] = {**(json.loads(translations) if translations else {}), language: text}
    return out
