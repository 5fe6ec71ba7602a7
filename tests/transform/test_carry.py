"""Records read again from an earlier efetch answer: only those wanted, each as a build reads it."""

from __future__ import annotations

from pipeline.transform.carry import record_pmids, records_of
from pipeline.transform.pubmed import parse_efetch
from tests.fakes.dataset import pubmed_article
from tests.fakes.ncbi_xml import pubmed_set_body

BROKEN = (
    '<PubmedArticle><MedlineCitation><PMID Version="x">7</PMID></MedlineCitation></PubmedArticle>'
)


def _body() -> bytes:
    return pubmed_set_body(
        [
            pubmed_article(1, title="One."),
            pubmed_article(2, title="Two."),
            BROKEN,
            pubmed_article(1, title="One again."),
        ]
    )


def test_record_pmids_lists_each_record_in_order():
    assert record_pmids(_body()) == [1, 2, 7, 1]


def test_records_of_reads_only_the_wanted_pmids_as_parse_efetch_reads_them():
    articles, rejects = records_of(_body(), {2, 7})
    parsed = parse_efetch(_body())
    assert articles == [a for a in parsed.articles if a.pmid == 2]
    assert rejects == list(parsed.rejects)


def test_records_of_keeps_the_first_record_of_a_pmid_met_twice():
    articles, _ = records_of(_body(), {1})
    assert [a.title for a in articles] == ["One."]
