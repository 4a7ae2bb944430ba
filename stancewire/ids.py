"""Stable keys: every id is a content hash, so reruns land on the same rows."""

import hashlib


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def stable_id(*parts: object) -> str:
    """A 32-hex-digit id from the parts, joined unambiguously."""
    return sha256_hex("\x1f".join(str(p) for p in parts))[:32]
