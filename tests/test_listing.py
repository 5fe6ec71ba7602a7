"""show's listing: the page's lines, and with --annotate the marks after a PMID."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.listing import citation_marks, render_citations
from pipeline.load.parquet import PARQUET_OPTIONS, FileEntry
from pipeline.load.reader import SnapshotView
from pipeline.load.tables import article_tables
from pipeline.models import Category
from pipeline.transform.pubmed import parse_efetch
from tests.conftest import ROOT

WHOLE = ROOT / "tests" / "transform" / "fixtures" / "whole_records.xml"


@dataclass(frozen=True)
class Files:
    """The article tables of a fixture, read as a published snapshot would be."""

    root: Path
    files: dict[str, FileEntry]

    def read(self, rel: str) -> pa.Table:
        return pq.read_table(self.root / rel)


def snapshot_of_whole_records(root: Path, selected: tuple[str, ...] | None = None) -> Files:
    articles = parse_efetch(WHOLE.read_bytes()).articles
    files = {}
    for relpath, table in article_tables(articles, [], selected).items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, root / relpath, **PARQUET_OPTIONS)
        data = (root / relpath).read_bytes()
        files[relpath] = FileEntry(table.num_rows, len(data), hashlib.sha256(data).hexdigest())
    return Files(root, files)


def row(pmid: int, retracted: bool = False) -> dict[str, object]:
    return {
        "pmid": pmid,
        "authors_display": "Smith J",
        "source": "N Engl J Med 2021 Jan 14;384(2):101-110",
        "epub_date": None,
        "doi_display": None,
        "pmcid": None,
        "retracted": retracted,
    }


VIEW = SnapshotView(
    concept={},
    categories=(Category("therapy", "Therapy", "t"),),
    citations={"therapy": [row(90000201, retracted=True), row(90000203)]},
)


def test_marks_come_from_the_articles_and_the_corrections_tables(tmp_path):
    marks = citation_marks(snapshot_of_whole_records(tmp_path))
    assert marks == {
        90000201: " [Retracted] [Erratum] [Expression of concern]",
        90000202: " [Retracted]",
    }


def test_marks_need_only_one_of_the_two_tables(tmp_path):
    only_links = snapshot_of_whole_records(tmp_path, ("comments_corrections",))
    assert citation_marks(only_links)[90000201] == " [Retracted] [Erratum] [Expression of concern]"
    assert citation_marks(Files(tmp_path / "nothing", {})) == {}


def test_annotate_adds_the_marks_after_the_pmid_line_and_nothing_else():
    plain = render_citations(VIEW, category=None, limit=None)
    marked = render_citations(
        VIEW, category=None, limit=None, marks={90000201: " [Retracted] [Erratum]"}
    )
    assert plain.splitlines()[-3] == "N Engl J Med 2021 Jan 14;384(2):101-110. PMID: 90000201"
    assert marked.splitlines()[-3] == plain.splitlines()[-3] + " [Retracted] [Erratum]"
    assert [a for a, b in zip(plain.splitlines(), marked.splitlines(), strict=True) if a != b] == [
        plain.splitlines()[-3]
    ]


def test_a_citation_flagged_retracted_is_marked_even_without_an_articles_table():
    marked = render_citations(VIEW, category=None, limit=None, marks={1: " [Erratum]"})
    assert marked.splitlines()[-3].endswith("PMID: 90000201 [Retracted]")
    assert marked.splitlines()[-1].endswith("PMID: 90000203")
