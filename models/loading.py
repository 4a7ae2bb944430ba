"""Model resolution (Hub id or local directory), device choice and placement."""

import functools
import hashlib
import math
import os
import re
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import torch
from huggingface_hub import hf_hub_download, list_repo_files, snapshot_download
from transformers import AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from models import onnx_runtime
from models.precision import Precision, choose_precision
from stancewire.config import ModelOptions, ModelSpec

# RoBERTa-style embeddings reserve the first pad_token_id + 1 positions.
_OFFSET_POSITION_MODELS = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert"}
_PULL_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"]
_MODEL_FILE_SUFFIXES = {".json", ".safetensors", ".bin", ".model", ".txt"}
_FINGERPRINT_SAMPLES, _SAMPLE_BYTES = 16, 1 << 16
_HUB_PROBE_TIMEOUT_S = 3.0
_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
ANY_MODEL_SETTING = "STANCEWIRE_NER_MODEL / STANCEWIRE_NLI_MODEL (--ner-model / --nli-model)"


class ModelUnavailable(RuntimeError):
    """Model cannot be loaded; the message says why and which setting to change."""


@dataclass(frozen=True)
class ResolvedModel:
    model_id: str  # as configured: a Hub id or a directory
    revision: str  # the Hub commit hash, or "local-<fingerprint>" for a directory
    directory: Path | None  # a local model directory (absolute), None for a Hub model


@dataclass(frozen=True)
class LoadedModel:
    tokenizer: PreTrainedTokenizerBase
    model: PreTrainedModel
    model_id: str
    revision: str
    device: torch.device
    precision: Precision
    max_tokens: int  # longest input (special tokens included) the model accepts


class Runner:
    """What every runner records on the rows it produces, and the padded-token budget of its batches."""

    def __init__(self, loaded: LoadedModel, token_budget: int):
        if token_budget < 1:
            raise ValueError("token_budget must be positive")
        self.model_id = loaded.model_id
        self.revision = loaded.precision.tag(loaded.revision)  # what derived rows record
        self.device = str(loaded.device)
        self.precision = loaded.precision
        self._loaded = loaded
        self._token_budget = token_budget


# On CPU a batch is fastest when one layer's feed-forward activations (tokens x FFN width x bytes per element) stay
# near 3 MiB, about this CPU's L2: measured on an AVX512/AMX Xeon, 512 tokens for base-size encoders (FFN 3072) and
# 1024 for small ones (FFN 1536) were 20-30 % faster in bf16 than the other sizes. torch counts 2 bytes whatever the
# precision (its fp32 kernels were 5 % slower at 256 tokens than at 512); ONNX Runtime keeps fp32 activations at
# every precision and was 5-9 % faster at 256 (docs/models.md).
CPU_FFN_BATCH_BYTES = 3 << 20


def default_token_budget(device: torch.device, config, backend: str = "torch") -> int:
    """Padded tokens per forward pass: on CPU sized by the model's FFN width so a batch stays in cache (256-2048
    tokens); on a GPU large, to fill it."""
    if device.type != "cpu":
        return 8192
    width = getattr(config, "intermediate_size", None) or 4 * getattr(config, "hidden_size", 768)
    element = 4 if backend == "onnx" else 2
    return 1 << min(11, max(8, round(math.log2(CPU_FFN_BATCH_BYTES / (element * width)))))


def pick_device(preference: str = "auto") -> torch.device:
    """auto: cuda, then mps, then cpu. An explicitly requested device that is not available is a ValueError."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(preference)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {preference!r}; use auto, cpu, cuda or mps") from exc
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count(),
        "mps": torch.backends.mps.is_available(),
    }.get(device.type, False)
    if not available:
        raise ValueError(f"device {preference!r} is not available here; set --device / STANCEWIRE_DEVICE to auto")
    return device


def run_precision(options: ModelOptions) -> Precision:
    """The precision and backend a run's models run at on this machine ("auto" decided here), and what runs them.
    ValueError naming the fix for a device, precision or backend this machine lacks."""
    return choose_precision(
        options.precision or "auto", pick_device(options.device or "auto"), options.backend or "auto"
    )


def resolve(spec: ModelSpec, setting: str = ANY_MODEL_SETTING) -> ResolvedModel:
    """The model's identity without loading it: a Hub id's commit (fetching config.json at most), or a local
    directory's fingerprint. Raises ModelUnavailable."""
    local = _local_dir(spec, setting)
    if local is not None:
        if not (local / "config.json").is_file():
            raise ModelUnavailable(f"{local} holds no config.json, so it is not a model; set {setting}")
        return ResolvedModel(str(local), _local_revision(local), local)  # one identity however the path is spelled
    try:
        config = hf_hub_download(spec.id, "config.json", revision=spec.revision, local_files_only=_cache_only())
    except Exception as exc:  # network, missing repo or revision, invalid id, offline without cache
        raise ModelUnavailable(_hub_failure(spec, setting, exc)) from exc
    return ResolvedModel(spec.id, Path(config).parent.name, None)  # the snapshot folder is named by its commit


