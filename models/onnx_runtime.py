"""ONNX Runtime as the CPU kernel for fp32 (and int8) inference: each model exported once per revision into the model
cache, then run by ORT's graph-optimised MLAS kernels behind the interface the runners already call (`model(**batch)
.logits`), so batching, windowing and label handling stay those of torch. Optional: `pip install 'stancewire[onnx]'`."""

import functools
import hashlib
import logging
import os
import tempfile
import warnings
from pathlib import Path
from types import SimpleNamespace

import torch
from huggingface_hub import constants
from transformers import PreTrainedModel, PreTrainedTokenizerBase

EXTRA_HINT = "install the ONNX Runtime extra (pip install 'stancewire[onnx]') or set --backend torch"


@functools.cache
def available() -> bool:
    """Whether the onnx extra is installed (onnxruntime to run, onnx to export)."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def cache_root() -> Path:
    """Exported graphs live beside the Hugging Face cache (STANCEWIRE_ONNX_CACHE overrides)."""
    return Path(os.environ.get("STANCEWIRE_ONNX_CACHE") or Path(constants.HF_HOME) / "stancewire-onnx")


def exported_path(model_id: str, revision: str, precision: str) -> Path:
    """One file per model, revision and precision: a new revision exports anew, an old one is reused."""
    key = hashlib.sha256(model_id.encode()).hexdigest()[:12]
    return cache_root() / f"{key}-{revision}" / f"model-{precision}.onnx"


class OrtModel:
    """An InferenceSession that answers like a transformers model: `model(**tensors).logits`, and `.config`."""

    def __init__(self, path: Path, config, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.config = config
        self.path = path

    def __call__(self, **batch: torch.Tensor) -> SimpleNamespace:
        # Rows that carry no token_type_ids (NER's) mean segment 0 everywhere, as torch's models default to.
        ids = batch["input_ids"]
        feed = {name: batch.get(name, torch.zeros_like(ids)).cpu().numpy() for name in self.inputs}
        (logits,) = self.session.run(["logits"], feed)
        return SimpleNamespace(logits=torch.from_numpy(logits))


def to_onnx(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    model_id: str,
    revision: str,
    precision: str,
    threads: int,
) -> OrtModel:
    """The model as an ORT session at `precision` (fp32 or int8, as models/precision.py allows), exported on first
    use and reused after."""
    path = exported_path(model_id, revision, precision)
    if not path.is_file():
        fp32 = exported_path(model_id, revision, "fp32")
        if not fp32.is_file():
            _export(model, tokenizer, fp32)
        if precision == "int8":
            _quantize(fp32, path)
    return OrtModel(path, model.config, threads)


def _export(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, path: Path) -> None:
    """Trace with dynamic batch and sequence axes, written to a temporary name and renamed, so that a killed export
    never leaves a half file that a later run would load."""
    sample = tokenizer(
        ["stancewire export", "a longer second row for the trace"],
        padding=True,
        truncation=True,
        max_length=8,  # any model's limit allows this; the axes are dynamic
        return_tensors="pt",
    )
    names = [name for name in tokenizer.model_input_names if name in sample]
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["logits"] = {0: "batch"} | ({1: "sequence"} if _token_head(model) else {})
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer warns about every Python-level branch on shapes
        partial = Path(tmp) / path.name
        wrapped = _LogitsOnly(model.float().eval(), names)
        torch.onnx.export(
            wrapped,
            tuple(sample[name] for name in names),
            str(partial),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
        os.replace(partial, path)


def _quantize(source: Path, path: Path) -> None:
    """Dynamic int8 (weights per channel, activations per batch), written and renamed like an export."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # it advises pre-processing through the root logger on every call
    try:
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            partial = Path(tmp) / path.name
            quantize_dynamic(str(source), str(partial), weight_type=QuantType.QInt8, per_channel=True)
            os.replace(partial, path)
    finally:
        logging.disable(logging.NOTSET)


def _token_head(model: PreTrainedModel) -> bool:
    return type(model).__name__.endswith("ForTokenClassification")


class _LogitsOnly(torch.nn.Module):
    """Positional inputs in the tokenizer's order, logits out: what the exporter traces."""

    def __init__(self, model: PreTrainedModel, names: list[str]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, tensors, strict=True))).logits
