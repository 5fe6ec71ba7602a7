"""Whole records for what the real samples lack, read from tests/transform/fixtures/.

The fixture files are hand-written (each says how in its XML comment) and valid
against the pubmed_250101 DTD that Biopython ships; the first test keeps them so.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import Bio.Entrez
import pytest
from lxml import etree

from pipeline.models import Article, ParsedBatch
from pipeline.transform.pubmed import parse_efetch

FIXTURES = Path(__file__).parent / "fixtures"
DTD_FILE = Path(Bio.Entrez.__file__).parent / "DTDs" / "pubmed_250101.dtd"


def batch(name: str) -> ParsedBatch:
    return parse_efetch((FIXTURES / name).read_bytes())


def articles(name: str) -> dict[int, Article]:
    return {a.pmid: a for a in batch(name).articles}


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.xml")), ids=lambda p: p.name)
def test_fixture_file_is_valid_against_the_bundled_dtd_and_parses_cleanly(path: Path):
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
    dtd = etree.DTD(str(DTD_FILE))
    assert dtd.validate(etree.parse(str(path), parser)), str(dtd.error_log)
    parsed = parse_efetch(path.read_bytes())
    # whole_records.xml carries two malformed MeSH UIs on purpose: they are its only notes.
    expected = tuple(w for w in parsed.warnings if "kept as published" in w)
    assert (parsed.rejects, parsed.warnings) == ((), expected)
    assert len(expected) == (2 if path.name == "whole_records.xml" else 0)


@pytest.mark.parametrize(
    ("pmid", "year", "display", "start", "end", "precision"),
    [
        (90000001, 1998, "1998 Dec-1999 Jan", date(1998, 12, 1), date(1999, 1, 31), "range"),
        (90000002, 1989, "1989 Dec 15-1990 Jan 2", date(1989, 12, 15), date(1990, 1, 2), "range"),
        (90000003, 1975, "1975-1976", date(1975, 1, 1), date(1976, 12, 31), "range"),
        (90000004, 2001, "Summer 2001", date(2001, 6, 1), date(2001, 8, 31), "season"),
        (90000005, 1990, "1990 Jul-Oct", date(1990, 7, 1), date(1990, 10, 31), "season"),
        (90000006, 1879, "1879 Mar 8", date(1879, 3, 8), date(1879, 3, 8), "day"),
        (90000007, 1978, "1978 1st Quarter", None, None, None),
    ],
)
def test_fixture_pub_dates_give_year_display_and_span(
    pmid: int,
    year: int,
    display: str,
    start: date | None,
    end: date | None,
    precision: str | None,
):
    got = articles("medline_dates_and_old_years.xml")[pmid].pub_date
    assert (got.year, got.display, got.start, got.end, got.precision) == (
        year,
        display,
        start,
        end,
        precision,
    )


def test_pre_1900_record_keeps_its_inline_markup_flattened_and_incomplete_author_list():
    old = articles("medline_dates_and_old_years.xml")[90000006]
    assert old.title == "On a case of chorea in 1879."
    assert old.status == "OLDMEDLINE"
    assert old.author_list_complete is False


def test_conflicting_prefixed_and_url_dois_keep_the_elocation_and_flag_the_other():
    article = articles("ids_people_and_books.xml")[90000101]
    assert (article.doi, article.doi_display, article.doi_source) == (
        "10.1056/nejmoa2313886",
        "10.1056/NEJMoa2313886",
        "elocation",
    )
    assert (article.doi_alternate, article.doi_conflict, article.doi_problem) == (
        "10.1056/nejmoa9999999",
        True,
        None,
    )


def test_authors_keep_orcid_forms_validity_equal_contrib_and_groups():
    article = articles("ids_people_and_books.xml")[90000101]
    assert article.title == "CO2 and in vivo gene therapy."
    assert article.author_list_complete is False
    assert [
        (a.position, a.display, a.orcid, a.orcid_source, a.valid, a.equal_contrib)
        for a in article.authors
    ] == [
        (1, "Smith J", "0000-0002-1694-233X", "identifier", True, True),
        (2, "Jones A", "0000-0002-1825-0097", "affiliation", True, True),
        (3, "Wrong W", None, None, False, False),
        (4, "FIXTURE Study Group", None, None, True, False),
    ]
    assert article.authors[0].affiliations[0].identifier_sources == ("ROR",)


def test_investigators_are_kept_apart_from_authors():
    article = articles("ids_people_and_books.xml")[90000101]
    assert [(i.position, i.display, i.orcid, i.valid) for i in article.investigators] == [
        (1, "Roe R", "0000-0002-1825-0097", True),
        (2, "Doe J", None, False),
    ]
    assert article.editors == ()


def test_invalid_doi_candidates_are_named_and_the_valid_url_doi_is_kept():
    article = articles("ids_people_and_books.xml")[90000102]
    assert (article.doi_display, article.doi_source, article.doi_conflict) == (
        "10.1000/Fixture.102",
        "articleidlist",
        False,
    )
    assert article.doi_problem == (
        "ELocationID doi '10.9999/typo-by-publisher' is marked invalid (ValidYN=N); "
        "ELocationID doi 'abc' is not a DOI"
    )
    assert article.journal.issn_print is None  # 0028-4794: wrong check digit
    assert (article.pub_date.start, article.pub_date.end) == (date(2023, 1, 1), date(2023, 2, 28))


def test_book_chapter_keeps_book_title_accession_editors_and_book_doi():
    book = articles("ids_people_and_books.xml")[90000103]
    assert (book.record_kind, book.title, book.book_title, book.book_accession) == (
        "book",
        "A chapter.",
        "Fixture Reviews",
        "NBK0001",
    )
    assert [a.display for a in book.authors] == ["Pauli RM"]
    assert [(e.position, e.display) for e in book.editors] == [(1, "Adam MP"), (2, "Feldman J")]
    assert (book.doi, book.doi_source) == ("10.1000/book.103", "elocation")


def test_delete_citation_in_a_fixture_gives_deleted_pmids():
    assert batch("ids_people_and_books.xml").deleted == (90000104, 90000105)
