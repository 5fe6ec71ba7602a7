"""AuthorList entries as ``Author`` records (editors are not authors)."""

from __future__ import annotations

from lxml import etree

from pipeline.models import Affiliation, Author
from pipeline.transform.orcid import normalize_orcid
from pipeline.transform.text import child_text, flag, flatten, name_text, texts


def author_list(parent: etree._Element | None) -> etree._Element | None:
    """The first ``AuthorList`` child of ``parent`` that is not the editors' list."""
    if parent is None:
        return None
    for candidate in parent.iterfind("AuthorList"):
        if candidate.get("Type") != "editors":
            return candidate
    return None


def affiliation_from_element(info: etree._Element) -> Affiliation | None:
    """One ``AffiliationInfo``: its text and identifiers (e.g. RINGGOLD, ROR)."""
    text = child_text(info, "Affiliation")
    if text is None:
        return None
    return Affiliation(text=text, identifiers=texts(info, "Identifier"))


def orcid_of(author: etree._Element) -> str | None:
    """The first readable ORCID among the author's own Identifiers."""
    for ident in author.iterfind("Identifier"):
        if (ident.get("Source") or "").strip().upper() == "ORCID":
            orcid = normalize_orcid(flatten(ident))
            if orcid is not None:
                return orcid
    return None


def author_from_element(el: etree._Element, position: int) -> Author:
    """One ``Author``; a group (CollectiveName) has no person name fields."""
    collective = name_text(el.find("CollectiveName"))
    person = collective is None
    affiliations = (affiliation_from_element(info) for info in el.iterfind("AffiliationInfo"))
    return Author(
        position=position,
        last_name=name_text(el.find("LastName")) if person else None,
        fore_name=name_text(el.find("ForeName")) if person else None,
        initials=name_text(el.find("Initials")) if person else None,
        suffix=name_text(el.find("Suffix")) if person else None,
        collective_name=collective,
        orcid=orcid_of(el),
        affiliations=tuple(a for a in affiliations if a is not None),
        valid=flag(el, "ValidYN", default=True),
        equal_contrib=flag(el, "EqualContrib", default=False),
    )


def authors_from_list(list_el: etree._Element | None) -> tuple[tuple[Author, ...], bool]:
    """The list's authors in order (positions from 1) and whether it is complete."""
    if list_el is None:
        return (), True
    authors = tuple(
        author_from_element(el, position)
        for position, el in enumerate(list_el.iterfind("Author"), start=1)
    )
    return authors, flag(list_el, "CompleteYN", default=True)
