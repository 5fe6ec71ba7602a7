"""What the report shows of a snapshot, read from its Parquet files and manifest alone.

Aggregation happens in Arrow (group-bys over whole columns); only the small
results (counts per year, top journals, the five newest rows per category)
become Python values, so a snapshot of thousands of concepts is read in one
pass per table, not one per concept.

Tables that later snapshot formats add are read only when the manifest lists
their files (``mesh_headings``, ``changes``) or the citations carry the column
(``retracted``); otherwise the matching field is ``None`` and the report omits
its section.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.load.manifest import CHANGES_FILE, Manifest
from pipeline.load.reader import (
    PublishedSnapshot,
    find_concept,
    open_snapshot,
    snapshot_categories,
)
from pipeline.load.snapshot import PART
from pipeline.models import Category

NEWEST = 5  # the page's own view: five per heading
TOP = 10  # journals and MeSH headings listed per concept
# A concept's section is up to some 16 KB: a page of every concept of a bulk snapshot
# (hundreds of thousands) would be gigabytes, which no browser opens, and reading
# each one's details would hold gigabytes of Python values.
MAX_CONCEPTS = 500

CITATION_COLUMNS = (
    "cui",
    "rank",
    "pmid",
    "title",
    "journal",
    "pub_year",
    "doi_display",
    "pmcid",
    "authors_display",
    "source",
    "epub_date",
)
CONCEPT_COLUMNS = ("cui", "uid", "name", "definition", "definition_source", "synonyms")
MESH_FILE = f"mesh_headings/{PART}"

Counts = dict[str, dict[int | None, int]]  # category -> publication year -> citations


@dataclass(frozen=True, slots=True)
class ConceptSurvey:
    concept: dict[str, Any]
    per_year: Counts
    journals: list[tuple[str, int]]
    newest: dict[str, list[dict[str, Any]]]
    # None: the snapshot has no such data (the section is omitted), [] : none found.
    retracted: list[dict[str, Any]] | None = None
    mesh: list[tuple[str, int]] | None = None
    changes: dict[str, dict[str, int]] | None = None  # category -> change -> citations
    added: list[dict[str, Any]] | None = None  # the citations `changes` marks added, newest first

    def total(self, category: str) -> int:
        return sum(self.per_year.get(category, {}).values())


@dataclass(frozen=True, slots=True)
class Survey:
    snapshot: Path
    manifest: Manifest
    categories: tuple[Category, ...]
    concepts: list[ConceptSurvey]  # those shown: the busiest, up to the cap
    per_year: Counts = field(default_factory=dict)  # over every concept surveyed
    surveyed: int = 0  # how many concepts were surveyed (named, or all of the snapshot's)


def _table(snapshot: PublishedSnapshot, rel: str, columns: Sequence[str]) -> pa.Table:
    """``columns`` of a published file (those it has), read through the checked reader:
    its size, sha256 and page checksums are those the manifest names, or it is refused."""
    table = snapshot.read(rel)
    return table.select([c for c in columns if c in table.schema.names])


def survey(
    snapshot: Path, refs: Sequence[str] = (), max_concepts: int | None = MAX_CONCEPTS
) -> Survey:
    """Everything the report shows, for the named concepts (default: all of them): the
    counts per category and year over all of them, and the details of the
    ``max_concepts`` with the most citations (None: of all)."""
    published = open_snapshot(snapshot)
    manifest = published.manifest
    categories = snapshot_categories(published)
    files = published.files
    everyone = _concepts(published, refs)
    cuis = pa.array([c["cui"] for c in everyone], pa.string())
    citations = _citations(published, categories, cuis)
    overall = _sum_years(citations)
    if max_concepts is not None and len(everyone) > max_concepts:
        counts = _citations_per_concept(citations)
        keep = busiest([c["cui"] for c in everyone], counts, max_concepts)
        concepts = [everyone[i] for i in keep]
        cuis = pa.array([c["cui"] for c in concepts], pa.string())
        citations = citations.filter(pc.is_in(citations["cui"], value_set=cuis))
    else:
        concepts = everyone
    per_year = _per_year(citations)
    journals = _top(citations, "journal")
    newest = _newest(citations)
    retracted = _retracted(citations) if "retracted" in citations.schema.names else None
    mesh = _mesh(published, citations) if MESH_FILE in files else None
    # With no parent every citation is "added": nothing changed that a reader would want told.
    compared = CHANGES_FILE in files and published.manifest.parent is not None
    changes, added = _changes(published, cuis, citations) if compared else (None, None)
    surveyed = [
        ConceptSurvey(
            concept=c,
            per_year=per_year.get(c["cui"], {}),
            journals=journals.get(c["cui"], []),
            newest=newest.get(c["cui"], {}),
            retracted=None if retracted is None else retracted.get(c["cui"], []),
            mesh=None if mesh is None else mesh.get(c["cui"], []),
            changes=None if changes is None else changes.get(c["cui"], {}),
            added=None if added is None else added.get(c["cui"], []),
        )
        for c in concepts
    ]
    return Survey(snapshot, manifest, categories, surveyed, overall, len(everyone))


def busiest(cuis: Sequence[str], counts: Mapping[str, int], limit: int) -> list[int]:
    """The positions in ``cuis`` of the ``limit`` concepts with the most citations
    (ties: the earlier), in their order."""
    order = sorted(range(len(cuis)), key=lambda i: (-counts.get(cuis[i], 0), i))
    return sorted(order[:limit])


def _citations_per_concept(citations: pa.Table) -> dict[str, int]:
    grouped = citations.group_by("cui").aggregate([("pmid", "count")])
    return dict(zip(grouped["cui"].to_pylist(), grouped["pmid_count"].to_pylist(), strict=True))


def _concepts(snapshot: PublishedSnapshot, refs: Sequence[str]) -> list[dict[str, Any]]:
    if not refs:
        rows: list[dict[str, Any]] = _table(
            snapshot, f"concepts/{PART}", CONCEPT_COLUMNS
        ).to_pylist()
        return rows
    chosen: dict[str, dict[str, Any]] = {}
    for ref in refs:
        row = find_concept(snapshot, ref)
        chosen.setdefault(row["cui"], {k: row[k] for k in CONCEPT_COLUMNS})
    return list(chosen.values())


def _citations(
    snapshot: PublishedSnapshot, categories: Iterable[Category], cuis: pa.Array
) -> pa.Table:
    parts = []
    for category in categories:
        rel = f"citations/category={category.name}/{PART}"
        if rel not in snapshot.files:
            continue
        table = _table(snapshot, rel, [*CITATION_COLUMNS, "retracted"])
        table = table.filter(pc.is_in(table["cui"], value_set=cuis))
        parts.append(table.append_column("category", pa.array([category.name] * table.num_rows)))
    if not parts:
        return pa.table({c: pa.array([], pa.string()) for c in ("cui", "category")}).append_column(
            "pmid", pa.array([], pa.int64())
        )
    return pa.concat_tables(parts, promote_options="permissive")


def _per_year(citations: pa.Table) -> dict[str, Counts]:
    out: dict[str, Counts] = defaultdict(lambda: defaultdict(dict))
    if citations.num_rows == 0:
        return out
    grouped = citations.group_by(["cui", "category", "pub_year"]).aggregate([("pmid", "count")])
    for row in grouped.to_pylist():
        out[row["cui"]][row["category"]][row["pub_year"]] = row["pmid_count"]
    return out


def _top(table: pa.Table, column: str) -> dict[str, list[tuple[str, int]]]:
    """Per concept, the TOP values of ``column`` by distinct PMIDs, most first, then by name."""
    if table.num_rows == 0:
        return {}
    table = table.filter(pc.is_valid(table[column]))
    grouped = table.group_by(["cui", column]).aggregate([("pmid", "count_distinct")])
    by_cui: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for row in grouped.to_pylist():
        by_cui[row["cui"]].append((row[column], row["pmid_count_distinct"]))
    return {cui: sorted(v, key=lambda t: (-t[1], t[0]))[:TOP] for cui, v in by_cui.items()}


def _newest(citations: pa.Table) -> dict[str, dict[str, list[dict[str, Any]]]]:
    out: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    if citations.num_rows == 0:
        return out
    rows = citations.filter(pc.less_equal(citations["rank"], NEWEST)).to_pylist()
    for row in sorted(rows, key=lambda r: r["rank"]):
        out[row["cui"]][row["category"]].append(row)
    return out


def _retracted(citations: pa.Table) -> dict[str, list[dict[str, Any]]]:
    """Per concept, each retracted PMID once, with the categories that cite it."""
    rows = citations.filter(pc.equal(citations["retracted"], True)).to_pylist()
    out: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in sorted(rows, key=lambda r: (r["cui"], r["category"], r["rank"])):
        seen = out[row["cui"]].setdefault(row["pmid"], {**row, "categories": []})
        seen["categories"].append(row["category"])
    return {cui: list(by_pmid.values()) for cui, by_pmid in out.items()}


def _mesh(snapshot: PublishedSnapshot, citations: pa.Table) -> dict[str, list[tuple[str, int]]]:
    headings = _table(snapshot, MESH_FILE, ["pmid", "descriptor_name"])
    cited = citations.select(["cui", "pmid"]).group_by(["cui", "pmid"]).aggregate([])
    return _top(cited.join(headings, "pmid", join_type="inner"), "descriptor_name")


def _changes(
    snapshot: PublishedSnapshot, cuis: pa.Array, citations: pa.Table
) -> tuple[dict[str, dict[str, dict[str, int]]], dict[str, list[dict[str, Any]]]]:
    """Counts per category and kind of change, and the added citations (at most TOP each)."""
    table = _table(snapshot, CHANGES_FILE, ["cui", "category", "pmid", "change"])
    table = table.filter(pc.is_in(table["cui"], value_set=cuis))
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    grouped = table.group_by(["cui", "category", "change"]).aggregate([("pmid", "count")])
    for row in grouped.to_pylist():
        counts[row["cui"]][row["category"]][row["change"]] = row["pmid_count"]
    added = table.filter(pc.equal(table["change"], "added")).select(["cui", "category", "pmid"])
    rows = citations.join(added, ["cui", "category", "pmid"], join_type="inner").to_pylist()
    by_cui: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["cui"], r["rank"], r["category"])):
        if len(by_cui[row["cui"]]) < TOP:
            by_cui[row["cui"]].append(row)
    return counts, by_cui


def _sum_years(citations: pa.Table) -> Counts:
    """Citations per category and publication year, over every concept."""
    total: Counts = defaultdict(dict)
    if citations.num_rows == 0:
        return {}
    grouped = citations.group_by(["category", "pub_year"]).aggregate([("pmid", "count")])
    for row in grouped.to_pylist():
        total[row["category"]][row["pub_year"]] = row["pmid_count"]
    return dict(total)
