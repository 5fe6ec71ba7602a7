from __future__ import annotations

import hashlib
from datetime import date

import pytest

from pipeline.errors import ResponseFormatError
from pipeline.models import (
    Affiliation,
    Article,
    ArticleIdentifier,
    Author,
    Journal,
    PubDate,
    Reject,
)
from pipeline.transform.pubmed import (
    FirstRecordPerPmid,
    UnreadableRecordError,
    article_from_element,
    parse_efetch,
)
from tests.transform.builders import article_set, article_xml, element


def only_article(body: bytes) -> Article:
    batch = parse_efetch(body)
    assert batch.rejects == ()
    assert len(batch.articles) == 1
    return batch.articles[0]


def test_parse_efetch_reads_every_field_of_a_journal_article():
    record = article_xml(
        pmid='<PMID Version="2">38598784</PMID>',
        title="<ArticleTitle>Gene <i>therapy</i> for CO<sub>2</sub>\n   retention.</ArticleTitle>"
        "<VernacularTitle>Th\u00e9rapie <b>g\u00e9nique</b>.</VernacularTitle>",
        elocation='<ELocationID EIdType="doi" ValidYN="Y">10.1056/NEJMoa2313886</ELocationID>',
        authors="""<AuthorList CompleteYN="Y"><Author ValidYN="Y">
          <LastName>Smith</LastName><ForeName>Jane  A</ForeName><Initials>JA</Initials>
          <Identifier Source="ORCID">0000-0002-1825-0097</Identifier>
          <AffiliationInfo><Affiliation>Univ B.</Affiliation></AffiliationInfo></Author>
        </AuthorList>""",
        article_extra="""<Abstract><AbstractText Label="AIM">Test.</AbstractText></Abstract>
          <ArticleDate DateType="Electronic"><Year>2024</Year><Month>07</Month><Day>04</Day>
          </ArticleDate>""",
        ids="""<ArticleIdList><ArticleId IdType="pubmed">38598784</ArticleId>
          <ArticleId IdType="doi">10.1056/NEJMoa2313886</ArticleId>
          <ArticleId IdType="pmc">11001122</ArticleId></ArticleIdList>""",
    )
    assert only_article(article_set(record)) == Article(
        pmid=38598784,
        pmid_version=2,
        status="MEDLINE",
        record_kind="article",
        title="Gene therapy for CO2 retention.",
        vernacular_title="Th\u00e9rapie g\u00e9nique.",
        journal=Journal(
            nlm_id="0255562",
            medline_ta="N Engl J Med",
            iso_abbreviation="N Engl J Med",
            title="The New England journal of medicine",
            issn_print="0028-4793",
            issn_electronic=None,
            issn_linking="0028-4793",
            country="United States",
        ),
        volume="391",
        issue="14",
        pages="1292-1305",
        pub_date=PubDate(
            raw="2024 Oct",
            year=2024,
            display="2024 Oct",
            start=date(2024, 10, 1),
            end=date(2024, 10, 31),
            precision="month",
        ),
        epub_date="2024 Jul 4",
        doi="10.1056/nejmoa2313886",
        doi_display="10.1056/NEJMoa2313886",
        doi_source="elocation",
        pmcid="PMC11001122",
        publication_types=("Journal Article",),
        languages=("eng",),
        authors=(
            Author(
                position=1,
                last_name="Smith",
                fore_name="Jane A",
                initials="JA",
                suffix=None,
                collective_name=None,
                orcid="0000-0002-1825-0097",
                affiliations=(Affiliation("Univ B."),),
                orcid_source="identifier",
            ),
        ),
        author_list_complete=True,
        abstract="AIM: Test.",
        pub_model="Print-Electronic",
        publication_type_uis=("D016428",),
        article_ids=(
            ArticleIdentifier("pubmed", "38598784"),
            ArticleIdentifier("doi", "10.1056/NEJMoa2313886"),
            ArticleIdentifier("pmc", "11001122"),
        ),
    )


def test_collective_name_invalid_and_equal_contrib_authors_are_all_kept():
    authors = """<AuthorList CompleteYN="N">
      <Author ValidYN="Y" EqualContrib="Y"><LastName>A</LastName><Initials>A</Initials></Author>
      <Author ValidYN="N"><LastName>Wrong</LastName><Initials>W</Initials></Author>
      <Author ValidYN="Y"><CollectiveName>COVID-19 <i>Study</i> Group</CollectiveName></Author>
    </AuthorList>"""
    article = only_article(article_set(article_xml(authors=authors)))
    assert [(a.position, a.display, a.valid, a.equal_contrib) for a in article.authors] == [
        (1, "A A", True, True),
        (2, "Wrong W", False, False),
        (3, "COVID-19 Study Group", True, False),
    ]
    assert article.authors[2].last_name is None
    assert article.author_list_complete is False
    assert article.authors_display == "A A, Wrong W, COVID-19 Study Group"


