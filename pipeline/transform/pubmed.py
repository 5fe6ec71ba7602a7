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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lxml import etree

from pipeline.errors import ResponseFormatError
from pipeline.models import Article, ParsedBatch, Reject
from pipeline.records import quick_constructor
from pipeline.transform import record_lists
from pipeline.transform.authors import (
    author_list,
    authors_from_list,
    editor_lists,
    editors_from_lists,
    first_author_list,
    investigators_among,
    investigators_from,
)
from pipeline.transform.dates import article_date_display, pub_date_from_element
from pipeline.transform.drift import attribute_names, unknown_names
from pipeline.transform.ids import (
    article_id,
    article_id_among,
    normalize_pmcid,
    record_doi,
    record_doi_among,
)
from pipeline.transform.journal import EMPTY_JOURNAL, journal_of
from pipeline.transform.text import (
    Children,
    abstract_text,
    child_text,
    children_by_tag,
    find_under,
    first,
    flag,
    flatten,
    kid_text,
    kid_texts,
    texts,
    texts_under,
)
from pipeline.xmlsafe import parse_xml

RECORD_TAGS = frozenset({"PubmedArticle", "PubmedBookArticle"})

# Built for every record of a bulk run: see pipeline/records.py.
_article = quick_constructor(Article)


class UnreadableRecordError(ValueError):
    """A record without a usable identity; ``pmid`` is set when it was readable."""

    def __init__(self, reason: str, pmid: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pmid = pmid


@dataclass
class FirstRecordPerPmid:
    """The one rule for a PMID met twice (in an efetch answer, a run's efetch
    answers, or a PubMed file): the first record is kept, and a warning names it.

    NCBI never sends a PMID twice there; when an answer does, which copy is
    right cannot be known, and the copies must not both survive (nor the last
    silently replace the first).
    """

    source: str
    seen: set[int] = field(default_factory=set)

    def admit(self, pmid: int) -> str | None:
        """None to keep this record; else the warning, and the record is dropped."""
        if pmid in self.seen:
            return f"{self.source}: PMID {pmid} appears again; kept the first"
        self.seen.add(pmid)
        return None


def unasked_warning(pmid: int, asked: Sequence[int]) -> str:
    """The note for a record an efetch answer holds that its request did not ask for
    (``asked``, ascending): such a record is never loaded."""
    return (
        f"efetch returned PMID {pmid}, which its request did not ask for "
        f"(PMIDs {asked[0]}..{asked[-1]}); not loaded"
    )


@dataclass(frozen=True, slots=True)
class _Pmid:
    pmid: int
    version: int


def quick_pmid(element: etree._Element) -> int | None:
    """The PMID of a record (``PubmedArticle``, ``PubmedBookArticle`` or a bare
    ``MedlineCitation``) without reading the rest of it; None when it is not plainly
    a number (a full read then says why)."""
    text = (
        element.findtext("PMID")
        if element.tag == "MedlineCitation"
        else element.findtext("MedlineCitation/PMID") or element.findtext("BookDocument/PMID")
    )
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


def efetch_root(body: bytes) -> etree._Element:
    """The PubmedArticleSet of an EFetch body; ResponseFormatError if it is none."""
    root = parse_xml(body, what="efetch pubmed")
    if root.tag != "PubmedArticleSet":
        raise ResponseFormatError(f"efetch pubmed: root element is {root.tag!r}")
    return root


def parse_efetch(body: bytes) -> ParsedBatch:
    """Every record, deletion and unreadable record of one EFetch body.

    Raises ``ResponseFormatError`` if the body is not XML or not a PubmedArticleSet.
    """
    root = efetch_root(body)
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
                article = article_from_element(child)
            except UnreadableRecordError as exc:
                rejects.append(reject_from(child, exc))
                continue
            articles.append(article)
            warnings.update(dict.fromkeys(article.id_problems))
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
    # Each parent's children are grouped once (children_by_tag): a find() or
    # iterfind() per field would cost about as much as the grouping each.
    return _journal_article(children_by_tag(el))


def citation_article(el: etree._Element) -> Article:
    """A bare ``MedlineCitation`` (MEDLINE's files before 2017): a PubmedArticle
    without PubmedData, so without history, article ids or references."""
    return _journal_article({"MedlineCitation": [el]})


def _journal_article(record: Children) -> Article:
    citations = record.get("MedlineCitation", [])
    citation = citations[0] if citations else None
    cit = children_by_tag(citation)
    ident = read_pmid(find_under(citations, "PMID"))
    article = first(cit, "Article")
    art = children_by_tag(article)
    # find_under keeps the paths' exact meaning: "Article/Journal" searches every
    # Article of the citation, "Journal/JournalIssue" every Journal of the first.
    journal = find_under(cit.get("Article", ()), "Journal")
    issue = find_under(art.get("Journal", ()), "JournalIssue")
    issue_kids = children_by_tag(issue)
    id_list = find_under(record.get("PubmedData", ()), "ArticleIdList")
    ids = list(id_list.iterchildren("ArticleId")) if id_list is not None else []
    doi = record_doi_among(art.get("ELocationID", []), ids)
    chosen = doi.doi
    lists = art.get("AuthorList", [])
    authors, complete = authors_from_list(first_author_list(lists))
    pubmed_data = children_by_tag(first(record, "PubmedData"))
    type_els = [t for head in art.get("PublicationTypeList", ()) for t in head]
    pmcid = normalize_pmcid(article_id_among(ids, "pmc"))
    problems: list[str] = []
    mesh = record_lists.mesh_headings(cit.get("MeshHeadingList", ()), problems)
    suppl = record_lists.supplementary_concepts(cit.get("SupplMeshList", ()), problems)
    grant_lists = art.get("GrantList", ())
    return _article(
        pmid=ident.pmid,
        pmid_version=ident.version,
        status=citation.get("Status") if citation is not None else None,
        record_kind="article",
        title=kid_text(art, "ArticleTitle"),
        vernacular_title=kid_text(art, "VernacularTitle"),
        journal=journal_of(journal, first(cit, "MedlineJournalInfo")),
        volume=kid_text(issue_kids, "Volume"),
        issue=kid_text(issue_kids, "Issue"),
        pages=_pages(children_by_tag(first(art, "Pagination"))),
        pub_date=pub_date_from_element(first(issue_kids, "PubDate")),
        epub_date=article_date_display(_electronic_among(art.get("ArticleDate", ()))),
        doi=chosen.key if chosen else None,
        doi_display=chosen.display if chosen else None,
        doi_source=chosen.source if chosen else None,
        pmcid=pmcid or record_lists.nlm_pmcid(cit.get("OtherID", ())),
        publication_types=texts_under(art.get("PublicationTypeList", ()), "PublicationType"),
        languages=kid_texts(art, "Language"),
        authors=authors,
        author_list_complete=complete,
        abstract=abstract_text(first(art, "Abstract")),
        doi_alternate=doi.alternate,
        doi_conflict=doi.conflict,
        doi_problem=doi.problem,
        editors=editors_from_lists(lst for lst in lists if lst.get("Type") == "editors"),
        investigators=investigators_among(cit.get("InvestigatorList", ())),
        publication_status=kid_text(pubmed_data, "PublicationStatus"),
        indexing_method=_attr(citation, "IndexingMethod"),
        citation_subsets=kid_texts(cit, "CitationSubset"),
        pub_model=_attr(article, "PubModel"),
        coi_statement=kid_text(cit, "CoiStatement"),
        date_completed=record_lists.day_of(first(cit, "DateCompleted")),
        date_revised=record_lists.day_of(first(cit, "DateRevised")),
        grant_list_complete=flag(grant_lists[0], "CompleteYN", default=True)
        if grant_lists
        else None,
        publication_type_uis=record_lists.publication_type_uis(
            t for t in type_els if t.tag == "PublicationType"
        ),
        mesh_headings=mesh,
        supplementary_concepts=suppl,
        keywords=record_lists.keywords(cit.get("KeywordList", ())),
        chemicals=record_lists.chemicals(cit.get("ChemicalList", ())),
        grants=record_lists.grants(grant_lists),
        comments_corrections=record_lists.comments_corrections(
            cit.get("CommentsCorrectionsList", ())
        ),
        references=record_lists.references(pubmed_data.get("ReferenceList", ())),
        history=record_lists.history(pubmed_data.get("History", ())),
        article_ids=record_lists.article_ids(ids),
        data_banks=record_lists.data_banks(art.get("DataBankList", ())),
        id_problems=tuple(f"PMID {ident.pmid}: {p}" for p in problems),
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
    doc_kids = children_by_tag(doc)
    book_data = children_by_tag(el.find("PubmedBookData"))
    book_ids = first(book_data, "ArticleIdList")
    grant_lists = doc_kids.get("GrantList", ())
    return _article(
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
        publication_status=kid_text(book_data, "PublicationStatus"),
        date_revised=record_lists.day_of(first(doc_kids, "DateRevised")),
        grant_list_complete=flag(grant_lists[0], "CompleteYN", default=True)
        if grant_lists
        else None,
        publication_type_uis=record_lists.publication_type_uis(
            [
                *doc_kids.get("PublicationType", ()),
                *(t for head in doc_kids.get("PublicationTypeList", ()) for t in head),
            ]
        ),
        keywords=record_lists.keywords(doc_kids.get("KeywordList", ())),
        grants=record_lists.grants(grant_lists),
        references=record_lists.references(doc_kids.get("ReferenceList", ())),
        history=record_lists.history(book_data.get("History", ())),
        article_ids=record_lists.article_ids(
            () if book_ids is None else book_ids.iterchildren("ArticleId")
        ),
    )


def _attr(el: etree._Element | None, name: str) -> str | None:
    value = el.get(name) if el is not None else None
    return value.strip() or None if value is not None else None


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
    return _pages(children_by_tag(pagination))


def _pages(kids: Children) -> str | None:
    medline = kid_text(kids, "MedlinePgn")
    if medline is not None:
        return medline
    start = kid_text(kids, "StartPage")
    end = kid_text(kids, "EndPage")
    if start is None:
        return None
    return start if end is None else f"{start}-{end}"


def _electronic_among(dates: Iterable[etree._Element]) -> etree._Element | None:
    for el in dates:
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
