"""Which record of each PMID survives a baseline and its update files.

Files are applied in order (baseline 0001..N, then updates): a PMID's record
from a later file replaces an earlier one unless the earlier one carries a
newer ``PMID/@Version``; a ``DeleteCitation`` removes what earlier files said
(a later file may add the PMID back). Pure: FileParse summaries in, winners out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.bulk.parse import FileParse

VERSION_SPAN = 1_000  # pmid * SPAN + version: one int64 key per (PMID, version)


@dataclass(frozen=True, slots=True)
class Winners:
    by_pmid: dict[int, tuple[int, int]]  # PMID -> (file index, version)
    deleted: frozenset[int]  # deleted and not added back
    # Per file index: the winning (PMID, version) keys and PMIDs it holds, grouped
    # once here rather than by a scan of every winner for each file and table.
    by_file: dict[int, tuple[pa.Array, pa.Array]] = field(default_factory=dict)

    def keys_from(self, index: int) -> pa.Array:
        return self.by_file[index][0] if index in self.by_file else _EMPTY

    def pmids_from(self, index: int) -> pa.Array:
        return self.by_file[index][1] if index in self.by_file else _EMPTY


_EMPTY = pa.array([], pa.int64())


def _group_by_file(by_pmid: dict[int, tuple[int, int]]) -> dict[int, tuple[pa.Array, pa.Array]]:
    grouped: dict[int, list[tuple[int, int]]] = {}
    for pmid, (index, version) in by_pmid.items():
        grouped.setdefault(index, []).append((pmid, version))
    out = {}
    for index, pairs in grouped.items():
        pairs.sort()
        keys = pa.array([p * VERSION_SPAN + v for p, v in pairs], pa.int64())
        out[index] = (keys, pa.array([p for p, _ in pairs], pa.int64()))
    return out


def choose(parses: Iterable[FileParse]) -> Winners:
    current: dict[int, tuple[int, int]] = {}
    deleted: set[int] = set()
    for parse in sorted(parses, key=lambda p: p.index):
        for pmid, version in zip(parse.pmids, parse.versions, strict=True):
            old = current.get(pmid)
            if old is None or version >= old[1]:
                current[pmid] = (parse.index, version)
                deleted.discard(pmid)
        for pmid in parse.deleted:
            old = current.get(pmid)
            if old is not None and old[0] < parse.index:
                del current[pmid]
                deleted.add(pmid)
    return Winners(current, frozenset(deleted), _group_by_file(current))


def surviving_rows(table_name: str, part: pa.Table, index: int, winners: Winners) -> pa.Table:
    """The rows of one file's part that belong to the winning records."""
    if table_name == "rejects":
        return part
    if table_name == "journals":
        return part  # deduplicated by NLM ID when the parts are joined
    if table_name in ("articles", "citefields"):
        keys = pc.add(
            pc.multiply(part["pmid"], pa.scalar(VERSION_SPAN, pa.int64())),
            pc.cast(part["pmid_version"], pa.int64()),
        )
        return part.filter(pc.is_in(keys, value_set=winners.keys_from(index)))
    return part.filter(pc.is_in(part["pmid"], value_set=winners.pmids_from(index)))


def unique_journals(parts: Iterable[pa.Table]) -> Iterator[pa.Table]:
    """Each NLM ID once, its first occurrence in file order."""
    seen: set[str] = set()
    for part in parts:
        ids = part["nlm_id"].to_pylist()
        mask = []
        for nlm_id in ids:
            mask.append(nlm_id not in seen)
            seen.add(nlm_id)
        yield part.filter(pa.array(mask, pa.bool_()))


def ordered(parses: Sequence[FileParse]) -> list[FileParse]:
    return sorted(parses, key=lambda p: p.index)