def test_editors_author_list_is_not_read_as_authors_but_as_editors():
    authors = """<AuthorList Type="editors"><Author><LastName>Editor</LastName></Author>
      </AuthorList>"""
    article = only_article(article_set(article_xml(authors=authors)))
    assert article.authors == ()
    assert article.author_list_complete is None  # no authors' list: nothing says
    assert [(e.position, e.last_name) for e in article.editors] == [(1, "Editor")]


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("https://orcid.org/0000-0002-1694-233x", "0000-0002-1694-233X"),
        ("http://orcid.org/0000000218250097", "0000-0002-1825-0097"),
        ("0000-0002-1825-0098", None),
    ],
)
def test_author_orcid_in_a_record_is_normalized_or_dropped(identifier: str, expected: str | None):
    authors = f"""<AuthorList><Author><LastName>X</LastName>
      <Identifier Source="ORCID">{identifier}</Identifier></Author></AuthorList>"""
    article = only_article(article_set(article_xml(authors=authors)))
    assert article.authors[0].orcid == expected


@pytest.mark.parametrize(
    ("elocation", "ids", "expected"),
    [
        (
            "",
            '<ArticleIdList><ArticleId IdType="doi">10.1016/S0140-6736(24)00001-1</ArticleId>'
            "</ArticleIdList>",
            ("10.1016/s0140-6736(24)00001-1", "10.1016/S0140-6736(24)00001-1", "articleidlist"),
        ),
        (
            '<ELocationID EIdType="doi" ValidYN="N">10.9999/retracted-typo</ELocationID>',
            '<ArticleIdList><ArticleId IdType="doi">10.1000/Right</ArticleId></ArticleIdList>',
            ("10.1000/right", "10.1000/Right", "articleidlist"),
        ),
        (
            '<ELocationID EIdType="doi" ValidYN="Y">doi:10.1000/Prefixed.</ELocationID>',
            "",
            ("10.1000/prefixed", "10.1000/Prefixed", "elocation"),
        ),
        (
            "",
            '<ArticleIdList><ArticleId IdType="doi">https://doi.org/10.1000/URL</ArticleId>'
            "</ArticleIdList>",
            ("10.1000/url", "10.1000/URL", "articleidlist"),
        ),
    ],
)
def test_record_doi_sources_and_forms(elocation: str, ids: str, expected: tuple[str, str, str]):
    article = only_article(article_set(article_xml(elocation=elocation, ids=ids)))
    assert (article.doi, article.doi_display, article.doi_source) == expected


def test_ids_inside_reference_list_are_never_the_record_ids():
    references = """<ReferenceList><Reference><Citation>Cited paper.</Citation>
      <ArticleIdList><ArticleId IdType="doi">10.1002/mp.14609</ArticleId>
        <ArticleId IdType="pmc">PMC7753662</ArticleId>
        <ArticleId IdType="pubmed">33225476</ArticleId></ArticleIdList>
      </Reference></ReferenceList>"""
    article = only_article(article_set(article_xml(references=references)))
    assert (article.doi, article.doi_display, article.doi_source, article.pmcid) == (None,) * 4


@pytest.mark.parametrize(
    ("pub_date", "expected"),
    [
        (
            "<PubDate><Year>1990</Year><Season>Spring</Season></PubDate>",
            PubDate(
                "1990 Spring", 1990, "1990 Spring", date(1990, 3, 1), date(1990, 5, 31), "season"
            ),
        ),
        (
            "<PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate>",
            PubDate(
                "1998 Dec-1999 Jan",
                1998,
                "1998 Dec-1999 Jan",
                date(1998, 12, 1),
                date(1999, 1, 31),
                "range",
            ),
        ),
        (
            "<PubDate><Year>2024</Year><Month>9</Month><Day>03</Day></PubDate>",
            PubDate("2024 9 03", 2024, "2024 Sep 3", date(2024, 9, 3), date(2024, 9, 3), "day"),
        ),
    ],
)
def test_record_pub_date(pub_date: str, expected: PubDate):
    assert only_article(article_set(article_xml(pub_date=pub_date))).pub_date == expected


