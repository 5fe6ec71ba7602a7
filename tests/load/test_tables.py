"""The PubMed-derived tables: every table, its schema, and the new columns' values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.load import schemas
from pipeline.load.tables import article_tables, articles_table, journals_table
from pipeline.models import Article, Reject
from pipeline.transform.pubmed import parse_efetch

FIXTURES = Path(__file__).resolve().parents[1] / "transform" / "fixtures"


@pytest.fixture(scope="module")
def fixture_articles() -> list[Article]:
    """The hand-written fixture records (see their XML comments), as the runner gets them."""
    articles: list[Article] = []
    for path in sorted(FIXTURES.glob("*.xml")):
        articles.extend(parse_efetch(path.read_bytes()).articles)
    return articles


@pytest.fixture(scope="module")
def tables(fixture_articles: list[Article]) -> dict[str, pa.Table]:
    return article_tables(
        fixture_articles, [Reject(pmid=None, reason="no PMID", fragment_sha256="0")]
    )


def rows(table: pa.Table, pmid: int) -> list[dict[str, object]]:
    return [r for r in table.to_pylist() if r["pmid"] == pmid]


def test_article_tables_gives_every_pubmed_table_with_its_schema(tables: dict[str, pa.Table]):
    expected = {
        "articles/part-0.parquet": schemas.ARTICLES,
        "authors/part-0.parquet": schemas.AUTHORS,
        "editors/part-0.parquet": schemas.EDITORS,
        "investigators/part-0.parquet": schemas.INVESTIGATORS,
        "journals/part-0.parquet": schemas.JOURNALS,
        **{
            f"{name}/part-0.parquet": schemas.TABLES[name]
            for name in schemas.SELECTABLE
            if name not in ("articles", "authors", "editors", "investigators", "journals")
            and name != "citations"
        },
        "rejects/part-0.parquet": schemas.REJECTS,
    }
    assert {path: t.schema for path, t in tables.items()} == expected
    names = {path.split("/")[0] for path in tables}
    assert names == set(schemas.TABLES) - {"concepts", "citations", "changes"}


def test_editors_and_investigators_tables_have_the_authors_columns():
    assert schemas.EDITORS.names == schemas.AUTHORS.names
    assert schemas.INVESTIGATORS.names == schemas.AUTHORS.names


@pytest.mark.parametrize(
    ("pmid", "start", "end", "precision"),
    [
        (90000001, date(1998, 12, 1), date(1999, 1, 31), "range"),
        (90000005, date(1990, 7, 1), date(1990, 10, 31), "season"),
        (90000006, date(1879, 3, 8), date(1879, 3, 8), "day"),
        (90000007, None, None, None),
    ],
)
def test_articles_table_has_the_pub_date_span_as_date32(
    tables: dict[str, pa.Table], pmid: int, start: date | None, end: date | None, precision: str
):
    table = tables["articles/part-0.parquet"]
    assert table.schema.field("pub_date_start").type == pa.date32()
    (row,) = rows(table, pmid)
    assert (row["pub_date_start"], row["pub_date_end"], row["pub_date_precision"]) == (
        start,
        end,
        precision,
    )


@pytest.mark.parametrize(
    ("pmid", "expected"),
    [
        (90000101, ("10.1056/nejmoa2313886", "10.1056/nejmoa9999999", True, None, None, None)),
        (
            90000102,
            (
                "10.1000/fixture.102",
                None,
                False,
                "ELocationID doi '10.9999/typo-by-publisher' is marked invalid (ValidYN=N); "
                "ELocationID doi 'abc' is not a DOI",
                None,
                None,
            ),
        ),
        (90000103, ("10.1000/book.103", None, False, None, "Fixture Reviews", "NBK0001")),
    ],
)
def test_articles_table_has_doi_conflict_problem_and_book_columns(
    tables: dict[str, pa.Table], pmid: int, expected: tuple[object, ...]
):
    (row,) = rows(tables["articles/part-0.parquet"], pmid)
    columns = ("doi", "doi_alternate", "doi_conflict", "doi_problem", "book_title")
    assert (*(row[c] for c in columns), row["book_accession"]) == expected


def test_authors_table_aligns_affiliation_identifiers_with_affiliations(
    tables: dict[str, pa.Table],
):
    first, second, *_ = rows(tables["authors/part-0.parquet"], 90000101)
    assert first["affiliations"] == ["Dept A, Univ B."]
    assert first["affiliation_identifiers"] == [["https://ror.org/00hj8s172"]]
    assert first["affiliation_identifier_sources"] == [["ROR"]]
    assert (first["orcid"], first["orcid_source"]) == ("0000-0002-1694-233X", "identifier")
    assert second["affiliation_identifiers"] == [[]]
    assert (second["orcid"], second["orcid_source"]) == ("0000-0002-1825-0097", "affiliation")


def test_editors_and_investigators_tables_hold_their_people_in_order(
    tables: dict[str, pa.Table],
):
    editors = tables["editors/part-0.parquet"].to_pylist()
    assert [(r["pmid"], r["position"], r["last_name"]) for r in editors] == [
        (90000103, 1, "Adam"),
        (90000103, 2, "Feldman"),
    ]
    investigators = tables["investigators/part-0.parquet"].to_pylist()
    assert [(r["pmid"], r["position"], r["last_name"], r["valid"]) for r in investigators] == [
        (90000101, 1, "Roe", True),
        (90000101, 2, "Doe", False),
    ]
    authors = tables["authors/part-0.parquet"].to_pylist()
    assert not {"Adam", "Feldman", "Roe", "Doe"} & {r["last_name"] for r in authors}


def test_tables_round_trip_through_parquet(tables: dict[str, pa.Table], tmp_path: Path):
    for relpath, table in tables.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True)
        pq.write_table(table, path)
        assert pq.read_table(path).equals(table)


def test_tables_of_no_articles_are_empty_with_their_schemas():
    for table in article_tables([], []).values():
        assert table.num_rows == 0


def test_journals_table_has_one_row_per_nlm_unique_id(tables: dict[str, pa.Table]):
    journals = tables["journals/part-0.parquet"].to_pylist()
    assert [(j["nlm_id"], j["medline_ta"], j["issn_linking"]) for j in journals] == [
        ("0255562", "N Engl J Med", "0028-4793"),
        ("101285081", "PLoS One", "1932-6203"),
        ("9000001", "Fixture J", None),
    ]


def test_a_journal_row_takes_the_issns_of_its_highest_pmid_and_articles_keep_their_own(
    tables: dict[str, pa.Table],
):
    # 0255562: 90000101 and 90000203 give only the electronic ISSN, 90000201 only the print.
    nejm = [j for j in tables["journals/part-0.parquet"].to_pylist() if j["nlm_id"] == "0255562"]
    assert [(j["issn_print"], j["issn_electronic"]) for j in nejm] == [(None, "1533-4406")]
    own = {
        r["pmid"]: (r["issn_print"], r["issn_electronic"])
        for r in tables["articles/part-0.parquet"].to_pylist()
        if r["journal_nlm_id"] == "0255562"
    }
    assert own == {
        90000101: (None, "1533-4406"),
        90000201: ("0028-4793", None),
        90000203: (None, "1533-4406"),
    }


def test_journals_table_is_the_same_whatever_the_order_of_the_records(
    fixture_articles: list[Article],
):
    forward = journals_table(fixture_articles)
    assert journals_table(list(reversed(fixture_articles))).equals(forward)
    assert journals_table(sorted(fixture_articles, key=lambda a: a.title or "")).equals(forward)


def test_articles_authors_column_shared_with_the_authors_table_equals_one_built_alone(
    fixture_articles: list[Article], tables: dict[str, pa.Table]
):
    alone = articles_table(fixture_articles)
    assert any(a.authors for a in fixture_articles)
    assert any(not a.authors for a in fixture_articles)
    assert tables["articles/part-0.parquet"].equals(alone)
