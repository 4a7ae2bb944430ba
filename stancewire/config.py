"""Run parameters (the typed form in the Prefect UI) and their environment-backed defaults."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from stancewire import __version__

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO_ROOT / "demo"

# Permissive-licence multilingual defaults (see README, "Models").
DEFAULT_NER_MODEL = "Davlan/xlm-roberta-base-ner-hrl"
DEFAULT_NLI_MODEL = "MoritzLaurer/mDeBERTa-v3-base-xnli-multilingual-nli-2mil7"
DEFAULT_USER_AGENT = f"stancewire/{__version__} (news research crawler; honours robots.txt)"


class ModelSpec(BaseModel):
    """A Hugging Face model id or a local directory, optionally pinned to a revision."""

    id: str = Field(description="Hub id (org/name) or path to a local model directory")
    revision: str | None = Field(default=None, description="Branch, tag or commit; None = the default branch")


class DaskOptions(BaseModel):
    """Where the NER and stance batches run when they leave the flow's process (prefect-dask)."""

    address: str | None = Field(
        default=None, description="Scheduler of an existing Dask cluster (tcp://host:8786); None starts a local one"
    )
    workers: int = Field(default=2, ge=1, description="Local cluster: worker processes, each loading the models once")


class Settings(BaseSettings):
    """Defaults read from STANCEWIRE_* environment variables (or a .env file)."""

    model_config = SettingsConfigDict(env_prefix="STANCEWIRE_", env_file=".env", extra="ignore")

    db_path: Path = Path("data/stancewire.duckdb")
    ner_model: str = DEFAULT_NER_MODEL
    ner_revision: str | None = None
    nli_model: str = DEFAULT_NLI_MODEL
    nli_revision: str | None = None
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    token_budget: int | None = None
    quantize_int8: bool = False
    lock_wait_s: float = 600.0
    dask_address: str | None = None  # run NER and stance on this Dask scheduler...
    dask_workers: int | None = None  # ...or on a local cluster of this many workers
    user_agent: str = DEFAULT_USER_AGENT  # put a contact URL or address in it for the sites you crawl


def _dask_from(settings: Settings) -> DaskOptions | None:
    if settings.dask_address is None and settings.dask_workers is None:
        return None
    return DaskOptions(address=settings.dask_address, **({"workers": settings.dask_workers} if settings.dask_workers else {}))


class RunParams(BaseModel):
    """Everything one flow run needs; Prefect renders it as the ad hoc run form."""

    sources: list[str] = Field(
        default_factory=lambda: [str(DEMO_DIR / "articles")],
        description="Files, directories or http(s) URLs to read articles from",
    )
    claims_file: str | None = Field(
        default_factory=lambda: str(DEMO_DIR / "claims.yaml"),
        description="YAML list of claims (id, text, language); None keeps the claims already stored",
    )
    db_path: str = Field(default_factory=lambda: str(Settings().db_path), description="DuckDB file to publish to")
    ner_model: ModelSpec = Field(
        default_factory=lambda: ModelSpec(id=Settings().ner_model, revision=Settings().ner_revision)
    )
    nli_model: ModelSpec = Field(
        default_factory=lambda: ModelSpec(id=Settings().nli_model, revision=Settings().nli_revision)
    )
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(default_factory=lambda: Settings().device)
    token_budget: int | None = Field(
        default_factory=lambda: Settings().token_budget,
        ge=1,
        description="Padded tokens per model forward pass; None = 1024 on CPU, 8192 on GPU (README: Model runtime)",
    )
    quantize_int8: bool = Field(
        default_factory=lambda: Settings().quantize_int8,
        description="CPU only: int8 dynamic quantisation of the linear layers, faster at a small accuracy cost",
    )
    dask: DaskOptions | None = Field(
        default_factory=lambda: _dask_from(Settings()),
        description="Run NER and stance batches on a Dask cluster; None runs them in the flow's process",
    )
    batch_size: int = Field(default=256, ge=1, description="Articles per NER/stance task run")
    allow_file_sources: bool = Field(default=True, description="Accept local paths as sources")
    allow_private_hosts: bool = Field(default=False, description="Fetch from loopback/private addresses")
    lock_wait_s: float = Field(
        default_factory=lambda: Settings().lock_wait_s, ge=0, description="How long to wait for a run in progress"
    )
    require_models: bool = Field(
        default=False, description="Fail the run (after landing what it could) when a model stage was skipped"
    )
    alias_files: list[str] = Field(
        default_factory=list,
        description="Alias lists (YAML or CSV) extending the built-in one: spellings that name the same entity",
    )
    use_registered_sources: bool = Field(
        default=True, description="Also fetch the enabled sources of the registry (stancewire sources add)"
    )
    sources_file: str | None = Field(
        default=None, description="YAML of sources to add to (or update in) the registry before fetching"
    )
    respect_robots: bool = Field(default=True, description="Skip URLs that a site's robots.txt disallows")
    host_delay_s: float = Field(default=1.0, ge=0, description="Seconds between requests to the same host")
    host_concurrency: int = Field(default=2, ge=1, description="Requests in flight at once to the same host")
    user_agent: str = Field(default_factory=lambda: Settings().user_agent, description="HTTP User-Agent")
    export_dir: str | None = Field(
        default=None, description="Also write the published tables as Parquet here after each successful run"
    )