def check_local(spec: ModelSpec, setting: str = ANY_MODEL_SETTING) -> None:
    """A local model directory's mistakes, found without asking the Hub: a path that does not exist, or a directory
    without config.json. Raises ModelUnavailable; a Hub id passes (it is resolved when its stage runs)."""
    if _local_dir(spec, setting) is not None:
        resolve(spec, setting)


def pull(spec: ModelSpec) -> Path:
    """Download the model into the Hugging Face cache (offline: find it there); return its local directory."""
    resolved = resolve(spec)
    if resolved.directory:
        return resolved.directory
    try:
        patterns = _weights_patterns(spec.id, resolved.revision)
        local_dir = snapshot_download(
            spec.id, revision=resolved.revision, allow_patterns=patterns, local_files_only=_cache_only()
        )
        return Path(local_dir)
    except Exception as exc:
        raise ModelUnavailable(_hub_failure(spec, ANY_MODEL_SETTING, exc)) from exc


def load(
    spec: ModelSpec, auto_class: type, setting: str, device: str, precision: str = "fp32", backend: str = "torch"
) -> LoadedModel:
    """Tokenizer and model with its trained head, in eval mode on the chosen device at the chosen precision and
    backend (models/precision.py); ModelUnavailable on failure, ValueError for a device, precision or backend this
    machine lacks."""
    target = pick_device(device)
    chosen = choose_precision(precision, target, backend)
    resolved = resolve(spec, setting)
    source = str(resolved.directory or spec.id)
    # Pinning the resolved commit keeps weights and recorded revision in step even if a branch moves meanwhile.
    options = {"revision": None if resolved.directory else resolved.revision, "local_files_only": _cache_only()}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **options)
        model, info = auto_class.from_pretrained(source, dtype=chosen.dtype, output_loading_info=True, **options)
    except Exception as exc:  # transformers raises OSError, ValueError, KeyError... depending on what is wrong
        if resolved.directory is None:
            raise ModelUnavailable(_hub_failure(spec, setting, exc)) from exc
        raise ModelUnavailable(f"cannot load {resolved.directory} ({_first_line(exc)}); set {setting}") from exc
    head = auto_class.__name__.removeprefix("AutoModel")  # e.g. "ForTokenClassification"
    architectures = model.config.architectures or []
    if info["missing_keys"] or (architectures and not any(a.endswith(head) for a in architectures)):
        raise ModelUnavailable(
            f"{spec.id!r} is not a trained {head.removeprefix('For')} model (architectures {architectures}, "
            f"missing weights {sorted(info['missing_keys'])[:4]}); set {setting} to a fine-tuned model"
        )
    if not tokenizer.is_fast:
        raise ModelUnavailable(f"{spec.id!r} has no fast tokenizer (tokenizer.json); set {setting} to another model")
    model = model.to(target).eval()
    _limit_cpu_threads()
    if chosen.backend == "onnx":
        model = onnx_runtime.to_onnx(model, tokenizer, resolved.model_id, resolved.revision, chosen.name, usable_cpus())
    elif chosen.name == "int8":
        model = _quantize_int8(model)
    return LoadedModel(
        tokenizer=tokenizer,
        model=model,
        model_id=resolved.model_id,
        revision=resolved.revision,
        device=target,
        precision=chosen,
        max_tokens=_max_tokens(tokenizer, model.config),
    )


def _local_dir(spec: ModelSpec, setting: str) -> Path | None:
    path = Path(spec.id).expanduser()
    if path.is_dir():
        return path.resolve()
    if path.is_absolute() or spec.id.startswith((".", "~")) or spec.id.count("/") > 1:
        raise ModelUnavailable(f"model directory {spec.id!r} does not exist; set {setting} to a Hub id or a directory")
    return None


