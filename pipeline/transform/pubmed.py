"""EFetch PubMed XML (``PubmedArticleSet``) to typed records.

Pure: bytes in, ``ParsedBatch`` out. Each ``PubmedArticle`` or
``PubmedBookArticle`` is read on its own by :func:`article_from_element`, so a
streaming reader can feed elements one at a time. A record that cannot be
identified becomes a ``Reject`` carrying the hash of its XML, so one bad
record never costs the batch; elements the pipeline does not use are ignored,
and names the PubMed DTD does not declare are reported in the batch's warnings
(see pipeline/transform/drift.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lxml import etree

from pipeline.errors import ResponseFormatError
from pipeline.models import Article, ParsedBatch, Reject
from pipeline.transform.authors import (
    author_list,
    authors_from_list,
    editor_lists,
    editors_from_lists,
    investigators_from,
)
from pipeline.transform.dates import article_date_display, pub_date_from_element
from pipeline.transform.drift import attribute_names, unknown_names
from pipeline.transform.ids import article_id, normalize_pmcid, record_doi
from pipeline.transform.journal import EMPTY_JOURNAL, journal_from_citation
from pipeline.transform.text import abstract_text, child_text, flatten, texts
from pipeline.xmlsafe import parse_xml

RECORD_TAGS = frozenset({"PubmedArticle", "PubmedBookArticle"})


class UnreadableRecordError(ValueError):
    """A record without a usable identity; ``pmid`` is set when it was readable."""

    def __init__(self, reason: str, pmid: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pmid = pmid


@dataclass(frozen=True, slots=True)
class _Pmid:
    pmid: int
    version: int


def parse_efetch(body: bytes) -> ParsedBatch:
    """Every record, deletion and unreadable record of one EFetch body.

    Raises ``ResponseFormatError`` if the body is not XML or not a PubmedArticleSet.
    """
    root = parse_xml(body, what="efetch pubmed")
    if root.tag != "PubmedArticleSet":
        raise ResponseFormatError(f"efetch pubmed: root element is {root.tag!r}")
    articles: list[Article] = []
    rejects: list[Reject] = []
    deleted: list[int] = []
    # A dict keeps each distinct warning once, in the order first seen.
    warnings: dict[str, None] = dict.fromkeys(
        f"unknown attribute {name} on <{root.tag}>" for name in attribute_names(root)
    )
    for child in root:
        if not isinstance(child.tag, str):  # comments and processing instructions
            continue
        if child.tag in RECORD_TAGS:
            warnings.update(dict.fromkeys(unknown_names(child)))
            try:
                articles.append(article_from_element(child))
            except UnreadableRecordError as exc:
                rejects.append(reject_from(child, exc))
        elif child.tag == "DeleteCitation":
            warnings.update(dict.fromkeys(unknown_names(child)))
            pmids, bad = deleted_pmids(child)
            deleted.extend(pmids)
            warnings.update(
                dict.fromkeys(f"DeleteCitation: ignored non-numeric PMID {b!r}" for b in bad)
            )
        else:
            warnings.update(dict.fromkeys(unknown_names(child, context=root.tag)))
    return ParsedBatch(
        articles=tuple(articles),
        deleted=tuple(deleted),
        rejects=tuple(rejects),
        warnings=tuple(warnings),
    )


def article_from_element(el: etree._Element) -> Article:
    """One ``PubmedArticle`` or ``PubmedBookArticle``; raises UnreadableRecordError."""
    if el.tag == "PubmedArticle":
        return journal_article(el)
    if el.tag == "PubmedBookArticle":
        return book_article(el)
    raise UnreadableRecordError(f"not a PubMed record: {el.tag!r}")


def journal_article(el: etree._Element) -> Article:
    citation = el.find("MedlineCitation")
    ident = read_pmid(el.find("MedlineCitation/PMID"))
    article = citation.find("Article") if citation is not None else None
    issue = article.find("Journal/JournalIssue") if article is not None else None
    id_list = el.find("PubmedData/ArticleIdList")
    doi = record_doi(article, id_list)
    chosen = doi.doi
    authors, complete = authors_from_list(author_list(article))
    return Article(
        pmid=ident.pmid,
        pmid_version=ident.version,
        status=citation.get("Status") if citation is not None else None,
        record_kind="article",
        title=child_text(article, "ArticleTitle"),
        vernacular_title=child_text(article, "VernacularTitle"),
        journal=journal_from_citation(citation),
        volume=child_text(issue, "Volume"),
        issue=child_text(issue, "Issue"),
        pages=pages_of(article.find("Pagination") if article is not None else None),
        pub_date=pub_date_from_element(issue.find("PubDate") if issue is not None else None),
        epub_date=article_date_display(electronic_date(article)),
        doi=chosen.key if chosen else None,
        doi_display=chosen.display if chosen else None,
        doi_source=chosen.source if chosen else None,
        pmcid=normalize_pmcid(article_id(id_list, "pmc")),
        publication_types=texts(article, "PublicationTypeList/PublicationType"),
        languages=texts(article, "Language"),
        authors=authors,
        author_list_complete=complete,
        abstract=abstract_text(article.find("Abstract") if article is not None else None),
        doi_alternate=doi.alternate,
        doi_conflict=doi.conflict,
        doi_problem=doi.problem,
        editors=editors_from_lists(editor_lists(article)),
        investigators=investigators_from(citation),
    )


def book_article(el: etree._Element) -> Article:
    doc = el.find("BookDocument")
    ident = read_pmid(el.find("BookDocument/PMID"))
    book = doc.find("Book") if doc is not None else None
    id_list = doc.find("ArticleIdList") if doc is not None else None
    # A book's ELocationIDs are children of Book (pubmed_250101).
    doi = record_doi(book, id_list)
    chosen = doi.doi
    # A chapter's authors are the BookDocument's; a whole book's may be the Book's.
    own_list = author_list(doc)
    authors, complete = authors_from_list(own_list if own_list is not None else author_list(book))
    return Article(
        pmid=ident.pmid,
        pmid_version=ident.version,
        status=None,
        record_kind="book",
        title=child_text(doc, "ArticleTitle") or child_text(book, "BookTitle"),
        vernacular_title=child_text(doc, "VernacularTitle"),
        journal=EMPTY_JOURNAL,
        volume=child_text(book, "Volume"),
        issue=None,
        pages=pages_of(doc.find("Pagination") if doc is not None else None),
        pub_date=pub_date_from_element(book.find("PubDate") if book is not None else None),
        epub_date=None,
        doi=chosen.key if chosen else None,
        doi_display=chosen.display if chosen else None,
        doi_source=chosen.source if chosen else None,
        pmcid=normalize_pmcid(article_id(id_list, "pmc")),
        # The book DTD puts PublicationType directly under BookDocument.
        publication_types=texts(doc, "PublicationType")
        + texts(doc, "PublicationTypeList/PublicationType"),
        languages=texts(doc, "Language"),
        authors=authors,
        author_list_complete=complete,
        abstract=abstract_text(doc.find("Abstract") if doc is not None else None),
        doi_alternate=doi.alternate,
        doi_conflict=doi.conflict,
        doi_problem=doi.problem,
        editors=editors_from_lists(editor_lists(book, doc)),
        investigators=investigators_from(book, doc),
        book_title=child_text(book, "BookTitle"),
        book_accession=article_id(id_list, "bookaccession"),
    )


def read_pmid(el: etree._Element | None) -> _Pmid:
    """PMID and its Version (default 1); raises UnreadableRecordError if unusable."""
    text = flatten(el)
    if el is None or text is None:
        raise UnreadableRecordError("no PMID")
    if not text.isascii() or not text.isdigit() or int(text) == 0:
        raise UnreadableRecordError(f"invalid PMID {text!r}")
    pmid = int(text)
    version = (el.get("Version") or "1").strip()
    if not version.isascii() or not version.isdigit():
        raise UnreadableRecordError(f"invalid PMID Version {version!r}", pmid)
    return _Pmid(pmid=pmid, version=int(version))


def pages_of(pagination: etree._Element | None) -> str | None:
    """MedlinePgn, else ``StartPage-EndPage`` (or StartPage alone)."""
    medline = child_text(pagination, "MedlinePgn")
    if medline is not None:
        return medline
    start = child_text(pagination, "StartPage")
    end = child_text(pagination, "EndPage")
    if start is None:
        return None
    return start if end is None else f"{start}-{end}"


def electronic_date(article: etree._Element | None) -> etree._Element | None:
    if article is None:
        return None
    for el in article.iterfind("ArticleDate"):
        if el.get("DateType") == "Electronic":
            return el
    return None


def deleted_pmids(el: etree._Element) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """A DeleteCitation's PMIDs, and the texts that were not PMIDs."""
    good: list[int] = []
    bad: list[str] = []
    for pmid_el in el.iterfind("PMID"):
        text = flatten(pmid_el) or ""
        if text.isascii() and text.isdigit():
            good.append(int(text))
        else:
            bad.append(text)
    return tuple(good), tuple(bad)


def reject_from(el: etree._Element, exc: UnreadableRecordError) -> Reject:
    """A Reject whose hash identifies the exact record bytes (tail excluded)."""
    fragment = etree.tostring(el, with_tail=False)
    return Reject(
        pmid=exc.pmid, reason=exc.reason, fragment_sha256=hashlib.sha256(fragment).hexdigest()
    )
