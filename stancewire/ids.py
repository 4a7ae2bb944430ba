"""Stable keys: every id is a content hash, so reruns land on the same rows."""

import hashlib
from collections.abc import Iterable


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def stable_id(*parts: object) -> str:
    """A 32-hex-digit id from the parts, joined unambiguously."""
    return sha256_hex("\x1f".join(str(p) for p in parts))[:32]


def stable_groups(ids: Iterable[str], mean: int = 16) -> list[list[str]]:
    """The ids, sorted, cut after every id whose hash falls in 1/`mean` of the range, and after 2 x `mean` ids at
    the most. Where a cut falls depends on the ids since the last cut alone, not on how many others are listed, so
    whole groups listed again (the batches a killed run lost) group the same way: a model sees the same companions
    in its batches and gives bit-identical results."""
    groups: list[list[str]] = [[]]
    for item in sorted(set(ids)):
        groups[-1].append(item)
        if int(sha256_hex(item)[:8], 16) % mean == 0 or len(groups[-1]) == 2 * mean:
            groups.append([])
    return [g for g in groups if g]
