"""Models that stay loaded in the process that runs them.

A `ResidentModel` is a small picklable handle: sent to a Dask worker (or used in the flow's own process) it loads its
model on first use and keeps it for every later batch, and for later runs while the process lives. Each process holds
at most one model per kind, so a changed model (new revision, device or budget) replaces the old one.
"""

import socket
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from models.loading import ModelUnavailable, Runner
from models.ner import load_ner
from models.nli import load_nli
from stancewire.config import ModelSpec

_LOADERS = {"ner": load_ner, "nli": load_nli}
_lock = threading.Lock()
_loaded: dict[str, tuple[tuple, Runner]] = {}
_loads: Counter[str] = Counter()


@dataclass(frozen=True)
class ResidentModel:
    """A NER or NLI model named by what the flow resolved; callable like the runner it loads."""

    kind: Literal["ner", "nli"]
    spec: ModelSpec = field(hash=False)
    model_id: str
    revision: str  # what the flow resolved: a process that finds another revision refuses to run
    device: str = "auto"
    token_budget: int | None = None
    precision: str = "fp32"  # as chosen by the flow (models/precision.py), never "auto"
    backend: str = "torch"  # likewise

    def __call__(self, inputs: Sequence[Any]) -> Any:
        return self.runner()(inputs)

    def runner(self) -> Runner:
        key = (
            self.spec.id,
            self.spec.revision,
            self.revision,
            self.device,
            self.token_budget,
            self.precision,
            self.backend,
        )
        with _lock:
            cached = _loaded.get(self.kind)
            if cached and cached[0] == key:
                return cached[1]
            _loaded.pop(self.kind, None)  # free the old model before loading the new one
            runner = _LOADERS[self.kind](self.spec, self.device, self.token_budget, self.precision, self.backend)
            if runner.revision != self.revision:
                raise ModelUnavailable(
                    f"{self.model_id!r} is revision {runner.revision} on {socket.gethostname()} but the flow resolved "
                    f"{self.revision}: every worker must see the same model files"
                )
            _loaded[self.kind] = (key, runner)
            _loads[self.kind] += 1
            return runner


def load_counts() -> dict[str, int]:
    """How many times this process has loaded a model of each kind (diagnostics: a worker should load each once)."""
    with _lock:
        return dict(_loads)
