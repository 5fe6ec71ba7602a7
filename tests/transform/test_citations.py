import pytest

from pipeline.transform.citations import citation_line, source_string


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (
            ("Haematol Blood Transfus", "1990", "33", None, "614-8"),
            "Haematol Blood Transfus 1990;33:614-8",
        ),
        (
            ("Ann Hematol", "2024 Oct", "103", "10", "4057-4063"),
            "Ann Hematol 2024 Oct;103(10):4057-4063",
        ),
        (("Leukemia", "1993 May", "7 Suppl 1", None, "49-50"), "Leukemia 1993 May;7 Suppl 1:49-50"),
        (("J Hematol Oncol", "2009 May 22", "2", None, "21"), "J Hematol Oncol 2009 May 22;2:21"),
        (
            ("Mini Rev Med Chem", "2023", "23", "7", "787-803"),
            "Mini Rev Med Chem 2023;23(7):787-803",
        ),
        (("J", "2020", None, None, None), "J 2020"),
        (("J", "2020", None, "3", None), "J 2020;(3)"),
        (("J", "2020", None, None, "e12"), "J 2020;e12"),
        ((None, None, None, None, None), None),
    ],
)
def test_source_string_joins_journal_date_volume_issue_and_pages(parts, expected):
    assert source_string(*parts) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("S 1990;33:614-8", None, "10.1/x", 1, False), "S 1990;33:614-8. doi: 10.1/x. PMID: 1"),
        (
            ("S", "2024 Jul 24", "10.1/x", 2, True),
            "S. Epub 2024 Jul 24 doi: 10.1/x. PMID: 2Free PMC Article",
        ),
        (("S", "2024 Jul 24", None, 3, False), "S. Epub 2024 Jul 24. PMID: 3"),
        (("S", None, None, 4, False), "S. PMID: 4"),
        ((None, None, None, 5, True), "PMID: 5Free PMC Article"),
    ],
)
def test_citation_line_matches_the_page_format(args, expected):
    source, epub, doi, pmid, free = args
    assert citation_line(source, epub, doi, pmid, free) == expected