def _offline() -> bool:
    """Read at call time (huggingface_hub reads it once at import)."""
    flags = (os.environ.get(name, "").strip().lower() for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return any(flag in {"1", "true", "yes", "on"} for flag in flags)


def _cache_only() -> bool:
    return _offline() or not _hub_reachable()


@functools.cache
def _hub_reachable() -> bool:
    """One quick TCP probe per process: without it an unreachable Hub costs ~30 s of retries per model."""
    endpoint = urlsplit(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=_HUB_PROBE_TIMEOUT_S).close()
    except OSError:
        return False
    return True


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def _hub_failure(spec: ModelSpec, setting: str, exc: Exception) -> str:
    name = f"{spec.id!r}" + (f" at revision {spec.revision!r}" if spec.revision else "")
    change = f" or set {setting} to a local model directory"
    if _offline():
        return (
            f"{name} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: "
            f"run `stancewire models pull` while online{change}"
        )
    if not _hub_reachable():
        return (
            f"{name} is not in the local Hugging Face cache and the Hub is unreachable: "
            f"run `stancewire models pull` while online{change}"
        )
    return f"cannot fetch {name} from the Hugging Face Hub ({_first_line(exc)}); check the id{change}"


def _weights_patterns(repo_id: str, commit: str) -> list[str]:
    """Safetensors only, unless the repository has none (offline: whatever the cache holds)."""
    if _offline():
        return _PULL_PATTERNS + ["*.bin"]
    files = list_repo_files(repo_id, revision=commit)
    return _PULL_PATTERNS + ([] if any(f.endswith(".safetensors") for f in files) else ["pytorch_model*.bin"])


def _quantize_int8(model: PreTrainedModel) -> PreTrainedModel:
    """int8 linear layers (weights per output channel, activations per batch), except the feed-forward output
    projections: their inputs, after the activation function, have outliers that 8 bits cannot resolve. Keeping them
    in fp32 moved entity agreement with fp32 from F1 0.81 to 0.93 on Italian news, for a CPU-time speed-up of 1.3x
    instead of 1.56x (an exploratory comparison; bench/model_runtime.py measures the current scheme)."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    intermediate = getattr(model.config, "intermediate_size", None)
    plan = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
        and not (module.in_features == intermediate and module.in_features > module.out_features)
    }
    with warnings.catch_warnings():  # torch.ao.quantization announces its own deprecation on every call
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, plan, dtype=torch.qint8)


def _limit_cpu_threads() -> None:
    """Never run more intra-op threads than the CPUs this process may use: torch sizes its pool by the host's cores,
    and in a container limited to 2 of 64 CPUs, 32 threads contending for 2 CPUs run several times slower."""
    allowed = usable_cpus()
    if torch.get_num_threads() > allowed:
        torch.set_num_threads(allowed)


def usable_cpus() -> int:
    """CPUs this process may run on (affinity: taskset, cpusets), further capped by a cgroup v2 CPU quota."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = _CGROUP_CPU_MAX.read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, int(quota) // int(period)))
    except (OSError, ValueError):  # no cgroup v2, or an unexpected format: affinity alone
        pass
    return cpus


def _local_revision(directory: Path) -> str:
    """A Hub snapshot folder is named by its commit; any other directory gets a fingerprint of its model files
    (small ones whole, large ones sampled), so retraining into the same place yields a new revision."""
    if directory.parent.name == "snapshots" and re.fullmatch(r"[0-9a-f]{40}", directory.name):
        return directory.name
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.iterdir() if p.suffix in _MODEL_FILE_SUFFIXES and p.is_file()):
        size = path.stat().st_size
        digest.update(f"\0{path.name}\0{size}\0".encode())
        with path.open("rb") as f:
            if size <= _FINGERPRINT_SAMPLES * _SAMPLE_BYTES:
                digest.update(f.read())
                continue
            for k in range(_FINGERPRINT_SAMPLES):  # retrained weights share names, sizes and headers, not contents
                f.seek(size * k // _FINGERPRINT_SAMPLES)
                digest.update(f.read(_SAMPLE_BYTES))
    return f"local-{digest.hexdigest()[:12]}"


def _max_tokens(tokenizer: PreTrainedTokenizerBase, config) -> int:
    positions = getattr(config, "max_position_embeddings", None) or 512
    if config.model_type in _OFFSET_POSITION_MODELS:
        positions -= (config.pad_token_id or 0) + 1
    return min(positions, tokenizer.model_max_length)
