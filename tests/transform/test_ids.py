from __future__ import annotations

import pytest

from pipeline.transform.ids import article_id, normalize_pmcid, record_doi
from tests.transform.builders import element


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("PMC6022861", "PMC6022861"),
        (" PMC6022861 ", "PMC6022861"),
        ("6022861", "PMC6022861"),
        ("PMC-DEMO-PLACEHOLDER", "PMC-DEMO-PLACEHOLDER"),
        ("", None),
        (None, None),
    ],
)
def test_normalize_pmcid_prefixes_bare_digits_and_keeps_other_text(
    raw: str | None, expected: str | None
):
    assert normalize_pmcid(raw) == expected


def test_article_id_reads_only_direct_children_of_the_list():
    id_list = element(
        """<ArticleIdList><ArticleId IdType="pubmed">1</ArticleId>
        <Nested><ArticleId IdType="pmc">PMC999</ArticleId></Nested></ArticleIdList>"""
    )
    assert article_id(id_list, "pubmed") == "1"
    assert article_id(id_list, "pmc") is None


@pytest.mark.parametrize(
    ("elocations", "ids", "expected"),
    [
        (
            '<ELocationID EIdType="doi" ValidYN="Y">10.1000/Loc</ELocationID>',
            '<ArticleId IdType="doi">10.1000/list</ArticleId>',
            ("10.1000/loc", "10.1000/Loc", "elocation"),
        ),
        (
            '<ELocationID EIdType="doi">10.1000/Loc</ELocationID>',
            "",
            ("10.1000/loc", "10.1000/Loc", "elocation"),
        ),
        (
            '<ELocationID EIdType="doi" ValidYN="N">10.1000/wrong</ELocationID>',
            '<ArticleId IdType="doi">10.1000/List</ArticleId>',
            ("10.1000/list", "10.1000/List", "articleidlist"),
        ),
        (
            '<ELocationID EIdType="pii" ValidYN="Y">S0140-6736(24)00001-1</ELocationID>',
            '<ArticleId IdType="doi">doi:10.1000/List</ArticleId>',
            ("10.1000/list", "10.1000/List", "articleidlist"),
        ),
        ('<ELocationID EIdType="doi">garbage</ELocationID>', "", None),
        ("", '<ArticleId IdType="pii">10.1000/not-a-doi-type</ArticleId>', None),
    ],
)
def test_record_doi_prefers_valid_elocation_then_article_id_list(
    elocations: str, ids: str, expected: tuple[str, str, str] | None
):
    doi = record_doi(
        element(f"<Article>{elocations}</Article>"),
        element(f"<ArticleIdList>{ids}</ArticleIdList>"),
    )
    assert (None if doi is None else (doi.key, doi.display, doi.source)) == expected