def test_pages_fall_back_to_start_and_end_page():
    record = article_xml().replace(
        "<MedlinePgn>1292-1305</MedlinePgn>", "<StartPage>e12</StartPage><EndPage>e19</EndPage>"
    )
    assert only_article(article_set(record)).pages == "e12-e19"


def test_unknown_elements_are_read_past_and_reported_once_per_batch():
    record = article_xml(article_extra="<FutureElement x='1'><Nested/>text</FutureElement>")
    body = article_set("<SomethingNew/>", record, record, "<!-- comment -->")
    batch = parse_efetch(body)
    assert [a.pmid for a in batch.articles] == [12345678, 12345678]
    assert batch.warnings == (
        "unknown element <SomethingNew> in PubmedArticleSet",
        "unknown element <FutureElement> in PubmedArticle",
        "unknown element <Nested> in PubmedArticle",
    )


MATHML = '<mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML"><mml:mi>x</mml:mi></mml:math>'


@pytest.mark.parametrize(
    ("record", "warnings"),
    [
        pytest.param(article_xml(), (), id="a record the DTD declares gives no warning"),
        pytest.param(
            article_xml(title=f"<ArticleTitle>Of {MATHML} and <sup>2</sup>.</ArticleTitle>"),
            (),
            id="MathML and inline markup the DTD includes give no warning",
        ),
        pytest.param(
            article_xml(
                authors='<AuthorList><Author ValidYN="Y" Rank="1"><LastName>X</LastName>'
                "</Author><Author Rank='2'><LastName>Y</LastName></Author></AuthorList>"
            ),
            ("unknown attribute Rank on <Author> in PubmedArticle",),
            id="an unknown attribute is reported once however often it occurs",
        ),
        pytest.param(
            article_xml(
                title='<ArticleTitle>A <mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML">'
                "<mml:blink>x</mml:blink></mml:math></ArticleTitle>"
            ),
            ("unknown element <{http://www.w3.org/1998/Math/MathML}blink> in PubmedArticle",),
            id="an element MathML does not declare is reported",
        ),
        pytest.param(
            article_xml(article_extra='<Language xml:lang="en">eng</Language>'),
            (
                "unknown attribute {http://www.w3.org/XML/1998/namespace}lang on <Language>"
                " in PubmedArticle",
            ),
            id="a namespaced attribute is reported by its full name",
        ),
        pytest.param(
            "<DeleteCitation><PMID Version='1'>1</PMID><Reason>x</Reason></DeleteCitation>",
            ("unknown element <Reason> in DeleteCitation",),
            id="drift inside a DeleteCitation is reported too",
        ),
    ],
)
def test_schema_drift_is_reported_in_warnings_and_never_fatal(
    record: str, warnings: tuple[str, ...]
):
    batch = parse_efetch(article_set(record))
    assert batch.warnings == warnings
    assert batch.rejects == ()


def test_unreadable_record_with_drift_is_rejected_and_its_drift_reported():
    bad = article_xml(pmid="", article_extra="<FutureElement/>")
    batch = parse_efetch(article_set(bad))
    assert [r.reason for r in batch.rejects] == ["no PMID"]
    assert batch.warnings == ("unknown element <FutureElement> in PubmedArticle",)


def test_empty_article_set_is_an_empty_batch():
    batch = parse_efetch(b'<?xml version="1.0"?>\n<PubmedArticleSet></PubmedArticleSet>')
    assert (batch.articles, batch.deleted, batch.rejects) == ((), (), ())


def test_delete_citation_pmids_are_reported_as_deleted():
    body = article_set(
        article_xml(),
        "<DeleteCitation><PMID Version='1'>111</PMID><PMID Version='1'>222</PMID>"
        "<PMID>x1</PMID></DeleteCitation>",
    )
    batch = parse_efetch(body)
    assert batch.deleted == (111, 222)
    assert len(batch.articles) == 1
    assert batch.warnings == ("DeleteCitation: ignored non-numeric PMID 'x1'",)


