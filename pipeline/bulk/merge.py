"""Which record of each PMID survives a baseline and its update files.

Files are applied in order (baseline 0001..N, then updates): a PMID's record
from a later file replaces an earlier one unless the earlier one carries a
newer ``PMID/@Version``; a ``DeleteCitation`` removes what earlier files said
(a later file may add the PMID back). Pure: FileParse summaries in, winners out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.bulk.parse import FileParse

VERSION_SPAN = 1_000  # pmid * SPAN + version: one int64 key per (PMID, version)


@dataclass(frozen=True, slots=True)
class Winners:
    pmids: np.ndarray  # every PMID with a surviving record, ascending
    deleted: frozenset[int]  # deleted and not added back
    # Per file index: the winning (PMID, version) keys and PMIDs it holds, grouped
    # once here rather than by a scan of every winner for each file and table.
    by_file: dict[int, tuple[pa.Array, pa.Array]] = field(default_factory=dict)

    def __contains__(self, pmid: object) -> bool:
        if not isinstance(pmid, int):
            return False
        at = int(np.searchsorted(self.pmids, pmid))
        return at < len(self.pmids) and int(self.pmids[at]) == pmid

    def __len__(self) -> int:
        return len(self.pmids)

    def keys_from(self, index: int) -> pa.Array:
        return self.by_file[index][0] if index in self.by_file else _EMPTY

    def pmids_from(self, index: int) -> pa.Array:
        return self.by_file[index][1] if index in self.by_file else _EMPTY


_EMPTY = pa.array([], pa.int64())


def choose(parses: Iterable[FileParse]) -> Winners:
    """The surviving record of each PMID, as numpy arrays over the PMIDs seen.

    A file at a time, in file order: within a file a PMID's newest version
    counts (parse_file keeps one record per PMID and file); it replaces the current record unless
    that one is newer; then the file's deletions remove what earlier files
    said. The same fold as one record at a time (tests/bulk/test_merge.py
    checks it against one), but with arrays: all of PubMed is some 36 million
    records, and a dict of them costs gigabytes.
    """
    ordered = sorted(parses, key=lambda p: p.index)
    records = [np.asarray(p.pmids, np.int64) for p in ordered]
    deletions = [np.asarray(p.deleted, np.int64) for p in ordered]
    universe = _distinct(np.concatenate([np.zeros(0, np.int64), *records, *deletions]))
    current = np.full(len(universe), -1, np.int64)  # file index of the survivor; -1: none
    version = np.zeros(len(universe), np.int64)
    deleted = np.zeros(len(universe), bool)
    for parse, pmids, gone in zip(ordered, records, deletions, strict=True):
        codes, newest = _newest_per_pmid(
            np.searchsorted(universe, pmids), np.asarray(parse.versions, np.int64)
        )
        replace = (current[codes] < 0) | (newest >= version[codes])
        wins = codes[replace]
        current[wins] = parse.index
        version[wins] = newest[replace]
        deleted[wins] = False
        gone_codes = np.searchsorted(universe, gone)
        hit = gone_codes[(current[gone_codes] >= 0) & (current[gone_codes] < parse.index)]
        current[hit] = -1
        deleted[hit] = True
    alive = current >= 0
    return Winners(
        universe[alive],
        frozenset(universe[deleted].tolist()),
        _group_by_file(universe[alive], current[alive], version[alive]),
    )


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values. A sort: numpy 2's hash-based unique is several times
    slower on tens of millions of integers."""
    values = np.sort(values)
    keep = np.ones(len(values), bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _newest_per_pmid(codes: np.ndarray, versions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct code once, with its highest version."""
    if len(codes) == 0:
        return codes, versions
    order = np.lexsort((versions, codes))  # by code, then version
    codes, versions = codes[order], versions[order]
    last = np.ones(len(codes), bool)
    last[:-1] = codes[1:] != codes[:-1]
    return codes[last], versions[last]


def _group_by_file(
    pmids: np.ndarray, files: np.ndarray, versions: np.ndarray
) -> dict[int, tuple[pa.Array, pa.Array]]:
    order = np.lexsort((pmids, files))
    pmids, files, versions = pmids[order], files[order], versions[order]
    out: dict[int, tuple[pa.Array, pa.Array]] = {}
    if len(files) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, files[1:] != files[:-1]]).tolist()
    for start, stop in zip(starts, [*starts[1:], len(files)], strict=True):
        keys = pa.array(pmids[start:stop] * VERSION_SPAN + versions[start:stop], pa.int64())
        out[int(files[start])] = (keys, pa.array(pmids[start:stop], pa.int64()))
    return out


def surviving_rows(table_name: str, part: pa.Table, index: int, winners: Winners) -> pa.Table:
    """The rows of one file's part that belong to the winning records."""
    if table_name == "rejects":
        return part
    if table_name in ("articles", "citefields", "journals"):
        keys = pc.add(
            pc.multiply(part["pmid"], pa.scalar(VERSION_SPAN, pa.int64())),
            pc.cast(part["pmid_version"], pa.int64()),
        )
        return part.filter(pc.is_in(keys, value_set=winners.keys_from(index)))
    return part.filter(pc.is_in(part["pmid"], value_set=winners.pmids_from(index)))


def ordered(parses: Sequence[FileParse]) -> list[FileParse]:
    return sorted(parses, key=lambda p: p.index)
