"""A concept's citations as text, in the MedGen page's layout and wording."""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.load.manifest import Manifest
from pipeline.load.reader import SnapshotView
from pipeline.transform.citations import citation_line

DEMO_SOURCE = "demo"


def demo_notice(manifest: Manifest) -> str | None:
    """One line for readers of a snapshot built from the hand-written demo store, else None."""
    if manifest.source != DEMO_SOURCE:
        return None
    return (
        "note: this is the hand-written demo, not NCBI's data: "
        f"{len(manifest.placeholder_columns)} columns hold placeholders "
        "(the manifest's placeholder_columns)"
    )


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


def render_citations(view: SnapshotView, *, category: str | None, limit: int | None) -> str:
    return "\n\n".join(_blocks(view, category, limit))


def _blocks(view: SnapshotView, only: str | None, limit: int | None) -> Iterator[str]:
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
        yield "\n".join(_entry(r) for r in rows)


def _entry(row: dict[str, object]) -> str:
    authors = str(row["authors_display"] or "")
    line = citation_line(
        row["source"] if isinstance(row["source"], str) else None,
        row["epub_date"] if isinstance(row["epub_date"], str) else None,
        row["doi_display"] if isinstance(row["doi_display"], str) else None,
        int(str(row["pmid"])),
        free_pmc=bool(row["pmcid"]),
    )
    return f"{authors}\n{line}" if authors else line
