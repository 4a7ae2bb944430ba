"""Claims file → claims frame. Claims are configuration: a malformed file stops the run with a clear message."""

from pathlib import Path

import polars as pl
import yaml
from pydantic import BaseModel, Field, ValidationError

from stancewire.frames import CLAIMS, conform


class ClaimsFileError(ValueError):
    """The claims file cannot be used; the message says where and why."""


class Claim(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    text: str = Field(min_length=3, max_length=1000)
    language: str = Field(pattern=r"^[a-z]{2}$")
    enabled: bool = True


class ClaimsFile(BaseModel):
    claims: list[Claim]


def load_claims(path: str | Path) -> pl.DataFrame:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = ClaimsFile.model_validate(raw)
    except OSError as exc:
        raise ClaimsFileError(f"cannot read claims file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ClaimsFileError(f"claims file {path} is not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise ClaimsFileError(f"claims file {path} is malformed:\n{exc}") from exc
    ids = [c.id for c in parsed.claims]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ClaimsFileError(f"claims file {path} repeats claim ids: {', '.join(repeated)}")
    rows = [{"claim_id": c.id, "text": c.text.strip(), "language": c.language, "enabled": c.enabled} for c in parsed.claims]
    return conform(pl.DataFrame(rows, schema=CLAIMS), CLAIMS)