@pytest.mark.parametrize(
    ("pmid", "reject_pmid", "reason"),
    [
        ("", None, "no PMID"),
        ('<PMID Version="1">  </PMID>', None, "no PMID"),
        ('<PMID Version="1">12a45</PMID>', None, "invalid PMID '12a45'"),
        ('<PMID Version="1">0</PMID>', None, "invalid PMID '0'"),
        ('<PMID Version="v2">123</PMID>', 123, "invalid PMID Version 'v2'"),
    ],
)
def test_unreadable_record_is_rejected_and_the_rest_of_the_batch_parses(
    pmid: str, reject_pmid: int | None, reason: str
):
    bad = "".join(line.strip() for line in article_xml(pmid=pmid).splitlines())
    batch = parse_efetch(article_set(bad, article_xml()))
    assert [a.pmid for a in batch.articles] == [12345678]
    assert batch.rejects == (
        Reject(
            pmid=reject_pmid,
            reason=reason,
            fragment_sha256=hashlib.sha256(bad.encode()).hexdigest(),
        ),
    )


def test_article_from_element_raises_for_an_unreadable_record():
    with pytest.raises(UnreadableRecordError, match="no PMID"):
        article_from_element(element("<PubmedArticle><MedlineCitation/></PubmedArticle>"))


def test_article_from_element_refuses_other_elements():
    with pytest.raises(UnreadableRecordError, match="not a PubMed record"):
        article_from_element(element("<Other/>"))


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"<PubmedArticleSet><PubmedArticle>", b"Service unavailable", b"{}"],
)
def test_body_that_is_not_xml_raises_response_format_error(body: bytes):
    with pytest.raises(ResponseFormatError):
        parse_efetch(body)


def test_body_with_another_root_raises_response_format_error():
    with pytest.raises(ResponseFormatError, match="eFetchResult"):
        parse_efetch(b"<eFetchResult><ERROR>Empty id list</ERROR></eFetchResult>")


BOOK = """
<PubmedBookArticle>
  <BookDocument>
    <PMID Version="1">20301295</PMID>
    <ArticleIdList>
      <ArticleId IdType="bookaccession">NBK1116</ArticleId>
      <ArticleId IdType="doi">10.1000/Book.1</ArticleId>
    </ArticleIdList>
    <Book>
      <Publisher><PublisherName>University of Washington, Seattle</PublisherName></Publisher>
      <BookTitle book="gene">GeneReviews\u2122</BookTitle>
      <PubDate><Year>1993</Year></PubDate>
      <AuthorList Type="editors"><Author><LastName>Adam</LastName><Initials>MP</Initials>
      </Author></AuthorList>
    </Book>
    <ArticleTitle book="gene" part="achondroplasia">Achondroplasia</ArticleTitle>
    <Language>eng</Language>
    <AuthorList Type="authors"><Author><LastName>Pauli</LastName><ForeName>Richard M</ForeName>
      <Initials>RM</Initials></Author></AuthorList>
    <PublicationType UI="D016454">Review</PublicationType>
    <Abstract><AbstractText Label="CLINICAL CHARACTERISTICS">Short stature.</AbstractText>
    </Abstract>
  </BookDocument>
  <PubmedBookData><ArticleIdList><ArticleId IdType="pubmed">20301295</ArticleId>
  </ArticleIdList></PubmedBookData>
</PubmedBookArticle>"""


def test_book_article_reads_book_document():
    article = only_article(article_set(BOOK))
    assert article.record_kind == "book"
    assert (article.book_title, article.book_accession) == ("GeneReviews\u2122", "NBK1116")
    assert [e.display for e in article.editors] == ["Adam MP"]
    assert (article.pmid, article.pmid_version, article.status) == (20301295, 1, None)
    assert article.title == "Achondroplasia"
    assert article.pub_date == PubDate(
        "1993", 1993, "1993", date(1993, 1, 1), date(1993, 12, 31), "year"
    )
    assert article.authors_display == "Pauli RM"
    assert (article.doi, article.doi_source) == ("10.1000/book.1", "articleidlist")
    assert article.publication_types == ("Review",)
    assert article.languages == ("eng",)
    assert article.abstract == "CLINICAL CHARACTERISTICS: Short stature."
    assert article.journal.display is None


def test_book_without_article_title_uses_book_title():
    book = BOOK.replace(
        '<ArticleTitle book="gene" part="achondroplasia">Achondroplasia</ArticleTitle>', ""
    )
    assert only_article(article_set(book)).title == "GeneReviews\u2122"


def test_a_pmid_met_again_keeps_its_first_record_and_says_so():
    rule = FirstRecordPerPmid("efetch")
    assert rule.admit(7) is None
    assert rule.admit(8) is None
    assert rule.admit(7) == "efetch: PMID 7 appears again; kept the first"
    assert rule.admit(7) == "efetch: PMID 7 appears again; kept the first"
