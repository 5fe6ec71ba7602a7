"""Reading two snapshots' sides for the comparison, and the ``changes`` table.

``compare`` (pipeline/transform/changes.py) is pure and decides every change;
here are the reads it needs, from a published snapshot (every file checked
against its manifest) or from a run's staging directory. A bulk snapshot cites
tens of millions of PMIDs, too many to hand over as Python values, so the two
sides are first joined as Arrow columns per category and only the citations
that differ in something ``compare`` reads (cited on one side only, another
``retracted``, another ``record_sha256``) become plain values: a citation the
same in all of these can be no change, whatever its rank.

What could not be read is a sentence, never a failure: a side without a
citations table tells no change, one without the articles table or its
``record_sha256`` column (an older snapshot, ``--tables`` without articles)
tells no ``modified``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.load.reader import PublishedSnapshot
from pipeline.transform.changes import Cited, Side

ARTICLES_FILE = "articles/part-0.parquet"
CITATIONS_FILE = re.compile(r"citations/category=([^/]+)/part-0\.parquet")
_UNTOLD_MODIFIED = "modified records could not be told (added, removed and retracted were)"
CITED = pa.schema(
    [
        pa.field("cui", pa.string()),
        pa.field("pmid", pa.int64()),
        pa.field("rank", pa.int32()),
        pa.field("retracted", pa.bool_()),
    ]
)

# (file in the snapshot, columns wanted) -> those of the columns the file has.
Reader = Callable[[str, Sequence[str]], pa.Table]


@dataclass(frozen=True, slots=True)
class SideTables:
    """What the comparison reads of one snapshot, as Arrow tables, and its gaps."""

    citations: dict[str, pa.Table] | None  # category -> CITED rows; None: no citations table
    digests: pa.Table | None  # pmid, record_sha256; None: not known
    gaps: tuple[str, ...]


# The side before a first snapshot: every citation is added.
NOTHING = SideTables({}, None, ())


def read_side(name: str, files: Collection[str], read: Reader) -> SideTables:
    """The tables of the snapshot called ``name`` (in messages) holding ``files``."""
    parts = {m.group(1): rel for rel in files if (m := CITATIONS_FILE.fullmatch(rel))}
    if not parts:
        return SideTables(None, None, (f"{name} has no citations table: no change could be told",))
    gaps: list[str] = []
    citations = {}
    for category, rel in sorted(parts.items()):
        table = read(rel, CITED.names)
        if "retracted" not in table.column_names:
            gaps.append(f"{rel} of {name} has no retracted column: retractions were not told")
            table = table.append_column("retracted", pa.nulls(table.num_rows, pa.bool_()))
        citations[category] = table.select(CITED.names).cast(CITED)
    return SideTables(citations, _digests(name, files, read, gaps), tuple(gaps))


def _digests(name: str, files: Collection[str], read: Reader, gaps: list[str]) -> pa.Table | None:
    if ARTICLES_FILE not in files:
        gaps.append(f"{name} has no articles table: {_UNTOLD_MODIFIED}")
        return None
    table = read(ARTICLES_FILE, ("pmid", "record_sha256"))
    if "record_sha256" not in table.column_names:
        gaps.append(
            f"{name}'s articles table has no record_sha256 (an older snapshot): {_UNTOLD_MODIFIED}"
        )
        return None
    return table


def snapshot_side(snapshot: PublishedSnapshot) -> SideTables:
    return read_side(f"snapshot {snapshot.path.name}", snapshot.files, snapshot.read)


def sides(
    old: SideTables, new: SideTables, cui: str | None = None, category: str | None = None
) -> tuple[Side, Side]:
    """The two sides for ``compare``, with only the citations that differ in something it
    reads; ``cui`` and ``category`` narrow them (None: all). A side without citations
    (``citations`` None) cites nothing."""
    old_cited, new_cited = old.citations or {}, new.citations or {}
    changed = _changed_pmids(old.digests, new.digests)
    before: dict[tuple[str, str], dict[int, Cited]] = {}
    after: dict[tuple[str, str], dict[int, Cited]] = {}
    for name in sorted(set(old_cited) | set(new_cited)):
        if category not in (None, name):
            continue
        rows = _differing(_only(old_cited.get(name), cui), _only(new_cited.get(name), cui))
        rows = rows.filter(pc.or_kleene(rows["differs"], pc.is_in(rows["pmid"], changed)))
        columns = ("cui", "pmid", "rank_old", "retracted_old", "rank_new", "retracted_new")
        values = (rows[c].to_pylist() for c in columns)
        for c, pmid, rank_old, r_old, rank_new, r_new in zip(*values, strict=True):
            if rank_old is not None:
                before.setdefault((c, name), {})[pmid] = Cited(rank_old, r_old)
            if rank_new is not None:
                after.setdefault((c, name), {})[pmid] = Cited(rank_new, r_new)
    cited = {p for by_pmid in (*before.values(), *after.values()) for p in by_pmid}
    return Side(before, _lookup(old.digests, cited)), Side(after, _lookup(new.digests, cited))


def _only(table: pa.Table | None, cui: str | None) -> pa.Table:
    if table is None:
        return CITED.empty_table()
    return table if cui is None else table.filter(pc.equal(table["cui"], cui))


def _differing(old: pa.Table, new: pa.Table) -> pa.Table:
    """Both sides' citations by (cui, pmid), ``differs`` true where one side lacks it or
    ``retracted`` is not known to be the same."""
    rows = old.join(
        new, keys=["cui", "pmid"], join_type="full outer", left_suffix="_old", right_suffix="_new"
    )
    one_side = pc.or_(pc.is_null(rows["rank_old"]), pc.is_null(rows["rank_new"]))
    same_flag = pc.fill_null(pc.equal(rows["retracted_old"], rows["retracted_new"]), False)
    return rows.append_column("differs", pc.or_(one_side, pc.invert(same_flag)))


def _changed_pmids(old: pa.Table | None, new: pa.Table | None) -> pa.Array:
    """PMIDs whose record_sha256 differs between the sides (none when either is unknown)."""
    if old is None or new is None:
        return pa.array([], pa.int64())
    both = old.join(new, keys="pmid", join_type="inner", left_suffix="_old", right_suffix="_new")
    differ = pc.not_equal(both["record_sha256_old"], both["record_sha256_new"])
    return both.filter(differ)["pmid"].combine_chunks()


def _lookup(digests: pa.Table | None, pmids: set[int]) -> dict[int, str] | None:
    if digests is None:
        return None
    kept = digests.filter(pc.is_in(digests["pmid"], pa.array(sorted(pmids), pa.int64())))
    return dict(zip(kept["pmid"].to_pylist(), kept["record_sha256"].to_pylist(), strict=True))
