"""A report of many concepts grows linearly, a bounded number of bytes per concept, up to
its cap: beyond it, only the concepts with the most citations get a row and a section."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pipeline.config import load_settings
from pipeline.load import tables
from pipeline.load.snapshot import SnapshotWriter
from pipeline.load.survey import survey
from pipeline.models import CitationRow, Concept
from pipeline.report.html import MAX_WARNINGS, render, shown_concepts
from tests.support import bare_manifest, page_text

# Per concept, one section of small tables; a plot per concept would cost tens of KB each.
MAX_BYTES_PER_CONCEPT = 16_000
PER_CATEGORY = 12


def many_concept_snapshot(out: Path, n: int) -> Path:
    """n concepts, each with PER_CATEGORY citations in every category over 40 years."""
    categories = load_settings(env={}).categories
    concepts = [
        Concept(i, f"C8{i:06d}", f"Concept number {i}", f"Definition {i}.", "MedGen", None, None)
        for i in range(n)
    ]
    writer = SnapshotWriter(out)
    writer.add("concepts/part-0.parquet", tables.concepts_table(concepts, "Build-1"))
    for k, category in enumerate(categories):
        rows = [
            CitationRow(
                cui=c.cui,
                category=category.name,
                rank=rank,
                pmid=40_000_000 + (c.uid or 0) * 100 + k * PER_CATEGORY + rank,
                title=f"Title {rank} of {c.cui}",
                journal=f"J Number {rank % 5}",
                pub_year=2025 - (rank * 3 + k) % 40,
                doi=None,
                doi_display=f"10.5555/{c.cui}.{rank}",
                pmcid=None,
                authors_display="Doe J, Roe R",
                source=f"J Number {rank % 5} 2020;1:1-2",
                epub_date=None,
            )
            for c in concepts
            for rank in range(1, PER_CATEGORY + 1)
        ]
        writer.add(
            f"citations/category={category.name}/part-0.parquet", tables.citations_table(rows)
        )
    snapshot, _ = writer.publish(bare_manifest(categories))
    return snapshot


def test_a_300_concept_report_stays_within_a_bounded_size_per_concept(tmp_path):
    small = render(survey(many_concept_snapshot(tmp_path / "a", 100)))
    large = render(survey(many_concept_snapshot(tmp_path / "b", 300)))
    assert large.count('<section class="concept"') == 300
    per_concept = (len(large.encode()) - len(small.encode())) / 200
    assert per_concept <= MAX_BYTES_PER_CONCEPT
    assert len(large.encode()) / 300 <= MAX_BYTES_PER_CONCEPT
    # one plot for the snapshot, none per concept
    assert large.count("<svg") - large.count('class="spark"') == 1


def test_a_report_of_more_concepts_than_its_cap_shows_those_with_most_citations_and_says_so(
    tmp_path,
):
    data = survey(many_concept_snapshot(tmp_path / "a", 300))
    # Give the last concept more citations than any other: it must be among those shown.
    last = data.concepts[-1]
    year = dict(last.per_year["therapy"])
    year[2025] = year.get(2025, 0) + 100
    busiest = dataclasses.replace(last, per_year={**last.per_year, "therapy": year})
    data = dataclasses.replace(data, concepts=[*data.concepts[:-1], busiest])
    page = render(data, max_concepts=120)
    assert page.count('<section class="concept"') == 120
    assert page.count('<tr><td class="l"><a href="#') == 120
    assert busiest.concept["cui"] in page
    assert "shows the 120 of 300 concepts with the most citations" in page_text(page)
    assert "300 concept(s)" in page_text(page)  # the plot is of every concept
    shown = shown_concepts(data, 120)
    assert [c.concept["cui"] for c in shown] == sorted(c.concept["cui"] for c in shown)
    assert render(data, max_concepts=None).count('<section class="concept"') == 300


def test_a_report_lists_the_first_warnings_and_counts_the_rest(tmp_path):
    data = survey(many_concept_snapshot(tmp_path / "a", 3))
    warnings = tuple(f"warning number {i}" for i in range(MAX_WARNINGS + 50))
    data = dataclasses.replace(data, manifest=dataclasses.replace(data.manifest, warnings=warnings))
    text = page_text(render(data))
    assert f"Warnings ({MAX_WARNINGS + 50:,})" in text
    assert f"warning number {MAX_WARNINGS - 1}" in text
    assert f"warning number {MAX_WARNINGS}" not in text
    assert "and 50 more: the manifest" in text
