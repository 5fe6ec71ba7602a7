"""Offline citations of every concept at once, as Arrow columns (``--all-concepts``).

Every MedGen concept means 47.8 million concept-PMID links: grouped in Python
dicts they cost gigabytes and minutes. Here the links (cui, pmid) meet the
winning records' citation fields by a sorted-array lookup (numpy), are ordered
as esearch's ``sort=pub_date`` orders them (newest first, undated last, PMID
breaking ties) with one Arrow sort, ranked within each concept by run starts,
and filtered per category by publication-type flags. Rows leave in slices, so
the writer never holds a whole category.

``order_links`` is the one implementation of that order: the per-concept
offline path (``offline_hits``) orders its few links with it too.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.load import schemas
from pipeline.transform.evidence import LINKED_ONLY

SLICE_ROWS = 1_000_000
_UNDATED = datetime.date.min  # sorts last when newest come first


@dataclass(frozen=True)
class Ordered:
    """Every (concept, linked PMID with a record), in citation order."""

    cui: pa.Array  # string
    fields_row: np.ndarray  # row of each in the fields table
    requested: np.ndarray  # distinct linked PMIDs, sorted
    loaded: np.ndarray  # those with a record, sorted


def order_links(links: pa.Table, fields: pa.Table) -> Ordered:
    """``links``: (cui, pmid), distinct; ``fields``: citation fields, one row per PMID."""
    field_pmids = fields["pmid"].to_numpy()
    by_pmid = np.argsort(field_pmids, kind="stable")
    sorted_pmids = field_pmids[by_pmid]
    link_pmids = links["pmid"].to_numpy()
    at = np.searchsorted(sorted_pmids, link_pmids)
    at_clipped = np.minimum(at, max(len(sorted_pmids) - 1, 0))
    found = (
        (at < len(sorted_pmids)) & (sorted_pmids[at_clipped] == link_pmids)
        if len(sorted_pmids)
        else np.zeros(len(link_pmids), dtype=bool)
    )
    rows = by_pmid[at_clipped[found]] if len(sorted_pmids) else np.array([], dtype=np.int64)
    kept = links.filter(pa.array(found))
    dates = pc.fill_null(fields["sort_date"].take(pa.array(rows)), pa.scalar(_UNDATED))
    table = pa.table(
        {"cui": kept["cui"], "date": dates, "pmid": kept["pmid"], "row": pa.array(rows)}
    )
    order = pc.sort_indices(
        table, [("cui", "ascending"), ("date", "descending"), ("pmid", "descending")]
    )
    ordered = table.take(order)
    requested = np.unique(link_pmids)
    return Ordered(
        cui=ordered["cui"].combine_chunks(),
        fields_row=ordered["row"].to_numpy(),
        requested=requested,
        loaded=np.unique(link_pmids[found]),
    )


def type_flags(fields: pa.Table, wanted: frozenset[str]) -> np.ndarray:
    """Per fields row: does any of its publication types belong to ``wanted``?"""
    types = fields["publication_types"].combine_chunks()
    flat = pc.list_flatten(types)
    parents = pc.list_parent_indices(types).to_numpy()
    hit = pc.is_in(flat, value_set=pa.array(sorted(wanted), pa.string())).to_numpy(
        zero_copy_only=False
    )
    flags = np.zeros(len(fields), dtype=bool)
    flags[parents[hit]] = True
    return flags


@dataclass(frozen=True)
class Selection:
    """One category's rows, ranked per concept: which fields rows, in citation order."""

    cui: pa.Array
    rows: np.ndarray  # row of each in the fields table
    rank: np.ndarray


def select_category(ordered: Ordered, keep: np.ndarray | None, limit: int | None) -> Selection:
    """``keep``: per fields row, whether it belongs to the category (None: all)."""
    mask = np.ones(len(ordered.fields_row), dtype=bool)
    if keep is not None:
        mask = keep[ordered.fields_row]
    cui = ordered.cui.filter(pa.array(mask))
    rows = ordered.fields_row[mask]
    rank = _ranks(cui)
    if limit is not None:
        within = rank <= limit
        cui, rows, rank = cui.filter(pa.array(within)), rows[within], rank[within]
    return Selection(cui, rows, rank)


def category_slices(chosen: Selection, fields: pa.Table) -> Iterator[pa.Table]:
    """The selection's rows (CITATIONS_FILE), built a slice at a time as they are read."""
    for start in range(0, len(chosen.rows), SLICE_ROWS):
        stop = start + SLICE_ROWS
        yield _slice(
            fields, chosen.cui[start:stop], chosen.rows[start:stop], chosen.rank[start:stop]
        )


def _ranks(cui: pa.Array) -> np.ndarray:
    """1, 2, ... within each run of equal CUIs (the rows are sorted by CUI)."""
    n = len(cui)
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    codes = pc.dictionary_encode(cui).indices.to_numpy()
    starts = np.ones(n, dtype=bool)
    starts[1:] = codes[1:] != codes[:-1]
    index = np.arange(n)
    run_start = np.maximum.accumulate(np.where(starts, index, 0))
    return (index - run_start + 1).astype(np.int32)


def _slice(fields: pa.Table, cui: pa.Array, rows: np.ndarray, rank: np.ndarray) -> pa.Table:
    taken = fields.take(pa.array(rows))
    columns = []
    for f in schemas.CITATIONS_FILE:
        if f.name == "cui":
            columns.append(cui)
        elif f.name == "rank":
            columns.append(pa.array(rank, pa.int32()))
        elif f.name == "evidence":  # every concept: MedGen's links alone
            columns.append(pa.array([list(LINKED_ONLY)] * len(rows), f.type))
        else:
            columns.append(taken[f.name].combine_chunks().cast(f.type))
    return pa.Table.from_arrays(columns, schema=schemas.CITATIONS_FILE)
