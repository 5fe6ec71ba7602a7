"""``gc``: remove older snapshots, and the raw answers nothing kept needs.

Kept: the ``keep`` newest published snapshots and ``current`` (whatever its
age), every raw object their manifests name (so each can still be rebuilt),
and every object an unfinished run's answers name (so it can still resume).
Of a removed snapshot that a kept one was built over, its *side* is kept
(pipeline/load/lineage.py): what the kept one's changes table was told
against, so that it too is rebuilt byte for byte.
The rest of the raw store's objects, and the answers naming them, are
removed. All of it under the output lock, as a build takes it: no build can
publish into the directory meanwhile. The raw store is assumed to serve this
output directory only (the default ``<out>/raw``): objects another output
directory's snapshots need are not known here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.extract.rawstore import RawStore, read_provenance
from pipeline.load import layout
from pipeline.load.layout import claim_output
from pipeline.load.lineage import keep_side, kept_sides, remove_sides
from pipeline.load.reader import open_snapshot
from pipeline.load.snapshots import (
    SnapshotInfo,
    list_snapshots,
    older_than_kept,
    remove_snapshots,
)
from pipeline.wiring import orphan_grace

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GcResult:
    removed: tuple[SnapshotInfo, ...]
    kept: tuple[SnapshotInfo, ...]
    # Raw objects removed (or, on a dry run, that would be): sha256 -> bytes.
    objects: dict[str, int]
    dry_run: bool
    # Sides of removed snapshots kept for a kept one's changes (id -> bytes; on a
    # dry run, the ids that would be kept, with 0), and sides no longer needed.
    sides_kept: dict[str, int] = field(default_factory=dict)
    sides_removed: dict[str, int] = field(default_factory=dict)

    @property
    def freed(self) -> int:
        removed = sum(s.bytes for s in self.removed) + sum(self.sides_removed.values())
        return removed + sum(self.objects.values()) - sum(self.sides_kept.values())


def gc(
    out_dir: Path, raw_dir: Path, *, keep: int, dry_run: bool = False, wait_lock: bool = False
) -> GcResult:
    if keep < 1:
        raise UsageError("--keep must keep at least one snapshot")
    if read_provenance(raw_dir).source == "demo":
        raise UsageError(f"{raw_dir} is the shipped demo store: gc never removes from it")
    with claim_output(out_dir, raw_dir=raw_dir, wait=wait_lock):
        snapshots = list_snapshots(out_dir)
        removed = older_than_kept(snapshots, keep)
        kept = [s for s in snapshots if s not in removed]
        store = RawStore(raw_dir)
        unneeded = set(store.objects()) - _needed(store, kept)
        grace = orphan_grace(raw_dir, out_dir)
        needed = _sides_needed(kept)
        existing = kept_sides(out_dir)
        unused = {i: n for i, n in existing.items() if i not in needed}
        if dry_run:
            sides = {s.id: 0 for s in removed if s.id in needed}
        else:
            # Each side is written whole before its snapshot goes: a kill in between
            # leaves the snapshot, and the next gc finds its side already there.
            sides = {
                s.id: keep_side(out_dir, open_snapshot(out_dir / layout.SNAPSHOTS / s.id))
                for s in removed
                if s.id in needed
            }
            remove_snapshots(out_dir, [s.id for s in removed])
            remove_sides(out_dir, unused)
        objects = store.remove_objects(unneeded, older_than=grace, dry_run=dry_run)
        if store.legacy_entries():
            log.warning(
                "%s holds %d answer(s) in the earlier layout, which gc leaves alone "
                "(`medgen-etl raw migrate` moves them)",
                raw_dir,
                store.legacy_entries(),
            )
    return GcResult(tuple(removed), tuple(kept), objects, dry_run, sides, unused)


def _sides_needed(kept: list[SnapshotInfo]) -> set[str]:
    """The parents, not kept themselves, of kept snapshots that ``rebuild`` can remake
    (a bulk snapshot is made again from its files, not rebuilt)."""
    ids = {s.id for s in kept}
    return {s.parent for s in kept if s.parent and s.source != "bulk" and s.parent not in ids}


def _needed(store: RawStore, kept: list[SnapshotInfo]) -> set[str]:
    needed = {digest for s in kept for digest in s.answers}
    unfinished = store.unfinished_runs()
    if unfinished:
        for entry in store.entries():
            needed.update(
                a.sha256 for a in entry.answers if any(a.fetched_by(t) for t in unfinished)
            )
    return needed


def describe(result: GcResult) -> str:
    verb = "would remove" if result.dry_run else "removed"
    lines = [f"{verb} snapshot {s.id} ({s.bytes:,} bytes)" for s in result.removed]
    objects = sum(result.objects.values())
    lines.append(f"{verb} {len(result.objects)} raw object(s) ({objects:,} bytes)")
    keeps = "would keep" if result.dry_run else "kept"
    for snapshot_id, size in result.sides_kept.items():
        held = "" if result.dry_run else f" ({size:,} bytes)"
        lines.append(
            f"{keeps} the side of {snapshot_id}{held}: what a kept snapshot's changes were "
            "told against"
        )
    for snapshot_id, size in result.sides_removed.items():
        lines.append(
            f"{verb} the side of {snapshot_id} ({size:,} bytes): no kept snapshot needs it"
        )
    lines.append(
        f"{'would free' if result.dry_run else 'freed'} {result.freed:,} bytes; "
        f"kept {len(result.kept)} snapshot(s)"
    )
    return "\n".join(lines)
