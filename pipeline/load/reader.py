"""Reading a published snapshot back: only its Parquet files and manifest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.errors import SnapshotError
from pipeline.load.snapshot import PART, read_manifest
from pipeline.models import Category


@dataclass(frozen=True, slots=True)
class SnapshotView:
    concept: dict[str, Any]
    categories: tuple[Category, ...]
    citations: dict[str, list[dict[str, Any]]]


def _read(path: Path, filter_cui: str | None = None) -> list[dict[str, Any]]:
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"cannot read {path}: {exc}") from exc
    if filter_cui is not None:
        table = table.filter(pc.equal(table["cui"], filter_cui))
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def find_concept(snapshot: Path, ref: str) -> dict[str, Any]:
    wanted = ref.strip().upper()
    for row in _read(snapshot / "concepts" / PART):
        if (
            wanted in (row["cui"].upper(), str(row["uid"]))
            or ref.strip().casefold() == row["name"].casefold()
        ):
            return row
    raise SnapshotError(f"concept {ref!r} is not in snapshot {snapshot.name}")


def snapshot_view(snapshot: Path, ref: str) -> SnapshotView:
    manifest = read_manifest(snapshot)
    concept = find_concept(snapshot, ref)
    categories = tuple(
        Category(c["name"], c["heading"], c["term"], c.get("group"), c.get("subheading"))
        for c in manifest["categories"]["config"]
    )
    citations = {}
    for category in categories:
        path = snapshot / "citations" / f"category={category.name}" / PART
        rows = _read(path, filter_cui=concept["cui"])
        citations[category.name] = sorted(rows, key=lambda r: r["rank"])
    return SnapshotView(concept, categories, citations)
