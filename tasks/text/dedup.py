"""Exact and near-duplicate detection of article texts.

Exact: sha256 of the text with case, punctuation, digits' formatting and spacing normalised away. Near: MinHash
(NUM_PERM permutations) of word 3-shingles; two texts whose estimated Jaccard similarity is at least
NEAR_DUPLICATE_JACCARD are the same article (a syndicated copy, a rerun with a changed headline or an extra line).
A copy with a word changed and a line of chrome or an agency credit added scores above 0.8; a version with a
quarter of its text rewritten falls below the threshold and is scored on its own; distinct articles on the same
story stay under 0.05 (bench/cleaning_quality.py prints the figures). The estimate has a standard error of about
sqrt(J(1-J)/NUM_PERM), 0.06 at J = 0.7.
"""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import polars as pl

from stancewire.ids import sha256_hex

NUM_PERM = 64
SHINGLE_WORDS = 3
NEAR_DUPLICATE_JACCARD = 0.7
MIN_SHINGLES = 8  # shorter texts are only compared exactly: a few shared shingles say nothing

_WORD = re.compile(r"[^\W_]+")
_RNG = np.random.default_rng(20250101)  # fixed: signatures must stay comparable across runs and versions
_A = _RNG.integers(0, 1 << 63, NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd multipliers
_B = _RNG.integers(0, 1 << 63, NUM_PERM, dtype=np.uint64)

FINGERPRINTS = ["article_id", "text_hash_normalised", "minhash"]


@dataclass(frozen=True)
class Fingerprint:
    text_hash_normalised: str
    minhash: bytes | None  # NUM_PERM little-endian uint32; None for texts too short to compare approximately


def fingerprint(text: str) -> Fingerprint:
    words = _WORD.findall(text.lower())
    normalised = sha256_hex(" ".join(words))
    shingles = {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}
    if len(shingles) < MIN_SHINGLES:
        return Fingerprint(normalised, None)
    hashes = np.fromiter(
        (int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest(), "little") for s in shingles),
        dtype=np.uint64,
        count=len(shingles),
    )
    # Multiply-shift hashing (a odd): ((a*x + b) mod 2**64) >> 32 is a universal family on 32-bit keys.
    with np.errstate(over="ignore"):
        permuted = (_A[:, None] * hashes[None, :] + _B[:, None]) >> np.uint64(32)
    return Fingerprint(normalised, permuted.min(axis=1).astype("<u4").tobytes())


class DuplicateLookup(Protocol):
    """Where stored canonical articles are looked up: an index holding at least every one that may match."""

    def index_for(self, fingerprints: Sequence[Fingerprint]) -> "DuplicateIndex": ...


class DuplicateIndex:
    """The fingerprints of canonical (non-duplicate) articles; `match` finds the one a new text duplicates."""

    def __init__(self, known: pl.DataFrame | None = None) -> None:
        """`known`: rows with the FINGERPRINTS columns, e.g. Store.duplicate_candidates(...)."""
        self._by_hash: dict[str, str] = {}
        self._ids: list[str] = []
        self._signatures: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None
        if known is not None:
            self.add_articles(known)

    def add_articles(self, articles: pl.DataFrame) -> None:
        """Index the canonical rows (duplicate_of null, when the frame has it) of a frame with article_id,
        text_hash_normalised and minhash."""
        if "duplicate_of" in articles.columns:
            articles = articles.filter(pl.col("duplicate_of").is_null())
        for row in articles.select(FINGERPRINTS).iter_rows(named=True):
            self.add(row["article_id"], Fingerprint(row["text_hash_normalised"], row["minhash"]))

    def add(self, article_id: str, fp: Fingerprint) -> None:
        self._by_hash.setdefault(fp.text_hash_normalised, article_id)
        if fp.minhash is not None:
            self._ids.append(article_id)
            self._signatures.append(np.frombuffer(fp.minhash, dtype="<u4"))
            self._matrix = None

    def index_for(self, fingerprints: Sequence[Fingerprint]) -> "DuplicateIndex":
        return self  # it holds every candidate already

    def match(self, fp: Fingerprint) -> tuple[str, float] | None:
        """(canonical article_id, estimated Jaccard similarity; 1.0 for an exact match) or None."""
        if (exact := self._by_hash.get(fp.text_hash_normalised)) is not None:
            return exact, 1.0
        if fp.minhash is None or not self._ids:
            return None
        if self._matrix is None:
            self._matrix = np.vstack(self._signatures)
        similarity = (self._matrix == np.frombuffer(fp.minhash, dtype="<u4")).mean(axis=1)
        best = int(similarity.argmax())
        if similarity[best] >= NEAR_DUPLICATE_JACCARD:
            return self._ids[best], float(similarity[best])
        return None
