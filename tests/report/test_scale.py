"""A report of many concepts grows linearly, a bounded number of bytes per concept, up to
its cap: beyond it, only the concepts with the most citations get a row and a section."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pipeline.config import load_settings
from pipeline.load import tables
from pipeline.load.snapshot import SnapshotWriter
from pipeline.load.survey import busiest, survey
from pipeline.models import CitationRow, Concept
from pipeline.report.html import MAX_WARNINGS, render
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


def test_a_report_of_more_concepts_than_its_cap_shows_the_first_of_the_busiest_and_says_so(
    tmp_path,
):
    snapshot = many_concept_snapshot(tmp_path / "a", 300)
    data = survey(snapshot, max_concepts=120)
    assert data.surveyed == 300
    # Every concept has as many citations: the first 120, in order.
    assert [c.concept["cui"] for c in data.concepts] == [f"C8{i:06d}" for i in range(120)]
    page = render(data)
    assert page.count('<section class="concept"') == 120
    assert page.count('<tr><td class="l"><a href="#') == 120
    text = page_text(page)
    assert "shows the 120 of 300 concepts with the most citations" in text
    assert "300 concept(s)" in text  # the plot is of every concept
    everyone = survey(snapshot, max_concepts=None)
    assert data.per_year == everyone.per_year
    assert render(everyone).count('<section class="concept"') == 300
    assert "concepts-cut" not in render(everyone)


def test_the_busiest_concepts_are_those_with_most_citations_ties_to_the_earlier():
    cuis = ["C1", "C2", "C3", "C4", "C5"]
    counts = {"C2": 5, "C3": 9, "C4": 5, "C5": 1}
    assert busiest(cuis, counts, 3) == [1, 2, 3]
    assert busiest(cuis, counts, 1) == [2]
    assert busiest(cuis, counts, 9) == [0, 1, 2, 3, 4]
    assert busiest(cuis, {}, 2) == [0, 1]


def test_a_report_lists_the_first_warnings_and_counts_the_rest(tmp_path):
    data = survey(many_concept_snapshot(tmp_path / "a", 3))
    warnings = tuple(f"warning number {i}" for i in range(MAX_WARNINGS + 50))
    data = dataclasses.replace(data, manifest=dataclasses.replace(data.manifest, warnings=warnings))
    text = page_text(render(data))
    assert f"Warnings ({MAX_WARNINGS + 50:,})" in text
    assert f"warning number {MAX_WARNINGS - 1}" in text
    assert f"warning number {MAX_WARNINGS}" not in text
    assert "and 50 more: the manifest" in text
