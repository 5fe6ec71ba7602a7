"""A run's changes against its parent, and what ``gc`` keeps of a parent it removes.

A snapshot's ``changes`` table is told against its parent. So that a snapshot
``gc`` keeps can still be rebuilt byte for byte after its parent is removed,
``gc`` first keeps the parent's *side*: exactly what the comparison reads of it
(each citations partition's cui, pmid, rank and retracted; the articles'
pmid and record_sha256), under the same file names, in

    <out>/sides/<snapshot id>/side.json     each file's rows, bytes and sha256
    <out>/sides/<snapshot id>/<files>

A few megabytes for a night of thousands of concepts, where the snapshot was
its whole record. A side is read as a snapshot is: every file checked against
``side.json`` before it is parsed. It is removed by the ``gc`` that removes the
last kept snapshot whose parent it is.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from pipeline.errors import MedgenEtlError, SnapshotError, VerifyError
from pipeline.load import layout, schemas
from pipeline.load.changes import (
    ARTICLES_FILE,
    CITATIONS_FILE,
    CITED,
    NOTHING,
    SideTables,
    read_side,
    sides,
    snapshot_side,
)
from pipeline.load.parquet import FileEntry, fsync_path, read_parquet, write_parquet
from pipeline.load.reader import PublishedSnapshot, open_snapshot, read_listed
from pipeline.transform.changes import Change, compare, counts

SIDE_FILE = "side.json"
_DIGEST_COLUMNS = ("pmid", "record_sha256")


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
    the parent's, from its snapshot or else from the side ``gc`` kept of it, are
    checked against their listing, and a parent that is gone or cannot be read is a
    warning saying so, with no change told.
    """

    def staged(rel: str, columns: Sequence[str]) -> pa.Table:
        return read_parquet(staging / rel, rel, SnapshotError, columns)

    new = read_side("this snapshot", files, staged)
    warnings = [f"changes: {gap}" for gap in new.gaps]
    if new.citations is None:
        return _finished([], warnings)
    if parent is None:
        return _finished(compare(*sides(NOTHING, new)), warnings)
    try:
        old = parent_side(out_dir, parent)
    except MedgenEtlError as exc:
        warnings.append(
            f"changes: the parent snapshot {parent} cannot be read ({exc}): no change could be told"
        )
        return _finished([], warnings)
    if old is None:
        warnings.append(
            f"changes: the parent snapshot {parent} is gone and gc kept no side of it: "
            "no change could be told"
        )
        return _finished([], warnings)
    warnings.extend(f"changes: {gap}" for gap in old.gaps)
    if old.citations is None:
        return _finished([], warnings)
    return _finished(compare(*sides(old, new)), warnings)


def parent_side(out_dir: Path, snapshot_id: str) -> SideTables | None:
    """The side of ``snapshot_id``: from the snapshot, else from what gc kept; None: neither."""
    path = out_dir / layout.SNAPSHOTS / snapshot_id
    if path.is_dir():
        return snapshot_side(open_snapshot(path))
    kept = out_dir / layout.SIDES / snapshot_id
    if not kept.is_dir():
        return None
    files = _listing(kept)

    def read(rel: str, columns: Sequence[str]) -> pa.Table:
        return read_listed(kept, files, SIDE_FILE, rel, columns)

    return read_side(f"snapshot {snapshot_id}", files, read)


def _listing(kept: Path) -> dict[str, FileEntry]:
    where = kept / SIDE_FILE
    try:
        listing = json.loads(where.read_text("utf-8"))
        return {
            rel: FileEntry(int(f["rows"]), int(f["bytes"]), str(f["sha256"]))
            for rel, f in listing["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise VerifyError(f"{where}: not a side listing medgen-etl wrote ({exc})") from exc


def _finished(changes: list[Change], warnings: list[str]) -> RunChanges:
    return RunChanges(changes_table(changes), counts(changes), tuple(warnings))


def changes_table(changes: Iterable[Change]) -> pa.Table:
    rows = list(changes)
    return pa.Table.from_arrays(
        [pa.array([getattr(c, f.name) for c in rows], f.type) for f in schemas.CHANGES],
        schema=schemas.CHANGES,
    )


# ------------------------------------------------------------------ kept by gc


def keep_side(out_dir: Path, snapshot: PublishedSnapshot) -> int:
    """Keep what the changes of ``snapshot``'s children read of it; its size in bytes.

    Written into a staging directory and renamed into place, so a side is whole
    or absent; one already kept is left as it is (a snapshot never changes).
    """
    target = out_dir / layout.SIDES / snapshot.path.name
    if target.is_dir():
        return _size(target)
    (out_dir / layout.SIDES).mkdir(exist_ok=True)
    staging = layout.make_dir(out_dir / layout.SIDES, layout.STAGING_PREFIX, 0o755)
    try:
        files = {
            rel: write_parquet(snapshot.read(rel, columns), staging / rel)
            for rel, columns in _kept_files(snapshot.files)
        }
        listing = {
            "snapshot": snapshot.path.name,
            "files": {r: _entry(f) for r, f in files.items()},
        }
        (staging / SIDE_FILE).write_text(json.dumps(listing, indent=2, sort_keys=True), "utf-8")
        fsync_path(staging / SIDE_FILE)
        os.rename(staging, target)
        fsync_path(out_dir / layout.SIDES)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise SnapshotError(f"cannot keep the side of {snapshot.path.name}: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _size(target)


def _kept_files(files: Collection[str]) -> list[tuple[str, tuple[str, ...]]]:
    kept = [(rel, tuple(CITED.names)) for rel in sorted(files) if CITATIONS_FILE.fullmatch(rel)]
    if ARTICLES_FILE in files:
        kept.append((ARTICLES_FILE, _DIGEST_COLUMNS))
    return kept


def _entry(f: FileEntry) -> dict[str, int | str]:
    return {"rows": f.rows, "bytes": f.bytes, "sha256": f.sha256}


def kept_sides(out_dir: Path) -> dict[str, int]:
    """Each kept side's snapshot id and size in bytes."""
    root = out_dir / layout.SIDES
    if not root.is_dir():
        return {}
    return {
        p.name: _size(p)
        for p in sorted(root.iterdir())
        if layout.SNAPSHOT_ID.fullmatch(p.name) and p.is_dir()
    }


def remove_sides(out_dir: Path, snapshot_ids: Iterable[str]) -> None:
    for snapshot_id in snapshot_ids:
        shutil.rmtree(out_dir / layout.SIDES / snapshot_id, ignore_errors=True)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
