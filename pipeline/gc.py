"""``gc``: remove older snapshots, and the raw answers nothing kept needs.

Kept: the ``keep`` newest published snapshots and ``current`` (whatever its
age), every raw object their manifests name (so each can still be rebuilt),
and every object an unfinished run's answers name (so it can still resume).
The rest of the raw store's objects, and the answers naming them, are
removed. All of it under the output lock, as a build takes it: no build can
publish into the directory meanwhile. The raw store is assumed to serve this
output directory only (the default ``<out>/raw``): objects another output
directory's snapshots need are not known here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.extract.rawstore import RawStore, read_provenance
from pipeline.load.layout import claim_output
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

    @property
    def freed(self) -> int:
        return sum(s.bytes for s in self.removed) + sum(self.objects.values())


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
        if not dry_run:
            remove_snapshots(out_dir, [s.id for s in removed])
        objects = store.remove_objects(unneeded, older_than=grace, dry_run=dry_run)
        if store.legacy_entries():
            log.warning(
                "%s holds %d answer(s) in the earlier layout, which gc leaves alone "
                "(`medgen-etl raw migrate` moves them)",
                raw_dir,
                store.legacy_entries(),
            )
    return GcResult(tuple(removed), tuple(kept), objects, dry_run)


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
    lines.append(
        f"{'would free' if result.dry_run else 'freed'} {result.freed:,} bytes; "
        f"kept {len(result.kept)} snapshot(s)"
    )
    return "\n".join(lines)
