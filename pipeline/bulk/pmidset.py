"""A set of PMIDs as a bitmap: what every parse worker is sent to know which records to keep.

With every MedGen concept the linked PMIDs number tens of millions: as a frozenset
that is gigabytes, pickled again for every one of 1,334 files. PMIDs are dense
integers below 10^8, so one bit each is at most 12.5 MB, whatever the count.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class PmidSet:
    """Membership of positive integers; built once, read by ``in``."""

    __slots__ = ("_bits", "_size")

    def __init__(self, pmids: Iterable[int] | np.ndarray) -> None:
        values = np.asarray(pmids if isinstance(pmids, np.ndarray) else list(pmids), np.int64)
        if values.size and values.min() < 0:
            raise ValueError("a PMID is never negative")
        top = int(values.max()) + 1 if values.size else 0
        flags = np.zeros(top, dtype=bool)
        flags[values] = True
        self._bits = np.packbits(flags, bitorder="little").tobytes()
        self._size = int(np.count_nonzero(flags))

    def __contains__(self, pmid: object) -> bool:
        if not isinstance(pmid, int) or pmid < 0:
            return False
        byte = pmid >> 3
        return byte < len(self._bits) and bool(self._bits[byte] >> (pmid & 7) & 1)

    def __len__(self) -> int:
        return self._size
