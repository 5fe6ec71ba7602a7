"""Conformance against real EFetch answers kept in ../shared/ncbi-samples.

The samples are not part of the project (see their README): these tests read
them in place and skip when the folder is absent, so a fresh clone passes.
The pinned values below were checked by reading the XML files by eye.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from pipeline.models import Article, PubDate
from pipeline.transform.pubmed import RECORD_TAGS, parse_efetch
from pipeline.xmlsafe import parse_xml

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "ncbi-samples"
PUBMED_EFETCH = (
    "biopython/pubmed*.xml",
    "eutils-json/efetch.pubmed*.xml",
    "metapub/pmid_28731372.xml",
    "metapub/pmid_xml/*.xml",
)
SKIP_REASON = f"../shared/ncbi-samples not present: {SAMPLES} is not a directory"
# 96 records in 91 files when the samples were gathered; none is rejected.
EXPECTED_RECORDS = 96

pytestmark = pytest.mark.samples


def efetch_files() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted({p for pattern in PUBMED_EFETCH for p in SAMPLES.glob(pattern)})


def require_samples() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(SKIP_REASON)


def sample_articles(name: str) -> dict[int, Article]:
    require_samples()
    batch = parse_efetch((SAMPLES / name).read_bytes())
    return {a.pmid: a for a in batch.articles}


def direct_ids(record: etree._Element, id_type: str) -> set[str]:
    id_list = record.find("PubmedData/ArticleIdList")
    if id_list is None:
        id_list = record.find("BookDocument/ArticleIdList")
    if id_list is None:
        return set()
    return {
        (el.text or "").strip()
        for el in id_list.iterfind("ArticleId")
        if el.get("IdType") == id_type
    }


FILES = efetch_files()


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=str(p.relative_to(SAMPLES))) for p in FILES]
    or [pytest.param(None, id="absent", marks=pytest.mark.skip(reason=SKIP_REASON))],
)
def test_every_sample_record_parses_into_one_article(path: Path):
    body = path.read_bytes()
    records = [el for el in parse_xml(body, what=path.name) if el.tag in RECORD_TAGS]
    batch = parse_efetch(body)
    assert batch.rejects == ()
    assert len(batch.articles) == len(records)
    for record, article in zip(records, batch.articles, strict=True):
        assert article.record_kind == ("book" if record.tag == "PubmedBookArticle" else "article")
        assert article.pub_date.year is not None
        assert article.title is not None
        # The record's own ids come only from its own list (or ELocationID),
        # never from the cited papers in ReferenceList.
        if article.pmcid is not None:
            assert article.pmcid in direct_ids(record, "pmc")
        if article.doi_source == "articleidlist":
            assert article.doi_display in direct_ids(record, "doi")


def test_sample_record_total_is_as_gathered():
    require_samples()
    total = sum(len(parse_efetch(p.read_bytes()).articles) for p in FILES)
    assert total == EXPECTED_RECORDS


def test_pubmed7_collective_name_and_orcids():
    article = sample_articles("biopython/pubmed7.xml")[29963580]
    assert len(article.authors) == 9
    group = article.authors[8]
    assert (group.position, group.collective_name, group.last_name) == (
        9,
        "Canadian Respiratory Research Network",
        None,
    )
    # Both ORCIDs are published as https://orcid.org/ URLs.
    assert {a.display: a.orcid for a in article.authors if a.orcid} == {
        "Capaldi D": "0000-0002-4590-7461",
        "Fenster A": "0000-0003-3525-2788",
    }


def test_pubmed7_identifiers_dates_and_journal():
    article = sample_articles("biopython/pubmed7.xml")[29963580]
    assert (article.doi, article.doi_display, article.doi_source) == (
        "10.1117/1.jmi.5.2.026002",
        "10.1117/1.JMI.5.2.026002",
        "elocation",
    )
    assert article.pmcid == "PMC6022861"
    assert article.status == "PubMed-not-MEDLINE"
    assert article.pub_date == PubDate(
        "2018 Apr", 2018, "2018 Apr", date(2018, 4, 1), date(2018, 4, 30), "month"
    )
    assert article.epub_date == "2018 Jun 28"
    assert (article.volume, article.issue, article.pages) == ("5", "2", "026002")
    assert article.journal.issn_print == "2329-4302"
    assert article.journal.nlm_id == "101643461"


def test_pubmed1_season_and_article_id_list_doi():
    articles = sample_articles("biopython/pubmed1.xml")
    season = articles[12091962]
    assert season.pub_date == PubDate(
        "1990 Spring", 1990, "1990 Spring", date(1990, 3, 1), date(1990, 5, 31), "season"
    )
    assert season.doi is None
    assert season.pages == "113-25"
    older = articles[9997]
    assert (older.doi, older.doi_source) == ("10.1016/0005-2795(76)90109-4", "articleidlist")
    assert older.pub_date.display == "1976 Sep 28"


def test_book_sample_keeps_book_title_and_its_editors_apart_from_authors():
    book = sample_articles("eutils-json/efetch.pubmedbook.xml")[20301295]
    assert book.record_kind == "book"
    assert book.title == "GeneReviews\u2122"
    assert book.book_title == "GeneReviews\u2122"
    assert book.book_accession == "NBK1116"
    assert book.authors == ()
    assert [e.display for e in book.editors][:3] == ["Pagon RA", "Bird TD", "Dolan CR"]
    assert book.pub_date.display == "1993"
    assert book.status is None


def test_reference_list_pmc_ids_are_not_the_record_pmcid():
    # 32743745 has no PMC id of its own; its ReferenceList holds bare-digit ones.
    article = sample_articles("metapub/pmid_xml/32743745.xml")[32743745]
    assert article.pmcid is None
    assert article.doi == "10.1007/s00401-020-02201-2"


def test_vernacular_title_and_suffix_samples():
    norwegian = sample_articles("metapub/pmid_xml/36987902.xml")[36987902]
    assert norwegian.vernacular_title == (
        "Pasienter over 75 \u00e5r innlagt ved Brannskadeavdelinga, "
        "Haukeland universitetssjukehus 2000\u201319."
    )
    assert norwegian.epub_date == "2023 Mar 27"
    wise = sample_articles("metapub/pmid_xml/26568896.xml")[26568896]
    assert wise.authors[3].display == "Wise JP Sr"
    assert (wise.doi_source, wise.pmcid) == ("articleidlist", "PMC4643289")
    assert wise.epub_date == "2014 Sep 6"


def test_equal_contrib_and_collective_group_sample():
    article = sample_articles("metapub/pmid_xml/39382274.xml")[39382274]
    assert [a.equal_contrib for a in article.authors[:3]] == [True, True, True]
    last = article.authors[-1]
    assert last.position == 18
    assert last.collective_name is not None
    assert last.collective_name.startswith("GEMARA-SEIMC/CIBERINFEC Study Group")
