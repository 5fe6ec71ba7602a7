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
    ).doi
    assert (None if doi is None else (doi.key, doi.display, doi.source)) == expected


@pytest.mark.parametrize(
    ("elocations", "ids", "alternate", "problem"),
    [
        pytest.param(
            '<ELocationID EIdType="doi">10.1000/Same</ELocationID>',
            '<ArticleId IdType="doi">https://doi.org/10.1000/SAME</ArticleId>',
            None,
            None,
            id="the same DOI in both sources, written differently, is no conflict",
        ),
        pytest.param(
            '<ELocationID EIdType="doi">10.1000/First</ELocationID>',
            '<ArticleId IdType="doi">10.1000/Second</ArticleId>',
            "10.1000/second",
            None,
            id="two valid DOIs that disagree keep the second as the alternate",
        ),
        pytest.param(
            '<ELocationID EIdType="doi">abc</ELocationID>',
            '<ArticleId IdType="doi">10.1000/Good</ArticleId>',
            None,
            "ELocationID doi 'abc' is not a DOI",
            id="an invalid elocation is named and the list's DOI is kept",
        ),
        pytest.param(
            '<ELocationID EIdType="doi">10.1000/Good</ELocationID>',
            '<ArticleId IdType="doi">10.1000/has space</ArticleId>',
            None,
            "ArticleIdList doi '10.1000/has space' is not a DOI",
            id="an invalid list DOI is named even when the elocation is good",
        ),
        pytest.param(
            '<ELocationID EIdType="doi" ValidYN="N">10.9999/typo</ELocationID>',
            '<ArticleId IdType="doi">junk</ArticleId>',
            None,
            "ELocationID doi '10.9999/typo' is marked invalid (ValidYN=N); "
            "ArticleIdList doi 'junk' is not a DOI",
            id="a ValidYN=N elocation and an invalid list DOI are both named",
        ),
        pytest.param(
            '<ELocationID EIdType="doi"> </ELocationID>',
            '<ArticleId IdType="doi"></ArticleId>',
            None,
            None,
            id="blank candidates are no problem",
        ),
    ],
)
def test_record_doi_reports_conflicts_and_problems(
    elocations: str, ids: str, alternate: str | None, problem: str | None
):
    choice = record_doi(
        element(f"<Article>{elocations}</Article>"),
        element(f"<ArticleIdList>{ids}</ArticleIdList>"),
    )
    assert (choice.alternate, choice.conflict, choice.problem) == (
        alternate,
        alternate is not None,
        problem,
    )
