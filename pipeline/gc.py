"""``gc``: remove older snapshots, and the raw answers nothing kept needs.

Kept: the ``keep`` newest published snapshots and ``current`` (whatever its
age), every raw object their manifests name (so each can still be rebuilt),
and every object an unfinished run's answers name (so it can still resume).
Of a removed snapshot that a kept one was built over, its *side* is kept
(pipeline/load/lineage.py): what the kept one's changes table was told
against, so that it too is rebuilt byte for byte.
The rest of the raw store's objects, and the answers naming them, are
removed. All of it under the output lock, as a build takes it: no build can
publish into the directory meanwhile. A raw store shared by other output
directories (``--raw-dir``) keeps every object their published snapshots need:
every build notes its output directory in the store it uses
(pipeline/extract/store_users.py). Their own builds are not locked out: an
object one of them is storing right now is younger than the orphan grace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.extract.rawstore import DEMO_SOURCE, RawStore, read_provenance
from pipeline.extract.store_users import forget_output, served_outputs
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
from pipeline.wiring import ORPHAN_GRACE_SECONDS, orphan_grace

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
    # The other output directories the raw store serves (path -> answers their
    # snapshots need, all kept), and those gone, forgotten (store_users.py).
    other_outputs: dict[str, int] = field(default_factory=dict)
    outputs_gone: tuple[str, ...] = ()

    @property
    def freed(self) -> int:
        removed = sum(s.bytes for s in self.removed) + sum(self.sides_removed.values())
        return removed + sum(self.objects.values()) - sum(self.sides_kept.values())


def gc(
    out_dir: Path, raw_dir: Path, *, keep: int, dry_run: bool = False, wait_lock: bool = False
) -> GcResult:
    if keep < 1:
        raise UsageError("--keep must keep at least one snapshot")
    if read_provenance(raw_dir).source == DEMO_SOURCE:
        raise UsageError(f"{raw_dir} is the shipped demo store: gc never removes from it")
    with claim_output(out_dir, raw_dir=raw_dir, wait=wait_lock):
        snapshots = list_snapshots(out_dir)
        removed = older_than_kept(snapshots, keep)
        kept = [s for s in snapshots if s not in removed]
        store = RawStore(raw_dir)
        others, gone = _other_outputs(raw_dir, out_dir)
        needed = _needed(store, kept) | {d for o in others.values() for d in o}
        unneeded = set(store.objects()) - needed
        # Objects a build of another output directory may be storing right now are spared.
        grace = ORPHAN_GRACE_SECONDS if others else orphan_grace(raw_dir, out_dir)
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
            for path in gone:
                forget_output(raw_dir, path)
        objects = store.remove_objects(unneeded, older_than=grace, dry_run=dry_run)
        if store.legacy_entries():
            log.warning(
                "%s holds %d answer(s) in the earlier layout, which gc leaves alone "
                "(`medgen-etl raw migrate` moves them)",
                raw_dir,
                store.legacy_entries(),
            )
    return GcResult(
        tuple(removed),
        tuple(kept),
        objects,
        dry_run,
        sides,
        unused,
        {str(p): len(d) for p, d in others.items()},
        tuple(str(p) for p in gone),
    )


def _sides_needed(kept: list[SnapshotInfo]) -> set[str]:
    """The parents, not kept themselves, of kept snapshots that ``rebuild`` can remake
    (a bulk snapshot is made again from its files, not rebuilt)."""
    ids = {s.id for s in kept}
    return {s.parent for s in kept if s.parent and s.source != "bulk" and s.parent not in ids}


def _other_outputs(raw_dir: Path, out_dir: Path) -> tuple[dict[Path, set[str]], list[Path]]:
    """The answers every published snapshot of each other output directory the store
    serves needs (their own gc decides which they keep), and the directories gone."""
    here = out_dir.resolve()
    others: dict[Path, set[str]] = {}
    gone: list[Path] = []
    for path in served_outputs(raw_dir):
        if path == here:
            continue
        if not (path / layout.SNAPSHOTS).is_dir():
            gone.append(path)
            continue
        # A snapshot there that cannot be read stops gc, as one here does: what it
        # needs is not known.
        others[path] = {d for s in list_snapshots(path) for d in s.answers}
    return others, gone


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
    for path, answers in result.other_outputs.items():
        lines.append(
            f"kept the {answers:,} answer(s) the snapshots of {path} need: it shares this raw store"
        )
    for path in result.outputs_gone:
        forgot = "would forget" if result.dry_run else "forgot"
        lines.append(f"{forgot} {path}, which shared this raw store: it is gone")
    for snapshot_id, size in result.sides_removed.items():
        lines.append(
            f"{verb} the side of {snapshot_id} ({size:,} bytes): no kept snapshot needs it"
        )
    lines.append(
        f"{'would free' if result.dry_run else 'freed'} {result.freed:,} bytes; "
        f"kept {len(result.kept)} snapshot(s)"
    )
    return "\n".join(lines)
