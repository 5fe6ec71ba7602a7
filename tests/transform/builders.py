"""Small hand-written EFetch fixtures: one PubmedArticle with overridable parts.

Written by hand from the PubMed DTD (pubmed_250101) and the shapes seen in the
real samples under ../shared/ncbi-samples, reduced to what each test needs.
"""

from __future__ import annotations

from lxml import etree

from pipeline.xmlsafe import parse_xml

DEFAULT_AUTHORS = """
<AuthorList CompleteYN="Y">
  <Author ValidYN="Y"><LastName>Smith</LastName><ForeName>Jane</ForeName>
    <Initials>J</Initials></Author>
</AuthorList>"""

DEFAULT_PUB_DATE = "<PubDate><Year>2024</Year><Month>Oct</Month></PubDate>"

DEFAULT_IDS = """
<ArticleIdList>
  <ArticleId IdType="pubmed">12345678</ArticleId>
</ArticleIdList>"""


def article_xml(
    *,
    pmid: str = '<PMID Version="1">12345678</PMID>',
    title: str = "<ArticleTitle>A title.</ArticleTitle>",
    pub_date: str = DEFAULT_PUB_DATE,
    elocation: str = "",
    authors: str = DEFAULT_AUTHORS,
    article_extra: str = "",
    ids: str = DEFAULT_IDS,
    references: str = "",
) -> str:
    """One ``PubmedArticle`` element as text."""
    return f"""
<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    {pmid}
    <Article PubModel="Print-Electronic">
      <Journal>
        <ISSN IssnType="Print">0028-4793</ISSN>
        <JournalIssue CitedMedium="Internet">
          <Volume>391</Volume><Issue>14</Issue>
          {pub_date}
        </JournalIssue>
        <Title>The New England journal of medicine</Title>
        <ISOAbbreviation>N Engl J Med</ISOAbbreviation>
      </Journal>
      {title}
      <Pagination><MedlinePgn>1292-1305</MedlinePgn></Pagination>
      {elocation}
      {authors}
      <Language>eng</Language>
      <PublicationTypeList>
        <PublicationType UI="D016428">Journal Article</PublicationType>
      </PublicationTypeList>
      {article_extra}
    </Article>
    <MedlineJournalInfo>
      <Country>United States</Country>
      <MedlineTA>N Engl J Med</MedlineTA>
      <NlmUniqueID>0255562</NlmUniqueID>
      <ISSNLinking>0028-4793</ISSNLinking>
    </MedlineJournalInfo>
  </MedlineCitation>
  <PubmedData>
    {ids}
    {references}
  </PubmedData>
</PubmedArticle>"""


def article_set(*records: str) -> bytes:
    """A whole EFetch body holding ``records``."""
    return f"<PubmedArticleSet>{''.join(records)}</PubmedArticleSet>".encode()


def element(xml: str) -> etree._Element:
    """One fragment parsed with the project's hardened parser."""
    return parse_xml(xml.encode(), what="test fixture")
