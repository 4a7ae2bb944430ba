"""Numeric precision of inference: what the hardware runs natively, detected at run time, never assumed."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import get_args

import torch

from models import onnx_runtime
from stancewire.config import Backend as BackendName
from stancewire.config import Precision as PrecisionName

PRECISIONS: tuple[str, ...] = get_args(PrecisionName)
BACKENDS: tuple[str, ...] = get_args(BackendName)
_CPUINFO = Path("/proc/cpuinfo")
# CPU features that run bf16 matrix products natively (oneDNN uses them through torch).
CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@dataclass(frozen=True)
class Precision:
    name: str  # fp32 | bf16 | fp16 | int8
    kernel: str  # what runs it, e.g. "cpu avx512_bf16", "cpu AVX2 (bf16 emulated)", "cuda NVIDIA H100"
    backend: str = "torch"  # torch | onnx (ONNX Runtime, models/onnx_runtime.py)

    @property
    def dtype(self) -> torch.dtype:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.name, torch.float32)

    def tag(self, revision: str) -> str:
        """The revision derived rows record: the model's own for fp32 (ONNX Runtime's fp32 equals torch's within
        1e-4), marked with the precision otherwise (and the backend, whose int8 schemes differ), so that results of
        different precisions are told apart and a change of precision recomputes them."""
        if self.name == "fp32":
            return revision
        return f"{revision}+{self.name}" + ("-onnx" if self.backend == "onnx" else "")

    def describe(self) -> str:
        """What the run records, e.g. "bf16 on cpu avx512_bf16 (torch)"."""
        return f"{self.name} on {self.kernel} ({self.backend})"


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where they cannot be read."""
    try:
        for line in _CPUINFO.read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def cpu_capability() -> str:
    """torch's vector instruction level on this CPU (e.g. AVX512, AVX2, DEFAULT)."""
    return torch.backends.cpu.get_cpu_capability()


def choose_precision(requested: str, device: torch.device, backend: str = "auto") -> Precision:
    """The precision to run at on `device`, and the backend that runs it. auto: bf16 on CPUs with native bf16 and on
    GPUs that support it, fp16 on older GPUs, fp32 otherwise; fp32 on CPU runs on ONNX Runtime where the onnx extra
    is installed (backend auto). An explicit choice the machine cannot run is a ValueError naming the fix."""
    if requested not in PRECISIONS:
        raise ValueError(f"unknown precision {requested!r}; use one of {', '.join(PRECISIONS)}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if backend == "onnx" and device.type != "cpu":
        raise ValueError(f"the onnx backend runs on CPU only, but the device is {device}; set --backend torch")
    if device.type == "cuda":
        return _gpu_precision(requested, device)
    if device.type == "mps":
        if requested in ("bf16", "int8"):
            raise ValueError(f"{requested} is not supported on mps; set --precision auto, fp16 or fp32")
        return Precision("fp16" if requested == "auto" else requested, "mps")
    native = [flag for flag in CPU_BF16_FLAGS if flag in cpu_flags()]
    if requested == "auto":
        requested = "fp32" if backend == "onnx" or not native else "bf16"
    if requested == "fp16":
        raise ValueError("fp16 runs on GPUs only; on CPU set --precision (STANCEWIRE_PRECISION) to auto, bf16 or fp32")
    if requested == "bf16":
        if backend == "onnx":
            raise ValueError("the onnx backend runs fp32 or int8; set --backend torch for bf16")
        return Precision("bf16", f"cpu {native[0]}" if native else f"cpu {cpu_capability()} (bf16 emulated)")
    onnx = backend == "onnx" or (backend == "auto" and requested == "fp32" and onnx_runtime.available())
    if onnx and not onnx_runtime.available():
        raise ValueError(f"the onnx backend is not installed: {onnx_runtime.EXTRA_HINT}")
    kernel = f"cpu {cpu_capability()}" + (" (dynamic int8)" if requested == "int8" else "")
    return Precision(requested, kernel, "onnx" if onnx else "torch")


def _gpu_precision(requested: str, device: torch.device) -> Precision:
    if requested == "int8":
        raise ValueError(f"int8 runs on CPU only, but the device is {device}; set --device cpu or another precision")
    name = torch.cuda.get_device_name(device)
    if requested == "auto":
        requested = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if requested == "bf16" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"{name} has no bf16 support; set --precision auto, fp16 or fp32")
    return Precision(requested, f"cuda {name}")
