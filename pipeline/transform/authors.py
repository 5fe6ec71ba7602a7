"""AuthorList and InvestigatorList entries as ``Author`` records.

Authors, editors (``AuthorList[@Type="editors"]``) and investigators
(``InvestigatorList/Investigator``) are read the same way and kept apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lxml import etree

from pipeline.models import Affiliation, Author
from pipeline.records import quick_constructor
from pipeline.transform.orcid import normalize_orcid, orcid_in_text
from pipeline.transform.text import collapse_ws, flag, flatten, name_text

# Built for every author of every record: see pipeline/records.py.
_author = quick_constructor(Author)
_affiliation = quick_constructor(Affiliation)


def author_list(parent: etree._Element | None) -> etree._Element | None:
    """The first ``AuthorList`` child of ``parent`` that is not the editors' list."""
    if parent is None:
        return None
    return first_author_list(parent.iterfind("AuthorList"))


def first_author_list(lists: Iterable[etree._Element]) -> etree._Element | None:
    """``author_list`` among a parent's ``AuthorList`` children, already found."""
    for candidate in lists:
        if candidate.get("Type") != "editors":
            return candidate
    return None


def editor_lists(*parents: etree._Element | None) -> Iterator[etree._Element]:
    """Every ``AuthorList[@Type="editors"]`` child of the given parents, in order."""
    for parent in parents:
        if parent is None:
            continue
        for candidate in parent.iterfind("AuthorList"):
            if candidate.get("Type") == "editors":
                yield candidate


def affiliation_from_element(info: etree._Element) -> Affiliation | None:
    """One ``AffiliationInfo``: its text and identifiers (e.g. RINGGOLD, ROR) with sources."""
    # One pass over the (one or two) children instead of a find() and an iterfind().
    text_el: etree._Element | None = None
    idents: list[etree._Element] = []
    for child in info:
        tag = child.tag
        if tag == "Affiliation":
            if text_el is None:
                text_el = child
        elif tag == "Identifier":
            idents.append(child)
    text = flatten(text_el)
    if text is None:
        return None
    values: list[str] = []
    sources: list[str | None] = []
    for ident in idents:
        value = flatten(ident)
        if value is not None:
            values.append(value)
            sources.append(collapse_ws(ident.get("Source")))
    return _affiliation(text=text, identifiers=tuple(values), identifier_sources=tuple(sources))


def _orcid_among(identifiers: Iterable[etree._Element]) -> str | None:
    for ident in identifiers:
        if (ident.get("Source") or "").strip().upper() == "ORCID":
            orcid = normalize_orcid(flatten(ident))
            if orcid is not None:
                return orcid
    return None


def orcid_from_affiliations(
    affiliations: Iterable[Affiliation], owner: str | None = None
) -> str | None:
    """The first ORCID written inside an affiliation's text, in order (see orcid_in_text)."""
    for affiliation in affiliations:
        orcid = orcid_in_text(affiliation.text, owner)
        if orcid is not None:
            return orcid
    return None


def author_from_element(el: etree._Element, position: int) -> Author:
    """One ``Author`` or ``Investigator``; a group (CollectiveName) has no person name fields.

    The ORCID is the person's own ``Identifier[@Source="ORCID"]``; only when
    none is readable, an iD written in an affiliation's text (``orcid_source``
    tells which).
    """
    # One pass over the children (the first of each name part counts, as find()
    # would give): an author is read millions of times in a bulk run. The three
    # common name parts are plain locals; Suffix and CollectiveName are rare.
    last = fore = initials = None
    has_last = has_fore = has_initials = False
    rare: dict[str, str | None] = {}
    infos: list[etree._Element] = []
    identifiers: list[etree._Element] = []
    for child in el:
        tag = child.tag
        if tag == "LastName":
            if not has_last:
                last, has_last = name_text(child), True
        elif tag == "ForeName":
            if not has_fore:
                fore, has_fore = name_text(child), True
        elif tag == "Initials":
            if not has_initials:
                initials, has_initials = name_text(child), True
        elif tag == "AffiliationInfo":
            infos.append(child)
        elif tag == "Identifier":
            identifiers.append(child)
        elif (tag == "Suffix" or tag == "CollectiveName") and tag not in rare:
            rare[tag] = name_text(child)
    collective = rare.get("CollectiveName")
    person = collective is None
    last_name = last if person else None
    affiliations: tuple[Affiliation, ...] = ()
    if infos:  # many authors have none
        found = [affiliation_from_element(info) for info in infos]
        # filter(None, ...) drops the Nones in C (an Affiliation is always true).
        affiliations = tuple(filter(None, found))
    orcid = _orcid_among(identifiers) if identifiers else None
    orcid_source = "identifier" if orcid is not None else None
    if orcid is None and affiliations:
        orcid = orcid_from_affiliations(affiliations, last_name)
        orcid_source = "affiliation" if orcid is not None else None
    return _author(
        position=position,
        last_name=last_name,
        fore_name=fore if person else None,
        initials=initials if person else None,
        suffix=rare.get("Suffix") if person else None,
        collective_name=collective,
        orcid=orcid,
        affiliations=affiliations,
        valid=_valid(el),
        equal_contrib=_equal_contrib(el),
        orcid_source=orcid_source,
    )


def _valid(el: etree._Element) -> bool:
    # Inlined common cases of flag(): read for every one of millions of authors.
    value = el.get("ValidYN")
    return True if value is None or value == "Y" else flag(el, "ValidYN", default=True)


def _equal_contrib(el: etree._Element) -> bool:
    value = el.get("EqualContrib")
    return False if value is None else flag(el, "EqualContrib", default=False)


def authors_from_list(list_el: etree._Element | None) -> tuple[tuple[Author, ...], bool | None]:
    """The list's authors in order (positions from 1) and whether it is complete
    (None when there is no list: nothing says)."""
    if list_el is None:
        return (), None
    # A list comprehension: a generator would be resumed once per author.
    authors = tuple(
        [
            author_from_element(el, position)
            for position, el in enumerate(list_el.iterchildren("Author"), start=1)
        ]
    )
    return authors, flag(list_el, "CompleteYN", default=True)


def editors_from_lists(lists: Iterable[etree._Element]) -> tuple[Author, ...]:
    """Every editor of the given editors' lists, numbered from 1 across them."""
    people = (el for list_el in lists for el in list_el.iterchildren("Author"))
    return tuple(author_from_element(el, position) for position, el in enumerate(people, start=1))


def investigators_from(*parents: etree._Element | None) -> tuple[Author, ...]:
    """``InvestigatorList/Investigator`` of the given parents, numbered from 1 across them."""
    lists = (
        lst
        for parent in parents
        if parent is not None
        for lst in parent.iterfind("InvestigatorList")
    )
    return investigators_among(lists)


def investigators_among(lists: Iterable[etree._Element]) -> tuple[Author, ...]:
    """``investigators_from`` over the parents' ``InvestigatorList`` children, already found."""
    people = (el for lst in lists for el in lst.iterchildren("Investigator"))
    return tuple(author_from_element(el, position) for position, el in enumerate(people, start=1))
