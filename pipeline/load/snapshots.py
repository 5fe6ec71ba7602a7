"""The snapshots of an output directory: listed, and the older ones removed.

A snapshot is listed if it was published (``snapshots/.published``, or
``current``); one a killed run completed but never made current is not
(the next run removes it). Removal never touches ``current``: each removed
snapshot is first renamed to a staging name (which the next run clears if
this one is killed), then ``.published`` is rewritten without it, then its
files are deleted, so no kill leaves a half-deleted snapshot that looks whole.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import SnapshotError
from pipeline.load import layout
from pipeline.load.manifest import load_manifest


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    id: str
    created: str | None
    source: str | None
    kind: str | None  # run.mode: full, incremental or update (None: a format 1 manifest)
    parent: str | None
    concepts: int
    rows: int
    bytes: int
    current: bool
    # The sha256 of every raw answer the snapshot was built from.
    answers: frozenset[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": self.created,
            "source": self.source,
            "kind": self.kind,
            "parent": self.parent,
            "concepts": self.concepts,
            "rows": self.rows,
            "bytes": self.bytes,
            "current": self.current,
        }


def snapshot_info(out_dir: Path, snapshot_id: str, *, current: bool) -> SnapshotInfo:
    """What the manifest of ``snapshots/<snapshot_id>`` says about it (checked)."""
    manifest = load_manifest(out_dir / layout.SNAPSHOTS / snapshot_id)
    return SnapshotInfo(
        id=snapshot_id,
        created=manifest.created_at,
        source=manifest.source,
        kind=None if manifest.run is None else manifest.run.mode,
        parent=manifest.parent,
        concepts=len(manifest.concepts.found),
        rows=sum(f.rows for f in manifest.files.values()),
        bytes=sum(f.bytes for f in manifest.files.values()),
        current=current,
        answers=frozenset(r.sha256 for r in (*manifest.responses, *manifest.carried)),
    )


def published_ids(out_dir: Path) -> list[str]:
    """The published snapshots that are still there, oldest first."""
    present = layout.snapshot_dirs(out_dir)
    if not (out_dir / layout.SNAPSHOTS / layout.HISTORY).is_file():
        return present  # written before the history existed: all count as published
    history = layout.published(out_dir) | {layout.current_name(out_dir)}
    return [name for name in present if name in history]


def list_snapshots(out_dir: Path) -> list[SnapshotInfo]:
    """Every published snapshot, oldest first: by ``created_at``, which has
    microseconds (two ids of one second sort by their content hash)."""
    current = layout.current_name(out_dir)
    infos = [snapshot_info(out_dir, i, current=i == current) for i in published_ids(out_dir)]
    return sorted(infos, key=lambda s: (s.created or "", s.id))


def older_than_kept(snapshots: Sequence[SnapshotInfo], keep: int) -> list[SnapshotInfo]:
    """All but the ``keep`` newest, and never the current one."""
    if keep < 1:
        raise ValueError("keep at least one snapshot")
    return [s for s in snapshots[: max(len(snapshots) - keep, 0)] if not s.current]


def remove_snapshots(out_dir: Path, snapshot_ids: Iterable[str]) -> None:
    """Remove these snapshots (never ``current``); call while holding the output lock."""
    snapshots = out_dir / layout.SNAPSHOTS
    doomed = list(snapshot_ids)
    if layout.current_name(out_dir) in doomed:
        raise SnapshotError(f"refusing to remove {layout.current_name(out_dir)}: it is current")
    staged = []
    try:
        for snapshot_id in doomed:
            target = snapshots / f"{layout.STAGING_PREFIX}{secrets.token_hex(8)}"
            os.rename(snapshots / snapshot_id, target)
            staged.append(target)
        layout.forget_published(out_dir, doomed)
    except OSError as exc:
        raise SnapshotError(f"cannot remove snapshots from {snapshots}: {exc.strerror}") from exc
    for path in staged:
        shutil.rmtree(path, ignore_errors=True)
