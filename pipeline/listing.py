"""A concept's citations as text, in the MedGen page's layout and wording."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

import pyarrow as pa

from pipeline.load.manifest import Manifest
from pipeline.load.reader import SnapshotView
from pipeline.load.snapshot import PART
from pipeline.transform.citations import citation_line

DEMO_SOURCE = "demo"


class Tables(Protocol):
    """Where the marks are read from: a published snapshot (load.reader.PublishedSnapshot)."""

    @property
    def files(self) -> Mapping[str, object]: ...

    def read(self, rel: str) -> pa.Table: ...


def demo_notice(manifest: Manifest) -> str | None:
    """One line for readers of a snapshot built from the hand-written demo store, else None."""
    if manifest.source != DEMO_SOURCE:
        return None
    return (
        "note: this is the hand-written demo, not NCBI's data: "
        f"{len(manifest.placeholder_columns)} columns hold placeholders "
        "(the manifest's placeholder_columns)"
    )


# show --annotate: what is said after a citation's PMID, in this order.
RETRACTED = " [Retracted]"
ERRATUM = " [Erratum]"
CONCERN = " [Expression of concern]"
_BY_LINK = {"RetractionIn": RETRACTED, "ErratumIn": ERRATUM, "ExpressionOfConcernIn": CONCERN}


def render_header(view: SnapshotView) -> str:
    c = view.concept
    lines = [c["name"], "", "MedGen UID:", str(c["uid"]), "Concept ID:", c["cui"]]
    if c.get("semantic_type"):
        lines.append(c["semantic_type"])
    if c.get("definition"):
        # The page separates the source with a no-break space.
        source = f"\u00a0[from {c['definition_source']}]" if c.get("definition_source") else ""
        lines += ["", "Definition", "", f"{c['definition']}{source}"]
    return "\n".join(lines)


def render_citations(
    view: SnapshotView,
    *,
    category: str | None,
    limit: int | None,
    marks: Mapping[int, str] | None = None,
) -> str:
    """The page's listing; ``marks`` (see citation_marks): text put after a PMID's line."""
    return "\n\n".join(_blocks(view, category, limit, marks or {}))


def citation_marks(snapshot: Tables) -> dict[int, str]:
    """Per PMID, its marks (`` [Retracted]``, `` [Erratum]``, `` [Expression of concern]``)
    from the snapshot's articles and comments_corrections tables, whichever it has."""
    found: dict[int, set[str]] = {}
    for pmid, mark in _article_marks(snapshot):
        found.setdefault(pmid, set()).add(mark)
    for pmid, mark in _link_marks(snapshot):
        found.setdefault(pmid, set()).add(mark)
    order = (RETRACTED, ERRATUM, CONCERN)
    return {pmid: "".join(m for m in order if m in marks) for pmid, marks in found.items()}


def _read(snapshot: Tables, table: str, columns: list[str]) -> list[dict[str, object]]:
    """Rows of a published table through the checked reader; none when the snapshot was
    built without it (--tables)."""
    rel = f"{table}/{PART}"
    if rel not in snapshot.files:
        return []
    rows: list[dict[str, object]] = snapshot.read(rel).select(columns).to_pylist()
    return rows


def _article_marks(snapshot: Tables) -> Iterator[tuple[int, str]]:
    columns = ["pmid", "retracted", "erratum_pmids", "expression_of_concern"]
    for row in _read(snapshot, "articles", columns):
        pmid = int(str(row["pmid"]))
        if row["retracted"]:
            yield pmid, RETRACTED
        if row["erratum_pmids"]:
            yield pmid, ERRATUM
        if row["expression_of_concern"]:
            yield pmid, CONCERN


def _link_marks(snapshot: Tables) -> Iterator[tuple[int, str]]:
    # An ErratumIn link that names no PMID still says the record was corrected.
    for row in _read(snapshot, "comments_corrections", ["pmid", "ref_type"]):
        mark = _BY_LINK.get(str(row["ref_type"]))
        if mark is not None:
            yield int(str(row["pmid"])), mark


def _blocks(
    view: SnapshotView, only: str | None, limit: int | None, marks: Mapping[int, str]
) -> Iterator[str]:
    group: str | None = None
    for cat in view.categories:
        rows = (
            view.citations.get(cat.name, [])[:limit] if limit else view.citations.get(cat.name, [])
        )
        if (only is not None and cat.name != only) or not rows:
            continue
        if cat.group and cat.group != group:
            yield cat.group
        group = cat.group
        yield cat.heading
        if cat.subheading:
            yield cat.subheading
        yield "\n".join(_entry(r, marks) for r in rows)


def _entry(row: dict[str, object], marks: Mapping[int, str]) -> str:
    authors = str(row["authors_display"] or "")
    line = citation_line(
        row["source"] if isinstance(row["source"], str) else None,
        row["epub_date"] if isinstance(row["epub_date"], str) else None,
        row["doi_display"] if isinstance(row["doi_display"], str) else None,
        int(str(row["pmid"])),
        free_pmc=bool(row["pmcid"]),
    )
    if marks:
        pmid = int(str(row["pmid"]))
        mark = marks.get(pmid, "")
        if row.get("retracted") and RETRACTED not in mark:
            mark = RETRACTED + mark
        line += mark
    return f"{authors}\n{line}" if authors else line
