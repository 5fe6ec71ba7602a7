"""``medgen-etl diff``: what changed between two published snapshots.

The same comparison as each snapshot's changes table (pipeline/transform/changes.py),
between any two snapshots: by default the current one and its parent. Text for
people, one JSON document for programs (``DIFF_FORMAT`` says its layout).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from pipeline.errors import UsageError
from pipeline.load.changes import NOTHING, sides, snapshot_side
from pipeline.load.reader import PublishedSnapshot, concept_matches
from pipeline.load.snapshot import PART
from pipeline.transform.changes import Change, compare, counts

DIFF_FORMAT = 1
# Valid values named in a usage error: at most this many, then how many more.
_NAMED = 20


@dataclass(frozen=True, slots=True)
class SnapshotDiff:
    old: PublishedSnapshot | None  # None: the new snapshot has no parent; all is added
    new: PublishedSnapshot
    concept: str | None  # the CUI --concept chose
    category: str | None
    changes: list[Change]
    names: dict[str, str]  # CUI -> concept name (the new snapshot's, else the old's)
    headings: dict[str, str]  # category -> heading
    warnings: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return bool(self.changes)


def diff_snapshots(
    old: PublishedSnapshot | None,
    new: PublishedSnapshot,
    concept: str | None = None,
    category: str | None = None,
) -> SnapshotDiff:
    """Compare ``old`` with ``new``; ``concept`` (CUI, UID or name) and ``category``
    narrow it, and one that neither snapshot has is a UsageError naming the valid ones.
    ``old`` None: compared with nothing (a first snapshot), as its changes table is."""
    concepts = (_concepts(old) if old else {}) | _concepts(new)  # the new one's names win
    headings = _headings(new)  # in the new snapshot's order, then the old's others
    if old is not None:
        headings.update({k: v for k, v in _headings(old).items() if k not in headings})
    cui = None if concept is None else _concept(concept, concepts)
    if category is not None and category not in headings:
        raise UsageError(
            f"unknown category {category!r}; these snapshots have {_named(sorted(headings))}"
        )
    before, after = NOTHING if old is None else snapshot_side(old), snapshot_side(new)
    for side in (before, after) if old is not None else (after,):
        if side.citations is None:
            raise UsageError(f"nothing to compare: {side.gaps[0]}")
    warnings = (*before.gaps, *after.gaps)
    changes = compare(*sides(before, after, cui, category))
    names = {cui: row["name"] for cui, row in concepts.items()}
    return SnapshotDiff(old, new, cui, category, changes, names, headings, warnings)


def _concepts(snapshot: PublishedSnapshot) -> dict[str, dict[str, Any]]:
    table = snapshot.read(f"concepts/{PART}", ("cui", "uid", "name"))
    return {row["cui"]: row for row in table.to_pylist()}


def _headings(snapshot: PublishedSnapshot) -> dict[str, str]:
    return {c.name: c.heading for c in snapshot.manifest.categories.config}


def _concept(ref: str, concepts: dict[str, dict[str, Any]]) -> str:
    for cui, row in concepts.items():
        if concept_matches(row, ref):
            return cui
    raise UsageError(
        f"concept {ref!r} is in neither snapshot (a CUI, MedGen UID or name); "
        f"they have {_named(sorted(concepts))}"
    )


def _named(values: Sequence[str]) -> str:
    shown = ", ".join(values[:_NAMED])
    more = len(values) - _NAMED
    return f"{shown} and {more} more" if more > 0 else shown or "none"


# ------------------------------------------------------------------ text

_SIGNS = {"added": "+", "removed": "-", "modified": "~", "retracted": "!"}


def render_text(diff: SnapshotDiff) -> str:
    return "\n".join(_text_lines(diff))


def _text_lines(diff: SnapshotDiff) -> Iterator[str]:
    if diff.old is None:
        yield "--- (no parent: every citation is added)"
    else:
        yield f"--- {diff.old.path.name} ({diff.old.manifest.created_at})"
    yield f"+++ {diff.new.path.name} ({diff.new.manifest.created_at})"
    narrowed = [f"concept {diff.concept}"] * bool(diff.concept)
    narrowed += [f"category {diff.category}"] * bool(diff.category)
    if narrowed:
        yield f"only {' and '.join(narrowed)}"
    if not diff.changes:
        yield "no differences"
        return
    # Categories in page order (the configuration's), as show lists them.
    order = {name: i for i, name in enumerate(diff.headings)}
    for cui, in_concept in groupby(diff.changes, key=lambda c: c.cui):
        yield ""
        yield f"{cui} {diff.names.get(cui, '')}".rstrip()
        paged = sorted(in_concept, key=lambda c: order.get(c.category, len(order)))
        for category, rows in groupby(paged, key=lambda c: c.category):
            listed = list(rows)
            heading = diff.headings.get(category, category)
            yield f"  {heading} ({category}): {_summary(counts(listed))}"
            yield from (f"    {_line(c)}" for c in listed)
    yield ""
    yield f"{len(diff.changes)} changes: {_summary(counts(diff.changes))}"


def _summary(by_kind: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in by_kind.items() if n)


def _line(c: Change) -> str:
    if c.change == "added":
        where = f"rank {c.rank}"
    elif c.change == "removed":
        where = f"was rank {c.previous_rank}"
    elif c.rank == c.previous_rank:
        where = f"rank {c.rank}"
    else:
        where = f"rank {c.rank} (was {c.previous_rank})"
    return f"{_SIGNS[c.change]} {c.change:<9} PMID {c.pmid:<10} {where}"


# ------------------------------------------------------------------ JSON


def diff_object(diff: SnapshotDiff) -> dict[str, Any]:
    """The --json document: the same keys always, changes sorted by cui, category, pmid."""
    return {
        "format": DIFF_FORMAT,
        "old": None if diff.old is None else _snapshot_object(diff.old),
        "new": _snapshot_object(diff.new),
        "concept": diff.concept,
        "category": diff.category,
        "differs": diff.differs,
        "counts": counts(diff.changes),
        "changes": [_change_object(c) for c in diff.changes],
        "warnings": list(diff.warnings),
    }


def _snapshot_object(snapshot: PublishedSnapshot) -> dict[str, Any]:
    m = snapshot.manifest
    return {"snapshot_id": snapshot.path.name, "created_at": m.created_at, "parent": m.parent}


def _change_object(c: Change) -> dict[str, Any]:
    keys: Iterable[str] = ("cui", "category", "pmid", "change", "rank", "previous_rank")
    return {k: getattr(c, k) for k in keys}
