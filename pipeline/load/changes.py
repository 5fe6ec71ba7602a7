"""Reading two snapshots' sides for the comparison, and the ``changes`` table.

``compare`` (pipeline/transform/changes.py) is pure; here are the reads it
needs, from a published snapshot (every file checked against its manifest) or
from a run's staging directory, and what could not be read: a side without
a citations table tells no change, one without the articles table or its
``record_sha256`` column (an older snapshot, ``--tables`` without articles)
tells no ``modified``. Each such gap is a sentence for the manifest's warnings
or diff's output; it never fails a run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from pipeline.errors import MedgenEtlError, SnapshotError
from pipeline.load import layout, schemas
from pipeline.load.parquet import read_parquet
from pipeline.load.reader import PublishedSnapshot, open_snapshot
from pipeline.transform.changes import EMPTY, Change, Cited, Side, compare, counts

ARTICLES_FILE = "articles/part-0.parquet"
_CITATIONS_FILE = re.compile(r"citations/category=([^/]+)/part-0\.parquet")
_UNTOLD_MODIFIED = "modified records could not be told (added, removed and retracted were)"

# (file in the snapshot, columns wanted) -> those of the columns the file has.
Reader = Callable[[str, Sequence[str]], pa.Table]


@dataclass(frozen=True, slots=True)
class Read:
    """One snapshot's side, or None when it has no citations table; and its gaps."""

    side: Side | None
    gaps: tuple[str, ...]


def read_side(name: str, files: Collection[str], read: Reader) -> Read:
    """The side of the snapshot called ``name`` (in messages) holding ``files``."""
    parts = {m.group(1): rel for rel in files if (m := _CITATIONS_FILE.fullmatch(rel))}
    if not parts:
        return Read(None, (f"{name} has no citations table: no change could be told",))
    gaps: list[str] = []
    citations: dict[tuple[str, str], dict[int, Cited]] = {}
    for category, rel in sorted(parts.items()):
        table = read(rel, ("cui", "pmid", "rank", "retracted"))
        told = "retracted" in table.column_names
        flags = table["retracted"].to_pylist() if told else [None] * table.num_rows
        if not told:
            gaps.append(f"{rel} of {name} has no retracted column: retractions were not told")
        columns = (table[c].to_pylist() for c in ("cui", "pmid", "rank"))
        for cui, pmid, rank, flag in zip(*columns, flags, strict=True):
            citations.setdefault((cui, category), {})[pmid] = Cited(rank, flag)
    return Read(Side(citations, _digests(name, files, read, gaps)), tuple(gaps))


def _digests(
    name: str, files: Collection[str], read: Reader, gaps: list[str]
) -> dict[int, str] | None:
    if ARTICLES_FILE not in files:
        gaps.append(f"{name} has no articles table: {_UNTOLD_MODIFIED}")
        return None
    table = read(ARTICLES_FILE, ("pmid", "record_sha256"))
    if "record_sha256" not in table.column_names:
        gaps.append(
            f"{name}'s articles table has no record_sha256 (an older snapshot): {_UNTOLD_MODIFIED}"
        )
        return None
    return dict(zip(table["pmid"].to_pylist(), table["record_sha256"].to_pylist(), strict=True))


def published_side(path: Path) -> Read:
    """The side of the published snapshot at ``path``, every file checked first."""
    return snapshot_side(open_snapshot(path))


def snapshot_side(snapshot: PublishedSnapshot) -> Read:
    return read_side(f"snapshot {snapshot.path.name}", snapshot.files, snapshot.read)


@dataclass(frozen=True, slots=True)
class RunChanges:
    """A run's changes against its parent, for its snapshot and manifest."""

    table: pa.Table
    counts: dict[str, int]
    warnings: tuple[str, ...]


def run_changes(
    out_dir: Path, parent: str | None, staging: Path, files: Collection[str]
) -> RunChanges:
    """The changes of the run staged in ``staging`` (its ``files``) against ``parent``.

    This run's own files are read as written (an error reading them is the run's);
    the parent's are checked against its manifest, and a parent that is gone or
    cannot be read is a warning saying so, with no change told.
    """

    def staged(rel: str, columns: Sequence[str]) -> pa.Table:
        return read_parquet(staging / rel, rel, SnapshotError, columns)

    new = read_side("this snapshot", files, staged)
    warnings = [f"changes: {gap}" for gap in new.gaps]
    if new.side is None:
        return _finished([], warnings)
    if parent is None:
        return _finished(compare(EMPTY, new.side), warnings)
    path = out_dir / layout.SNAPSHOTS / parent
    if not path.is_dir():
        warnings.append(
            f"changes: the parent snapshot {parent} is gone (removed by gc?): "
            "no change could be told"
        )
        return _finished([], warnings)
    try:
        old = published_side(path)
    except MedgenEtlError as exc:
        warnings.append(
            f"changes: the parent snapshot {parent} cannot be read ({exc}): no change could be told"
        )
        return _finished([], warnings)
    warnings.extend(f"changes: {gap}" for gap in old.gaps)
    if old.side is None:
        return _finished([], warnings)
    return _finished(compare(old.side, new.side), warnings)


def _finished(changes: list[Change], warnings: list[str]) -> RunChanges:
    return RunChanges(changes_table(changes), counts(changes), tuple(warnings))


def changes_table(changes: Iterable[Change]) -> pa.Table:
    rows = list(changes)
    return pa.Table.from_arrays(
        [pa.array([getattr(c, f.name) for c in rows], f.type) for f in schemas.CHANGES],
        schema=schemas.CHANGES,
    )
