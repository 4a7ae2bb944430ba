"""Length-sorted batches under a padded-token budget, run through a model without a per-item loop."""

from collections.abc import Sequence

import numpy as np
import torch
from transformers import PreTrainedModel


def plan_batches(lengths: Sequence[int], token_budget: int) -> list[list[int]]:
    """Indices grouped longest first so that rows x longest row <= token_budget; a longer row goes alone."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    for i in order:
        if batches and (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= token_budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def _pad(rows: list[dict[str, list[int]]], pad_id: int, device: torch.device) -> dict[str, torch.Tensor]:
    width = max(len(r["input_ids"]) for r in rows)
    arrays = {key: np.full((len(rows), width), pad_id if key == "input_ids" else 0, np.int64) for key in rows[0]}
    arrays["attention_mask"] = np.zeros((len(rows), width), np.int64)
    for i, row in enumerate(rows):
        for key, values in row.items():
            arrays[key][i, : len(values)] = values
        arrays["attention_mask"][i, : len(row["input_ids"])] = 1
    return {key: torch.from_numpy(a).to(device, non_blocking=True) for key, a in arrays.items()}


def softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


@torch.inference_mode()
def forward_logits(
    model: PreTrainedModel,
    rows: Sequence[dict[str, list[int]]],
    pad_id: int,
    token_budget: int,
    device: torch.device,
) -> list[np.ndarray]:
    """Float32 logits per row, in input order: (len(row), labels) for token heads, (labels,) for sequence heads."""
    out: list[np.ndarray | None] = [None] * len(rows)
    for batch in plan_batches([len(r["input_ids"]) for r in rows], token_budget):
        logits = model(**_pad([rows[i] for i in batch], pad_id, device)).logits.float().cpu().numpy()
        for i, row_logits in zip(batch, logits, strict=False):
            out[i] = row_logits[: len(rows[i]["input_ids"])] if row_logits.ndim == 2 else row_logits
    return out


@torch.inference_mode()
def forward_mean_pooled(
    model: PreTrainedModel,
    rows: Sequence[dict[str, list[int]]],
    pad_id: int,
    token_budget: int,
    device: torch.device,
) -> np.ndarray:
    """(len(rows), hidden) float32: each row's last hidden states averaged over its own tokens, in input order."""
    out = np.zeros((len(rows), model.config.hidden_size), np.float32)
    for batch in plan_batches([len(r["input_ids"]) for r in rows], token_budget):
        inputs = _pad([rows[i] for i in batch], pad_id, device)
        hidden = model(**inputs).last_hidden_state.float()
        mask = inputs["attention_mask"].unsqueeze(-1).float()
        out[batch] = ((hidden * mask).sum(1) / mask.sum(1)).cpu().numpy()
    return out
