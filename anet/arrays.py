"""Array helpers the walk and the debugger share: bounded pieces of a big array, fingerprints.

Both touch every element of arrays that may hold 10⁸ of them, so both work in pieces of at most
``CHUNK`` elements: temporaries stay small and nothing is copied whole.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np

CHUNK = 1 << 20  # elements per chunk: bounds the temporaries of a summary or fingerprint
_crc32 = zlib.crc32


def chunks(a: np.ndarray, limit: int = CHUNK) -> Iterator[np.ndarray]:
    """Pieces of ``a`` (views where possible) of at most about ``limit`` elements, covering it."""
    if a.size <= limit:
        yield a
    elif a.flags.c_contiguous:
        flat = a.reshape(-1)
        for i in range(0, flat.size, limit):
            yield flat[i : i + limit]
    elif a.ndim == 1:
        for i in range(0, a.size, limit):
            yield a[i : i + limit]
    else:
        rows = max(1, limit // (a.size // a.shape[0]))
        for i in range(0, a.shape[0], rows):
            yield from chunks(a[i : i + rows], limit)


SMALL = 256  # bytes: an array this small is its own fingerprint


def fingerprint(a: np.ndarray) -> int | bytes:
    """What tells whether ``a``'s values changed: a small array's bytes themselves (exact, and
    4× cheaper to take than a crc on a learner's tiny tensors), else crc32 of its values, in
    place when contiguous, else chunk by chunk (O(size))."""
    if a.nbytes <= SMALL:
        return a.tobytes()
    try:
        return _crc32(a)  # the common case, a C-contiguous array, asks no flags first
    except ValueError:  # "ndarray is not C-contiguous"
        pass
    if a.flags.f_contiguous:
        return _crc32(a.T)
    crc = 0
    for c in chunks(a):
        crc = _crc32(np.ascontiguousarray(c), crc)
    return crc
