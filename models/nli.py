"""Natural-language inference: (premise, hypothesis) -> P(entailment, neutral, contradiction)."""

from collections.abc import Sequence

import numpy as np
from transformers import AutoModelForSequenceClassification

from models.batching import forward_logits, softmax
from models.loading import LoadedModel, ModelUnavailable, Runner, default_token_budget, load
from stancewire.config import ModelSpec

SETTING = "STANCEWIRE_NLI_MODEL / --nli-model"
COLUMNS = ("entailment", "neutral", "contradiction")


def label_columns(id2label: dict[int, str]) -> list[int]:
    """Model output index of each of COLUMNS; -1 for neutral/contradiction in a two-way (not_entailment) model."""
    names = {str(name).lower().replace("-", "_").replace(" ", "_"): int(i) for i, name in id2label.items()}
    if set(names) == set(COLUMNS):
        return [names[c] for c in COLUMNS]
    two_way = {"entailment"} | ({"not_entailment", "non_entailment"} & set(names))
    if len(names) == 2 and set(names) == two_way:
        return [names["entailment"], -1, -1]
    raise ModelUnavailable(
        f"NLI labels {sorted(id2label.values())} are not entailment/neutral/contradiction (or entailment/"
        f"not_entailment); set {SETTING} to an NLI model"
    )


class NliRunner(Runner):
    def __init__(self, loaded: LoadedModel, token_budget: int):
        super().__init__(loaded, token_budget)
        self._columns = label_columns(loaded.model.config.id2label)
        # Room a hypothesis may take while leaving the premise at least one token under only_first truncation.
        self._hypothesis_room = loaded.max_tokens - loaded.tokenizer.num_special_tokens_to_add(pair=True) - 1

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """P(entailment, neutral, contradiction) per pair. Identical pairs go through the model once."""
        if not pairs:
            return np.zeros((0, len(COLUMNS)))
        index = {pair: i for i, pair in enumerate(dict.fromkeys(map(tuple, pairs)))}
        unique = list(index)
        return self._probabilities(unique)[[index[tuple(pair)] for pair in pairs]]

    def _probabilities(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        rows = self._encode([p for p, _ in pairs], [h for _, h in pairs])
        logits = forward_logits(
            self._loaded.model, rows, self._loaded.tokenizer.pad_token_id or 0, self._token_budget, self._loaded.device
        )
        probs = softmax(np.stack(logits).astype(np.float64))
        entail, neutral, contradiction = self._columns
        if neutral < 0:
            return np.stack([probs[:, entail], 1.0 - probs[:, entail], np.zeros(len(probs))], axis=1)
        return probs[:, [entail, neutral, contradiction]]

    def _encode(self, premises: list[str], hypotheses: list[str]) -> list[dict[str, list[int]]]:
        """Truncate premises only, so the claim is always seen whole; a claim too long for that shares the cut."""
        tokenizer = self._loaded.tokenizer
        keep = [k for k in tokenizer.model_input_names if k != "attention_mask"]
        encoded = tokenizer(hypotheses, add_special_tokens=False, return_attention_mask=False, verbose=False)
        hypothesis_lengths = [len(ids) for ids in encoded["input_ids"]]
        rows: list[dict[str, list[int]]] = [{} for _ in premises]
        for strategy, fits in (("only_first", True), ("longest_first", False)):
            idx = [i for i, n in enumerate(hypothesis_lengths) if (n <= self._hypothesis_room) == fits]
            if not idx:
                continue
            encoded = tokenizer(
                [premises[i] for i in idx],
                [hypotheses[i] for i in idx],
                truncation=strategy,
                max_length=self._loaded.max_tokens,
                return_attention_mask=False,
            )
            for j, i in enumerate(idx):
                rows[i] = {k: encoded[k][j] for k in keep if k in encoded}
        return rows


def load_nli(
    spec: ModelSpec,
    device: str = "auto",
    token_budget: int | None = None,
    precision: str = "fp32",
    backend: str = "torch",
) -> NliRunner:
    """Load a sequence-pair classification (NLI) model (Hub id or local directory); raises ModelUnavailable."""
    loaded = load(spec, AutoModelForSequenceClassification, SETTING, device, precision, backend)
    return NliRunner(
        loaded, token_budget or default_token_budget(loaded.device, loaded.model.config, loaded.precision.backend)
    )
