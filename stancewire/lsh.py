"""Locality-sensitive hashing of MinHash signatures: the band keys the store looks near-duplicates up by.

A signature of 64 values is cut into BANDS bands of ROWS values; two articles become candidates when any band is
equal, which happens with probability 1 - (1 - J^ROWS)^BANDS for Jaccard similarity J: 0.9998 at J = 0.7 (the
near-duplicate threshold), 0.44 at J = 0.3, 0.02 at J = 0.1. Candidates are then compared on the whole signature, so
the decisions are the full comparison's except for the rare pair at the threshold that shares no band.
"""

import hashlib

BANDS = 21
ROWS = 3
_BYTES = 4 * ROWS  # signature values are little-endian uint32


def band_keys(minhash: bytes) -> list[int]:
    """One signed 64-bit key per band of a signature (band number mixed in, so equal keys mean the same band)."""
    return [
        int.from_bytes(
            hashlib.blake2b(minhash[b * _BYTES : (b + 1) * _BYTES], digest_size=8, person=b"band%02d" % b).digest(),
            "little",
            signed=True,
        )
        for b in range(BANDS)
    ]
