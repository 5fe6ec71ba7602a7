"""The journals table: one rule, whether chosen from records or from articles rows."""

from __future__ import annotations

import dataclasses

from pipeline.load import journals, schemas, tables
from pipeline.models import Article
from pipeline.transform.pubmed import parse_efetch
from tests.support import WHOLE_RECORDS


def _articles() -> list[Article]:
    return list(parse_efetch(WHOLE_RECORDS.read_bytes()).articles)


def test_journals_from_articles_equals_journals_of_the_records() -> None:
    articles = _articles()
    assert any(a.journal.nlm_id for a in articles)
    from_rows = journals.journals_from_articles(tables.articles_table(articles))
    assert from_rows.equals(tables.journals_table(articles))


def test_journals_from_articles_takes_the_values_of_the_highest_pmid() -> None:
    first, *_ = _articles()
    older = dataclasses.replace(
        first, pmid=first.pmid - 1, journal=dataclasses.replace(first.journal, country="Older")
    )
    newer = dataclasses.replace(first, journal=dataclasses.replace(first.journal, country="Newer"))
    chosen = journals.journals_from_articles(tables.articles_table([newer, older]))
    assert chosen.column("country").to_pylist() == ["Newer"]


def test_journals_from_articles_without_journals_is_the_empty_table() -> None:
    empty = journals.journals_from_articles(tables.articles_table([]))
    assert empty.num_rows == 0
    assert empty.schema == schemas.JOURNALS
