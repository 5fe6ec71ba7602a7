"""What changed between two snapshots' citations: a pure comparison of plain values.

Per concept and category, a PMID cited by the new snapshot and not the old is
``added``; by the old and not the new, ``removed``; by both, ``retracted`` when
its ``retracted`` became true, else ``modified`` when its article's
``record_sha256`` differs. A rank that moved alone is no change. Both the
snapshot's ``changes`` table (against its parent) and ``medgen-etl diff``
(against any snapshot) come from ``compare``; reading the two sides is the load
layer's (pipeline/load/changes.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ADDED, REMOVED, MODIFIED, RETRACTED = "added", "removed", "modified", "retracted"
KINDS = (ADDED, REMOVED, MODIFIED, RETRACTED)


@dataclass(frozen=True, slots=True)
class Cited:
    """A PMID as one concept's category cites it."""

    rank: int
    retracted: bool | None  # None: the snapshot's citations did not say


# (cui, category) -> PMID -> how it is cited there.
Citations = Mapping[tuple[str, str], Mapping[int, Cited]]


@dataclass(frozen=True, slots=True)
class Side:
    """One snapshot's citations and, when known, its articles' record digests."""

    citations: Citations
    # PMID -> record_sha256; None: the snapshot has no articles table or no such column.
    digests: Mapping[int, str] | None


@dataclass(frozen=True, slots=True)
class Change:
    cui: str
    category: str
    pmid: int
    change: str  # one of KINDS
    rank: int | None  # the new snapshot's; None when removed
    previous_rank: int | None  # the old snapshot's; None when added


EMPTY = Side({}, {})  # no snapshot before: every citation is added


def compare(old: Side, new: Side) -> list[Change]:
    """Every change from ``old`` to ``new``, sorted by cui, category, pmid.

    ``modified`` needs both sides' digests: without them (``digests`` None, or a
    PMID either side lacks one for), a changed record is not told.
    """
    out: list[Change] = []
    for key in sorted(set(old.citations) | set(new.citations)):
        before = old.citations.get(key, {})
        after = new.citations.get(key, {})
        for pmid in sorted(set(before) | set(after)):
            change = _change(pmid, before.get(pmid), after.get(pmid), old, new)
            if change is not None:
                was, now = before.get(pmid), after.get(pmid)
                out.append(
                    Change(
                        *key,
                        pmid,
                        change,
                        None if now is None else now.rank,
                        None if was is None else was.rank,
                    )
                )
    return out


def _change(pmid: int, was: Cited | None, now: Cited | None, old: Side, new: Side) -> str | None:
    if was is None:
        return ADDED
    if now is None:
        return REMOVED
    if now.retracted and was.retracted is False:
        return RETRACTED
    if old.digests is None or new.digests is None:
        return None
    before, after = old.digests.get(pmid), new.digests.get(pmid)
    if before is not None and after is not None and before != after:
        return MODIFIED
    return None


def counts(changes: Iterable[Change]) -> dict[str, int]:
    """How many changes of each kind (every kind, zero or not)."""
    out = dict.fromkeys(KINDS, 0)
    for c in changes:
        out[c.change] += 1
    return out
