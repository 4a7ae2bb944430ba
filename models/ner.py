"""Named-entity recognition: token classification over windows, aggregated to words, then to character spans."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from transformers import AutoModelForTokenClassification, PreTrainedTokenizerBase

from models.batching import forward_logits, softmax
from models.loading import LoadedModel, ModelUnavailable, Runner, default_token_budget, load
from stancewire.config import ModelSpec

SETTING = "STANCEWIRE_NER_MODEL / --ner-model"
_PREFIXED = re.compile(r"([BI])[-_](.+)")


@dataclass(frozen=True)
class Mention:
    start: int  # char offsets into the input text, end exclusive
    end: int
    label: str  # entity type without the B-/I- prefix
    score: float  # mean over the entity's words of the first sub-token's label probability


def parse_label(name: str) -> tuple[str, str]:
    """("O", "") outside, ("B", type) begins an entity, ("I", type) continues one; unprefixed (IO) types are "I"."""
    if name.upper() == "O":
        return "O", ""
    prefixed = _PREFIXED.fullmatch(name)
    return (prefixed[1], prefixed[2]) if prefixed else ("I", name)


def plan_windows(n_tokens: int, size: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(start, end, keep_start, keep_end) windows covering all tokens.

    Consecutive windows overlap by at least `overlap` tokens and the overlap is split at its middle, so every
    token's prediction comes from the window where it is farther from a cut edge. The last window ends at the text
    end, so all windows are full-size.
    """
    if n_tokens <= size:
        return [(0, n_tokens, 0, n_tokens)]
    starts = [*range(0, n_tokens - size, size - overlap), n_tokens - size]
    cuts = (
        [0] + [(previous + size + start) // 2 for previous, start in zip(starts, starts[1:], strict=False)] + [n_tokens]
    )
    return [(start, start + size, cuts[k], cuts[k + 1]) for k, start in enumerate(starts)]


def _special_affixes(tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after a single sequence."""
    full = tokenizer("x", add_special_tokens=True)["input_ids"]
    bare = tokenizer("x", add_special_tokens=False)["input_ids"]
    for i in range(len(full) - len(bare) + 1):
        if full[i : i + len(bare)] == bare:
            return full[:i], full[i + len(bare) :]
    raise ModelUnavailable(f"cannot tell the tokenizer's special tokens from the text; set {SETTING} to another model")


class NerRunner(Runner):
    def __init__(self, loaded: LoadedModel, token_budget: int):
        super().__init__(loaded, token_budget)
        config = loaded.model.config
        self._tags = [parse_label(config.id2label[i]) for i in range(config.num_labels)]
        self._prefix, self._suffix = _special_affixes(loaded.tokenizer)
        self._window = loaded.max_tokens - len(self._prefix) - len(self._suffix)
        self._overlap = self._window // 4

    def __call__(self, texts: Sequence[str]) -> list[list[Mention]]:
        """Mentions per text. Identical texts (boilerplate repeated across articles) go through the model once."""
        unique = list(dict.fromkeys(text for text in texts if text and not text.isspace()))
        found = dict(zip(unique, self._mentions(unique), strict=False)) if unique else {}
        return [list(found.get(text, ())) for text in texts]

    def _mentions(self, texts: list[str]) -> list[list[Mention]]:
        tokenizer = self._loaded.tokenizer
        encoded = tokenizer(
            texts,
            add_special_tokens=False,
            return_offsets_mapping=True,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,  # texts longer than the model limit are expected: they are windowed below
        )
        rows, placements = [], []
        for j, ids in enumerate(encoded["input_ids"]):
            for start, end, keep_start, keep_end in plan_windows(len(ids), self._window, self._overlap):
                placements.append((j, len(rows), start, keep_start, keep_end))
                rows.append({"input_ids": self._prefix + ids[start:end] + self._suffix})
        logits = forward_logits(
            self._loaded.model, rows, tokenizer.pad_token_id or 0, self._token_budget, self._loaded.device
        )
        probs = [np.empty((len(ids), len(self._tags)), np.float32) for ids in encoded["input_ids"]]
        for j, row, start, keep_start, keep_end in placements:
            first = len(self._prefix) + keep_start - start
            probs[j][keep_start:keep_end] = softmax(logits[row][first : first + keep_end - keep_start])
        return [
            self._entities(self._words(text, encoded["offset_mapping"][j], encoded.word_ids(j), probs[j]))
            for j, text in enumerate(texts)
        ]

    @staticmethod
    def _words(text: str, offsets, word_ids, probs: np.ndarray) -> list[list]:
        """[start, end, label id, score] per word, labelled by its first sub-token.

        Words are the tokenizer's pre-tokenized words, additionally split around punctuation-only sub-tokens:
        sentencepiece tokenizers keep "Russia," or "l'ONU" as one word, and the comma or the article is not part of
        the entity. Offsets are trimmed of whitespace ("▁" pieces may cover the preceding space).
        """
        labels, scores = probs.argmax(axis=1), probs.max(axis=1)
        words: list[list] = []
        previous = (None, (-1, -1), True)  # word id, span, punctuation-only
        for (start, end), word_id, label, score in zip(offsets, word_ids, labels, scores, strict=False):
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if start == end or (start, end) == previous[1]:  # a bare "▁" piece spans the character after it
                continue
            punctuation = not any(c.isalnum() for c in text[start:end])
            if words and word_id == previous[0] and not punctuation and not previous[2]:
                words[-1][1] = max(words[-1][1], end)
            else:
                words.append([start, end, int(label), float(score)])
            previous = (word_id, (start, end), punctuation)
        return words

    def _entities(self, words: list[list]) -> list[Mention]:
        mentions: list[Mention] = []
        current: list | None = None  # [start, end, type, scores]

        def close() -> None:
            if current:
                mentions.append(Mention(current[0], current[1], current[2], float(np.mean(current[3]))))

        for start, end, label, score in words:
            kind, entity_type = self._tags[label]
            if kind == "I" and current and current[2] == entity_type:
                current[1] = end
                current[3].append(score)
                continue
            close()
            current = None if kind == "O" else [start, end, entity_type, [score]]
        close()
        return mentions


def load_ner(
    spec: ModelSpec,
    device: str = "auto",
    token_budget: int | None = None,
    precision: str = "fp32",
    backend: str = "torch",
) -> NerRunner:
    """Load a token-classification model (Hub id or local directory); raises ModelUnavailable."""
    loaded = load(spec, AutoModelForTokenClassification, SETTING, device, precision, backend)
    return NerRunner(
        loaded, token_budget or default_token_budget(loaded.device, loaded.model.config, loaded.precision.backend)
    )
